/**
 * The requester process of `pnpm bench overlay`: serves one job of `<tasks>` PaddleOCR tasks of
 * `<perTask>` items each over TCP loopback and prints JSON lines — {"ready":…} with its address and
 * announcement, then {"done":…} with its CPU time while the job ran.
 */
import { readFile } from 'node:fs/promises'
import { createOpenbatchPeer, MemoryJobStore, RequesterService, WorkServer } from '@openbatch/node'
import { createJobAnnouncement, modelCid, peerIdBytes, STATEMENTS, seal, toHex } from '@openbatch/protocol'
import { MODEL_PATH, task } from './inputs.js'

const taskCount = Number(process.argv[2])
const perTask = Number(process.argv[3] ?? 1)
const peer = await createOpenbatchPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
await peer.start()
const store = new MemoryJobStore()
const service = new RequesterService(peer, { store })
await new WorkServer(peer, service).start()
const job = createJobAnnouncement({
  requester: peerIdBytes(peer.peerId),
  model: modelCid(await readFile(MODEL_PATH)).bytes,
  taskCount,
  rewardPerTask: 1n,
  maxBatch: 32,
  now: Date.now(),
  nonce: crypto.getRandomValues(new Uint8Array(16))
})
const envelope = await seal(STATEMENTS.job, job, peer.privateKey)
// The inputs are generated first (a real requester reads them from its files); from then on the
// requester's CPU counts: staging them as the SDK does (encoded, each digest computed once), then
// serving the job.
const inputs = Array.from({ length: taskCount }, (_, i) => task(i, perTask))
const cpu0 = process.cpuUsage()
// One worker: nobody can re-run its sampled results (spec §7.2), so they stand unsampled at
// once instead of waiting a lease for a second worker. The benchmark measures the transport.
const policy = service.jobPolicy({ checkWaitMs: 1 })
await store.stageJob(toHex(job.jobId), inputs, async () => envelope, { policy })
const { done } = await service.addJob({ announcement: envelope, policy })
console.log(JSON.stringify({ ready: true, addr: peer.addresses[0], announcement: toHex(envelope) }))
await done
const cpu = process.cpuUsage(cpu0)
console.log(JSON.stringify({ done: true, cpuUs: cpu.user + cpu.system, userUs: cpu.user, systemUs: cpu.system }))
// Stay up until the benchmark ends this process: the last acknowledgement must still go out.
process.once('SIGTERM', () => process.exit(0))
