import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { agreeOutputs, DType, float32Tensor, type Tensor, toFloat64Array } from '@openbatch/protocol'
import ort from 'onnxruntime-node'
import { createOnnxBackend, type DeviceInfo, ModelStore, measureCapacity, type OnnxBackend } from '../src/index.js'
import { PADDLE_CLS_PATH, tempDir } from './fixtures.js'
import { CLASSIFIER, EMBEDDING, FIXED_BATCH, IN_FEATURES, LABELLER, MLP, ROW_SUM, randomInput, rng, TWO_IO, UNLOADABLE } from './models.js'

const devices: DeviceInfo = { cpu: { model: 'test-cpu', cores: 2 }, memoryBytes: 2 ** 33, gpus: [], gpuProbe: 'skipped in tests' }

/** Runs a model directly on this thread, as a reference. */
async function direct(bytes: Uint8Array, inputs: Tensor[]): Promise<Map<string, { type: string; dims: number[]; data: Uint8Array }>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' })
  const feeds: Record<string, ort.Tensor> = {}
  for (const t of inputs) {
    feeds[t.name] = new ort.Tensor('float32', new Float32Array(toFloat64Array(t)), t.dims.map(Number))
  }
  const out = await session.run(feeds)
  await session.release()
  return new Map(
    Object.entries(out).map(([k, v]) => {
      const d = v.data as ArrayBufferView
      return [k, { type: v.type, dims: [...v.dims], data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice() }]
    })
  )
}

describe('ONNX backend', async () => {
  const store = new ModelStore(await tempDir())
  const models = {
    mlp: await store.add(MLP),
    classifier: await store.add(CLASSIFIER),
    labeller: await store.add(LABELLER),
    twoIo: await store.add(TWO_IO),
    fixed: await store.add(FIXED_BATCH),
    unloadable: await store.add(UNLOADABLE),
    embedding: await store.add(EMBEDDING),
    garbage: await store.add(new TextEncoder().encode('this is not an onnx model')),
    paddle: await store.addFile(PADDLE_CLS_PATH)
  }
  let backend: OnnxBackend

  before(async () => {
    backend = createOnnxBackend({ store, threads: 1, intraOpThreads: 1, devices })
    await backend.start()
  })
  after(() => backend.stop())

  it('describes inputs, outputs and whether the model batches', async () => {
    const info = await backend.describe(models.twoIo)
    assert.deepEqual(
      info.inputs.map((i) => [i.name, i.dtype, i.shape]),
      [
        ['a', DType.FLOAT32, ['N', 4]],
        ['b', DType.FLOAT32, ['N', 4]]
      ]
    )
    assert.deepEqual(
      info.outputs.map((o) => o.name),
      ['sum', 'prod']
    )
    assert.equal(info.batchable, true)
    assert.equal((await backend.describe(models.fixed)).batchable, false)
    assert.equal((await backend.describe(models.labeller)).outputs[0]?.dtype, DType.INT64)
    assert.equal(info.sizeBytes, TWO_IO.byteLength)
  })

  it('gives results identical to a direct session.run for the same inputs', async () => {
    for (const [bytes, model] of [
      [MLP, models.mlp],
      [CLASSIFIER, models.classifier],
      [LABELLER, models.labeller]
    ] as const) {
      const inputs = [randomInput('x', 3, IN_FEATURES, 7)]
      const ours = await backend.run(model, inputs)
      const ref = await direct(bytes, inputs)
      for (const t of ours.outputs) {
        const r = ref.get(t.name)
        assert.ok(r != null)
        assert.deepEqual(t.dims.map(Number), r.dims)
        assert.deepEqual(t.data, r.data, `${t.name} differs from direct session.run`)
      }
    }
  })

  it('runs the real PaddleOCR text-direction classifier like a direct session.run', async () => {
    const r = rng(11)
    const x = float32Tensor(
      'x',
      [2, 3, 48, 192],
      Array.from({ length: 2 * 3 * 48 * 192 }, () => r() * 2 - 1)
    )
    const ours = await backend.run(models.paddle, [x])
    const ref = await direct(await readFile(PADDLE_CLS_PATH), [x])
    const [out] = ours.outputs
    assert.deepEqual(out?.dims, [2n, 2n])
    assert.deepEqual(out?.data, ref.get(out?.name ?? '')?.data)
    assert.equal(ours.profile.provider, 'cpu')
    assert.match(ours.profile.runtime, /^onnxruntime-node\/1\.\d+/)
  })

  it('inputs in shared memory run without a copy and stay with the caller; other views are copied', async () => {
    const inputs = [randomInput('x', 3, IN_FEATURES, 5)]
    const plain = await backend.run(models.mlp, inputs)
    const source = inputs[0] as Tensor
    // A SharedArrayBuffer with the tensor at an aligned offset (crosses as is), and one at an
    // odd offset (Float32Array cannot view it there: copied instead).
    for (const offset of [8, 3]) {
      const shared = new Uint8Array(new SharedArrayBuffer(offset + source.data.byteLength), offset, source.data.byteLength)
      shared.set(source.data)
      // (protons types tensor bytes as Uint8Array<ArrayBuffer>; a shared view needs the cast.)
      const ours = await backend.run(models.mlp, [{ ...source, data: shared as unknown as Uint8Array<ArrayBuffer> }])
      assert.deepEqual(ours.outputs, plain.outputs, `offset ${offset}`)
      assert.equal(shared.byteLength, source.data.byteLength, 'the shared input was not detached')
      assert.deepEqual(shared, source.data)
    }
    // An ordinary buffer is copied, never transferred away from the caller.
    assert.equal(source.data.byteLength, IN_FEATURES * 3 * 4)
  })

  it('merges tasks submitted together into one batch and splits the outputs back', async () => {
    const tasks = Array.from({ length: 10 }, (_, i) => [randomInput('a', 1, 4, i), randomInput('b', 1, 4, 100 + i)])
    const merged = await Promise.all(tasks.map((inputs) => backend.run(models.twoIo, inputs)))
    for (const [i, result] of merged.entries()) {
      assert.equal(result.profile.batchSize, 10, 'all ten ran in one call')
      const [a, b] = tasks[i] as [Tensor, Tensor]
      const sum = toFloat64Array(result.outputs.find((o) => o.name === 'sum') as Tensor)
      const va = toFloat64Array(a)
      const vb = toFloat64Array(b)
      assert.deepEqual(Array.from(sum), Array.from(new Float32Array(va.map((x, j) => x + (vb[j] as number)))))
      assert.deepEqual(result.outputs[0]?.dims, [1n, 4n])
    }
  })

  it('merged and single runs of the classifier agree under the default agreement rule', async () => {
    const tasks = Array.from({ length: 32 }, (_, i) => [randomInput('x', 1, IN_FEATURES, 500 + i)])
    const merged = await Promise.all(tasks.map((inputs) => backend.run(models.classifier, inputs)))
    for (const [i, inputs] of tasks.entries()) {
      const alone = await backend.run(models.classifier, inputs)
      assert.equal(alone.profile.batchSize, 1)
      assert.ok(agreeOutputs(alone.outputs, (merged[i] as { outputs: Tensor[] }).outputs).agree)
    }
  })

  it('runs a fixed-batch model one task at a time', async () => {
    const results = await Promise.all([1, 2, 3].map((s) => backend.run(models.fixed, [randomInput('x', 1, IN_FEATURES, s)])))
    for (const r of results) {
      assert.equal(r.profile.batchSize, 1)
      assert.deepEqual(r.outputs[0]?.dims, [1n, 10n])
    }
  })

  it('tasks with several rows each are merged and split by rows', async () => {
    const tasks = [2, 3, 1].map((rows, i) => [randomInput('x', rows, IN_FEATURES, 900 + i)])
    const results = await Promise.all(tasks.map((inputs) => backend.run(models.mlp, inputs)))
    assert.deepEqual(
      results.map((r) => r.outputs[0]?.dims[0]),
      [2n, 3n, 1n]
    )
    assert.equal(results[0]?.profile.batchSize, 6)
  })

  describe('bad input gets a named error that says what was expected', () => {
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ['wrong input name', () => backend.run(models.mlp, [randomInput('y', 1, IN_FEATURES, 1)]), /missing input "x" \(FLOAT32 \[N, 16\]\)/],
      [
        'extra input',
        () => backend.run(models.mlp, [randomInput('x', 1, IN_FEATURES, 1), randomInput('z', 1, IN_FEATURES, 1)]),
        /unknown input "z"; the model's inputs are "x"/
      ],
      [
        'wrong dtype',
        () => backend.run(models.mlp, [{ name: 'x', dtype: DType.INT32, dims: [1n, 16n], data: new Uint8Array(64) }]),
        /input "x" is INT32, the model expects FLOAT32/
      ],
      ['wrong shape', () => backend.run(models.mlp, [randomInput('x', 1, 15, 1)]), /dimension 1 must be 16/],
      [
        'wrong rank',
        () => backend.run(models.mlp, [float32Tensor('x', [16], new Array(16).fill(0))]),
        /has rank 1 \[16\], the model expects rank 2 \[N, 16\]/
      ],
      ['empty batch', () => backend.run(models.mlp, [float32Tensor('x', [0, 16], [])]), /empty batch/],
      ['no inputs', () => backend.run(models.mlp, []), /no inputs; the model expects "x"/],
      [
        'malformed tensor',
        () => backend.run(models.mlp, [{ name: 'x', dtype: DType.FLOAT32, dims: [1n, 16n], data: new Uint8Array(3) }]),
        /needs 64 bytes, data has 3/
      ]
    ]
    for (const [what, run, message] of cases) {
      it(what, async () => {
        await assert.rejects(run(), { name: 'InvalidInputError', message })
      })
    }
  })

  it('one task whose inputs fail the model fails alone, not the tasks merged with it (spec §6.6)', async () => {
    const ids = (values: number[]): Tensor => ({
      name: 'ids',
      dtype: DType.INT64,
      dims: [1n, 4n],
      data: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer)
    })
    const tasks = [ids([0, 1, 2, 3]), ids([4, 7592, 6, 7]), ids([9, 8, 7, 6])]
    const settled = await Promise.allSettled(tasks.map((t) => backend.run(models.embedding, [t])))
    assert.equal(settled[0]?.status, 'fulfilled')
    assert.equal(settled[2]?.status, 'fulfilled')
    assert.equal(settled[1]?.status, 'rejected')
    assert.equal((settled[1] as PromiseRejectedResult).reason.name, 'InferenceFailedError')
    assert.match((settled[1] as PromiseRejectedResult).reason.message, /7592/)
    const first = (settled[0] as PromiseFulfilledResult<Awaited<ReturnType<OnnxBackend['run']>>>).value
    assert.deepEqual(
      Array.from(toFloat64Array(first.outputs[0] as Tensor)).map((x) => Math.round(x * 10)),
      [0, 1, 2, 3, 4, 5, 6, 7]
    )
  })

  it("a failing run's reason comes back in its error only: onnxruntime writes no raw line to stderr (issue #16)", async () => {
    // In a child process, for its stderr: onnxruntime logs from native code, past process.stderr.
    const src = (p: string) => JSON.stringify(new URL(p, import.meta.url).href)
    const script = `
      import { createOnnxBackend, ModelStore } from ${src('../src/index.js')}
      import { EMBEDDING } from ${src('./models.js')}
      const store = new ModelStore(process.argv[2])
      const model = await store.add(EMBEDDING)
      const backend = createOnnxBackend({ store, threads: 1, intraOpThreads: 1, executionProvider: 'cpu' })
      await backend.start()
      const ids = { name: 'ids', dtype: 'INT64', dims: [1n, 4n], data: new Uint8Array(BigInt64Array.from([4n, 7592n, 6n, 7n]).buffer) }
      const err = await backend.run(model, [ids]).then(() => undefined, (e) => e)
      await backend.stop()
      console.log(JSON.stringify({ name: err?.name, message: err?.message }))
    `
    const { execFile } = await import('node:child_process')
    const dir = await tempDir()
    // A file, not `node -e`: inference threads inherit the parent's execArgv, and an -e would run in them too.
    await writeFile(join(dir, 'run.mjs'), script)
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, [join(dir, 'run.mjs'), dir], { timeout: 60_000 }, (err, stdout, stderr) =>
        err == null ? resolve({ stdout, stderr }) : reject(new Error(`${err.message}\n${stderr}`))
      )
    )
    const error = JSON.parse(stdout.trim())
    assert.equal(error.name, 'InferenceFailedError')
    assert.match(error.message, /7592/, 'the reason is in the error')
    assert.doesNotMatch(stderr, /onnxruntime/, 'and nowhere else')
  })

  it('NaN inputs run and come back as NaN, not a crash', async () => {
    const x = float32Tensor('x', [1, IN_FEATURES], new Array(IN_FEATURES).fill(Number.NaN))
    const { outputs } = await backend.run(models.mlp, [x])
    assert.ok(Array.from(toFloat64Array(outputs[0] as Tensor)).every(Number.isNaN))
  })

  it('a model that fails to load is a ModelLoadError, and the thread keeps working', async () => {
    await assert.rejects(backend.describe(models.unloadable), { name: 'ModelLoadError', message: /NoSuchOperator/ })
    await assert.rejects(backend.describe(models.garbage), { name: 'ModelLoadError' })
    assert.equal((await backend.run(models.mlp, [randomInput('x', 1, IN_FEATURES, 1)])).outputs.length, 1)
  })

  it('a model with inputs openbatch tensors cannot carry is refused, saying what to do instead (issue #16)', async () => {
    const { ModelProto } = await import('../src/pb/onnx.js')
    const { buildOnnxModel } = await import('../src/index.js')
    const proto = ModelProto.decode(
      buildOnnxModel({
        inputs: [{ name: 'text', dtype: DType.FLOAT32, shape: ['N'] }],
        outputs: [{ name: 'same', dtype: DType.FLOAT32, shape: ['N'] }],
        nodes: [{ op: 'Identity', inputs: ['text'], outputs: ['same'] }]
      })
    )
    for (const v of [...(proto.graph?.input ?? []), ...(proto.graph?.output ?? [])]) {
      if (v.type?.tensorType != null) {
        v.type.tensorType.elemType = 8 // ONNX STRING
      }
    }
    const strings = await store.add(ModelProto.encode(proto))
    await assert.rejects(backend.describe(strings), {
      name: 'ModelLoadError',
      message: /input "text" is strings: tokenise outside the model .*; openbatch tensors carry numbers only/
    })
  })

  it('an unknown model is a ModelNotFoundError', async () => {
    const { modelCid } = await import('@openbatch/protocol')
    await assert.rejects(backend.describe(modelCid(new Uint8Array([1, 2, 3])).toString()), { name: 'ModelNotFoundError' })
  })

  it('an aborted task rejects with AbortError', async () => {
    const controller = new AbortController()
    const p = backend.run(models.mlp, [randomInput('x', 1, IN_FEATURES, 1)], { signal: controller.signal })
    controller.abort()
    await assert.rejects(p, { name: 'AbortError' })
    await assert.rejects(backend.run(models.mlp, [randomInput('x', 1, IN_FEATURES, 1)], { signal: AbortSignal.abort() }), {
      name: 'AbortError'
    })
  })

  it('measures capacity at several batch sizes', async () => {
    const report = await measureCapacity(backend, models.mlp, (i) => [randomInput('x', 1, IN_FEATURES, i)], {
      batchSizes: [1, 8],
      minDurationMs: 50
    })
    assert.deepEqual(
      report.points.map((p) => p.batchSize),
      [1, 8]
    )
    assert.ok(report.points.every((p) => p.itemsPerSecond > 0))
    assert.ok([1, 8].includes(report.batchRows))
  })
})

describe('thread failures and shutdown', () => {
  it('a crashed thread fails its task with WorkerCrashedError and is replaced', async () => {
    const store = new ModelStore(await tempDir())
    const model = await store.addFile(PADDLE_CLS_PATH)
    const backend = createOnnxBackend({ store, threads: 1, intraOpThreads: 1, devices })
    await backend.start()
    try {
      const x = float32Tensor('x', [32, 3, 48, 192], new Float32Array(32 * 3 * 48 * 192))
      await backend.describe(model)
      const running = backend.run(model, [x])
      // The run message is posted before the crash message, so the thread is inside session.run.
      await new Promise((resolve) => setImmediate(resolve))
      backend.crashThreadForTesting(0)
      await assert.rejects(running, { name: 'WorkerCrashedError', message: /exited with code 70/ })
      const after = await backend.run(model, [float32Tensor('x', [1, 3, 48, 192], new Float32Array(3 * 48 * 192))])
      assert.deepEqual(after.outputs[0]?.dims, [1n, 2n])
    } finally {
      await backend.stop()
    }
  })

  it('stop() during long runs lets each thread end between runs: the process survives', async () => {
    // Terminating a thread in the middle of an onnxruntime run can abort the whole process
    // (FATAL ERROR in the binding); the threads end themselves once their run returns.
    const store = new ModelStore(await tempDir())
    const model = await store.addFile(PADDLE_CLS_PATH)
    for (let round = 0; round < 3; round++) {
      const backend = createOnnxBackend({ store, threads: 2, intraOpThreads: 1, maxRows: 32, devices })
      await backend.start()
      await backend.describe(model)
      const r = rng(round)
      const x = float32Tensor(
        'x',
        [32, 3, 48, 192],
        Array.from({ length: 32 * 3 * 48 * 192 }, () => r() * 2 - 1)
      )
      const runs = Promise.allSettled([1, 2, 3].map(() => backend.run(model, [x])))
      for (let turn = 0; turn < 2; turn++) {
        await new Promise((resolve) => setImmediate(resolve))
      }
      assert.ok(
        backend.stats().threads.every((t) => t.busy),
        'both threads are running when stop() is called'
      )
      await backend.stop()
      for (const outcome of await runs) {
        assert.equal(outcome.status, 'rejected')
        assert.equal((outcome as PromiseRejectedResult).reason.name, 'BackendStoppedError')
      }
    }
  })

  it('stop() fails queued and running tasks with BackendStoppedError and leaves no threads', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length
    const store = new ModelStore(await tempDir())
    const model = await store.add(MLP)
    const backend = createOnnxBackend({ store, threads: 2, intraOpThreads: 1, devices })
    await backend.start()
    await backend.describe(model)
    const tasks = Array.from({ length: 50 }, (_, i) => backend.run(model, [randomInput('x', 1, IN_FEATURES, i)], {}))
    const outcomes = Promise.allSettled(tasks)
    await new Promise((resolve) => setImmediate(resolve))
    await backend.stop()
    const settled = await outcomes
    const rejected = settled.filter((s) => s.status === 'rejected')
    assert.ok(rejected.length > 0)
    for (const r of rejected) {
      assert.equal((r as PromiseRejectedResult).reason.name, 'BackendStoppedError')
    }
    await assert.rejects(backend.run(model, [randomInput('x', 1, IN_FEATURES, 1)]), { name: 'BackendStoppedError' })
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length, before)
  })

  it('on CPU defaults to one single-threaded session per core, up to 4, and idle threads share a batch', async () => {
    const store = new ModelStore(await tempDir())
    const model = await store.add(MLP)
    const eight = createOnnxBackend({ store, devices: { ...devices, cpu: { model: 'test-cpu', cores: 8 } } })
    await eight.start()
    assert.deepEqual([eight.threads, eight.intraOpThreads], [4, 2])
    await eight.stop()
    const backend = createOnnxBackend({ store, devices })
    await backend.start()
    try {
      assert.deepEqual([backend.threads, backend.intraOpThreads], [2, 1])
      await backend.describe(model)
      // 10 tasks arrive together while both threads are idle: 5 rows each, not 10 on one thread.
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => backend.run(model, [randomInput('x', 1, IN_FEATURES, i)])))
      assert.deepEqual(
        results.map((r) => r.profile.batchSize),
        Array(10).fill(5)
      )
      assert.equal(results[0]?.profile.intraOpThreads, 1)
    } finally {
      await backend.stop()
    }
  })

  it('on CPU a task with more rows than a call takes is split across the threads and joined back', async () => {
    const store = new ModelStore(await tempDir())
    const twoIo = await store.add(TWO_IO)
    const paddle = await store.addFile(PADDLE_CLS_PATH)
    const rowSum = await store.add(ROW_SUM)
    const backend = createOnnxBackend({ store, maxRows: 8, devices })
    await backend.start()
    try {
      assert.equal(backend.callRows, 4, 'a batch of 8 rows on 2 threads: 4 rows a call')
      // Element-wise model: the joined outputs are exactly the whole task's.
      const a = randomInput('a', 11, 4, 1)
      const b = randomInput('b', 11, 4, 2)
      const split = await backend.run(twoIo, [a, b])
      assert.deepEqual(split.outputs[0]?.dims, [11n, 4n])
      assert.equal(split.profile.batchSize, 4)
      const va = toFloat64Array(a)
      const vb = toFloat64Array(b)
      assert.deepEqual(
        Array.from(toFloat64Array(split.outputs[0] as Tensor)),
        Array.from(new Float32Array(va.map((x, j) => x + (vb[j] as number))))
      )
      assert.deepEqual(
        Array.from(toFloat64Array(split.outputs[1] as Tensor)),
        Array.from(new Float32Array(va.map((x, j) => x * (vb[j] as number))))
      )
      // The real classifier, 8 rows, split 4 + 4 from shared memory: agrees with a direct run.
      const r = rng(5)
      const x = float32Tensor(
        'x',
        [8, 3, 48, 192],
        Array.from({ length: 8 * 3 * 48 * 192 }, () => r() * 2 - 1)
      )
      const shared = new Uint8Array(new SharedArrayBuffer(x.data.byteLength))
      shared.set(x.data)
      const ours = await backend.run(paddle, [{ ...x, data: shared as unknown as Uint8Array<ArrayBuffer> }])
      const ref = await direct(await readFile(PADDLE_CLS_PATH), [x])
      const out = ours.outputs[0] as Tensor
      assert.deepEqual(out.dims, [8n, 2n])
      const expected = ref.get(out.name)
      assert.ok(expected != null)
      assert.ok(agreeOutputs([out], [{ ...out, data: expected.data as Uint8Array<ArrayBuffer> }]).agree)
      // A model whose output does not follow its rows: the parts' outputs cannot be joined, so
      // the task runs whole and gets the whole task's answer.
      const rows = randomInput('x', 6, 4, 3)
      const total = await backend.run(rowSum, [rows])
      assert.deepEqual(total.outputs[0]?.dims, [1n, 4n])
      const v = toFloat64Array(rows)
      const sums = [0, 1, 2, 3].map((c) => [0, 1, 2, 3, 4, 5].reduce((n, i) => n + (v[i * 4 + c] as number), 0))
      for (const [c, got] of toFloat64Array(total.outputs[0] as Tensor).entries()) {
        assert.ok(Math.abs(got - (sums[c] as number)) < 1e-5, `column ${c}: ${got} vs ${sums[c]}`)
      }
      assert.equal((await backend.describe(rowSum)).batchable, false)
      // A split task aborted while its parts run rejects once; the parts not yet handed out are
      // dropped, and the backend keeps working. 24 rows: 6 parts of 4, of which the two threads
      // take 4 (two each), and each takes milliseconds, so none has finished by the check below.
      const big = float32Tensor(
        'x',
        [24, 3, 48, 192],
        Array.from({ length: 24 * 3 * 48 * 192 }, () => r() * 2 - 1)
      )
      const controller = new AbortController()
      const aborted = backend.run(paddle, [big], { signal: controller.signal })
      for (let turn = 0; turn < 2; turn++) {
        await new Promise((resolve) => setImmediate(resolve)) // the engine's pump runs on setImmediate
      }
      assert.equal(backend.stats().waiting, 2, 'split into 6 parts, 4 handed to the threads')
      controller.abort()
      await assert.rejects(aborted, { name: 'AbortError' })
      const after = await backend.run(twoIo, [a, b])
      assert.deepEqual(after.outputs, split.outputs)
      assert.equal(backend.stats().waiting, 0, "the aborted task's parts were dropped")
    } finally {
      await backend.stop()
    }
  })

  it('rejects nonsense configuration with a clear error', () => {
    assert.throws(() => createOnnxBackend({ store: '/tmp/x', threads: 0 }), {
      name: 'RangeError',
      message: /threads must be an integer ≥ 1, got 0/
    })
    assert.throws(() => createOnnxBackend({ store: '/tmp/x', maxRows: 1.5 }), { message: /maxRows/ })
  })

  it('keeps working within a tiny session budget by evicting and reloading sessions', async () => {
    const store = new ModelStore(await tempDir())
    const a = await store.add(MLP)
    const b = await store.add(CLASSIFIER)
    const backend = createOnnxBackend({ store, threads: 1, intraOpThreads: 1, sessionBudgetBytes: 1, devices })
    await backend.start()
    try {
      for (let i = 0; i < 3; i++) {
        for (const m of [a, b]) {
          const r = await backend.run(m, [randomInput('x', 1, IN_FEATURES, i)])
          assert.equal(r.outputs[0]?.dims[1], 10n)
        }
      }
      assert.deepEqual(backend.stats().threads[0]?.loaded.length, 1, 'only the last session stays cached')
    } finally {
      await backend.stop()
    }
  })
})
