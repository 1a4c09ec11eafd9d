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
import { type OpenbatchPeer, publishFraudProof } from '../src/index.js'
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

    // Every peer runs its own FraudBoard (started with the peer) and counts valid proofs.
    await waitFor('peers to subscribe to the fraud topic', () =>
      [requester, cheater].every((p) => p.libp2p.services.pubsub.getSubscribers(FRAUD_TOPIC).length >= 4)
    )
    const others = [honest1, honest2, bystander]

    // A forged proof from the cheater, accusing an honest worker: rejected everywhere, and its
    // sender's gossipsub score drops.
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
    // Peers that received it from the forger penalise the forger (and do not forward it).
    await waitFor('the forger to be penalised', () => others.some((p) => score(p, cheater) < 0))
    for (const p of [requester, ...others]) {
      assert.equal(p.fraudProofsReceived, 0)
      assert.equal(p.reputation.isBanned(honest1.peerId), false, 'a forged proof bans nobody')
    }

    // A valid proof: every peer checks it, counts it once and bans the cheater (§7.6), which
    // also refuses its connections and sinks its gossipsub score.
    const proof = await createFraudProof(
      { announcement, accused: bad, agreeing: [good1, good2], inputs: INPUTS, issuedAt: Date.now() },
      requester.privateKey
    )
    await publishFraudProof(requester, proof)
    // A repeat is the same message (its id is the data's hash): gossipsub refuses it as a duplicate.
    await assert.rejects(publishFraudProof(requester, proof), /Duplicate/)
    await waitFor('every peer to accept the valid proof', () => others.every((p) => p.fraudProofsReceived === 1))
    for (const p of others) {
      assert.equal(p.reputation.isBanned(cheater.peerId), true)
      assert.equal(p.reputation.get(cheater.peerId.toString()).offences, 1)
      assert.equal(p.reputation.isBanned(honest1.peerId), false)
      assert.ok(p.reputation.appScore(cheater.peerId.toString()) < 0)
    }
    await waitFor('banned peers to be disconnected', () => others.every((p) => p.libp2p.getConnections(cheater.peerId).length === 0))
    await assert.rejects(bystander.libp2p.dial(cheater.peerId), 'the connection gater refuses a banned peer')
    assert.ok(score(bystander, requester) >= 0)
  })
})
