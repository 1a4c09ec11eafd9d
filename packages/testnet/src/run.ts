/** One entry point for both engines, and the scenarios shipped with this package. */

import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type AssertionResult, checkAssertions } from './assertions.js'
import { runLive, scaleScenario } from './live.js'
import { parseScenario, type Scenario, ScenarioError } from './scenario.js'
import { type Report, simulate } from './simulate.js'

const here = dirname(fileURLToPath(import.meta.url))

/**
 * The folder of the scenarios shipped with this package (`smoke.yaml`, `cheaters.yaml`, …): next
 * to the package's `dist/`, or next to the bundle in the release archive.
 */
export const SCENARIOS_DIR = existsSync(join(here, '..', 'scenarios')) ? join(here, '..', 'scenarios') : join(here, '..', '..', 'scenarios')

/** The names of the shipped scenarios, sorted. */
export async function listScenarios(): Promise<string[]> {
  return (await readdir(SCENARIOS_DIR).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort()
}

/** Reads a scenario from a .yaml path or by the name of a shipped one; ScenarioError says what is wrong. */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  let file = nameOrPath
  if (!existsSync(file)) {
    const shipped = join(SCENARIOS_DIR, `${nameOrPath}.yaml`)
    if (!/^[a-z0-9-]+$/.test(nameOrPath) || !existsSync(shipped)) {
      throw new ScenarioError(`no scenario file ${nameOrPath}; give a .yaml path or one of: ${(await listScenarios()).join(', ')}`)
    }
    file = shipped
  }
  return parseScenario(await readFile(file, 'utf8'), file)
}

export type Engine = 'sim' | 'live'

export interface RunTestnetOptions {
  /** `sim`: the discrete-event simulator (virtual time); `live`: real peers in this process. @default 'sim' */
  engine?: Engine
  /** Replay with this seed instead of the scenario's. */
  seed?: number
  /** Scale the scenario's groups to about this many peers (requesters included). */
  peers?: number
  /** Live engine: `memory` (libp2p's in-process transport) or `tcp` on 127.0.0.1. @default 'memory' in one process, else 'tcp' */
  transport?: 'memory' | 'tcp'
  /** Live engine: requesters keep jobs in `memory` or in `sqlite` files. @default 'memory' */
  store?: 'memory' | 'sqlite'
  /** Live engine: processes to run the peers in (workers in `processes − 1` children, over TCP). @default 1 */
  processes?: number
  /** Called as the run goes: tasks settled of those served, and seconds (virtual or wall). */
  onProgress?: (p: { settled: number; tasks: number; seconds: number }) => void
}

/**
 * Runs a scenario (parsed, or a shipped scenario's name, or a .yaml path) in either engine and
 * checks its assertions.
 *
 * @example
 *
 * ```ts
 * const { report, assertions } = await runTestnet('cheaters', { engine: 'live', peers: 200 })
 * console.log(report.totals, assertions.filter((a) => !a.ok))
 * ```
 */
export async function runTestnet(
  scenario: Scenario | string,
  options: RunTestnetOptions = {}
): Promise<{ report: Report; assertions: AssertionResult[] }> {
  const loaded = typeof scenario === 'string' ? await loadScenario(scenario) : scenario
  if (options.peers != null && !(Number.isInteger(options.peers) && options.peers >= loaded.requesters.length + loaded.groups.length)) {
    throw new RangeError(
      `peers must be an integer ≥ ${loaded.requesters.length + loaded.groups.length} (a requester each and a worker per group), got ${options.peers}`
    )
  }
  const engine = options.engine ?? 'sim'
  let report: Report
  if (engine === 'live') {
    report = await runLive(loaded, {
      seed: options.seed,
      peers: options.peers,
      transport: options.transport,
      store: options.store,
      processes: options.processes,
      onProgress: (p) => options.onProgress?.({ settled: p.settled, tasks: p.tasks, seconds: p.elapsedS })
    })
  } else if (engine === 'sim') {
    report = simulate(options.peers == null ? loaded : scaleScenario(loaded, options.peers), {
      seed: options.seed,
      onProgress: (p) => options.onProgress?.({ settled: p.settled, tasks: p.tasks, seconds: p.virtualS })
    })
  } else {
    throw new RangeError(`engine must be "sim" or "live", got ${String(engine)}`)
  }
  return { report, assertions: checkAssertions(report, loaded) }
}
