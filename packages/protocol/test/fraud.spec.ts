import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RecordEnvelope } from '@libp2p/peer-record'
import {
  checkFraudProof,
  createFraudProof,
  createJobAnnouncement,
  FailureKind,
  type FraudProof,
  jobsTopic,
  modelCid,
  STATEMENTS,
  seal,
  tensorSetDigest,
  validateFraudMessage,
  validateJobMessage
} from '../src/index.js'
import { fraudCase, INPUTS, identity, jobAnnouncement, MODEL, probs, T0, taskResult } from './fixtures.js'

describe('fraud proofs (§7.5) and gossip validation (§5)', async () => {
  const requester = await identity(1)
  const honest1 = await identity(2)
  const honest2 = await identity(3)
  const cheater = await identity(4)
  const { job, announcement, good1, good2, bad, proof } = await fraudCase(requester, honest1, honest2, cheater)
  const now = T0 + 10_000

  it('a valid proof passes every check and names the culprit', async () => {
    const checked = await checkFraudProof(proof())
    assert.ok(checked.accused.signer.equals(cheater.peerId))
    assert.equal(checked.agreeing.length, 2)
  })

  it('is accepted from gossip by any peer, signed by any reporter', async () => {
    const bystander = await identity(9)
    const bytes = await createFraudProof(
      { announcement, accused: bad, agreeing: [good1, good2], inputs: INPUTS, issuedAt: T0 + 5000 },
      bystander.key
    )
    const verdict = await validateFraudMessage(bytes, now)
    assert.equal(verdict.action, 'accept', verdict.reason)
    assert.ok(verdict.value?.reporter.equals(bystander.peerId))
  })

  const forged: [string, () => Promise<FraudProof>, RegExp][] = [
    [
      'accuses an honest worker (accused agrees with the witnesses)',
      async () => proof({ accused: good1, agreeing: [good2, bad] }),
      /disagree|agrees/
    ],
    ['names the same signer twice', async () => proof({ agreeing: [good1, good1] }), /appears twice/],
    ['has the accused as its own witness', async () => proof({ agreeing: [good1, bad] }), /appears twice/],
    [
      'mixes results of another task',
      async () =>
        proof({ agreeing: [good1, await seal(STATEMENTS.result, taskResult(honest2, job, probs(0.9, 0.1), { index: 4n }), honest2.key)] }),
      /another task/
    ],
    [
      'uses a result for another model',
      async () => {
        const other = jobAnnouncement(requester, { model: modelCid(new Uint8Array([9])).bytes as Uint8Array<ArrayBuffer> })
        return proof({ accused: await seal(STATEMENTS.result, taskResult(cheater, other, probs(0.1, 0.9)), cheater.key) })
      },
      /another job|another model/
    ],
    [
      'carries a tampered witness signature',
      async () => {
        const env = RecordEnvelope.createFromProtobuf(good2)
        const sig = Uint8Array.from(env.signature)
        sig[0] = (sig[0] as number) ^ 0xff
        return proof({ agreeing: [good1, new RecordEnvelope({ ...env, signature: sig }).marshal() as Uint8Array<ArrayBuffer>] })
      },
      /agreeing\[1\]: InvalidSignatureError/
    ],
    [
      "carries inputs that are not the task's",
      async () => proof({ inputs: [{ ...(INPUTS[0] as (typeof INPUTS)[0]), data: new Uint8Array(16) }] }),
      /input_digest/
    ],
    [
      'uses a digest-only result',
      async () => {
        const r = taskResult(honest2, job, probs(0.9, 0.1))
        return proof({ agreeing: [good1, await seal(STATEMENTS.result, { ...r, outputs: [] }, honest2.key)] })
      },
      /no outputs/
    ],
    ['wraps a result in place of the announcement', async () => proof({ announcement: good1 }), /announcement: WrongPayloadTypeError/],
    [
      'outvotes outputs with two failures (§6.6: a result that exists is no fraud)',
      async () => {
        const fail = (who: typeof honest1) =>
          seal(
            STATEMENTS.result,
            taskResult(who, job, [], { outputDigest: tensorSetDigest([]), failure: { kind: FailureKind.INPUT_REJECTED, message: '' } }),
            who.key
          )
        return proof({ accused: good1, agreeing: [await fail(honest2), await fail(cheater)] })
      },
      /no outputs/
    ]
  ]
  for (const [what, build, reason] of forged) {
    it(`rejects a proof that ${what}`, async () => {
      await assert.rejects(checkFraudProof(await build()), { name: 'InvalidFraudProofError', message: reason })
      const p = await build()
      // gossip: signed by a reporter, still rejected (and the reporter penalised by scoring)
      const { FraudProof: codec } = await import('../src/index.js')
      const env = await RecordEnvelope.seal(
        { domain: STATEMENTS.fraud.domain, codec: STATEMENTS.fraud.payloadType, marshal: () => codec.encode(p), equals: () => false },
        requester.key
      )
      const verdict = await validateFraudMessage(env.marshal(), now)
      assert.equal(verdict.action, 'reject')
      assert.equal(verdict.errorName, 'InvalidFraudProofError')
    })
  }

  it('proves a false failure: a worker that claims a runnable task cannot run is outvoted by two outputs (§6.6)', async () => {
    const lie = taskResult(cheater, job, [], {
      outputDigest: tensorSetDigest([]),
      failure: { kind: FailureKind.INPUT_REJECTED, message: 'the input does not fit' }
    })
    const checked = await checkFraudProof(proof({ accused: await seal(STATEMENTS.result, lie, cheater.key) }))
    assert.ok(checked.accused.signer.equals(cheater.peerId))
    // A transient failure is no claim about the task: it cannot be accused.
    const transient = { ...lie, failure: { kind: FailureKind.RESOURCE_EXHAUSTED, message: 'out of memory' } }
    await assert.rejects(checkFraudProof(proof({ accused: await seal(STATEMENTS.result, transient, cheater.key) })), {
      name: 'InvalidFraudProofError',
      message: /no outputs/
    })
  })

  it('a re-announcement is valid on gossip; uint64 fields and addresses are range-checked (§3.3, §5.1)', async () => {
    const again = await seal(STATEMENTS.job, { ...job, issuedAtMs: job.issuedAtMs + 30_000n }, requester.key)
    assert.equal((await validateJobMessage(jobsTopic(MODEL), again, now + 30_000)).action, 'accept')
    const init = { requester: requester.id, model: MODEL.bytes, taskCount: 1, maxBatch: 1, now: T0, nonce: new Uint8Array(16) }
    assert.throws(() => createJobAnnouncement({ ...init, rewardPerTask: -1n }), { name: 'InvalidFieldError', message: /reward_per_task/ })
    assert.throws(() => createJobAnnouncement({ ...init, rewardPerTask: 2n ** 70n }), {
      name: 'InvalidFieldError',
      message: /reward_per_task/
    })
    assert.throws(() => createJobAnnouncement({ ...init, addresses: [new Uint8Array(300)] }), {
      name: 'InvalidFieldError',
      message: /addresses\[0\]/
    })
    assert.equal(createJobAnnouncement({ ...init, rewardPerTask: 2n ** 64n - 1n }).rewardPerTask, 2n ** 64n - 1n)
  })

  it('createFraudProof refuses to sign a forged proof', async () => {
    await assert.rejects(createFraudProof({ announcement, accused: good1, agreeing: [good2, bad], issuedAt: T0 }, requester.key), {
      name: 'InvalidFraudProofError'
    })
  })

  it('ignores a proof issued in the future and one about a long-finished job', async () => {
    const bytes = await createFraudProof({ announcement, accused: bad, agreeing: [good1, good2], issuedAt: T0 + 3_600_000 }, requester.key)
    assert.equal((await validateFraudMessage(bytes, T0)).action, 'ignore')
    assert.equal((await validateFraudMessage(bytes, T0 + 30 * 86_400_000)).action, 'ignore')
  })

  it("job announcements: accept on their model's topic, reject elsewhere, ignore when stale", async () => {
    const topic = jobsTopic(MODEL)
    assert.equal((await validateJobMessage(topic, announcement, now)).action, 'accept')
    const other = jobsTopic(modelCid(new Uint8Array([1])))
    assert.deepEqual((await validateJobMessage(other, announcement, now)).action, 'reject')
    assert.equal((await validateJobMessage('/openbatch/fraud/1.0.0', announcement, now)).action, 'reject')
    assert.equal((await validateJobMessage(topic, announcement, T0 + 3_600_000)).action, 'ignore')
    assert.equal((await validateJobMessage(topic, announcement, T0 - 3_600_000)).action, 'ignore')
  })

  it('rejects spam on a jobs topic: garbage, a result envelope, a forged requester', async () => {
    const topic = jobsTopic(MODEL)
    const garbage = await validateJobMessage(topic, new Uint8Array([1, 2, 3, 4]), now)
    assert.equal(garbage.action, 'reject')
    assert.equal(garbage.errorName, 'MalformedMessageError')
    assert.equal((await validateJobMessage(topic, good1, now)).errorName, 'WrongPayloadTypeError')
    const env = await RecordEnvelope.seal(
      {
        domain: STATEMENTS.job.domain,
        codec: STATEMENTS.job.payloadType,
        marshal: () => STATEMENTS.job.codec.encode(job),
        equals: () => false
      },
      cheater.key
    )
    assert.equal((await validateJobMessage(topic, env.marshal(), now)).errorName, 'PeerIdMismatchError')
  })
})
