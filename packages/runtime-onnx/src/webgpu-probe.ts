/**
 * Child-process entry: asks Dawn (the WebGPU implementation onnxruntime's WebGPU provider is built
 * on, here through the `webgpu` package's dawn.node) for the adapter onnxruntime would take — the
 * high-performance one — and prints what it is as one JSON line. It runs in a process of its own
 * so that a broken GPU driver that hangs or crashes while being probed cannot take the peer down.
 */

import type { WebGpuAdapter } from './device.js'

async function probe(): Promise<WebGpuAdapter | null> {
  const { create } = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU }
  const gpu = create([])
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (adapter == null) {
    return null
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    fallback: info.isFallbackAdapter === true,
    maxBufferBytes: adapter.limits.maxBufferSize
  }
}

probe().then(
  (adapter) => {
    process.stdout.write(`${JSON.stringify({ adapter })}\n`)
    process.exit(0)
  },
  (err: Error) => {
    process.stdout.write(`${JSON.stringify({ error: err.message.split('\n')[0] })}\n`)
    process.exit(0)
  }
)
