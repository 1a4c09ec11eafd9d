/**
 * `openbatch testnet run <scenario>`: runs a testnet scenario (a YAML file, or the name of one
 * shipped with @openbatch/testnet) in the simulator or with real peers in this process, prints
 * what happened and the seed to replay it, writes the JSON report and its HTML page with `--out`,
 * and exits 1 when one of the scenario's assertions fails. `openbatch testnet list` shows the
 * shipped scenarios.
 */

import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Engine, listScenarios, loadScenario, reportHtml, runTestnet } from '@openbatch/sdk'
import type { Command } from 'commander'
import { UsageError } from './errors.js'
import { printJson } from './out.js'

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer in ${min}..${max}, got ${text}`)
  }
  return n
}

/** A progress bar on stderr when it is a terminal; nothing otherwise (logs stay clean). */
function progressBar(): { update: (p: { settled: number; tasks: number; seconds: number }) => void; done: () => void } {
  if (process.stderr.isTTY !== true) {
    return { update: () => {}, done: () => {} }
  }
  return {
    update: ({ settled, tasks, seconds }) => {
      const width = 30
      const filled = tasks === 0 ? 0 : Math.round((settled / tasks) * width)
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${settled}/${tasks} tasks settled · ${seconds.toFixed(0)} s`
      )
    },
    done: () => process.stderr.write('\r\x1b[K')
  }
}

export function registerTestnet(program: Command): void {
  const testnet = program
    .command('testnet')
    .description('testnet scenarios: real peers in this process (live) or the simulator (sim), with the adversary library')
  testnet
    .command('list')
    .description('list the scenarios shipped with openbatch')
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { json?: boolean }
      const names = await listScenarios()
      const scenarios = await Promise.all(
        names.map(async (name) => {
          const s = await loadScenario(name)
          return {
            name,
            workers: s.groups.reduce((n, g) => n + g.count, 0),
            requesters: s.requesters.length,
            tasks: s.requesters.reduce((n, r) => n + r.jobs.reduce((m, j) => m + j.tasks, 0), 0),
            behaviours: [...new Set(s.groups.map((g) => g.behaviour))]
          }
        })
      )
      if (o.json === true) {
        printJson(scenarios)
        return
      }
      for (const s of scenarios) {
        process.stdout.write(
          `${s.name.padEnd(12)} ${String(s.workers).padStart(7)} workers ${String(s.requesters).padStart(2)} requesters ${String(s.tasks).padStart(9)} tasks  ${s.behaviours.join(', ')}\n`
        )
      }
    })
  testnet
    .command('run')
    .description('run a scenario and check its assertions (exit 1 when one fails)')
    .argument('<scenario>', 'a scenario .yaml file, or a shipped scenario (openbatch testnet list)')
    .option('--engine <engine>', 'live: real peers in this process; sim: the simulator in virtual time', 'sim')
    .option('--peers <n>', "scale the scenario's groups to about this many peers")
    .option('--transport <name>', 'live engine: memory (in-process; the default with one process) or tcp (sockets on 127.0.0.1)')
    .option('--store <kind>', 'live engine: requesters keep jobs in memory or in sqlite files', 'memory')
    .option('--processes <n>', 'live engine: run the workers in n − 1 child processes over TCP loopback (more cores)', '1')
    .option('--seed <n>', "replay with this seed instead of the scenario's")
    .option('-o, --out <dir>', 'write report.json and report.html (self-contained, with charts) here')
    .action(async (name: string, _opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as {
        engine: string
        transport?: string
        store: string
        processes: string
        peers?: string
        seed?: string
        out?: string
        json?: boolean
      }
      if (o.engine !== 'sim' && o.engine !== 'live') {
        throw new UsageError(`--engine must be live or sim, got ${o.engine}`)
      }
      if (o.transport != null && o.transport !== 'memory' && o.transport !== 'tcp') {
        throw new UsageError(`--transport must be memory or tcp, got ${o.transport}`)
      }
      if (o.store !== 'memory' && o.store !== 'sqlite') {
        throw new UsageError(`--store must be memory or sqlite, got ${o.store}`)
      }
      const seed = o.seed == null ? undefined : integer('--seed', o.seed, 0, 2 ** 32 - 1)
      const peers = o.peers == null ? undefined : integer('--peers', o.peers, 2, 1_000_000)
      const processes = integer('--processes', o.processes, 1, 64)
      let scenario: Awaited<ReturnType<typeof loadScenario>>
      try {
        scenario = await loadScenario(name)
      } catch (err) {
        throw (err as Error).name === 'ScenarioError' ? new UsageError((err as Error).message) : err
      }
      const bar = progressBar()
      const started = performance.now()
      let result: Awaited<ReturnType<typeof runTestnet>>
      try {
        result = await runTestnet(scenario, {
          engine: o.engine as Engine,
          transport: o.transport as 'memory' | 'tcp' | undefined,
          store: o.store as 'memory' | 'sqlite',
          processes,
          seed,
          peers,
          onProgress: bar.update
        })
      } catch (err) {
        throw err instanceof RangeError ? new UsageError(err.message) : err
      } finally {
        bar.done()
      }
      const { report, assertions } = result
      const wallS = (performance.now() - started) / 1000
      if (o.out != null) {
        await mkdir(o.out, { recursive: true })
        await writeFile(join(o.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
        await writeFile(join(o.out, 'report.html'), reportHtml(report))
      }
      if (o.json === true) {
        printJson({ report, assertions })
      } else {
        const t = report.totals
        const peersLine =
          report.live == null
            ? `${report.virtualSeconds} s of virtual time, ${report.events} events in ${wallS.toFixed(1)} s`
            : `${report.live.peers} real peers in ${report.live.processes} process${report.live.processes === 1 ? '' : 'es'} (started in ${report.live.startS} s), ${report.virtualSeconds} s, RSS at the end ${(report.live.peakRssBytes / 2 ** 20).toFixed(0)} MiB`
        const lines = [
          `scenario ${report.scenario} (${report.engine}), seed ${report.seed} (replay: --seed ${report.seed}); ${peersLine}`,
          `tasks ${t.settled}/${t.tasks} settled · lost ${t.lost} · credited twice ${t.doubleCredits} · runs per task ${t.overhead} · steady state ${report.steady.itemsPerSecond} tasks/s (${report.steady.fromS}–${report.steady.toS} s)`,
          `verdicts: ${Object.entries(t.verdicts)
            .map(([k, v]) => `${v} ${k}`)
            .join(
              ', '
            )} · fraud proofs ${t.fraudProofs} (false accusations ${t.falseAccusations}) · faked results that stood ${t.wrongAccepted}${
            t.forgedProofs == null ? '' : ` · forged proofs ${t.forgedProofs}, accepted ${t.forgedProofsAccepted}`
          }`,
          ...Object.entries(report.groups).map(
            ([id, g]) =>
              `  ${id} (${g.behaviour} ×${g.workers}): ${g.results} results, ${g.faked} faked, ${g.convicted}/${g.workers} convicted${g.firstDetectionS == null ? '' : ` (first after ${g.firstDetectionS} s)`}, ${g.wrongAccepted} faked stood`
          ),
          `gossip delay p50 ${report.announcementDelayMs.p50} ms, p99 ${report.announcementDelayMs.p99} ms (n = ${report.announcementDelayMs.n})${
            report.dht == null
              ? ''
              : ` · DHT hops median ${report.dht.median}, p90 ${report.dht.p90} (${report.dht.lookups} lookups, ${report.dht.nodes} peers)`
          }`,
          ...assertions.map(
            (a) =>
              `${a.ok ? '✔' : '✖'} ${a.metric} = ${a.value ?? 'missing'}${a.min != null ? ` ≥ ${a.min}` : ''}${a.max != null ? ` ≤ ${a.max}` : ''}${
                a.interval == null
                  ? ''
                  : ` at ${100 * (a.confidence ?? 0)} % (interval ${a.interval.map((x) => x.toFixed(3)).join('–')} over ${a.trials})`
              }`
          )
        ]
        process.stdout.write(`${lines.join('\n')}\n`)
      }
      if (assertions.some((a) => !a.ok)) {
        process.exitCode = 1
      }
    })
}
