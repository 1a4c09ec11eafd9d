import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { RecordEnvelope } from '@libp2p/peer-record'
import { open, STATEMENTS, type StatementKind, seal, TaskResult } from '../src/index.js'
import { capacityRecord, identity, jobAnnouncement, probs, receipt, taskResult } from './fixtures.js'

/** Signs arbitrary payload bytes with any domain and payload type, bypassing seal()'s checks. */
async function rawSeal(domain: string, payloadType: Uint8Array, payload: Uint8Array, key: Parameters<typeof RecordEnvelope.seal>[1]) {
  const env = await RecordEnvelope.seal({ domain, codec: payloadType, marshal: () => payload, equals: () => false }, key)
  return env.marshal()
}

describe('signed envelopes (§1)', async () => {
  const requester = await identity(1)
  const worker = await identity(2)
  const job = jobAnnouncement(requester)
  const result = taskResult(worker, job, probs(0.9, 0.1))

  it('every statement kind seals and opens to the same message and signer', async () => {
    const cases: [StatementKind<never>, unknown, typeof requester][] = [
      [STATEMENTS.capacity as unknown as StatementKind<never>, capacityRecord(worker), worker],
      [STATEMENTS.job as unknown as StatementKind<never>, job, requester],
      [STATEMENTS.result as unknown as StatementKind<never>, result, worker],
      [STATEMENTS.receipt as unknown as StatementKind<never>, receipt(requester, worker, result, new Uint8Array(32)), requester]
    ]
    for (const [kind, message, signer] of cases) {
      const bytes = await seal(kind, message as never, signer.key)
      const opened = await open(kind, bytes)
      assert.deepEqual(opened.message, message, kind.name)
      assert.ok(opened.signer.equals(signer.peerId))
      assert.deepEqual(opened.envelope, bytes)
    }
  })

  it('uses a distinct domain and payload type per kind', () => {
    const kinds = Object.values(STATEMENTS)
    assert.equal(new Set(kinds.map((k) => k.domain)).size, kinds.length)
    assert.equal(new Set(kinds.map((k) => k.payloadType.join())).size, kinds.length)
  })

  it('rejects a flipped signature bit with InvalidSignatureError', async () => {
    const bytes = await seal(STATEMENTS.result, result, worker.key)
    const bad = Uint8Array.from(bytes)
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
    await assert.rejects(open(STATEMENTS.result, bad), { name: 'InvalidSignatureError' })
  })

  it('rejects a modified payload with InvalidSignatureError', async () => {
    const env = RecordEnvelope.createFromProtobuf(await seal(STATEMENTS.result, result, worker.key))
    const tampered = TaskResult.encode({ ...result, durationUs: 1n })
    const forged = new RecordEnvelope({ ...env, payload: tampered })
    await assert.rejects(open(STATEMENTS.result, forged.marshal()), { name: 'InvalidSignatureError' })
  })

  it('rejects a statement opened as another kind with WrongPayloadTypeError (no cross-kind replay)', async () => {
    const bytes = await seal(STATEMENTS.result, result, worker.key)
    await assert.rejects(open(STATEMENTS.receipt, bytes), { name: 'WrongPayloadTypeError' })
    await assert.rejects(open(STATEMENTS.job, bytes), { name: 'WrongPayloadTypeError' })
  })

  it('rejects a signature made under another domain with InvalidSignatureError', async () => {
    const bytes = await rawSeal(STATEMENTS.receipt.domain, STATEMENTS.result.payloadType, TaskResult.encode(result), worker.key)
    await assert.rejects(open(STATEMENTS.result, bytes), { name: 'InvalidSignatureError', message: /openbatch-task-result-v1/ })
  })

  it('rejects a message naming a peer other than its signer with PeerIdMismatchError', async () => {
    const claimsRequester = { ...result, worker: requester.id }
    const bytes = await rawSeal(STATEMENTS.result.domain, STATEMENTS.result.payloadType, TaskResult.encode(claimsRequester), worker.key)
    await assert.rejects(open(STATEMENTS.result, bytes), { name: 'PeerIdMismatchError' })
    await assert.rejects(seal(STATEMENTS.result, claimsRequester, worker.key), { name: 'PeerIdMismatchError' })
  })

  it('rejects keys other than Ed25519 with UnsupportedKeyError', async () => {
    const k1 = await generateKeyPair('secp256k1')
    await assert.rejects(seal(STATEMENTS.result, result, k1), { name: 'UnsupportedKeyError' })
    const bytes = await rawSeal(STATEMENTS.result.domain, STATEMENTS.result.payloadType, TaskResult.encode(result), k1)
    await assert.rejects(open(STATEMENTS.result, bytes), { name: 'UnsupportedKeyError' })
  })

  it('rejects every truncation of a valid envelope with a named error', async () => {
    const bytes = await seal(STATEMENTS.job, job, requester.key)
    for (let n = 0; n < bytes.length; n++) {
      await assert.rejects(open(STATEMENTS.job, bytes.subarray(0, n)), (err: Error) =>
        ['MalformedMessageError', 'InvalidSignatureError', 'WrongPayloadTypeError', 'UnsupportedKeyError'].includes(err.name)
      )
    }
  })

  it('rejects an oversized envelope before decoding it with TooLargeError', async () => {
    await assert.rejects(open(STATEMENTS.job, new Uint8Array(STATEMENTS.job.maxBytes + 1)), { name: 'TooLargeError' })
  })

  it('refuses to seal a message that breaks a field rule, naming the field', async () => {
    await assert.rejects(seal(STATEMENTS.job, { ...job, taskCount: 0n }, requester.key), {
      name: 'InvalidFieldError',
      message: /^task_count/
    })
    await assert.rejects(seal(STATEMENTS.job, { ...job, jobId: new Uint8Array(32) }, requester.key), {
      name: 'InvalidFieldError',
      message: /job_id: is not derived/
    })
    await assert.rejects(seal(STATEMENTS.result, { ...result, outputDigest: new Uint8Array(32) }, worker.key), {
      name: 'InvalidFieldError',
      message: /output_digest/
    })
    await assert.rejects(seal(STATEMENTS.result, { ...result, index: 4n }, worker.key), { name: 'InvalidFieldError', message: /^task_id/ })
  })
})

describe('createJobAnnouncement', () => {
  it('builds an announcement that seals and opens, and refuses bad fields', async () => {
    const { createJobAnnouncement, modelCid } = await import('../src/index.js')
    const requester = await identity(1)
    const job = createJobAnnouncement({
      requester: requester.id,
      model: modelCid(new Uint8Array([1])).bytes,
      taskCount: 5,
      maxBatch: 4,
      now: 1000,
      nonce: new Uint8Array(16)
    })
    assert.equal(job.deadlineMs, 3_601_000n)
    assert.equal((await open(STATEMENTS.job, await seal(STATEMENTS.job, job, requester.key))).message.taskCount, 5n)
    assert.throws(
      () =>
        createJobAnnouncement({
          requester: requester.id,
          model: new Uint8Array([1]),
          taskCount: 5,
          maxBatch: 4,
          now: 0,
          nonce: new Uint8Array(16)
        }),
      {
        name: 'InvalidFieldError',
        message: /^model/
      }
    )
  })

  it('items_per_task: announced only for tasks of several items, and weighed with the reward against a price per item (§3.3, §6.2)', async () => {
    const { createJobAnnouncement, modelCid, rewardCovers } = await import('../src/index.js')
    const requester = await identity(1)
    const base = { requester: requester.id, model: modelCid(new Uint8Array([1])).bytes, taskCount: 5, now: 1000, nonce: new Uint8Array(16) }
    assert.equal(createJobAnnouncement({ ...base, itemsPerTask: 1 }).itemsPerTask, undefined, 'one item: nothing announced')
    const packed = createJobAnnouncement({ ...base, itemsPerTask: 8, rewardPerTask: 40n })
    const opened = (await open(STATEMENTS.job, await seal(STATEMENTS.job, packed, requester.key))).message
    assert.equal(opened.itemsPerTask, 8)
    assert.equal(rewardCovers(opened, 5n), true, '40 per task of 8 items pays 5 per item')
    assert.equal(rewardCovers(opened, 6n), false)
    assert.equal(rewardCovers(createJobAnnouncement({ ...base, rewardPerTask: 5n }), 5n), true, 'absent: one item a task')
    assert.equal(rewardCovers(createJobAnnouncement(base), 0n), true, 'a price of 0 takes every job')
  })
})
