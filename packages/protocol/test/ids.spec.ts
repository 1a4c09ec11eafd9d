import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { identity as identityHasher } from 'multiformats/hashes/identity'
import {
  capacityKey,
  deriveJobId,
  deriveTaskId,
  jobsTopic,
  modelCid,
  modelMatchesCid,
  modelOfJobsTopic,
  parseCapacityKey,
  parseModelCid,
  parsePeerId,
  WORKER_RENDEZVOUS_CID
} from '../src/index.js'
import { identity, MODEL, MODEL_BYTES, NONCE } from './fixtures.js'

describe('model ids (§2.1)', () => {
  it('are CIDv1 raw sha2-256 of the bytes and round-trip through string and bytes', () => {
    const cid = modelCid(MODEL_BYTES)
    assert.equal(cid.version, 1)
    assert.equal(cid.code, 0x55)
    assert.equal(cid.multihash.code, 0x12)
    assert.ok(parseModelCid(cid.toString()).equals(cid))
    assert.ok(parseModelCid(cid.bytes).equals(cid))
    assert.ok(modelMatchesCid(MODEL_BYTES, cid))
    assert.ok(!modelMatchesCid(new Uint8Array([1]), cid))
  })

  it('rejects other CIDs and garbage with InvalidCidError', () => {
    const dagPb = CID.createV1(0x70, MODEL.multihash)
    assert.throws(() => parseModelCid(dagPb.bytes), { name: 'InvalidCidError', message: /not CIDv1 raw sha2-256/ })
    assert.throws(() => parseModelCid(CID.createV1(0x55, identityHasher.digest(new Uint8Array([1]))).bytes), { name: 'InvalidCidError' })
    assert.throws(() => parseModelCid('not-a-cid'), { name: 'InvalidCidError' })
    assert.throws(() => parseModelCid(new Uint8Array([0xff, 0xff])), { name: 'InvalidCidError' })
  })
})

describe('job and task ids (§2.4)', () => {
  it('job id binds the requester: another requester with the same nonce gets another id', async () => {
    const a = await identity(1)
    const b = await identity(2)
    assert.notDeepEqual(deriveJobId(a.id, NONCE), deriveJobId(b.id, NONCE))
    assert.equal(deriveJobId(a.id, NONCE).byteLength, 32)
  })

  it('refuses nonces outside 16..32 bytes', async () => {
    const a = await identity(1)
    assert.throws(() => deriveJobId(a.id, new Uint8Array(15)), { name: 'InvalidFieldError', message: /nonce/ })
    assert.throws(() => deriveJobId(a.id, new Uint8Array(33)), { name: 'InvalidFieldError' })
  })

  it('task id changes with every component and accepts the full uint64 range', () => {
    const job = new Uint8Array(32)
    const digest = new Uint8Array(32)
    const base = deriveTaskId(job, 0, MODEL.bytes, digest)
    assert.notDeepEqual(deriveTaskId(job, 1, MODEL.bytes, digest), base)
    assert.notDeepEqual(deriveTaskId(new Uint8Array(32).fill(1), 0, MODEL.bytes, digest), base)
    assert.notDeepEqual(deriveTaskId(job, 0, MODEL.bytes, new Uint8Array(32).fill(1)), base)
    assert.equal(deriveTaskId(job, 2n ** 64n - 1n, MODEL.bytes, digest).byteLength, 32)
    assert.throws(() => deriveTaskId(job, 2n ** 64n, MODEL.bytes, digest), { name: 'InvalidFieldError' })
    assert.throws(() => deriveTaskId(job, -1, MODEL.bytes, digest), { name: 'InvalidFieldError' })
  })
})

describe('keys and topics (§4, §5)', () => {
  it('capacity keys round-trip and foreign keys are refused', async () => {
    const w = await identity(3)
    const key = capacityKey(w.peerId)
    assert.equal(new TextDecoder().decode(key.subarray(0, 20)), '/openbatch-capacity/')
    assert.deepEqual(parseCapacityKey(key), w.id)
    assert.throws(() => parseCapacityKey(new TextEncoder().encode('/pk/abc')), { name: 'InvalidRecordKeyError' })
    assert.throws(() => parseCapacityKey(new TextEncoder().encode('/openbatch-capacity/')), { name: 'InvalidRecordKeyError' })
  })

  it('jobs topics name the model in base32 and parse back', () => {
    const topic = jobsTopic(MODEL)
    assert.equal(topic, `/openbatch/jobs/1.0.0/${MODEL.toString()}`)
    assert.ok(modelOfJobsTopic(topic)?.equals(MODEL))
    assert.equal(modelOfJobsTopic('/openbatch/jobs/1.0.0/zzz'), undefined)
    assert.equal(modelOfJobsTopic('/other'), undefined)
  })

  it('the worker rendezvous CID is fixed', () => {
    assert.equal(WORKER_RENDEZVOUS_CID.toString(), modelCid(new TextEncoder().encode('openbatch/rendezvous/workers/v1')).toString())
  })

  it('peer id bytes parse, garbage is InvalidPeerIdError', async () => {
    const w = await identity(4)
    assert.ok(parsePeerId(w.id).equals(w.peerId))
    assert.throws(() => parsePeerId(new Uint8Array([1, 2, 3]), 'worker'), { name: 'InvalidPeerIdError', message: /^worker:/ })
  })
})

describe('hex helpers', () => {
  it('round-trip and reject what is not hex', async () => {
    const { fromHex, toHex } = await import('../src/index.js')
    assert.equal(toHex(fromHex('00ff10Ab')), '00ff10ab')
    assert.throws(() => fromHex('abc'), { name: 'InvalidParameterError' })
    assert.throws(() => fromHex('zz'), { name: 'InvalidParameterError' })
  })
})
