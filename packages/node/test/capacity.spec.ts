import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Libp2pRecord } from '@libp2p/record'
import { capacityKey, modelCid, peerIdBytes, STATEMENTS, seal, toHex } from '@openbatch/protocol'
import type { Libp2pOptions } from 'libp2p'
import { findWorkers, getCapacity, publishCapacity } from '../src/index.js'
import { network, waitFor } from './helpers.js'

type Datastore = NonNullable<Libp2pOptions['datastore']>

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

describe('held capacity records (spec §4.2): replaced only by one the selector prefers', () => {
  it('a peer keeps its record against an older seq, and two records of one seq end up the same at every holder', async () => {
    const peers = await network(4)
    const [hub, worker, other, reader] = peers
    assert.ok(hub && worker && other && reader)
    const now = Date.now()
    const record = (seq: bigint, itemsPerSecond: number) =>
      seal(
        STATEMENTS.capacity,
        {
          worker: peerIdBytes(worker.peerId),
          seq,
          issuedAtMs: BigInt(now),
          expiresAtMs: BigInt(now + 600_000),
          devices,
          models: [{ ...(models[0] as (typeof models)[0]), itemsPerSecond }]
        },
        worker.privateKey
      )
    const key = capacityKey(worker.peerId)
    // Two records of seq 7 (a worker that reused a seq after losing its state), signed by the
    // worker and spread by two peers in opposite orders.
    const [a, b] = [await record(7n, 10), await record(7n, 20)]
    const [small, large] = Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0 ? [a, b] : [b, a]
    const signal = () => AbortSignal.timeout(10_000)
    await worker.libp2p.contentRouting.put(key, large, { signal: signal() })
    // The larger one is held; the smaller one, equal seq, is refused by each holder — the
    // worker's own store first of all.
    await assert.rejects(worker.libp2p.contentRouting.put(key, small, { signal: signal() }), { name: 'StaleRecordError' })
    await other.libp2p.contentRouting.put(key, small, { signal: signal() }).catch(() => {})
    // An older seq never replaces a held record either.
    await other.libp2p.contentRouting.put(key, await record(6n, 30), { signal: signal() }).catch(() => {})
    // What each peer holds, read from its own store (a DHT get would pick the best of all peers').
    const held = async (p: (typeof peers)[number]) => {
      const store = (p.libp2p as unknown as { components: { datastore: Datastore } }).components.datastore
      for await (const { value } of store.query({ prefix: '/dht/record/' })) {
        const bytes = Libp2pRecord.deserialize(value).value
        return toHex(bytes)
      }
      return undefined
    }
    const holders = async () => (await Promise.all(peers.map(held))).filter((h) => h != null)
    // A holder that took the smaller one before the larger reached it (a put goes to the closest
    // peers in turn) is corrected by the next get: kad-dht sends the selector's best to peers that
    // answered with another, and the guard lets it replace the held record. Before the guard, a
    // holder kept whichever came last.
    await waitFor('every holder to keep the larger of the two', async () => {
      const now = await holders()
      if (now.length >= 2 && now.every((h) => h === toHex(large))) {
        return true
      }
      await reader.libp2p.contentRouting.get(key, { signal: signal() }).catch(() => {})
      return false
    })
    assert.deepEqual(new Set(await holders()), new Set([toHex(large)]))
    const found = await getCapacity(reader, worker.peerId, { signal: signal() })
    assert.equal(found?.seq, 7n)
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
