import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { agreeOutputs, DEFAULT_AGREEMENT, float32Tensor, type Tensor } from '@openbatch/protocol'
import { createOnnxBackend, type DeviceInfo, ModelStore, type OnnxBackend } from '../src/index.js'
import { tempDir, webgpuDevices } from './fixtures.js'
import { CLASSIFIER, CONV, DETERMINANT, IN_FEATURES, MLP, randomInput, rng } from './models.js'

async function backends(
  t: TestContext,
  store: ModelStore,
  notices: string[] = []
): Promise<{ gpu: OnnxBackend; cpu: OnnxBackend } | undefined> {
  const devices = await webgpuDevices(t)
  if (devices == null) {
    return undefined
  }
  const gpu = createOnnxBackend({ store, executionProvider: 'webgpu', devices, onNotice: (m) => notices.push(m) })
  const cpu = createOnnxBackend({ store, executionProvider: 'cpu', threads: 1, devices: { ...devices, webgpu: undefined } as DeviceInfo })
  await Promise.all([gpu.start(), cpu.start()])
  t.after(() => Promise.all([gpu.stop(), cpu.stop()]))
  return { gpu, cpu }
}

describe('WebGPU execution (onnxruntime-node bundled provider)', () => {
  it('runs matmul, softmax and convolution models on the WebGPU adapter, agreeing with the CPU under the default rule', async (t) => {
    const store = new ModelStore(await tempDir())
    const b = await backends(t, store)
    if (b == null) {
      return
    }
    assert.equal(b.gpu.provider.provider, 'webgpu')
    assert.equal(b.gpu.threads, 1, 'one session per GPU device')
    const r = rng(5)
    const cases: [Uint8Array, Tensor[][]][] = [
      [MLP, Array.from({ length: 8 }, (_, i) => [randomInput('x', 1, IN_FEATURES, 300 + i)])],
      [CLASSIFIER, Array.from({ length: 8 }, (_, i) => [randomInput('x', 2, IN_FEATURES, 400 + i)])],
      [
        CONV,
        Array.from({ length: 4 }, () => [
          float32Tensor(
            'x',
            [1, 3, 16, 16],
            Array.from({ length: 768 }, () => r() * 2 - 1)
          )
        ])
      ]
    ]
    for (const [bytes, tasks] of cases) {
      const model = await store.add(bytes)
      const [onGpu, onCpu] = await Promise.all([
        Promise.all(tasks.map((x) => b.gpu.run(model, x))),
        Promise.all(tasks.map((x) => b.cpu.run(model, x)))
      ])
      onGpu.forEach((g, i) => {
        assert.equal(g.profile.provider, 'webgpu')
        assert.equal(g.profile.device, b.gpu.provider.device)
        const c = onCpu[i]
        assert.ok(c != null)
        assert.equal(c.profile.provider, 'cpu')
        const verdict = agreeOutputs(c.outputs, g.outputs, [DEFAULT_AGREEMENT])
        assert.ok(verdict.agree, `task ${i}: ${JSON.stringify(verdict)}`)
      })
    }
  })

  it('says once which nodes onnxruntime runs on the CPU because WebGPU lacks their kernels, and they still compute', async (t) => {
    const store = new ModelStore(await tempDir())
    const notices: string[] = []
    const b = await backends(t, store, notices)
    if (b == null) {
      return
    }
    const det = await store.add(DETERMINANT)
    const mlp = await store.add(MLP)
    // A 3×3 matrix with determinant 2·3·4 = 24 (upper triangular), twice.
    const m = [2, 1, 5, 0, 3, 7, 0, 0, 4]
    for (let i = 0; i < 3; i++) {
      const out = await b.gpu.run(det, [float32Tensor('x', [2, 3, 3], [...m, ...m])])
      assert.deepEqual([...new Float32Array(out.outputs[0]?.data.slice().buffer ?? new ArrayBuffer(0))], [24, 24])
    }
    await b.gpu.run(mlp, [randomInput('x', 1, IN_FEATURES, 1)])
    assert.equal(notices.length, 1, notices.join('\n'))
    assert.match(notices[0] as string, /WebGPU lacks kernels for Det ×1; onnxruntime runs those nodes on the CPU/)
    assert.ok(notices[0]?.includes(det))
    assert.deepEqual(b.gpu.cpuPlacements.get(det), { Det: 1 })
    assert.equal(b.gpu.cpuPlacements.get(mlp), undefined)
  })

  it('a lost device fails the tasks it held with DeviceLostError, and later tasks run on the CPU without a crash', async (t) => {
    const store = new ModelStore(await tempDir())
    const notices: string[] = []
    const b = await backends(t, store, notices)
    if (b == null) {
      return
    }
    const model = await store.add(CLASSIFIER)
    const task = [randomInput('x', 1, IN_FEATURES, 9)]
    const before = await b.gpu.run(model, task)
    assert.equal(before.profile.provider, 'webgpu')
    b.gpu.loseDeviceForTesting()
    const lost = await Promise.allSettled([b.gpu.run(model, task), b.gpu.run(model, task)])
    for (const s of lost) {
      assert.equal(s.status, 'rejected')
      assert.equal((s.reason as Error).name, 'DeviceLostError')
    }
    assert.equal(b.gpu.provider.provider, 'cpu')
    assert.match(b.gpu.provider.reason, /^WebGPU device lost on .+; using CPU$/)
    assert.ok(notices.some((n) => n === b.gpu.provider.reason))
    const after = await Promise.all(Array.from({ length: 4 }, () => b.gpu.run(model, task)))
    for (const r of after) {
      assert.equal(r.profile.provider, 'cpu')
      assert.ok(agreeOutputs(before.outputs, r.outputs, [DEFAULT_AGREEMENT]).agree)
    }
  })
})

describe('WebGPU from one thread of one backend per process', () => {
  it('asking for more threads gives one, and a second backend runs on the CPU — with the reasons, and no crash', async (t) => {
    const store = new ModelStore(await tempDir())
    const devices = await webgpuDevices(t)
    if (devices == null) {
      return
    }
    // onnxruntime's WebGPU device is shared by a process: used from two threads at once, the
    // process aborts (reproduced before this rule with threads: 2, and with two backends).
    const first = createOnnxBackend({ store, executionProvider: 'webgpu', threads: 2, devices })
    const second = createOnnxBackend({ store, executionProvider: 'webgpu', devices })
    await first.start()
    await second.start()
    t.after(() => Promise.all([first.stop(), second.stop()]))
    assert.equal(first.provider.provider, 'webgpu')
    assert.equal(first.threads, 1)
    assert.match(first.provider.reason, /; 1 inference thread \(onnxruntime's WebGPU device is not safe from two threads\), not 2$/)
    assert.equal(second.provider.provider, 'cpu')
    assert.match(second.provider.reason, /another inference backend of this process runs on it .*; using CPU$/)
    const model = await store.add(MLP)
    const tasks = Array.from({ length: 64 }, (_, i) => [randomInput('x', 1, IN_FEATURES, i)])
    for (let round = 0; round < 5; round++) {
      await Promise.all([...tasks.map((x) => first.run(model, x)), ...tasks.map((x) => second.run(model, x))])
    }
    // Once the first stops, WebGPU is free for another backend.
    await first.stop()
    const third = createOnnxBackend({ store, executionProvider: 'webgpu', devices })
    await third.start()
    t.after(() => third.stop())
    assert.equal(third.provider.provider, 'webgpu')
  })
})
