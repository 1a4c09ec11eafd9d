import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RecordEnvelope } from '@libp2p/peer-record'
import { createJobAnnouncement, JobAnnouncement, jobsTopic, modelCid, peerIdBytes, STATEMENTS, seal } from '@openbatch/protocol'
import type { OpenbatchPeer } from '../src/index.js'
import { announceJob, JobBoard } from '../src/index.js'
import { network, waitFor } from './helpers.js'

const MODEL = modelCid(new TextEncoder().encode('jobs test model'))
const OTHER = modelCid(new TextEncoder().encode('jobs test other model'))

function announcement(requester: OpenbatchPeer, nonceFill: number): JobAnnouncement {
  return createJobAnnouncement({
    requester: peerIdBytes(requester.peerId),
    model: MODEL.bytes,
    taskCount: 100,
    rewardPerTask: 10n,
    maxBatch: 32,
    now: Date.now(),
    nonce: new Uint8Array(16).fill(nonceFill)
  })
}

/** `of`'s gossipsub score as `at` sees it. */
const score = (at: OpenbatchPeer, of: OpenbatchPeer) =>
  (at.libp2p.services.pubsub as unknown as { getScore(id: string): number }).getScore(of.peerId.toString())

describe('jobs over gossip (spec §5.1) — real libp2p peers', () => {
  it('an announcement reaches the workers serving its model once, and no one else; spam is rejected and penalised', async () => {
    const [requester, a, b, c, spammer] = await network(5, { mesh: true })
    assert.ok(requester && a && b && c && spammer)
    const got = new Map<string, string[]>()
    const boards = (
      [
        [a, MODEL],
        [b, MODEL],
        [c, OTHER]
      ] as const
    ).map(([p, model]) => {
      got.set(p.peerId.toString(), [])
      const board = new JobBoard(p, {
        models: [model.toString()],
        onJob: (job) => got.get(p.peerId.toString())?.push(Buffer.from(job.message.jobId).toString('hex'))
      })
      board.start()
      return board
    })
    const topic = jobsTopic(MODEL)
    await waitFor('workers to subscribe', () =>
      [requester, spammer].every((p) => {
        const subs = p.libp2p.services.pubsub.getSubscribers(topic).map(String)
        return subs.includes(a.peerId.toString()) && subs.includes(b.peerId.toString())
      })
    )

    // Spam first: garbage, and an announcement the spammer signed but that names the requester.
    await spammer.libp2p.services.pubsub.publish(topic, new Uint8Array([1, 2, 3, 4]))
    const forged = await RecordEnvelope.seal(
      {
        domain: STATEMENTS.job.domain,
        codec: STATEMENTS.job.payloadType,
        marshal: () => JobAnnouncement.encode(announcement(requester, 9)),
        equals: () => false
      },
      spammer.privateKey
    )
    await spammer.libp2p.services.pubsub.publish(topic, forged.marshal())

    const job = announcement(requester, 1)
    await announceJob(requester, await seal(STATEMENTS.job, job, requester.privateKey))
    const id = Buffer.from(job.jobId).toString('hex')
    await waitFor('both workers to receive the job', () => [a, b].every((p) => got.get(p.peerId.toString())?.includes(id)))
    assert.deepEqual(got.get(a.peerId.toString()), [id], 'exactly the valid job, once')
    assert.deepEqual(got.get(b.peerId.toString()), [id])
    assert.deepEqual(got.get(c.peerId.toString()), [], 'a worker of another model never sees it')
    await waitFor('the spammer to be penalised', () => score(a, spammer) < 0)
    assert.ok(score(a, requester) >= 0, 'the honest requester is not')
    for (const board of boards) {
      board.stop()
    }
  })
})
