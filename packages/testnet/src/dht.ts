/**
 * The DHT modelled on real XOR routing: N nodes with random 32-bit ids, each with a Kademlia
 * routing table (k-buckets by shared prefix, up to k contacts each, drawn at random from that
 * bucket's range as a long-running node would have them), and iterative α-parallel lookups that ask
 * the closest nodes not yet asked, which answer with their k closest contacts, until the k closest
 * known have all been asked. Hop counts are measured, not assumed: a lookup's hops are the rounds
 * of queries until it reached (asked) the closest node it ends with — the path length, as the IPFS
 * DHT measurements count it; `rounds` is the whole lookup.
 */

import { seededRandom } from '@openbatch/core'

export interface DhtParams {
  nodes: number
  /** Bucket size (libp2p: 20). @default 20 */
  k?: number
  /** Queries in flight per lookup (Kademlia's α; libp2p's kad-dht: 3). @default 3 */
  alpha?: number
  lookups: number
  seed: number
}

export interface DhtReport {
  nodes: number
  k: number
  alpha: number
  lookups: number
  /** Lookups by hop count: `histogram[h]` lookups took h hops. */
  histogram: number[]
  median: number
  p90: number
  /** Rounds until the lookup ended (its k closest all asked): median. */
  roundsMedian: number
  /** Lookups that found the node closest to the target (the network's true closest). */
  exact: number
  /** log₂(N): Kademlia's bound on hops with one bit of progress per hop. */
  log2N: number
}

const BITS = 32

/** A DHT of `nodes` nodes and `lookups` random lookups; deterministic for a seed. */
export function simulateDht(params: DhtParams): DhtReport {
  const k = params.k ?? 20
  const alpha = params.alpha ?? 3
  const random = seededRandom(params.seed)
  const n = params.nodes
  if (!Number.isInteger(n) || n < 2 || n > 2 ** 24) {
    throw new RangeError(`nodes must be an integer in 2..2^24, got ${n}`)
  }
  // Distinct random ids, sorted: every bucket of a node is a contiguous range of them.
  const seen = new Set<number>()
  while (seen.size < n) {
    seen.add(Math.floor(random() * 2 ** BITS))
  }
  const ids = Uint32Array.from(seen).sort()
  /** First index whose id is ≥ value. */
  const lowerBound = (value: number) => {
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((ids[mid] as number) < value) {
        lo = mid + 1
      } else {
        hi = mid
      }
    }
    return lo
  }
  // Routing tables, flat: node i's contacts are table[offsets[i] .. offsets[i + 1]), in a typed
  // array that grows as it fills (100,000 nodes hold ~35 M contacts: a plain array took 4× the memory).
  const offsets = new Uint32Array(n + 1)
  let table = new Uint32Array(n * k * 4)
  let used = 0
  const push = (j: number) => {
    if (used === table.length) {
      const grown = new Uint32Array(Math.ceil(table.length * 1.5))
      grown.set(table)
      table = grown
    }
    table[used++] = j
  }
  for (let i = 0; i < n; i++) {
    offsets[i] = used
    const id = ids[i] as number
    for (let bit = BITS - 1; bit >= 0; bit--) {
      // Bucket `bit`: ids sharing the bits above `bit` with this one and differing at `bit`.
      const span = 2 ** bit
      const from = (Math.floor(id / (2 * span)) * 2 + (Math.floor(id / span) % 2 === 0 ? 1 : 0)) * span
      const a = lowerBound(from)
      const b = lowerBound(from + span)
      const size = b - a
      if (size <= k) {
        for (let j = a; j < b; j++) {
          push(j)
        }
      } else {
        const picked = new Set<number>()
        while (picked.size < k) {
          picked.add(a + Math.floor(random() * size))
        }
        for (const j of picked) {
          push(j)
        }
      }
    }
  }
  offsets[n] = used

  const histogram: number[] = []
  const hops: number[] = []
  const allRounds: number[] = []
  let exact = 0
  for (let l = 0; l < params.lookups; l++) {
    const target = Math.floor(random() * 2 ** BITS)
    const distance = (j: number) => ((ids[j] as number) ^ target) >>> 0
    const start = Math.floor(random() * n)
    // The closest known, best first; who was asked.
    const asked = new Set<number>([start])
    /** The round in which each node was asked. */
    const askedIn = new Map<number, number>([[start, 0]])
    let known = closest([...table.subarray(offsets[start], offsets[start + 1])], distance, k)
    let rounds = 0
    for (;;) {
      const batch = known.filter((j) => !asked.has(j)).slice(0, alpha)
      if (batch.length === 0) {
        break
      }
      rounds++
      const best = distance(known[0] as number)
      const heard = new Set(known)
      for (const j of batch) {
        asked.add(j)
        askedIn.set(j, rounds)
        for (const c of table.subarray(offsets[j], offsets[j + 1])) {
          heard.add(c)
        }
      }
      known = closest([...heard], distance, k)
      // Done when a round brings nothing closer and the k closest have all been asked.
      if (distance(known[0] as number) >= best && known.every((j) => asked.has(j))) {
        break
      }
    }
    // The network's closest node to the target, by XOR over every id.
    let truth = 0
    for (let j = 1; j < n; j++) {
      if (distance(j) < distance(truth)) {
        truth = j
      }
    }
    if (known[0] === truth) {
      exact++
    }
    const h = askedIn.get(known[0] as number) ?? rounds
    hops.push(h)
    allRounds.push(rounds)
    while (histogram.length <= h) {
      histogram.push(0)
    }
    histogram[h] = (histogram[h] as number) + 1
  }
  hops.sort((a, b) => a - b)
  allRounds.sort((a, b) => a - b)
  return {
    nodes: n,
    k,
    alpha,
    lookups: params.lookups,
    histogram,
    median: hops[Math.floor(hops.length / 2)] ?? 0,
    p90: hops[Math.min(hops.length - 1, Math.floor(hops.length * 0.9))] ?? 0,
    roundsMedian: allRounds[Math.floor(allRounds.length / 2)] ?? 0,
    exact,
    log2N: Math.round(Math.log2(n) * 100) / 100
  }
}

function closest(candidates: number[], distance: (j: number) => number, k: number): number[] {
  return candidates.sort((a, b) => distance(a) - distance(b)).slice(0, k)
}
