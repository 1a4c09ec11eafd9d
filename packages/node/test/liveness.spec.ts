/**
 * Issue #11 in real libp2p peers (memory transport, one process): every job finishes or fails with
 * a reason — late joiners learn open jobs (§6.7), re-announcements pass gossip (§5.1), frames up to
 * the spec's limits travel (§6.1, §6.2), fake jobs cannot starve honest ones (§6.2), failures reach
 * the requester (§6.6), and a single worker never waits for a second one (§7.2).
 */

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { KEEP_ALIVE } from '@libp2p/interface'
import { InferenceFailedError, InvalidInputError } from '@openbatch/inference'
import {
  Assignment,
  createJobAnnouncement,
  deriveTaskId,
  ErrorCode,
  FailureKind,
  float32Tensor,
  type JobAnnouncement,
  jobsTopic,
  MAX_FRAME_BYTES,
  modelCid,
  open,
  peerIdBytes,
  STATEMENTS,
  seal,
  type Tensor,
  tensorSetDigest,
  toFloat64Array,
  toHex,
  WORK_PROTOCOL
} from '@openbatch/protocol'
import {
  ASSIGNMENT_OVERHEAD_BYTES,
  announceJob,
  claimTasks,
  createOpenbatchPeer,
  DEFAULT_ASSIGNMENT_BYTES,
  frameStream,
  JobAnnouncer,
  JobBoard,
  MemoryJobStore,
  type OpenbatchPeer,
  RequesterService,
  submitResults,
  taskBytes,
  type VerdictEvent,
  WorkerService,
  WorkServer
} from '../src/index.js'
import { network, sumBackend, waitFor, within } from './helpers.js'

const MODEL = modelCid(new TextEncoder().encode('liveness test model'))
const inputs = (i: number): Tensor[] => [float32Tensor('x', [1, 2], [i, 1])]

function announcement(requester: OpenbatchPeer, taskCount: number, over: { maxBatch?: number; nonce?: number } = {}): JobAnnouncement {
  return createJobAnnouncement({
    requester: peerIdBytes(requester.peerId),
    model: MODEL.bytes,
    taskCount,
    rewardPerTask: 1n,
    maxBatch: over.maxBatch ?? 8,
    now: Date.now(),
    durationMs: 600_000,
    nonce: new Uint8Array(16).fill(over.nonce ?? 1)
  })
}

async function requesterOf(peer: OpenbatchPeer, init: ConstructorParameters<typeof RequesterService>[1] = {}) {
  const service = new RequesterService(peer, { store: new MemoryJobStore(), ...init })
  const server = new WorkServer(peer, service)
  await server.start()
  return service
}

function worker(peer: OpenbatchPeer, over: Partial<ConstructorParameters<typeof WorkerService>[1]> = {}): WorkerService {
  const w = new WorkerService(peer, { backend: sumBackend(), models: [MODEL.toString()], capacity: 8, ...over })
  w.start()
  return w
}

describe('liveness (issue #11) — real libp2p peers', () => {
  it('a worker that joins after the announcement learns the job from the peers it connects to (§6.7) and works on it', async () => {
    const [requester, early] = await network(2, { mesh: true })
    assert.ok(requester && early)
    const service = await requesterOf(requester)
    // A worker that takes 20 ms a task, 2 at a time: the job is still open when the second joins.
    const slow = sumBackend()
    const w1 = worker(early, {
      capacity: 2,
      backend: {
        describe: slow.describe,
        run: async (m, t) => {
          await new Promise((r) => setTimeout(r, 20)) // the task's service time
          return slow.run(m, t)
        }
      }
    })
    await waitFor('the early worker to subscribe', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length > 0)
    const job = announcement(requester, 400, { maxBatch: 4 })
    const { done } = await service.addJob({ announcement: await seal(STATEMENTS.job, job, requester.privateKey), inputs })
    const announcer = new JobAnnouncer(requester, { intervalMs: 600_000 }) // no re-announcement during the test
    await announcer.add(job, done)
    await waitFor('the early worker to get tasks', () => w1.receipts.length > 0)

    // A worker that joins now, connected only to the early worker: gossip already went by.
    const late = await createOpenbatchPeer({ transports: ['memory'], listen: [`/memory/liveness-late-${process.pid}`], mdns: false })
    await late.start()
    after(() => late.stop())
    const w2 = worker(late)
    await late.libp2p.dial(early.libp2p.getMultiaddrs()[0] as Parameters<OpenbatchPeer['libp2p']['dial']>[0])
    await waitFor('the late worker to get tasks (from the job the early worker told it of)', () => w2.receipts.length > 0, 15_000)
    await within('the job to complete', done, 60_000)
    announcer.stop()
    await Promise.all([w1.stop(), w2.stop()])
    service.stop()
  })

  it('a re-announcement (a fresh issued_at_ms) passes gossip de-duplication; a repeat does not (§5.1)', async () => {
    const [requester, workerPeer] = await network(2, { mesh: true })
    assert.ok(requester && workerPeer)
    const seen: bigint[] = []
    const board = new JobBoard(workerPeer, { models: [MODEL.toString()], onJob: (job) => seen.push(job.message.issuedAtMs), query: false })
    board.start()
    await waitFor('the worker to subscribe', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length > 0)
    const job = announcement(requester, 10)
    await announceJob(requester, await seal(STATEMENTS.job, job, requester.privateKey))
    await waitFor('the announcement', () => seen.length === 1)
    // The same job issued 1 s later: too soon, ignored; 10 s later: a re-announcement, delivered.
    assert.equal(await board.offer(await seal(STATEMENTS.job, { ...job, issuedAtMs: job.issuedAtMs + 1000n }, requester.privateKey)), false)
    const again = await seal(STATEMENTS.job, { ...job, issuedAtMs: job.issuedAtMs + 10_000n }, requester.privateKey)
    await announceJob(requester, again)
    await waitFor('the re-announcement', () => seen.length === 2)
    assert.equal(seen[1], job.issuedAtMs + 10_000n)
    board.stop()
  })

  it('a requester dials the workers found for a job again until they hear it (§4.4, §5.1): a failed dial does not leave the job unseen', async () => {
    const [requester, workerPeer] = await network(2)
    assert.ok(requester && workerPeer)
    const seen: bigint[] = []
    // Gossip only (no job query): the worker hears the job only over a connection to the requester.
    const board = new JobBoard(workerPeer, { models: [MODEL.toString()], onJob: (job) => seen.push(job.message.issuedAtMs), query: false })
    board.start()
    await waitFor('the worker to subscribe', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length > 0)
    // The requester loses the worker, and the worker cannot dial back (a NATed requester). Nor does
    // libp2p redial it for the DHT (a NATed worker's connection would be limited): no keep-alive tag.
    await workerPeer.libp2p.peerStore.delete(requester.peerId)
    const { tags } = await requester.libp2p.peerStore.get(workerPeer.peerId)
    const keepAlive = [...tags.keys()].filter((tag) => tag.startsWith(KEEP_ALIVE))
    await requester.libp2p.peerStore.merge(workerPeer.peerId, { tags: Object.fromEntries(keepAlive.map((tag) => [tag, undefined])) })
    await requester.libp2p.hangUp(workerPeer.peerId)
    await waitFor('the subscription to go', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length === 0)
    // The requester's first dial of the worker fails (a WebRTC dial that timed out); later ones go through.
    const dial = requester.libp2p.dial.bind(requester.libp2p)
    const attempts: number[] = []
    requester.libp2p.dial = ((peer: Parameters<typeof dial>[0], options?: Parameters<typeof dial>[1]) => {
      if (String(peer) === workerPeer.peerId.toString()) {
        attempts.push(Date.now())
        if (attempts.length === 1) {
          return Promise.reject(new Error('the first dial fails'))
        }
      }
      return dial(peer, options)
    }) as typeof dial
    const announcer = new JobAnnouncer(requester, { intervalMs: 600_000, retryMs: 200 })
    after(() => announcer.stop())
    const job = announcement(requester, 10, { nonce: 7 })
    await announcer.add(job, new Promise(() => {}), { subscribers: 1, waitMs: 100, workers: [workerPeer.peerId] })
    await waitFor('a second dial of the worker, after the first failed', () => attempts.length >= 2, 15_000)
    await waitFor('the worker to hear the job', () => seen.length > 0, 15_000)
    assert.ok(requester.libp2p.getConnections(workerPeer.peerId).length > 0)
    board.stop()
  })

  it('workers found after a job was announced (a resumed job) are dialled, and learn the job from the requester (§6.7)', async () => {
    const peers: OpenbatchPeer[] = []
    after(() => Promise.all(peers.map((p) => p.stop())))
    for (const name of ['requester', 'worker']) {
      const peer = await createOpenbatchPeer({
        transports: ['memory'],
        listen: [`/memory/liveness-resumed-${name}-${process.pid}`],
        mdns: false
      })
      await peer.start()
      peers.push(peer)
    }
    const [requester, workerPeer] = peers
    assert.ok(requester && workerPeer)
    // The requester knows where the worker listens (as a search for its model's providers tells it)
    // but has never met it: nothing else connects the two.
    await requester.libp2p.peerStore.merge(workerPeer.peerId, { multiaddrs: workerPeer.libp2p.getMultiaddrs() })
    const seen: string[] = []
    const board = new JobBoard(workerPeer, { models: [MODEL.toString()], onJob: (job) => seen.push(toHex(job.message.jobId)) })
    board.start()
    const announcer = new JobAnnouncer(requester, { intervalMs: 600_000 })
    const job = announcement(requester, 10, { nonce: 8 })
    await announcer.add(job, new Promise(() => {}))
    assert.equal(requester.libp2p.getConnections(workerPeer.peerId).length, 0)
    announcer.addWorkers(toHex(job.jobId), [workerPeer.peerId])
    await waitFor('the worker to learn the job', () => seen.includes(toHex(job.jobId)), 15_000)
    announcer.stop()
    board.stop()
  })

  it('frames up to the spec limit travel: a 7 MB input and a 7 MB output (§6.1); an assignment never exceeds a frame (§6.2)', async () => {
    const [requester, workerPeer] = await network(2, { mesh: true })
    assert.ok(requester && workerPeer)
    // Assignments up to the frame limit (the default keeps them to DEFAULT_ASSIGNMENT_BYTES).
    const service = await requesterOf(requester, { assignmentBytes: MAX_FRAME_BYTES })
    const big = (i: number, values: number): Tensor[] => [float32Tensor('x', [1, values], new Float32Array(values).fill(i))]
    const sevenMb = 7 * 1024 * 1024
    // Task i: 7 MB for the first job; 15 MiB each for the second (four fit a 64 MiB frame).
    const job = announcement(requester, 1, { nonce: 2 })
    await service.addJob({ announcement: await seal(STATEMENTS.job, job, requester.privateKey), inputs: (i) => big(i, sevenMb / 4) })
    const a = await claimTasks(workerPeer, requester.peerId, { jobId: job.jobId, maxTasks: 1 })
    assert.equal(a.code, ErrorCode.OK)
    assert.equal(a.tasks[0]?.inputs[0]?.data.byteLength, sevenMb)
    const task = a.tasks[0] as (typeof a.tasks)[0]
    const outputs = [float32Tensor('y', [1, sevenMb / 4], new Float32Array(sevenMb / 4).fill(3))]
    const result = await seal(
      STATEMENTS.result,
      {
        taskId: task.taskId,
        jobId: a.jobId,
        index: task.index,
        model: a.model,
        inputDigest: tensorSetDigest(task.inputs),
        outputDigest: tensorSetDigest(outputs),
        outputs,
        worker: peerIdBytes(workerPeer.peerId),
        startedAtMs: 0n,
        durationUs: 0n
      },
      workerPeer.privateKey
    )
    assert.equal((await submitResults(workerPeer, requester.peerId, [result]))[0]?.code, ErrorCode.OK)

    // Tasks of two 12 MiB tensors: two fit a 64 MiB frame, a third would not.
    const values = (12 * 1024 * 1024) / 4
    const pair = (i: number): Tensor[] => [...big(i, values), { ...(big(i, values)[0] as Tensor), name: 'z' }]
    const wide = announcement(requester, 6, { nonce: 3, maxBatch: 6 })
    await service.addJob({ announcement: await seal(STATEMENTS.job, wide, requester.privateKey), inputs: pair })
    const first = await claimTasks(workerPeer, requester.peerId, { jobId: wide.jobId, maxTasks: 6 })
    assert.equal(first.code, ErrorCode.OK)
    assert.deepEqual(
      first.tasks.map((t) => Number(t.index)),
      [0, 1],
      'as many tasks as fit one frame'
    )
    // The rest were not kept from others: another worker's claim gets them first.
    const [, other] = await network(2, { mesh: true })
    assert.ok(other)
    await other.libp2p.dial(requester.libp2p.getMultiaddrs()[0] as Parameters<OpenbatchPeer['libp2p']['dial']>[0])
    const second = await claimTasks(other, requester.peerId, { jobId: wide.jobId, maxTasks: 6 })
    assert.deepEqual(
      second.tasks.map((t) => Number(t.index)),
      [2, 3]
    )
    service.stop()

    // By default an assignment carries DEFAULT_ASSIGNMENT_BYTES (8 MiB): one 24 MiB task, or the
    // small tasks that fit.
    const [requester2, worker2] = await network(2, { mesh: true })
    assert.ok(requester2 && worker2)
    const modest = await requesterOf(requester2)
    const byDefault = announcement(requester2, 6, { nonce: 4, maxBatch: 6 })
    await modest.addJob({ announcement: await seal(STATEMENTS.job, byDefault, requester2.privateKey), inputs: pair })
    const one = await claimTasks(worker2, requester2.peerId, { jobId: byDefault.jobId, maxTasks: 6 })
    assert.deepEqual(
      one.tasks.map((t) => Number(t.index)),
      [0]
    )
    // Tasks of 3 MiB: two fit 8 MiB, a third would not.
    const threeMb = (i: number) => big(i, (3 * 1024 * 1024) / 4)
    assert.ok(ASSIGNMENT_OVERHEAD_BYTES + 3 * taskBytes(threeMb(0)) > DEFAULT_ASSIGNMENT_BYTES)
    const mb = announcement(requester2, 4, { nonce: 5, maxBatch: 4 })
    await modest.addJob({ announcement: await seal(STATEMENTS.job, mb, requester2.privateKey), inputs: threeMb })
    const several = await claimTasks(worker2, requester2.peerId, { jobId: mb.jobId, maxTasks: 4 })
    assert.deepEqual(
      several.tasks.map((t) => Number(t.index)),
      [0, 1]
    )
    modest.stop()
  })

  it('an assignment of another model than the job announced is refused, not run, and counted against its requester (§3.4)', async () => {
    const [attacker, p1] = await network(2, { mesh: true })
    assert.ok(attacker && p1)
    const OTHER = modelCid(new TextEncoder().encode('a model the job did not announce'))
    const job = announcement(attacker, 10, { nonce: 9 })
    let claims = 0
    // The attacker answers every claim with a valid task — of OTHER, not of the job's model.
    await attacker.libp2p.handle(WORK_PROTOCOL, async (stream) => {
      claims++
      const lp = frameStream(stream, 'TaskClaim')
      await lp.read()
      const task = { index: 0n, inputs: inputs(0) }
      const taskId = deriveTaskId(job.jobId, 0n, OTHER.bytes, tensorSetDigest(task.inputs))
      await lp.write(
        Assignment.encode({
          code: ErrorCode.OK,
          jobId: job.jobId,
          model: OTHER.bytes as Uint8Array<ArrayBuffer>,
          tasks: [{ ...task, taskId }],
          leaseExpiresAtMs: BigInt(Date.now() + 60_000),
          message: ''
        })
      )
      await stream.close()
    })
    const runs: string[] = []
    const errors: Error[] = []
    const inner = sumBackend()
    const w = worker(p1, {
      backend: {
        describe: inner.describe,
        run: async (model, t) => {
          runs.push(model)
          return inner.run(model, t)
        }
      },
      models: [MODEL.toString(), OTHER.toString()],
      onError: (err) => errors.push(err),
      backoffMs: 50
    })
    w.addJob(await open(STATEMENTS.job, await seal(STATEMENTS.job, job, attacker.privateKey)))
    await waitFor('two refused assignments', () => errors.filter((e) => e.name === 'ProtocolViolationError').length >= 2)
    assert.ok(claims >= 2)
    assert.deepEqual(runs, [], 'nothing of the assignment ran')
    await w.stop()
  })

  it('announcements of fake jobs whose requester never answers do not hold honest work; the liar is backed off and scored (§6.2)', async () => {
    const [requester, attacker, p1, p2] = await network(4, { mesh: true })
    assert.ok(requester && attacker && p1 && p2)
    // The attacker accepts claims and never answers.
    let claimsToAttacker = 0
    await attacker.libp2p.handle(WORK_PROTOCOL, () => {
      claimsToAttacker++
    })
    const service = await requesterOf(requester)
    const workers = [p1, p2].map((p) => worker(p, { claimTimeoutMs: 500, backoffMs: 50, maxBackoffMs: 400 }))
    await waitFor('workers to subscribe', () => attacker.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length >= 2)
    // Gossipsub sends a peer's messages over its own stream to each other peer, opened apart from
    // the stream the other's subscriptions came in on: published before that stream is open, the
    // announcements miss that worker (seen under load: one worker heard none of them). Subscribing
    // the attacker too makes its streams' opening visible: each worker then lists it as a subscriber.
    attacker.libp2p.services.pubsub.subscribe(jobsTopic(MODEL))
    await waitFor("the attacker's gossip stream to each worker", () =>
      [p1, p2].every((p) => p.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).some((id) => id.equals(attacker.peerId)))
    )
    for (let i = 0; i < 20; i++) {
      await announceJob(attacker, await seal(STATEMENTS.job, announcement(attacker, 1000, { nonce: 100 + i }), attacker.privateKey))
    }
    const job = announcement(requester, 300, { nonce: 4 })
    const { done } = await service.addJob({ announcement: await seal(STATEMENTS.job, job, requester.privateKey), inputs })
    await announceJob(requester, await seal(STATEMENTS.job, job, requester.privateKey))
    await within('the honest job to complete while the fake jobs are announced', done, 60_000)
    await waitFor('both workers to give up on the attacker', () =>
      [p1, p2].every((p) => p.reputation.get(attacker.peerId.toString()).timeouts >= 4)
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: timeouts ${[p1, p2].map((p) => p.reputation.get(attacker.peerId.toString()).timeouts)}, claims to the attacker ${claimsToAttacker}`
      )
    })
    // Each worker tried the attacker once at a time and stopped after 4 unanswered claims.
    assert.ok(claimsToAttacker <= 8, `the attacker got ${claimsToAttacker} claims`)
    for (const p of [p1, p2]) {
      assert.ok(p.reputation.appScore(attacker.peerId.toString()) < 0, 'its gossip score drops with every peer it fooled')
    }
    await Promise.all(workers.map((w) => w.stop()))
    service.stop()
  })

  it('a task that cannot run comes back as a signed failure with a reason: deterministic ones confirmed, transient ones retried elsewhere (§6.6)', async () => {
    const [requester, p1, p2, p3] = await network(4, { mesh: true })
    assert.ok(requester && p1 && p2 && p3)
    const verdicts: VerdictEvent[] = []
    const service = await requesterOf(requester, { onVerdict: (v) => verdicts.push(v) })
    // Every worker rejects input 3 (it does not fit the model); p3 is out of memory for everything.
    const picky = (outOfMemory = false) => {
      const inner = sumBackend()
      return {
        describe: inner.describe,
        run: async (model: string, tensors: Tensor[]) => {
          if (outOfMemory) {
            throw new InferenceFailedError('Failed to allocate memory for requested buffer of size 1073741824')
          }
          if (toFloat64Array(tensors[0] as Tensor)[0] === 3) {
            throw new InvalidInputError('x', 'input "x": token id 3 is outside the vocabulary [-1000, 2]')
          }
          return inner.run(model, tensors)
        }
      }
    }
    const workers = [worker(p1, { backend: picky() }), worker(p2, { backend: picky() }), worker(p3, { backend: picky(true) })]
    await waitFor('workers to subscribe', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length >= 3)
    const job = announcement(requester, 12, { nonce: 5, maxBatch: 2 })
    const { jobId, done } = await service.addJob({ announcement: await seal(STATEMENTS.job, job, requester.privateKey), inputs })
    await announceJob(requester, await seal(STATEMENTS.job, job, requester.privateKey))
    await within('every task to settle', done, 60_000)
    const byTask = new Map(verdicts.map((v) => [v.verdict.task, v]))
    assert.equal(byTask.size, 12)
    const failed = byTask.get(3)
    assert.equal(failed?.verdict.failure, FailureKind.INPUT_REJECTED)
    assert.equal(failed?.verdict.status, 'agreed', 'confirmed by an independent worker')
    const opened = await open(STATEMENTS.result, failed?.result as Uint8Array)
    assert.match(opened.message.failure?.message ?? '', /outside the vocabulary/)
    for (const [task, v] of byTask) {
      if (task !== 3) {
        assert.equal(v.verdict.failure, undefined, `task ${task} ran`)
        assert.notEqual(v.verdict.worker, p3.peerId.toString(), 'no result is the out-of-memory worker’s')
      }
    }
    assert.equal(service.summary(jobId)?.failed, 1)
    assert.equal(p3.reputation.get(requester.peerId.toString()).timeouts, 0)
    assert.equal(requester.reputation.get(p3.peerId.toString()).disagreements, 0, 'a transient failure is no disagreement')
    await Promise.all(workers.map((w) => w.stop()))
    service.stop()
  })

  it('a job with a single worker does not wait a lease for each sampled task (§7.2)', async () => {
    const [requester, only] = await network(2, { mesh: true })
    assert.ok(requester && only)
    const ended: string[] = []
    const store = new MemoryJobStore()
    const service = await requesterOf(requester, { store: Object.assign(store, { ended: (id: string) => ended.push(id) }) })
    const w = worker(only)
    await waitFor('the worker to subscribe', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length > 0)
    const job = announcement(requester, 12, { nonce: 6 })
    // The default lease and check wait are 60 s: waiting for a second worker would take minutes.
    const { jobId, done } = await service.addJob({ announcement: await seal(STATEMENTS.job, job, requester.privateKey), inputs })
    await announceJob(requester, await seal(STATEMENTS.job, job, requester.privateKey))
    await within('the job to complete before any check wait ran out', done, 20_000)
    assert.equal(service.summary(jobId)?.unsampled, 12)
    assert.deepEqual(ended, [jobId], 'the store hears that the job ended (it may drop what it keeps for it)')
    await w.stop()
    service.stop()
  })

  it('a worker claims no task of a job paying less than its price per item, and says so once (§6.2, issue #16)', async () => {
    const [requester, only] = await network(2, { mesh: true })
    assert.ok(requester && only)
    const service = await requesterOf(requester)
    const events: { event: string; reason?: string }[] = []
    // Its price: 3 per item.
    const w = worker(only, { prices: { [MODEL.toString()]: 3n }, onJob: (e) => events.push(e) })
    await waitFor('the worker to subscribe', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length > 0)
    // 5 per task of up to 2 items is 2.5 per item: passed by, announced twice, told once.
    const job = (reward: bigint, nonce: number) =>
      createJobAnnouncement({
        requester: peerIdBytes(requester.peerId),
        model: MODEL.bytes,
        taskCount: 4,
        rewardPerTask: reward,
        itemsPerTask: 2,
        maxBatch: 8,
        now: Date.now(),
        durationMs: 600_000,
        nonce: new Uint8Array(16).fill(nonce)
      })
    const cheap = job(5n, 7)
    const cheapJob = await service.addJob({ announcement: await seal(STATEMENTS.job, cheap, requester.privateKey), inputs })
    await announceJob(requester, await seal(STATEMENTS.job, cheap, requester.privateKey))
    await announceJob(requester, await seal(STATEMENTS.job, { ...cheap, issuedAtMs: cheap.issuedAtMs + 1n }, requester.privateKey))
    await waitFor('the worker to pass the job by', () => events.some((e) => e.event === 'declined'))
    // 6 per task of up to 2 items pays 3 per item: taken.
    const fair = job(6n, 8)
    const { done } = await service.addJob({ announcement: await seal(STATEMENTS.job, fair, requester.privateKey), inputs })
    await announceJob(requester, await seal(STATEMENTS.job, fair, requester.privateKey))
    await within('the fairly paid job to complete', done, 20_000)
    assert.equal(service.summary(cheapJob.jobId)?.done, 0, 'not one task of the cheap job was run')
    const declined = events.filter((e) => e.event === 'declined')
    assert.equal(declined.length, 1, 'told once, not per announcement')
    assert.match(declined[0]?.reason ?? '', /pays 5 per task of up to 2 item\(s\), below the price of 3 per item/)
    await w.stop()
    service.stop()
  })
})
