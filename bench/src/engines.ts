/**
 * Cross-engine validation (issue #13): the same scenario (default `cheaters`) scaled to N = 30
 * peers, run in the simulator (`BENCH_ENGINES_SIM_SEEDS` seeds, default 20) and with real peers
 * (`BENCH_ENGINES_LIVE_SEEDS`, default 3). Compares completion (tasks settled / tasks), detection
 * (faking workers convicted / faking workers, pooled over the seeds, with 95 % Wilson intervals)
 * and re-run overhead (runs per task); prints the table, then one JSON line.
 * Agreement: completion and overhead within 10 % of each other, and each engine's detection inside
 * the other's 95 % interval.
 */

import { type Report, runTestnet } from '@openbatch/testnet'

/** Behaviours that never fake: their members are not counted for detection. */
const NEVER_FAKE = new Set(['honest', 'hoarder', 'slow'])

interface EngineFigures {
  runs: number
  completion: number
  overhead: number
  fakers: number
  convicted: number
  detection: number
  interval: [number, number]
}

/** Wilson score interval at 95 %. */
function wilson(successes: number, n: number): [number, number] {
  if (n === 0) {
    return [0, 1]
  }
  const z = 1.959964
  const p = successes / n
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n)
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n)
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

function summarise(reports: Report[]): EngineFigures {
  let tasks = 0
  let settled = 0
  let runs = 0
  let fakers = 0
  let convicted = 0
  for (const r of reports) {
    tasks += r.totals.tasks
    settled += r.totals.settled
    runs += r.totals.overhead * r.totals.tasks
    for (const g of Object.values(r.groups)) {
      if (!NEVER_FAKE.has(g.behaviour)) {
        fakers += g.workers
        convicted += g.convicted
      }
    }
  }
  return {
    runs: reports.length,
    completion: settled / tasks,
    overhead: runs / tasks,
    fakers,
    convicted,
    detection: fakers === 0 ? 0 : convicted / fakers,
    interval: wilson(convicted, fakers)
  }
}

const within = (a: number, b: number, share: number) => Math.abs(a - b) <= share * Math.max(a, b)
const pct = (x: number) => `${(100 * x).toFixed(1)} %`

export async function main(): Promise<void> {
  const scenario = process.env.BENCH_ENGINES_SCENARIO ?? 'cheaters'
  const peers = Number(process.env.BENCH_ENGINES_PEERS ?? 30)
  const simSeeds = Number(process.env.BENCH_ENGINES_SIM_SEEDS ?? 20)
  const liveSeeds = Number(process.env.BENCH_ENGINES_LIVE_SEEDS ?? 3)
  console.log(`${scenario} scaled to ${peers} peers: ${simSeeds} seeds in the simulator, ${liveSeeds} with real peers`)
  const sim: Report[] = []
  for (let seed = 1; seed <= simSeeds; seed++) {
    sim.push((await runTestnet(scenario, { engine: 'sim', peers, seed })).report)
  }
  const live: Report[] = []
  for (let seed = 1; seed <= liveSeeds; seed++) {
    const started = performance.now()
    const { report } = await runTestnet(scenario, { engine: 'live', peers, seed })
    live.push(report)
    console.log(
      `live seed ${seed}: ${report.totals.settled}/${report.totals.tasks} settled in ${((performance.now() - started) / 1000).toFixed(0)} s, lost ${report.totals.lost}, credited twice ${report.totals.doubleCredits}, false accusations ${report.totals.falseAccusations}`
    )
  }
  const s = summarise(sim)
  const l = summarise(live)
  const rows = [
    ['', 'simulator', 'live', 'agree'],
    ['runs (seeds)', String(s.runs), String(l.runs), ''],
    ['completion', pct(s.completion), pct(l.completion), within(s.completion, l.completion, 0.1) ? 'yes (within 10 %)' : 'NO'],
    [
      'detection',
      `${s.convicted}/${s.fakers} = ${pct(s.detection)} [${pct(s.interval[0])}, ${pct(s.interval[1])}]`,
      `${l.convicted}/${l.fakers} = ${pct(l.detection)} [${pct(l.interval[0])}, ${pct(l.interval[1])}]`,
      l.detection >= s.interval[0] && l.detection <= s.interval[1] && s.detection >= l.interval[0] && s.detection <= l.interval[1]
        ? 'yes (each inside the other’s 95 % interval)'
        : 'NO'
    ],
    ['runs per task', s.overhead.toFixed(3), l.overhead.toFixed(3), within(s.overhead, l.overhead, 0.1) ? 'yes (within 10 %)' : 'NO']
  ]
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? []
  for (const [n, r] of rows.entries()) {
    console.log(`| ${r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`)
    if (n === 0) {
      console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`)
    }
  }
  const agree = rows.slice(2).every((r) => (r[3] as string).startsWith('yes'))
  console.log(JSON.stringify({ bench: 'engines', scenario, peers, sim: s, live: l, agree }))
}
