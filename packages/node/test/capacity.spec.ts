import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { capacityKey, modelCid, peerIdBytes, STATEMENTS, seal } from '@openbatch/protocol'
import { findWorkers, getCapacity, publishCapacity } from '../src/index.js'
import { network } from './helpers.js'

const MODEL = modelCid(new TextEncoder().encode('capacity test model'))
const OTHER = modelCid(new TextEncoder().encode('a model nobody serves'))
const devices = [{ kind: 'cpu', name: 'test', memoryBytes: 1n }]
const models = [{ model: MODEL.bytes as Uint8Array<ArrayBuffer>, itemsPerSecond: 1100, maxBatch: 32, pricePerItem: 5n }]

describe('capacity records in the DHT (spec §4) — real libp2p peers', () => {
  it('a requester finds a worker for a model with its verified capacity record', async () => {
    const [, worker, requester, ...others] = await network(5)
    assert.ok(worker && requester && others.length === 2)
    const published = await publishCapacity(worker, { devices, models })
    const found = []
    for await (const w of findWorkers(requester, MODEL.toString(), { signal: AbortSignal.timeout(10_000) })) {
      found.push(w)
    }
    assert.deepEqual(
      found.map((w) => w.peerId.toString()),
      [worker.peerId.toString()]
    )
    assert.equal(found[0]?.record.seq, published.seq)
    assert.equal(found[0]?.record.models[0]?.itemsPerSecond, 1100)
    const none = []
    for await (const w of findWorkers(requester, OTHER.toString(), { signal: AbortSignal.timeout(10_000) })) {
      none.push(w)
    }
    assert.deepEqual(none, [])
  })

  it('a republished record with a higher seq replaces the old one', async () => {
    const [, worker, requester] = await network(3)
    assert.ok(worker && requester)
    const first = await publishCapacity(worker, { devices, models })
    const second = await publishCapacity(worker, { devices, models: [{ ...(models[0] as (typeof models)[0]), itemsPerSecond: 2000 }] })
    assert.ok(second.seq > first.seq)
    const record = await getCapacity(requester, worker.peerId, { signal: AbortSignal.timeout(10_000) })
    assert.equal(record?.seq, second.seq)
    assert.equal(record?.models[0]?.itemsPerSecond, 2000)
  })

  it('a forged or expired record is refused by the DHT and never returned', async () => {
    const [hub, worker, attacker, requester] = await network(4)
    assert.ok(hub && worker && attacker && requester)
    await publishCapacity(worker, { devices, models })
    const now = Date.now()
    // The attacker signs a record that claims to be the worker's, under the worker's key.
    const forged = await seal(
      STATEMENTS.capacity,
      {
        worker: peerIdBytes(attacker.peerId),
        seq: BigInt(now) * 2n,
        issuedAtMs: BigInt(now),
        expiresAtMs: BigInt(now + 60_000),
        devices,
        models
      },
      attacker.privateKey
    )
    // kad-dht's put does not throw when remote peers refuse the record; what matters is that no
    // one ever gets it back.
    await attacker.libp2p.contentRouting.put(capacityKey(worker.peerId), forged, { signal: AbortSignal.timeout(10_000) }).catch(() => {})
    // The worker's own record, already expired.
    const expired = await seal(
      STATEMENTS.capacity,
      {
        worker: peerIdBytes(worker.peerId),
        seq: BigInt(now) * 2n,
        issuedAtMs: BigInt(now - 120_000),
        expiresAtMs: BigInt(now - 60_000),
        devices,
        models
      },
      worker.privateKey
    )
    await attacker.libp2p.contentRouting.put(capacityKey(worker.peerId), expired, { signal: AbortSignal.timeout(10_000) }).catch(() => {})
    for (const reader of [requester, hub]) {
      const record = await getCapacity(reader, worker.peerId, { signal: AbortSignal.timeout(10_000) })
      assert.ok(record != null && record.expiresAtMs > BigInt(now), 'the genuine, live record is still the one returned')
      assert.notEqual(record.seq, BigInt(now) * 2n)
      assert.deepEqual(record.worker, peerIdBytes(worker.peerId))
    }
  })
})

describe('CapacityPublisher (spec §4.2 republishing)', () => {
  it('republishes before expiry and at once when the offer changes', async () => {
    const { CapacityPublisher } = await import('../src/index.js')
    const [, worker, requester] = await network(3)
    assert.ok(worker && requester)
    const publisher = new CapacityPublisher(worker, { devices, models, ttlMs: 1000 })
    await publisher.start()
    const first = publisher.current?.seq ?? 0n
    const { waitFor } = await import('./helpers.js')
    await waitFor('a republication at half the lifetime', () => (publisher.current?.seq ?? 0n) > first, 5000)
    await publisher.update({
      devices,
      models: [...models, { ...(models[0] as (typeof models)[0]), model: OTHER.bytes as Uint8Array<ArrayBuffer> }],
      ttlMs: 60_000
    })
    const found = []
    for await (const w of findWorkers(requester, OTHER.toString(), { signal: AbortSignal.timeout(10_000) })) {
      found.push(w.peerId.toString())
    }
    assert.deepEqual(found, [worker.peerId.toString()])
    publisher.stop()
  })
})
