/**
 * What this machine can run on: CPU, RAM, the WebGPU adapter (probed through Dawn in a child
 * process), NVIDIA GPUs (via nvidia-smi when present), the execution provider to use and why,
 * and the `Device` entries a capacity record advertises.
 */

import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuDevice } from '@openbatch/inference'
import type { Device } from '@openbatch/protocol'

export type ExecutionProvider = 'auto' | 'cpu' | 'cuda' | 'webgpu'

export interface GpuInfo {
  name: string
  memoryBytes: number
}

/** The WebGPU adapter Dawn offers (the one onnxruntime's WebGPU provider takes). */
export interface WebGpuAdapter {
  vendor: string
  architecture: string
  device: string
  description: string
  /**
   * A fallback adapter: a CPU emulating a GPU (lavapipe/llvmpipe, SwiftShader). Never chosen by
   * 'auto' and never advertised as a GPU.
   */
  fallback: boolean
  /** The largest buffer the adapter allows, in bytes (WebGPU reports no memory size). */
  maxBufferBytes: number
}

export interface DeviceInfo {
  cpu: { model: string; cores: number }
  memoryBytes: number
  gpus: GpuInfo[]
  /** Why no GPU was found, when none was. */
  gpuProbe: string
  /** The WebGPU adapter, when Dawn found one (hardware or software). */
  webgpu?: WebGpuAdapter
  /** Why there is no WebGPU adapter, when there is none ('ok' when there is one). */
  webgpuProbe?: string
}

export interface ProviderChoice {
  provider: 'cpu' | 'cuda' | 'webgpu'
  /** Device name that goes into execution profiles. */
  device: string
  /** One line: why this provider. */
  reason: string
}

/** Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` (MiB). */
export function parseNvidiaSmi(stdout: string): GpuInfo[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((line) => {
      const at = line.lastIndexOf(',')
      const mib = Number(line.slice(at + 1).trim())
      if (at < 0 || !Number.isFinite(mib)) {
        throw new Error(`unexpected nvidia-smi line: ${line}`)
      }
      return { name: line.slice(0, at).trim(), memoryBytes: mib * 1024 * 1024 }
    })
}

/**
 * Probes the machine; never throws (a missing or failing probe means no such device, with the
 * reason). `gpus: false` skips nvidia-smi and `webgpu: false` Dawn (a worker running a backend of
 * its own needs neither).
 */
export async function detectDevices(
  options: { nvidiaSmi?: string; timeoutMs?: number; webgpu?: boolean; gpus?: boolean } = {}
): Promise<DeviceInfo> {
  const [nvidia, webgpu] = await Promise.all([
    options.gpus === false
      ? { gpus: [], gpuProbe: 'GPU probe skipped' }
      : probeNvidia(options.nvidiaSmi ?? 'nvidia-smi', options.timeoutMs ?? 5000),
    options.webgpu === false
      ? { adapter: undefined, probe: 'WebGPU probe skipped' }
      : probeWebGpu({ timeoutMs: options.timeoutMs ?? 10_000 })
  ])
  return {
    cpu: { model: cpus()[0]?.model.trim() ?? 'unknown CPU', cores: availableParallelism() },
    memoryBytes: totalmem(),
    ...nvidia,
    ...(webgpu.adapter != null ? { webgpu: webgpu.adapter } : {}),
    webgpuProbe: webgpu.probe
  }
}

function probeNvidia(cmd: string, timeoutMs: number): Promise<{ gpus: GpuInfo[]; gpuProbe: string }> {
  return new Promise((resolve) => {
    execFile(cmd, ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], { timeout: timeoutMs }, (err, stdout) => {
      if (err != null) {
        const why =
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${cmd} not found (no NVIDIA driver)`
            : `${cmd} failed: ${err.message.split('\n')[0]}`
        resolve({ gpus: [], gpuProbe: why })
        return
      }
      try {
        const gpus = parseNvidiaSmi(stdout)
        resolve({ gpus, gpuProbe: gpus.length === 0 ? `${cmd} lists no GPU` : 'ok' })
      } catch (e) {
        resolve({ gpus: [], gpuProbe: (e as Error).message })
      }
    })
  })
}

/**
 * Asks Dawn for the high-performance WebGPU adapter, in a child process (`webgpu-probe.js`) so a
 * driver that hangs or crashes cannot take this process with it. Never throws.
 */
export function probeWebGpu(options: { timeoutMs?: number; script?: string } = {}): Promise<{ adapter?: WebGpuAdapter; probe: string }> {
  const script = options.script ?? fileURLToPath(new URL('./webgpu-probe.js', import.meta.url))
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script],
      // Mesa's Vulkan drivers warn on stderr when XDG_RUNTIME_DIR is unset; it is not needed here.
      { timeout: options.timeoutMs ?? 10_000, env: { XDG_RUNTIME_DIR: '/tmp', ...process.env } },
      (err, stdout) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'))
        if (line == null) {
          const why = err == null ? 'no answer' : err.killed ? 'timed out' : (err.message.split('\n')[0] ?? '')
          resolve({ probe: `WebGPU probe failed: ${why}` })
          return
        }
        try {
          resolve(parseWebGpuProbe(line))
        } catch (e) {
          resolve({ probe: `WebGPU probe failed: ${(e as Error).message}` })
        }
      }
    )
  })
}

/** Parses the probe's JSON line. */
export function parseWebGpuProbe(line: string): { adapter?: WebGpuAdapter; probe: string } {
  const reply = JSON.parse(line) as { adapter?: WebGpuAdapter | null; error?: string }
  if (reply.error != null) {
    return { probe: `no WebGPU adapter: ${reply.error}` }
  }
  const a = reply.adapter
  if (a == null) {
    return { probe: 'no WebGPU adapter (no Vulkan, Metal or D3D12 driver offers one)' }
  }
  for (const key of ['vendor', 'architecture', 'device', 'description'] as const) {
    if (typeof a[key] !== 'string') {
      throw new Error(`unexpected WebGPU probe reply: ${line.slice(0, 200)}`)
    }
  }
  return { adapter: { ...a, fallback: a.fallback || isSoftwareAdapter(a) }, probe: 'ok' }
}

/** A CPU emulating a GPU: Dawn's fallback flag, or a known software rasteriser's name. */
export function isSoftwareAdapter(a: Pick<WebGpuAdapter, 'architecture' | 'device' | 'description' | 'fallback'>): boolean {
  return a.fallback || a.architecture === 'software' || /llvmpipe|lavapipe|swiftshader|softpipe|warp/i.test(`${a.device} ${a.description}`)
}

/** How reasons and capacity records name an adapter: "description [vendor/architecture/device]", without empty or repeated parts. */
export function adapterName(a: WebGpuAdapter): string {
  const head = a.description.trim() !== '' ? a.description.trim() : a.device.trim()
  const tags = [a.vendor, a.architecture, a.device]
    .map((t) => t.trim())
    .filter((t) => t !== '' && !head.toLowerCase().includes(t.toLowerCase()))
  return (tags.length > 0 ? `${head} [${tags.join('/')}]` : head).slice(0, 256)
}

/** Path of onnxruntime's CUDA provider library, when the package has it (its install script fetches it). */
export function cudaProviderLibrary(): string | undefined {
  try {
    const root = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', '..')
    const bin = join(root, 'bin')
    for (const napi of readdirSync(bin)) {
      const lib = join(bin, napi, process.platform, process.arch, 'libonnxruntime_providers_cuda.so')
      if (existsSync(lib)) {
        return lib
      }
    }
  } catch {
    // no bin directory: no CUDA provider
  }
  return undefined
}

/**
 * The execution provider and why, in one line. 'auto': WebGPU on a hardware adapter; else CUDA
 * when an NVIDIA GPU and the CUDA provider library are present; else CPU. A software adapter is
 * used only when 'webgpu' is asked for by name (tests, benchmarks). A provider asked for by name
 * that is not available falls back to CPU, with the reason.
 */
export function chooseProvider(requested: ExecutionProvider, devices: DeviceInfo, cudaLibrary = cudaProviderLibrary()): ProviderChoice {
  const cpu: Omit<ProviderChoice, 'reason'> = { provider: 'cpu', device: devices.cpu.model }
  if (requested === 'cpu') {
    return { ...cpu, reason: 'CPU requested' }
  }
  const adapter = devices.webgpu
  if (requested === 'webgpu') {
    if (adapter == null) {
      return { ...cpu, reason: `WebGPU requested, but ${devices.webgpuProbe ?? 'no WebGPU adapter'}; using CPU` }
    }
    const kind = adapter.fallback ? 'software WebGPU adapter' : 'WebGPU adapter'
    return { provider: 'webgpu', device: adapterName(adapter), reason: `WebGPU requested: ${kind} ${adapterName(adapter)}` }
  }
  if (requested === 'auto' && adapter != null && !adapter.fallback) {
    return { provider: 'webgpu', device: adapterName(adapter), reason: `WebGPU on ${adapterName(adapter)}` }
  }
  const noWebGpu =
    requested !== 'auto'
      ? ''
      : adapter != null
        ? `the only WebGPU adapter is a software one (${adapterName(adapter)}); `
        : `${devices.webgpuProbe ?? 'no WebGPU adapter'}; `
  const gpu = devices.gpus[0]
  if (gpu == null) {
    return { ...cpu, reason: `${noWebGpu}no NVIDIA GPU: ${devices.gpuProbe}; using CPU` }
  }
  if (cudaLibrary == null) {
    return {
      ...cpu,
      reason: `${noWebGpu}${gpu.name} found, but onnxruntime-node's CUDA provider libraries are not installed (its install script was skipped); using CPU`
    }
  }
  return { provider: 'cuda', device: gpu.name, reason: `${gpu.name} with onnxruntime CUDA provider` }
}

/** The `Device` entries of a capacity record (protocol §3.2). */
export function capacityDevices(devices: DeviceInfo, provider?: ProviderChoice): Device[] {
  const list: Device[] = [cpuDevice(devices.cpu.model, devices.cpu.cores, devices.memoryBytes)]
  const adapter = devices.webgpu
  // A software adapter is a CPU, already listed: it is never advertised as a GPU.
  if (adapter != null && !adapter.fallback) {
    // WebGPU reports no memory size; nvidia-smi does for an NVIDIA adapter.
    const nvidia = /nvidia/i.test(adapter.vendor) ? devices.gpus[0] : undefined
    list.push({ kind: 'webgpu', name: adapterName(adapter), memoryBytes: BigInt(nvidia?.memoryBytes ?? 0) })
  }
  if (provider?.provider === 'cuda' || adapter == null || adapter.fallback) {
    list.push(...devices.gpus.map((g) => ({ kind: 'cuda', name: g.name, memoryBytes: BigInt(g.memoryBytes) })))
  }
  return list
}
