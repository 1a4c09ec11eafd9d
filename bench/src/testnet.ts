/**
 * Testnet simulator at scale (issue #13): a scenario (default `scale-100k`: 100,000 virtual peers,
 * 1,000,000 tasks) run once; prints wall time, events/s and peak RSS against the floors (≤ 10 min,
 * ≤ 4 GB = 4 × 10^9 bytes, on this 2-core machine), then one JSON line. `BENCH_TESTNET_SCENARIO` names another
 * shipped scenario or a .yaml path.
 */

import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseScenario, SCENARIOS_DIR, simulate } from '@openbatch/testnet'

const WALL_FLOOR_S = 600
/** 4 GB, read strictly (decimal: 4 × 10^9 bytes). */
const RSS_FLOOR_BYTES = 4e9

export async function main(): Promise<void> {
  const name = process.env.BENCH_TESTNET_SCENARIO ?? 'scale-100k'
  const file = existsSync(name) ? name : join(SCENARIOS_DIR, `${name}.yaml`)
  const scenario = parseScenario(await readFile(file, 'utf8'), file)
  const peers = scenario.groups.reduce((n, g) => n + g.count, 0) + scenario.requesters.length
  const tasks = scenario.requesters.reduce((n, r) => n + r.jobs.reduce((m, j) => m + j.tasks, 0), 0)
  console.log(`${scenario.name}: ${peers} peers, ${tasks} tasks, seed ${scenario.seed}`)
  const started = performance.now()
  const report = simulate(scenario)
  const wallS = (performance.now() - started) / 1000
  // maxRSS is in KiB.
  const peakRss = process.resourceUsage().maxRSS * 1024
  const t = report.totals
  console.log(
    `${report.events} events in ${wallS.toFixed(1)} s (${Math.round(report.events / wallS)} events/s), peak RSS ${(peakRss / 1e9).toFixed(2)} GB; ${report.virtualSeconds} s of virtual time`
  )
  console.log(
    `settled ${t.settled}/${t.tasks}, lost ${t.lost}, credited twice ${t.doubleCredits}, runs per task ${t.overhead}, fraud proofs ${t.fraudProofs} (false ${t.falseAccusations})`
  )
  if (report.dht != null) {
    const d = report.dht
    console.log(
      `DHT of ${d.nodes} nodes (k ${d.k}, α ${d.alpha}), ${d.lookups} lookups: hops median ${d.median}, p90 ${d.p90} (histogram ${JSON.stringify(d.histogram)}; log2(N)/log2(k) = ${(d.log2N / Math.log2(d.k)).toFixed(2)}; the public IPFS DHT: median 4, p90 ≤ 6 at ~15k servers); ${d.exact}/${d.lookups} found the true closest`
    )
  }
  const floorMet = peers >= 100_000 && tasks >= 1_000_000 && wallS <= WALL_FLOOR_S && peakRss <= RSS_FLOOR_BYTES
  console.log(`floor (≥ 100,000 peers, ≥ 1,000,000 tasks, ≤ ${WALL_FLOOR_S} s, ≤ 4 GB): ${floorMet ? 'met' : 'NOT met'}`)
  console.log(
    JSON.stringify({
      bench: 'testnet',
      scenario: scenario.name,
      peers,
      tasks,
      events: report.events,
      wallS: Number(wallS.toFixed(1)),
      eventsPerSecond: Math.round(report.events / wallS),
      peakRssBytes: peakRss,
      settled: t.settled,
      lost: t.lost,
      doubleCredits: t.doubleCredits,
      dhtHops: report.dht == null ? null : { median: report.dht.median, p90: report.dht.p90, histogram: report.dht.histogram },
      floorMet
    })
  )
}
