import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { seededRandom } from '@openbatch/core'
import { GossipMesh, MESH_DEGREE } from '../src/gossip.js'

describe('the simulated gossip mesh', () => {
  it('has degree about D, reaches everyone in about log(N)/log(D − 1) hops, and each hop costs its latency', () => {
    const random = seededRandom(5)
    const mesh = new GossipMesh(10_000, () => 10, random)
    let degrees = 0
    for (let i = 0; i < mesh.nodes; i++) {
      degrees += mesh.degree(i)
    }
    assert.equal(degrees / mesh.nodes, MESH_DEGREE)
    const arrival = mesh.spread(
      0,
      () => true,
      () => false
    )
    assert.equal(arrival[0], 0)
    assert.ok(
      arrival.every((t) => Number.isFinite(t)),
      'a connected mesh reaches every peer'
    )
    const hops = [...arrival].map((t) => t / 10).sort((a, b) => a - b)
    assert.ok(
      hops.every((h) => Number.isInteger(h)),
      'arrival = hops × the link latency'
    )
    const median = hops[hops.length >> 1] as number
    const expected = Math.log(10_000) / Math.log(MESH_DEGREE - 1)
    assert.ok(Math.abs(median - expected) <= 1.5, `median ${median} hops, expected about ${expected.toFixed(1)}`)
  })

  it('offline peers do not forward, and lost transmissions take other paths', () => {
    const mesh = new GossipMesh(2000, () => 10, seededRandom(6))
    const all = mesh.spread(
      0,
      () => true,
      () => false
    )
    const half = mesh.spread(
      0,
      (i) => i % 2 === 0,
      () => false
    )
    const mean = (a: Float64Array) => [...a].filter(Number.isFinite).reduce((x, y) => x + y, 0) / [...a].filter(Number.isFinite).length
    assert.ok(mean(half) > mean(all), 'paths around offline peers are longer')
    const lossy = seededRandom(7)
    const lost = mesh.spread(
      0,
      () => true,
      () => lossy() < 0.1
    )
    assert.ok([...lost].filter(Number.isFinite).length > 1990, 'redundant paths deliver despite 10 % loss per transmission')
    assert.ok(mean(lost) >= mean(all))
    assert.ok(
      new GossipMesh(1, () => 10, seededRandom(1)).spread(
        0,
        () => true,
        () => false
      )[0] === 0,
      'a mesh of one peer has only the publisher'
    )
  })
})
