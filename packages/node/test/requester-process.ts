/**
 * A requester in its own process, for the crash test: `node requester-process.js <dataDir> <tasks>`.
 * Creates (or, after a restart, resumes) one job stored in <dataDir>/jobs.db, serves it over TCP
 * on loopback, and prints JSON lines: {"ready":…} once serving, {"done":…} when the job completes.
 */
import { join } from 'node:path'
import { resolveJobPolicy } from '@openbatch/core'
import { createJobAnnouncement, float32Tensor, modelCid, peerIdBytes, STATEMENTS, seal, toHex } from '@openbatch/protocol'
import { createOpenbatchPeer, RequesterService, SqliteJobStore, WorkServer } from '../src/index.js'

const [dataDir, tasksArg] = process.argv.slice(2) as [string, string]
const taskCount = Number(tasksArg)
const peer = await createOpenbatchPeer({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
await peer.start()
const store = new SqliteJobStore(join(dataDir, 'jobs.db'))
const service = new RequesterService(peer, { store })
await new WorkServer(peer, service).start()

// One worker in this test: sampled results stand unsampled after 200 ms without a second one.
let jobs = await service.resume(store)
if (jobs.length === 0) {
  const announcement = createJobAnnouncement({
    requester: peerIdBytes(peer.peerId),
    model: modelCid(new TextEncoder().encode('crash test model')).bytes,
    taskCount,
    rewardPerTask: 1n,
    maxBatch: 4,
    now: Date.now(),
    durationMs: 600_000,
    nonce: new Uint8Array(16).fill(7)
  })
  const envelope = await seal(STATEMENTS.job, announcement, peer.privateKey)
  const inputs = Array.from({ length: taskCount }, (_, i) => [float32Tensor('x', [1, 2], [i, 2 * i])])
  const jobId = toHex(announcement.jobId)
  // The job's policy is stored with it, so a resumed job keeps its 200 ms check wait.
  await store.stageJob(jobId, inputs, async () => envelope, { policy: resolveJobPolicy({ leaseMs: 60_000, checkWaitMs: 200 }) })
  jobs = [await service.addJob({ announcement: envelope, leaseMs: 60_000, checkWaitMs: 200 })]
}
const [job] = jobs
console.log(JSON.stringify({ ready: true, peerId: peer.peerId.toString(), addr: peer.addresses[0], jobId: job?.jobId }))
await job?.done
console.log(JSON.stringify({ done: true, results: store.resultCount(job?.jobId ?? '') }))
