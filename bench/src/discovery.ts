/**
 * Discovery benchmark (issue #11, item 14): real libp2p peers in this process on the memory
 * transport, a real kad-dht. N workers publish their capacity records and provide a model; then,
 * run after run, a newcomer joins through one random peer and runs `findWorkers` until it has
 * found every worker (or 30 s pass). Reports, per network size, the share of runs that found all
 * workers and the time to find them all (p50, p99, max). Sizes and runs: 10 workers × 100 runs and
 * 50 workers × 10 runs (`BENCH_RUNS_SMALL`, `BENCH_RUNS_LARGE`). The last line is JSON.
 */

import {
  type CapacityInit,
  createOpenbatchPeer,
  deadline,
  findWorkers,
  type OpenbatchPeer,
  publishCapacity,
  withDeadline
} from '@openbatch/node'
import { DHT_PROTOCOL_PREFIX, modelCid } from '@openbatch/protocol'

const MODEL = modelCid(new TextEncoder().encode('discovery bench model'))
let counter = 0

async function peer(): Promise<OpenbatchPeer> {
  const p = await createOpenbatchPeer({ transports: ['memory'], listen: [`/memory/discovery-${process.pid}-${counter++}`], mdns: false })
  await p.start()
  return p
}

type Dialable = Parameters<OpenbatchPeer['libp2p']['dial']>[0]
const addrOf = (p: OpenbatchPeer) => p.libp2p.getMultiaddrs()[0] as Dialable

async function knowsDhtPeer(p: OpenbatchPeer): Promise<boolean> {
  const kad = `${DHT_PROTOCOL_PREFIX}/kad/1.0.0`
  return (await p.libp2p.peerStore.all()).some((info) => info.protocols.includes(kad))
}

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

interface SizeReport {
  workers: number
  runs: number
  allFound: number
  foundShare: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  networkStartMs: number
  /** Workers whose capacity record could not be published (they cannot be found). */
  unpublished: number
}

async function measure(workers: number, runs: number): Promise<SizeReport> {
  const started = performance.now()
  const peers: OpenbatchPeer[] = []
  for (let i = 0; i < workers; i++) {
    const p = await peer()
    // Each joins through the first peer and one other, as peers bootstrapping from a list do.
    for (const target of new Set([peers[0], peers[Math.floor(Math.random() * peers.length)]])) {
      if (target != null) {
        await p.libp2p.dial(addrOf(target))
      }
    }
    peers.push(p)
  }
  await until('every peer to know a DHT peer', async () => (await Promise.all(peers.map(knowsDhtPeer))).every(Boolean), 60_000)
  const offer: CapacityInit = {
    devices: [{ kind: 'cpu', name: 'bench', memoryBytes: 0n }],
    models: [{ model: MODEL.bytes, itemsPerSecond: 1, maxBatch: 32, pricePerItem: 0n }]
  }
  // Each worker publishes as CapacityPublisher does; one that cannot within 5 minutes is counted.
  // A few at a time, as workers of a real network publish at different moments (all at once in
  // one process would only measure this machine's two cores).
  let unpublished = 0
  for (let i = 0; i < peers.length; i += 5) {
    const batch = await Promise.allSettled(
      peers.slice(i, i + 5).map((p) => withDeadline(300_000, (signal) => publishCapacity(p, offer, { signal })))
    )
    unpublished += batch.filter((r) => r.status === 'rejected').length
  }
  const networkStartMs = performance.now() - started
  const times: number[] = []
  let allFound = 0
  let foundTotal = 0
  for (let run = 0; run < runs; run++) {
    const newcomer = await peer()
    await newcomer.libp2p.dial(addrOf(peers[Math.floor(Math.random() * peers.length)] as OpenbatchPeer))
    await until('the newcomer to know a DHT peer', () => knowsDhtPeer(newcomer), 10_000)
    const t0 = performance.now()
    const found = new Set<string>()
    const limit = deadline(30_000)
    while (found.size < workers && !limit.signal.aborted) {
      try {
        for await (const w of findWorkers(newcomer, MODEL.toString(), { signal: limit.signal, skip: found })) {
          found.add(w.peerId.toString())
          if (found.size === workers) {
            break
          }
        }
      } catch {
        // the search was cut short by the deadline
      }
    }
    limit.clear()
    const ms = performance.now() - t0
    foundTotal += found.size
    if (found.size === workers) {
      allFound++
      times.push(ms)
    }
    await newcomer.stop()
  }
  await Promise.all(peers.map((p) => p.stop()))
  return {
    workers,
    runs,
    allFound,
    foundShare: foundTotal / (runs * workers),
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: Math.max(...times),
    networkStartMs,
    unpublished
  }
}

export async function main(): Promise<void> {
  const sizes: [number, number][] = [
    [10, Number(process.env.BENCH_RUNS_SMALL ?? 100)],
    [50, Number(process.env.BENCH_RUNS_LARGE ?? 10)]
  ]
  const reports: SizeReport[] = []
  for (const [workers, runs] of sizes) {
    const r = await measure(workers, runs)
    reports.push(r)
    console.log(
      `${workers} workers: ${r.allFound}/${r.runs} runs found all (${(r.foundShare * 100).toFixed(1)} % of workers found), time to all p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms, max ${r.maxMs.toFixed(0)} ms (network up in ${(r.networkStartMs / 1000).toFixed(1)} s, ${r.unpublished} could not publish)`
    )
  }
  console.log(JSON.stringify({ bench: 'discovery', sizes: reports, allFound: reports.every((r) => r.allFound === r.runs) }))
}
