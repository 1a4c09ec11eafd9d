import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { capacityDevices, chooseProvider, type DeviceInfo, detectDevices, parseNvidiaSmi } from '../src/index.js'

const cpuOnly: DeviceInfo = {
  cpu: { model: 'Test CPU', cores: 2 },
  memoryBytes: 8 * 2 ** 30,
  gpus: [],
  gpuProbe: 'nvidia-smi not found (no NVIDIA driver)'
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
})
