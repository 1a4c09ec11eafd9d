import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { simulateDht } from '../src/index.js'

describe('the DHT model (XOR routing tables, α-parallel lookups)', () => {
  it('at the public IPFS DHT size (~15k servers) lookups take the hops Kademlia predicts, within the measured network', () => {
    const r = simulateDht({ nodes: 15_000, lookups: 300, seed: 3 })
    assert.equal(r.exact, 300, 'every lookup ends at the true closest node')
    // With k-buckets of 20, a hop gains about log2(20) ≈ 4.3 bits: log2(N) / log2(k) hops.
    const expected = Math.log2(15_000) / Math.log2(20)
    assert.ok(Math.abs(r.median - expected) <= 1, `median ${r.median}, Kademlia ≈ ${expected.toFixed(2)}`)
    // The public IPFS DHT (measured): median 4 hops, p90 ≤ 6; a churn-free model needs no more.
    assert.ok(r.median <= 4 && r.p90 <= 6, JSON.stringify(r))
    assert.equal(
      r.histogram.reduce((a, b) => a + b, 0),
      300
    )
  })

  it('hops grow with log N: more nodes never take fewer hops at the median; deterministic per seed', () => {
    const small = simulateDht({ nodes: 200, lookups: 200, seed: 1 })
    const large = simulateDht({ nodes: 20_000, lookups: 200, seed: 1 })
    assert.ok(large.median >= small.median, `${small.median} → ${large.median}`)
    assert.deepEqual(simulateDht({ nodes: 500, lookups: 50, seed: 9 }), simulateDht({ nodes: 500, lookups: 50, seed: 9 }))
    assert.throws(() => simulateDht({ nodes: 1, lookups: 1, seed: 1 }), /nodes must be an integer in 2\.\.2\^24/)
  })
})
