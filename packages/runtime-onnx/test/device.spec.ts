import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  capacityDevices,
  chooseProvider,
  type DeviceInfo,
  detectDevices,
  isSoftwareAdapter,
  parseNvidiaSmi,
  parseWebGpuProbe,
  probeWebGpu,
  type WebGpuAdapter
} from '../src/index.js'
import { tempDir } from './fixtures.js'

const cpuOnly: DeviceInfo = {
  cpu: { model: 'Test CPU', cores: 2 },
  memoryBytes: 8 * 2 ** 30,
  gpus: [],
  gpuProbe: 'nvidia-smi not found (no NVIDIA driver)'
}
const rtx: WebGpuAdapter = {
  vendor: 'nvidia',
  architecture: 'ampere',
  device: '',
  description: 'NVIDIA GeForce RTX 3060',
  fallback: false,
  maxBufferBytes: 2 ** 32
}
const lavapipe: WebGpuAdapter = {
  vendor: 'mesa',
  architecture: 'software',
  device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
  fallback: true,
  maxBufferBytes: 2 ** 32
}
const withGpu: DeviceInfo = { ...cpuOnly, gpus: [{ name: 'NVIDIA GeForce RTX 3060', memoryBytes: 12288 * 2 ** 20 }], gpuProbe: 'ok' }

describe('devices and execution providers', () => {
  it('parses nvidia-smi CSV output', () => {
    assert.deepEqual(parseNvidiaSmi('NVIDIA GeForce RTX 3060, 12288\nNVIDIA H100 80GB HBM3, 81559\n'), [
      { name: 'NVIDIA GeForce RTX 3060', memoryBytes: 12288 * 2 ** 20 },
      { name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 2 ** 20 }
    ])
    assert.throws(() => parseNvidiaSmi('garbage'), /unexpected nvidia-smi line/)
  })

  it('reports no GPU with the reason when nvidia-smi is missing', async () => {
    const d = await detectDevices({ nvidiaSmi: '/nonexistent/nvidia-smi' })
    assert.deepEqual(d.gpus, [])
    assert.match(d.gpuProbe, /not found/)
    assert.ok(d.cpu.cores >= 1)
    assert.ok(d.memoryBytes > 0)
  })

  it('probes nothing when asked not to (a worker with a backend of its own), and still knows the CPU', async () => {
    const d = await detectDevices({ gpus: false, webgpu: false, nvidiaSmi: '/bin/false' })
    assert.deepEqual(d.gpus, [])
    assert.equal(d.gpuProbe, 'GPU probe skipped')
    assert.equal(d.webgpuProbe, 'WebGPU probe skipped')
    assert.equal(d.webgpu, undefined)
    assert.ok(d.cpu.cores >= 1)
  })

  it('chooses CUDA only with a GPU and the provider library, else CPU with a one-line reason', () => {
    assert.equal(chooseProvider('auto', withGpu, '/lib/libonnxruntime_providers_cuda.so').provider, 'cuda')
    const noLib = chooseProvider('auto', withGpu, undefined)
    assert.equal(noLib.provider, 'cpu')
    assert.match(noLib.reason, /CUDA provider libraries are not installed/)
    assert.equal(chooseProvider('cuda', cpuOnly, '/lib/x.so').provider, 'cpu')
    assert.match(chooseProvider('auto', cpuOnly).reason, /no NVIDIA GPU/)
    assert.equal(chooseProvider('cpu', withGpu, '/lib/x.so').reason, 'CPU requested')
    for (const c of [noLib, chooseProvider('auto', cpuOnly)]) {
      assert.ok(!c.reason.includes('\n'))
    }
  })

  it('describes devices for a capacity record', () => {
    const devices = capacityDevices(withGpu)
    assert.deepEqual(
      devices.map((d) => d.kind),
      ['cpu', 'cuda']
    )
    assert.equal(devices[1]?.memoryBytes, 12288n * 2n ** 20n)
  })

  it('auto takes WebGPU on a hardware adapter, never on a software one, and names the adapter', () => {
    const hw: DeviceInfo = { ...cpuOnly, webgpu: rtx, webgpuProbe: 'ok' }
    const auto = chooseProvider('auto', hw, undefined)
    assert.equal(auto.provider, 'webgpu')
    assert.equal(auto.device, 'NVIDIA GeForce RTX 3060 [ampere]')
    assert.equal(auto.reason, 'WebGPU on NVIDIA GeForce RTX 3060 [ampere]')
    // WebGPU comes before CUDA: it needs no extra download and runs on every vendor's GPU.
    assert.equal(chooseProvider('auto', { ...withGpu, webgpu: rtx }, '/lib/x.so').provider, 'webgpu')
    assert.equal(chooseProvider('cuda', { ...withGpu, webgpu: rtx }, '/lib/x.so').provider, 'cuda')

    const soft: DeviceInfo = { ...cpuOnly, webgpu: lavapipe, webgpuProbe: 'ok' }
    const notAuto = chooseProvider('auto', soft, undefined)
    assert.equal(notAuto.provider, 'cpu')
    assert.match(notAuto.reason, /^the only WebGPU adapter is a software one \(llvmpipe: Mesa .*\); no NVIDIA GPU: .*; using CPU$/)
    const named = chooseProvider('webgpu', soft, undefined)
    assert.equal(named.provider, 'webgpu')
    assert.match(named.reason, /^WebGPU requested: software WebGPU adapter llvmpipe/)

    const none = chooseProvider('webgpu', { ...cpuOnly, webgpuProbe: 'no WebGPU adapter (no Vulkan, Metal or D3D12 driver offers one)' })
    assert.equal(none.provider, 'cpu')
    assert.equal(none.reason, 'WebGPU requested, but no WebGPU adapter (no Vulkan, Metal or D3D12 driver offers one); using CPU')
    for (const c of [auto, notAuto, named, none]) {
      assert.ok(!c.reason.includes('\n'))
    }
  })

  it('advertises a hardware adapter as a webgpu device (memory from nvidia-smi when it is NVIDIA), never a software one', () => {
    const hw = capacityDevices({ ...withGpu, webgpu: rtx, webgpuProbe: 'ok' })
    assert.deepEqual(
      hw.map((d) => [d.kind, d.name, d.memoryBytes]),
      [
        ['cpu', 'Test CPU (2 cores)', 8n * 2n ** 30n],
        ['webgpu', 'NVIDIA GeForce RTX 3060 [ampere]', 12288n * 2n ** 20n]
      ]
    )
    const amd = capacityDevices({
      ...cpuOnly,
      webgpu: { ...rtx, vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7600' }
    })
    assert.deepEqual(amd[1], { kind: 'webgpu', name: 'AMD Radeon RX 7600 [rdna-3]', memoryBytes: 0n })
    assert.deepEqual(
      capacityDevices({ ...cpuOnly, webgpu: lavapipe }).map((d) => d.kind),
      ['cpu']
    )
  })

  it('parses the WebGPU probe and recognises software adapters by flag or by name', () => {
    assert.deepEqual(parseWebGpuProbe(JSON.stringify({ adapter: rtx })), { adapter: rtx, probe: 'ok' })
    assert.equal(parseWebGpuProbe(JSON.stringify({ adapter: { ...lavapipe, fallback: false } })).adapter?.fallback, true)
    assert.equal(isSoftwareAdapter({ ...rtx, description: 'SwiftShader Device (Subzero)' }), true)
    assert.equal(isSoftwareAdapter(rtx), false)
    assert.match(parseWebGpuProbe('{"adapter":null}').probe, /^no WebGPU adapter/)
    assert.equal(parseWebGpuProbe('{"error":"Failed to create instance"}').probe, 'no WebGPU adapter: Failed to create instance')
    assert.throws(() => parseWebGpuProbe('{"adapter":{"vendor":1}}'), /unexpected WebGPU probe reply/)
  })

  it('a probe that crashes or hangs means no WebGPU adapter, with the reason, and never takes this process down', async () => {
    const dir = await tempDir()
    const crash = join(dir, 'crash.mjs')
    await writeFile(crash, "process.kill(process.pid, 'SIGSEGV')\n")
    const hang = join(dir, 'hang.mjs')
    await writeFile(hang, 'setInterval(() => {}, 1000)\n')
    const crashed = await probeWebGpu({ script: crash })
    assert.equal(crashed.adapter, undefined)
    assert.match(crashed.probe, /^WebGPU probe failed: /)
    const hung = await probeWebGpu({ script: hang, timeoutMs: 300 })
    assert.equal(hung.probe, 'WebGPU probe failed: timed out')
  })

  it('the real probe answers with an adapter or a reason', async () => {
    const d = await detectDevices({ nvidiaSmi: '/nonexistent' })
    assert.ok(d.webgpu != null ? d.webgpuProbe === 'ok' : (d.webgpuProbe ?? '').length > 0)
  })
})
