import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PeerId } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import {
  type Assignment,
  createJobAnnouncement,
  ErrorCode,
  float32Tensor,
  type JobAnnouncement,
  modelCid,
  open,
  peerIdBytes,
  STATEMENTS,
  seal,
  sha256,
  type Task,
  type TaskResult,
  type Tensor,
  tensorSetDigest,
  toFloat64Array,
  toHex,
  WORK_PROTOCOL
} from '@openbatch/protocol'
import { claimTasks, MemoryJobStore, type OpenbatchPeer, RequesterService, submitResults, WorkServer } from '../src/index.js'
import { network, within } from './helpers.js'

const MODEL = modelCid(new TextEncoder().encode('work test model'))
const inputs = (i: number): Tensor[] => [float32Tensor('x', [1, 2], [i, 2 * i])]

function announcement(requester: OpenbatchPeer, taskCount: number, nonceFill: number): JobAnnouncement {
  return createJobAnnouncement({
    requester: peerIdBytes(requester.peerId),
    model: MODEL.bytes,
    taskCount,
    rewardPerTask: 7n,
    maxBatch: 4,
    now: Date.now(),
    durationMs: 600_000,
    nonce: new Uint8Array(16).fill(nonceFill)
  })
}

/** What an honest worker computes for a task: y = [x0 + x1, x0 · x1]. */
function compute(worker: OpenbatchPeer, a: Assignment, task: Task, over: Partial<TaskResult> = {}): TaskResult {
  const [x0, x1] = Array.from(toFloat64Array(task.inputs[0] as Tensor))
  const outputs = [float32Tensor('y', [1, 2], [(x0 as number) + (x1 as number), (x0 as number) * (x1 as number)])]
  return {
    taskId: task.taskId,
    jobId: a.jobId,
    index: task.index,
    model: a.model,
    inputDigest: tensorSetDigest(task.inputs),
    outputDigest: tensorSetDigest(outputs),
    outputs,
    worker: peerIdBytes(worker.peerId),
    startedAtMs: BigInt(Date.now()),
    durationUs: 1n,
    ...over
  }
}

async function setup() {
  const [requester, w1, w2, evil] = await network(4, { mesh: true })
  assert.ok(requester && w1 && w2 && evil)
  const store = new MemoryJobStore()
  const rejected: [string, ErrorCode][] = []
  const service = new RequesterService(requester, { store, onRejected: (peer, code) => rejected.push([peer.toString(), code]) })
  const server = new WorkServer(requester, service, { timeoutMs: 5000 })
  await server.start()
  return { requester, w1, w2, evil, store, service, rejected }
}

describe('work over streams (spec §6.2, §6.3) — real libp2p peers', () => {
  it('two workers pull, run and return every task; each accepted result gets a verifiable receipt', async () => {
    const { requester, w1, w2, store, service } = await setup()
    const job = announcement(requester, 20, 1)
    const { jobId, done } = await service.addJob({ announcement: await seal(STATEMENTS.job, job, requester.privateKey), inputs })
    const receipts: Uint8Array[] = []
    let finished = false
    void done.finally(() => {
      finished = true
    })
    // Each worker pulls until the job closes: re-runs of sampled tasks appear as the other
    // worker's results come in, so NO_TASKS means "not now", not "never".
    const work = async (worker: OpenbatchPeer, requesterId: PeerId) => {
      for (let round = 0; round < 2000; round++) {
        const a = await claimTasks(worker, requesterId, { jobId: job.jobId, maxTasks: 4 })
        if (a.code === ErrorCode.NO_TASKS && !finished) {
          await new Promise((resolve) => setTimeout(resolve, 5)) // pull again, as a worker's backoff would
          continue
        }
        if (a.code !== ErrorCode.OK) {
          return a.code
        }
        const envelopes = await Promise.all(a.tasks.map((t) => seal(STATEMENTS.result, compute(worker, a, t), worker.privateKey)))
        const statuses = await submitResults(worker, requesterId, envelopes)
        for (const [i, s] of statuses.entries()) {
          assert.equal(s.code, ErrorCode.OK, s.message)
          const receipt = await open(STATEMENTS.receipt, s.receipt)
          assert.ok(receipt.signer.equals(requester.peerId))
          assert.equal(toHex(receipt.message.resultDigest), toHex(sha256(envelopes[i] as Uint8Array)))
          assert.equal(receipt.message.reward, 7n)
          receipts.push(s.receipt)
        }
      }
      throw new Error('worker loop did not end')
    }
    const [end1, end2] = await Promise.all([work(w1, requester.peerId), work(w2, requester.peerId)])
    await within('the job to complete', done)
    // A worker stops when the job is closed, or when the other holds the last tasks.
    for (const end of [end1, end2]) {
      assert.ok(end === ErrorCode.JOB_CLOSED || end === ErrorCode.NO_TASKS, end)
    }
    const results = store.results(jobId)
    assert.equal(results.length, 20)
    // Newcomers are sampled (§7.2): each sampled task was re-run by the other worker, and every
    // accepted run, first or re-run, earned a receipt.
    const summary = service.summary(jobId)
    assert.ok(summary != null && summary.agreed > 0, 'tasks were sampled')
    assert.equal(summary.agreed + summary.unsampled, 20)
    assert.equal(receipts.length, 20 + summary.agreed + summary.canariesPassed)
    for (const { status } of results) {
      assert.ok(status === 'agreed' || status === 'unsampled')
    }
    for (const { index, result } of results) {
      const r = await open(STATEMENTS.result, result)
      assert.equal(Number(r.message.index), index)
      const [x0, x1] = [index, 2 * index]
      assert.deepEqual(Array.from(toFloat64Array(r.message.outputs[0] as Tensor)), [x0 + x1, x0 * x1])
    }
    assert.deepEqual(
      // (agreed/unsampled split and canaries vary with the random draws; they are checked above)
      { ...service.summary(jobId), agreed: 0, unsampled: 0, canariesPassed: 0 },
      {
        taskCount: 20,
        pending: 0,
        leased: 0,
        done: 20,
        settled: 20,
        checking: 0,
        checks: 0,
        closed: true,
        agreed: 0,
        unsampled: 0,
        disputed: 0,
        unresolved: 0,
        canariesPassed: 0,
        fraudProofs: 0,
        audited: 0,
        failed: 0
      }
    )
    service.stop()
  })

  it('garbage and oversized frames close that stream only; bad results get their code and count against the sender', async () => {
    const { requester, w1, evil, service, rejected } = await setup()
    const job = announcement(requester, 8, 2)
    await service.addJob({ announcement: await seal(STATEMENTS.job, job, requester.privateKey), inputs })

    // Garbage in a claim frame: a MALFORMED answer, then the stream closes.
    const s1 = await evil.libp2p.dialProtocol(requester.peerId, WORK_PROTOCOL)
    const lp1 = lpStream(s1)
    await lp1.write(new Uint8Array([0xff, 0xff, 0xff]))
    const { decodeFrame } = await import('@openbatch/protocol')
    assert.equal(decodeFrame('Assignment', await lp1.read()).code, ErrorCode.MALFORMED)
    // A frame over the 256-byte claim limit: the stream is aborted.
    const s2 = await evil.libp2p.dialProtocol(requester.peerId, WORK_PROTOCOL)
    const lp2 = lpStream(s2)
    await lp2.write(new Uint8Array(10_000))
    await assert.rejects(lp2.read({ signal: AbortSignal.timeout(5000) }))

    // The requester still serves honest workers.
    const a = await claimTasks(w1, requester.peerId, { jobId: job.jobId, maxTasks: 2 })
    assert.equal(a.code, ErrorCode.OK)
    const [t0, t1] = a.tasks as [Task, Task]
    const honest = await seal(STATEMENTS.result, compute(w1, a, t0), w1.privateKey)

    const e = await claimTasks(evil, requester.peerId, { jobId: job.jobId, maxTasks: 1 })
    const evilTask = e.tasks[0] as Task
    const forgedSig = Uint8Array.from(await seal(STATEMENTS.result, compute(evil, e, evilTask), evil.privateKey))
    forgedSig[forgedSig.length - 1] = (forgedSig[forgedSig.length - 1] as number) ^ 1
    const otherDigest = tensorSetDigest([float32Tensor('x', [1, 2], [0, 0])])
    const { deriveTaskId } = await import('@openbatch/protocol')
    const wrongInputs = await seal(
      STATEMENTS.result,
      compute(evil, e, evilTask, { inputDigest: otherDigest, taskId: deriveTaskId(e.jobId, evilTask.index, e.model, otherDigest) }),
      evil.privateKey
    )
    const notAssigned = await seal(STATEMENTS.result, compute(evil, a, t1), evil.privateKey)
    const statuses = await submitResults(evil, requester.peerId, [honest, forgedSig, wrongInputs, notAssigned, new Uint8Array([1, 2, 3])])
    assert.deepEqual(
      statuses.map((s) => s.code),
      [ErrorCode.WRONG_SIGNER, ErrorCode.BAD_SIGNATURE, ErrorCode.WRONG_INPUT_DIGEST, ErrorCode.NOT_ASSIGNED, ErrorCode.MALFORMED]
    )
    assert.equal(rejected.filter(([peer]) => peer === evil.peerId.toString()).length, 5)
    // The four provably bad ones count as disagreements (§7.6); NOT_ASSIGNED alone would not.
    assert.equal(requester.reputation.get(evil.peerId.toString()).disagreements, 4)
    assert.ok(requester.reputation.score(evil.peerId) < 0.1)
    // w1's own submission of its result is still accepted.
    assert.equal((await submitResults(w1, requester.peerId, [honest]))[0]?.code, ErrorCode.OK)
    assert.equal((await submitResults(w1, requester.peerId, [honest]))[0]?.code, ErrorCode.DUPLICATE)
    service.stop()
  })
})
