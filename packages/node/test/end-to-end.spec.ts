import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { InferenceBackend } from '@openbatch/inference'
import {
  createJobAnnouncement,
  float32Tensor,
  jobsTopic,
  modelCid,
  open,
  peerIdBytes,
  STATEMENTS,
  seal,
  type Tensor,
  toFloat64Array
} from '@openbatch/protocol'
import {
  announceJob,
  fetchModel,
  MemoryJobStore,
  ModelServer,
  type OpenbatchPeer,
  RequesterService,
  WorkerService,
  WorkServer
} from '../src/index.js'
import { network, sumBackend, waitFor, within } from './helpers.js'

const MODEL = modelCid(new TextEncoder().encode('end-to-end model'))
const inputs = (i: number): Tensor[] => [float32Tensor('x', [1, 2], [i, 1])]

/** `checkWaitMs`: short where one worker is alone, so sampled results stand when no one can re-run them. */
async function announce(requester: OpenbatchPeer, service: RequesterService, taskCount: number, leaseMs = 60_000, checkWaitMs?: number) {
  const job = createJobAnnouncement({
    requester: peerIdBytes(requester.peerId),
    model: MODEL.bytes,
    taskCount,
    rewardPerTask: 3n,
    maxBatch: 4,
    now: Date.now(),
    durationMs: 600_000,
    nonce: crypto.getRandomValues(new Uint8Array(16))
  })
  const envelope = await seal(STATEMENTS.job, job, requester.privateKey)
  const handle = await service.addJob({ announcement: envelope, inputs, leaseMs, checkWaitMs })
  await announceJob(requester, envelope)
  return { ...handle, envelope }
}

const subscribed = (publisher: OpenbatchPeer, workers: OpenbatchPeer[]) =>
  waitFor('workers to subscribe to the jobs topic', () => {
    const subs = publisher.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).map(String)
    return workers.every((w) => subs.includes(w.peerId.toString()))
  })

describe('a job end to end: gossip → claims → inference → results → receipts', () => {
  it('three workers finish a 40-task job announced over gossip; every task has one stored result and one receipt', async () => {
    const [requester, ...workers] = await network(4, { mesh: true })
    assert.ok(requester)
    const store = new MemoryJobStore()
    const service = new RequesterService(requester, { store })
    await new WorkServer(requester, service).start()
    const services = workers.map((w) => new WorkerService(w, { backend: sumBackend(), models: [MODEL.toString()], capacity: 8 }))
    for (const s of services) {
      s.start()
    }
    await subscribed(requester, workers)
    const { jobId, done } = await announce(requester, service, 40)
    await within('the job to complete', done)
    const results = store.results(jobId)
    assert.equal(results.length, 40)
    for (const { index, result } of results) {
      const r = await open(STATEMENTS.result, result)
      assert.deepEqual(Array.from(toFloat64Array(r.message.outputs[0] as Tensor)), [index + 1])
      assert.equal(r.message.profile?.runtime, 'test')
    }
    await Promise.all(services.map((s) => s.stop()))
    // Newcomers are sampled (§7.2): every sampled task was re-run by another worker and agreed.
    const summary = service.summary(jobId)
    assert.ok(summary != null && summary.agreed > 0)
    assert.equal(summary.agreed + summary.unsampled, 40)
    assert.equal(summary.disputed + summary.unresolved + summary.fraudProofs, 0)
    assert.equal(
      services.reduce((n, s) => n + s.receipts.length, 0),
      40 + summary.agreed + summary.canariesPassed,
      'one receipt per accepted run: first runs, re-runs and canaries'
    )
    service.stop()
  })

  it("a worker fetches a job's model it lacks before running its tasks, once", async () => {
    const [requester, worker, provider] = await network(3, { mesh: true })
    assert.ok(requester && worker && provider)
    const service = new RequesterService(requester)
    await new WorkServer(requester, service).start()
    const modelBytes = new TextEncoder().encode('end-to-end model')
    await new ModelServer(provider, { get: async () => modelBytes }).start()
    const fetched: string[] = []
    const present = new Set<string>()
    const backend = sumBackend()
    const guarded: InferenceBackend = {
      describe: backend.describe,
      run: async (model, tensors, options) => {
        assert.ok(present.has(model), 'a task ran before its model was present')
        return backend.run(model, tensors, options)
      }
    }
    const workerService = new WorkerService(worker, {
      backend: guarded,
      models: [MODEL.toString()],
      ensureModel: async (model) => {
        const bytes = await fetchModel(worker, model, { providers: [provider.peerId], signal: AbortSignal.timeout(10_000) })
        fetched.push(model)
        present.add(modelCid(bytes).toString())
      }
    })
    workerService.start()
    await subscribed(requester, [worker])
    const { done } = await announce(requester, service, 12, 60_000, 300)
    await within('the job to complete', done)
    assert.deepEqual(fetched, [MODEL.toString()])
    await workerService.stop()
    service.stop()
  })

  it('a worker that dies holding tasks: its leases are released at once and the job finishes elsewhere', async () => {
    const [requester, stuck, healthy] = await network(3, { mesh: true })
    assert.ok(requester && stuck && healthy)
    const store = new MemoryJobStore()
    const service = new RequesterService(requester, { store })
    await new WorkServer(requester, service).start()
    // The stuck worker claims tasks and never finishes them.
    const stuckService = new WorkerService(stuck, {
      backend: sumBackend({ gate: new Promise(() => {}) }),
      models: [MODEL.toString()],
      capacity: 4
    })
    stuckService.start()
    await subscribed(requester, [stuck])
    const { jobId, done, envelope } = await announce(requester, service, 12, 600_000, 300)
    await waitFor('the stuck worker to hold tasks', () => (service.summary(jobId)?.leased ?? 0) > 0)
    await stuck.stop() // dies: the connection drops, a 10-minute lease notwithstanding
    await waitFor('its leases to be released', () => service.summary(jobId)?.leased === 0)
    const healthyService = new WorkerService(healthy, { backend: sumBackend(), models: [MODEL.toString()], capacity: 8 })
    healthyService.start()
    // It joined after the announcement went round: it takes the job directly.
    healthyService.addJob(await open(STATEMENTS.job, envelope))
    await within('the job to complete on the healthy worker', done)
    assert.equal(store.results(jobId).length, 12)
    assert.ok(store.results(jobId).every((r) => r.worker === healthy.peerId.toString()))
    await healthyService.stop()
    service.stop()
  })

  it('a result whose store write fails is neither counted done nor lost: the worker gets no receipt and the task runs again', async () => {
    const [requester, worker] = await network(2, { mesh: true })
    assert.ok(requester != null && worker != null)
    // The store refuses the first write of tasks 3 and 7 (a full disk, a locked file): the whole
    // submission they are in is not stored.
    const failing = new Set([3, 7])
    let refused = 0
    class FlakyStore extends MemoryJobStore {
      override accept(...args: Parameters<MemoryJobStore['accept']>): void {
        const hit = args[1].filter((r) => failing.delete(r.task)).length
        if (hit > 0) {
          refused += hit
          throw Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' })
        }
        super.accept(...args)
      }
    }
    const store = new FlakyStore()
    const errors: Error[] = []
    const service = new RequesterService(requester, { store, onError: (err) => errors.push(err) })
    await new WorkServer(requester, service).start()
    const receipts: Uint8Array[] = []
    const ws = new WorkerService(worker, {
      backend: sumBackend(),
      models: [MODEL.toString()],
      capacity: 4,
      onReceipt: (r) => receipts.push(r)
    })
    ws.start()
    await subscribed(requester, [worker])
    const { jobId, done } = await announce(requester, service, 10, 60_000, 100)
    await within('the job to complete despite the failed writes', done)
    assert.equal(refused, 2)
    assert.ok(
      errors.some((e) => e.message === 'disk full'),
      'the failed write is reported'
    )
    const results = store.results(jobId)
    assert.deepEqual(
      results.map((r) => r.index),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      'every task stored exactly once'
    )
    const summary = service.summary(jobId)
    assert.equal(summary?.done, 10)
    assert.equal(summary?.settled, 10)
    assert.equal(receipts.length, 10, 'a receipt only for stored results')
    await ws.stop()
    service.stop()
  })
})
