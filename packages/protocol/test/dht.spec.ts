import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  assertPreferred,
  CapacityRecord,
  capacityKey,
  open,
  STATEMENTS,
  seal,
  selectCapacityRecord,
  validateCapacityEntry
} from '../src/index.js'
import { capacityRecord, identity, T0 } from './fixtures.js'

describe('capacity records in the DHT (§4.2)', async () => {
  const worker = await identity(2)
  const other = await identity(5)
  const now = T0 + 1000

  it("a valid record under its signer's key passes the validator", async () => {
    const value = await seal(STATEMENTS.capacity, capacityRecord(worker), worker.key)
    const opened = await validateCapacityEntry(capacityKey(worker.peerId), value, now)
    assert.equal(opened.message.seq, 1n)
  })

  it('rejects an expired record and one issued too far in the future', async () => {
    const value = await seal(STATEMENTS.capacity, capacityRecord(worker), worker.key)
    await assert.rejects(validateCapacityEntry(capacityKey(worker.peerId), value, T0 + 3_600_000), { name: 'ExpiredRecordError' })
    await assert.rejects(validateCapacityEntry(capacityKey(worker.peerId), value, T0 - 10 * 60_000), {
      name: 'ExpiredRecordError',
      message: /future/
    })
  })

  it("rejects a record stored under another peer's key", async () => {
    const value = await seal(STATEMENTS.capacity, capacityRecord(worker), worker.key)
    await assert.rejects(validateCapacityEntry(capacityKey(other.peerId), value, now), { name: 'InvalidRecordKeyError' })
  })

  it('rejects a forged record (payload changed after signing)', async () => {
    const value = await seal(STATEMENTS.capacity, capacityRecord(worker), worker.key)
    const { RecordEnvelope } = await import('@libp2p/peer-record')
    const env = RecordEnvelope.createFromProtobuf(value)
    const forged = new RecordEnvelope({ ...env, payload: CapacityRecord.encode(capacityRecord(worker, { seq: 99n })) })
    await assert.rejects(validateCapacityEntry(capacityKey(worker.peerId), forged.marshal(), now), { name: 'InvalidSignatureError' })
  })

  it('rejects lifetimes over 24 h and seq 0 at sealing', async () => {
    await assert.rejects(seal(STATEMENTS.capacity, capacityRecord(worker, { expiresAtMs: BigInt(T0 + 25 * 3_600_000) }), worker.key), {
      name: 'InvalidFieldError',
      message: /^expires_at_ms/
    })
    await assert.rejects(seal(STATEMENTS.capacity, capacityRecord(worker, { seq: 0n }), worker.key), {
      name: 'InvalidFieldError',
      message: /^seq/
    })
  })

  it('a held record is replaced only by one the selector prefers: never by a lower seq, at equal seqs by the winner of the tie-breaks (§4.2)', async () => {
    const mk = async (seq: bigint, exp: number, devices = 1) => {
      const record = capacityRecord(worker, { seq, expiresAtMs: BigInt(exp) })
      const bytes = await seal(STATEMENTS.capacity, { ...record, devices: record.devices.slice(0, devices) }, worker.key)
      return { bytes, record: (await open(STATEMENTS.capacity, bytes)).message }
    }
    const five = await mk(5n, T0 + 1000)
    const four = await mk(4n, T0 + 9000)
    assert.throws(() => assertPreferred(five, four), { name: 'StaleRecordError' })
    assert.throws(() => assertPreferred(five, five), { name: 'StaleRecordError' })
    assertPreferred(five, await mk(6n, T0 + 500))
    // Equal seqs: the later expiry replaces, the earlier does not.
    const later = await mk(5n, T0 + 2000)
    assert.throws(() => assertPreferred(later, five), { name: 'StaleRecordError' })
    assertPreferred(five, later)
    // Equal seq and expiry, different bytes: whichever order two peers heard them in, both keep
    // the larger — they converge.
    const x = await mk(5n, T0 + 1000, 0)
    const [small, large] = Buffer.compare(Buffer.from(x.bytes), Buffer.from(five.bytes)) < 0 ? [x, five] : [five, x]
    assertPreferred(small, large)
    assert.throws(() => assertPreferred(large, small), { name: 'StaleRecordError' })
  })

  it('the selector picks the highest seq, then the later expiry, and the choice is order-independent', async () => {
    const mk = async (seq: bigint, exp: number) => {
      const bytes = await seal(STATEMENTS.capacity, capacityRecord(worker, { seq, expiresAtMs: BigInt(exp) }), worker.key)
      return { bytes, record: (await open(STATEMENTS.capacity, bytes)).message }
    }
    const a = await mk(3n, T0 + 1000)
    const b = await mk(7n, T0 + 1000)
    const c = await mk(7n, T0 + 2000)
    const garbage = { bytes: new Uint8Array([1, 2, 3]) }
    assert.equal(selectCapacityRecord([a, b, c, garbage]), 2)
    assert.equal(selectCapacityRecord([c, garbage, b, a]), 0)
    assert.equal(selectCapacityRecord([garbage, a]), 1)
  })
})
