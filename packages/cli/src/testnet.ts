/**
 * `openbatch testnet <scenario>`: runs a testnet scenario (a YAML file, or the name of one shipped
 * with @openbatch/testnet) in the simulator, prints what
 * happened and the seed to replay it, writes the JSON report with `--out`, and exits 1 when one of
 * the scenario's assertions fails.
 */

import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkAssertions, parseScenario, reportHtml, SCENARIOS_DIR, simulate } from '@openbatch/testnet'
import type { Command } from 'commander'
import { UsageError } from './errors.js'
import { printJson } from './out.js'

async function scenarioFile(name: string): Promise<string> {
  if (existsSync(name)) {
    return name
  }
  const shipped = join(SCENARIOS_DIR, `${name}.yaml`)
  if (/^[a-z0-9-]+$/.test(name) && existsSync(shipped)) {
    return shipped
  }
  const names = (await readdir(SCENARIOS_DIR).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5))
  throw new UsageError(`no scenario file ${name}; give a .yaml path or one of: ${names.join(', ')}`)
}

export function registerTestnet(program: Command): void {
  program
    .command('testnet')
    .description('run a testnet scenario in the simulator (virtual time, the real protocol core, the adversary library)')
    .argument('<scenario>', 'a scenario .yaml file, or a shipped scenario: smoke, cheaters, colluders, churn, partition, scale-100k')
    .option('--seed <n>', "replay with this seed instead of the scenario's")
    .option('-o, --out <file>', 'write the JSON report here')
    .option('--html <file>', 'write the report as a self-contained HTML page with charts')
    .action(async (name: string, _opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { seed?: string; out?: string; html?: string; json?: boolean }
      const file = await scenarioFile(name)
      let seed: number | undefined
      if (o.seed != null) {
        seed = Number(o.seed)
        if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
          throw new UsageError(`--seed must be an integer in 0..4294967295, got ${o.seed}`)
        }
      }
      const text = await readFile(file, 'utf8')
      let scenario: ReturnType<typeof parseScenario>
      try {
        scenario = parseScenario(text, file)
      } catch (err) {
        throw (err as Error).name === 'ScenarioError' ? new UsageError((err as Error).message) : err
      }
      const started = performance.now()
      const report = simulate(scenario, seed == null ? {} : { seed })
      const wallS = (performance.now() - started) / 1000
      const assertions = checkAssertions(report, scenario)
      if (o.out != null) {
        await writeFile(o.out, `${JSON.stringify(report, null, 2)}\n`)
      }
      if (o.html != null) {
        await writeFile(o.html, reportHtml(report))
      }
      if (o.json === true) {
        printJson({ report, assertions })
      } else {
        const t = report.totals
        const lines = [
          `scenario ${report.scenario}, seed ${report.seed} (replay: --seed ${report.seed}); ${report.virtualSeconds} s of virtual time, ${report.events} events in ${wallS.toFixed(1)} s`,
          `tasks ${t.settled}/${t.tasks} settled · lost ${t.lost} · credited twice ${t.doubleCredits} · runs per task ${t.overhead}`,
          `verdicts: ${Object.entries(t.verdicts)
            .map(([k, v]) => `${v} ${k}`)
            .join(
              ', '
            )} · fraud proofs ${t.fraudProofs} (false accusations ${t.falseAccusations}) · faked results that stood ${t.wrongAccepted}`,
          ...Object.entries(report.groups).map(
            ([id, g]) =>
              `  ${id} (${g.behaviour} ×${g.workers}): ${g.results} results, ${g.faked} faked, ${g.convicted}/${g.workers} convicted${g.firstDetectionS == null ? '' : ` (first after ${g.firstDetectionS} s)`}, ${g.wrongAccepted} faked stood`
          ),
          ...assertions.map(
            (a) =>
              `${a.ok ? '✔' : '✖'} ${a.metric} = ${a.value ?? 'missing'}${a.min != null ? ` ≥ ${a.min}` : ''}${a.max != null ? ` ≤ ${a.max}` : ''}`
          )
        ]
        process.stdout.write(`${lines.join('\n')}\n`)
      }
      if (assertions.some((a) => !a.ok)) {
        process.exitCode = 1
      }
    })
}
