/**
 * @packageDocumentation
 *
 * `@openbatch/testnet` runs openbatch networks in virtual time: a scenario (YAML: peers by group
 * and behaviour, requesters and jobs, a timeline of joins, leaves and crashes, assertions) drives
 * the real sans-IO core of `@openbatch/core` in a discrete-event engine, with the adversary library
 * deciding how each worker answers. The same scenario and seed give a byte-identical report.
 *
 * @example
 *
 * ```ts
 * import { parseScenario, simulate, checkAssertions } from '@openbatch/testnet'
 *
 * const scenario = parseScenario(await readFile('scenarios/cheaters.yaml', 'utf8'), 'cheaters.yaml')
 * const report = simulate(scenario, { seed: 7 })
 * console.log(report.totals, report.groups)
 * const failed = checkAssertions(report, scenario).filter((a) => !a.ok)
 * await writeFile('report.html', reportHtml(report)) // self-contained: opens with no network
 * ```
 */

export { type Answer, BEHAVIOURS, type Behaviour, type BehaviourFactory, type Params, unitHash } from './adversaries/index.js'
export { type AssertionResult, checkAssertions, metric } from './assertions.js'
export { type DhtParams, type DhtReport, simulateDht } from './dht.js'
export { EventQueue } from './events.js'
export { reportHtml } from './html.js'
export { type GroupSpec, type JobSpec, parseScenario, Scenario, ScenarioError } from './scenario.js'
export { type GroupReport, type Report, simulate } from './simulate.js'

import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/**
 * The folder of the scenarios shipped with this package (`smoke.yaml`, `cheaters.yaml`, …): next
 * to the package's `dist/`, or next to the bundle in the release archive.
 */
export const SCENARIOS_DIR = existsSync(join(here, '..', 'scenarios')) ? join(here, '..', 'scenarios') : join(here, '..', '..', 'scenarios')
