import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RecordEnvelope } from '@libp2p/peer-record'
import {
  createFraudProof,
  createJobAnnouncement,
  deriveTaskId,
  FRAUD_TOPIC,
  FraudProof,
  float32Tensor,
  modelCid,
  peerIdBytes,
  STATEMENTS,
  seal,
  type Tensor,
  tensorSetDigest
} from '@openbatch/protocol'
import { FraudBoard, type OpenbatchPeer, publishFraudProof } from '../src/index.js'
import { network, waitFor } from './helpers.js'

const MODEL = modelCid(new TextEncoder().encode('fraud test model'))
const INPUTS: Tensor[] = [float32Tensor('x', [1, 2], [1, 2])]
const score = (at: OpenbatchPeer, of: OpenbatchPeer) =>
  (at.libp2p.services.pubsub as unknown as { getScore(id: string): number }).getScore(of.peerId.toString())

describe('fraud proofs over gossip (spec §5.2, §7.5) — real libp2p peers', () => {
  it('every peer accepts a valid proof once and rejects a forged one, penalising its sender', async () => {
    const [requester, honest1, honest2, cheater, bystander] = await network(5, { mesh: true })
    assert.ok(requester && honest1 && honest2 && cheater && bystander)
    const job = createJobAnnouncement({
      requester: peerIdBytes(requester.peerId),
      model: MODEL.bytes,
      taskCount: 10,
      maxBatch: 4,
      now: Date.now(),
      nonce: new Uint8Array(16).fill(5)
    })
    const announcement = await seal(STATEMENTS.job, job, requester.privateKey)
    const inputDigest = tensorSetDigest(INPUTS)
    const result = async (peer: OpenbatchPeer, probs: [number, number]) => {
      const outputs = [float32Tensor('probs', [1, 2], probs)]
      return seal(
        STATEMENTS.result,
        {
          taskId: deriveTaskId(job.jobId, 3, job.model, inputDigest),
          jobId: job.jobId,
          index: 3n,
          model: job.model,
          inputDigest,
          outputDigest: tensorSetDigest(outputs),
          outputs,
          worker: peerIdBytes(peer.peerId),
          startedAtMs: 0n,
          durationUs: 0n
        },
        peer.privateKey
      )
    }
    const good1 = await result(honest1, [0.9, 0.1])
    const good2 = await result(honest2, [0.9, 0.1])
    const bad = await result(cheater, [0.1, 0.9])

    const received = new Map<string, string[]>()
    for (const p of [honest1, honest2, cheater, bystander]) {
      received.set(p.peerId.toString(), [])
      new FraudBoard(p, { onProof: (proof) => received.get(p.peerId.toString())?.push(proof.accused.signer.toString()) }).start()
    }
    await waitFor('peers to subscribe to the fraud topic', () => requester.libp2p.services.pubsub.getSubscribers(FRAUD_TOPIC).length >= 4)

    // A forged proof from the cheater, accusing an honest worker.
    const forged = FraudProof.encode({
      announcement,
      accused: good1,
      agreeing: [good2, bad],
      inputs: INPUTS,
      reporter: peerIdBytes(cheater.peerId),
      issuedAtMs: BigInt(Date.now())
    })
    const env = await RecordEnvelope.seal(
      { domain: STATEMENTS.fraud.domain, codec: STATEMENTS.fraud.payloadType, marshal: () => forged, equals: () => false },
      cheater.privateKey
    )
    await publishFraudProof(cheater, env.marshal())

    const proof = await createFraudProof(
      { announcement, accused: bad, agreeing: [good1, good2], inputs: INPUTS, issuedAt: Date.now() },
      requester.privateKey
    )
    await publishFraudProof(requester, proof)
    const others = [honest1, honest2, bystander]
    await waitFor('every peer to accept the valid proof', () => others.every((p) => received.get(p.peerId.toString())?.length === 1))
    for (const p of others) {
      assert.deepEqual(received.get(p.peerId.toString()), [cheater.peerId.toString()], 'only the valid proof, naming the cheater')
    }
    await waitFor('the forger to be penalised', () => score(bystander, cheater) < 0)
    assert.ok(score(bystander, requester) >= 0)
  })
})
