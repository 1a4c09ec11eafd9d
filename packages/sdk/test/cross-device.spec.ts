/**
 * Agreement across devices (issue #12): real peers over TCP on loopback, one worker computing on
 * onnxruntime's WebGPU provider (Mesa's software adapter in CI; a GPU where there is one), others on
 * the CPU, every task re-run on another worker.
 */

import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import type { InferenceBackend } from '@openbatch/inference'
import { calibrationValues, createOnnxBackend, type DeviceInfo, detectDevices, MATMUL_SOFTMAX, ModelStore } from '@openbatch/runtime-onnx'
import { createClient, createPeer, type Peer, tensor } from '../src/index.js'
import { within } from './helpers.js'

const TASKS = 500

/** Every task is re-run on an independent worker and compared under the spec's default rule (ALLCLOSE). */
const CHECK_EVERYTHING = { initialRate: 1, minRate: 1, trustHorizon: 0, canaryRate: 0, penalty: 0n, cost: 0n, agreement: [] }

/** MATMUL_SOFTMAX: x [N,32] → probs [N,10] (MatMul, Add, Relu, MatMul, Softmax), from runtime-onnx's calibration set. */
const inputs = () => Array.from({ length: TASKS }, (_, i) => [tensor('x', Float32Array.from(calibrationValues(32, 1000 + i)), [1, 32])])

/** Fakes every result: the outputs' bytes reversed. */
function cheating(inner: InferenceBackend & { stop: () => Promise<void> }): InferenceBackend & { stop: () => Promise<void> } {
  return {
    stop: () => inner.stop(),
    describe: (model, options) => inner.describe(model, options),
    run: async (model, x, options) => {
      const r = await inner.run(model, x, options)
      return { ...r, outputs: r.outputs.map((t) => ({ ...t, data: t.data.slice().reverse() })) }
    }
  }
}

describe('agreement across devices: WebGPU and CPU workers verify each other (issue #12)', () => {
  let dir: string
  let modelPath: string
  let devices: DeviceInfo
  const peers: Peer[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openbatch-cross-device-'))
    modelPath = join(dir, 'classifier.onnx')
    await writeFile(modelPath, MATMUL_SOFTMAX)
    devices = await detectDevices({ nvidiaSmi: '/nonexistent' })
  })
  after(async () => {
    await Promise.all(peers.splice(0).map((p) => p.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  function needsAdapter(t: TestContext): boolean {
    if (devices.webgpu != null) {
      return true
    }
    const why = `needs a WebGPU adapter (Mesa's lavapipe from bookworm-backports will do): ${devices.webgpuProbe}`
    if (process.env.CI === 'true') {
      assert.fail(`this test ${why}`)
    }
    t.skip(why)
    return false
  }

  /**
   * Workers of each test are stopped when it ends: a process may run WebGPU from one backend only
   * (onnxruntime's WebGPU device is not safe from two threads), so the next test's WebGPU worker
   * starts after this one's stopped.
   */
  async function network(
    t: TestContext,
    workers: { device: 'webgpu' | 'cpu'; cheat?: boolean }[]
  ): Promise<{ workers: Peer[]; bootstrap: string[] }> {
    t.after(() => Promise.all(peers.splice(0).map((p) => p.stop())))
    const started: Peer[] = []
    let bootstrap: string[] = []
    for (const w of workers) {
      let backend: (InferenceBackend & { stop: () => Promise<void> }) | undefined
      if (w.cheat === true) {
        const store = new ModelStore(await mkdtemp(join(dir, 'cheat-')))
        await store.addFile(modelPath)
        const onnx = createOnnxBackend({ store, executionProvider: w.device, devices })
        await onnx.start()
        assert.equal(onnx.provider.provider, w.device)
        backend = cheating(onnx)
      }
      const peer = await createPeer({
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap,
        worker: { models: [modelPath], device: w.device, threads: 1, intraOpThreads: 1, backend }
      })
      peers.push(peer)
      started.push(peer)
      if (backend == null) {
        assert.equal(peer.device?.provider, w.device, peer.device?.reason)
      }
      bootstrap = [peer.addresses[0] as string]
    }
    return { workers: started, bootstrap }
  }

  it(`honest WebGPU and CPU workers, each checking the other on all ${TASKS} tasks: 0 disputes, 0 fraud proofs`, async (t) => {
    if (!needsAdapter(t)) {
      return
    }
    const net = await network(t, [{ device: 'webgpu' }, { device: 'cpu' }])
    const [gpu, cpu] = net.workers as [Peer, Peer]
    const client = await createClient({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: net.bootstrap })
    peers.push(client)
    const job = await client.submitBatch({
      model: modelPath,
      inputs: inputs(),
      verification: CHECK_EVERYTHING,
      minWorkers: 2,
      itemsPerTask: 1
    })
    const ranBy = new Map<string, number>()
    for await (const r of job.results()) {
      assert.equal(r.failure, undefined)
      assert.equal(r.verification.status, 'agreed', `task ${r.index}: ${r.verification.status}`)
      ranBy.set(r.verification.worker, (ranBy.get(r.verification.worker) ?? 0) + 1)
    }
    const summary = await within('the job to finish', job.finished, 240_000)
    assert.equal(summary.settled, TASKS)
    assert.equal(summary.agreed, TASKS, 'every task was re-run on the other device and agreed')
    assert.equal(summary.disputed, 0)
    assert.equal(summary.fraudProofs, 0)
    // Both devices did first runs, and each re-ran the other's: every task ran on both.
    assert.ok((ranBy.get(gpu.peerId) ?? 0) > 0, 'the WebGPU worker ran first runs')
    assert.ok((ranBy.get(cpu.peerId) ?? 0) > 0, 'the CPU worker ran first runs')
    assert.equal(client.reputation.isBanned(gpu.peerId), false)
    assert.equal(client.reputation.isBanned(cpu.peerId), false)
  })

  it('a worker faking results on WebGPU is still caught: outvoted by CPU workers, a fraud proof names it', async (t) => {
    if (!needsAdapter(t)) {
      return
    }
    const net = await network(t, [{ device: 'webgpu', cheat: true }, { device: 'cpu' }, { device: 'cpu' }])
    const cheater = net.workers[0] as Peer
    const client = await createClient({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: net.bootstrap })
    peers.push(client)
    const accused: string[] = []
    client.addEventListener('fraud', (e) => accused.push(e.detail.accused))
    const job = await client.submitBatch({
      model: modelPath,
      inputs: inputs().slice(0, 60),
      verification: CHECK_EVERYTHING,
      minWorkers: 3,
      itemsPerTask: 1
    })
    const summary = await within('the job to finish', job.finished, 240_000)
    assert.ok(summary.fraudProofs >= 1, JSON.stringify(summary))
    assert.ok(accused.length >= 1)
    assert.ok(
      accused.every((a) => a === cheater.peerId),
      'only the cheater is accused'
    )
    for await (const r of job.results()) {
      assert.notEqual(r.verification.worker, cheater.peerId, `task ${r.index} kept the cheater's result`)
    }
  })
})
