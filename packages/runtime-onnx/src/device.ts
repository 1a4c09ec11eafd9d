/**
 * What this machine can run on: CPU, RAM and NVIDIA GPUs (via nvidia-smi when present), the
 * execution provider to use and why, and the `Device` entries a capacity record advertises.
 */

import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import type { Device } from '@openbatch/protocol'

export type ExecutionProvider = 'auto' | 'cpu' | 'cuda'

export interface GpuInfo {
  name: string
  memoryBytes: number
}

export interface DeviceInfo {
  cpu: { model: string; cores: number }
  memoryBytes: number
  gpus: GpuInfo[]
  /** Why no GPU was found, when none was. */
  gpuProbe: string
}

export interface ProviderChoice {
  provider: 'cpu' | 'cuda'
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

/** Probes the machine; never throws (a missing or failing nvidia-smi means no GPU, with the reason). */
export async function detectDevices(options: { nvidiaSmi?: string; timeoutMs?: number } = {}): Promise<DeviceInfo> {
  const base = {
    cpu: { model: cpus()[0]?.model.trim() ?? 'unknown CPU', cores: availableParallelism() },
    memoryBytes: totalmem()
  }
  const cmd = options.nvidiaSmi ?? 'nvidia-smi'
  return new Promise((resolve) => {
    execFile(
      cmd,
      ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'],
      { timeout: options.timeoutMs ?? 5000 },
      (err, stdout) => {
        if (err != null) {
          const why =
            (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? `${cmd} not found (no NVIDIA driver)`
              : `${cmd} failed: ${err.message.split('\n')[0]}`
          resolve({ ...base, gpus: [], gpuProbe: why })
          return
        }
        try {
          const gpus = parseNvidiaSmi(stdout)
          resolve({ ...base, gpus, gpuProbe: gpus.length === 0 ? `${cmd} lists no GPU` : 'ok' })
        } catch (e) {
          resolve({ ...base, gpus: [], gpuProbe: (e as Error).message })
        }
      }
    )
  })
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

/** CUDA when asked for (or 'auto') and both a GPU and the provider library are present; else CPU with the reason. */
export function chooseProvider(requested: ExecutionProvider, devices: DeviceInfo, cudaLibrary = cudaProviderLibrary()): ProviderChoice {
  const cpu: Omit<ProviderChoice, 'reason'> = { provider: 'cpu', device: devices.cpu.model }
  if (requested === 'cpu') {
    return { ...cpu, reason: 'CPU requested' }
  }
  const gpu = devices.gpus[0]
  if (gpu == null) {
    return { ...cpu, reason: `no NVIDIA GPU: ${devices.gpuProbe}; using CPU` }
  }
  if (cudaLibrary == null) {
    return {
      ...cpu,
      reason: `${gpu.name} found, but onnxruntime-node's CUDA provider libraries are not installed (its install script was skipped); using CPU`
    }
  }
  return { provider: 'cuda', device: gpu.name, reason: `${gpu.name} with onnxruntime CUDA provider` }
}

/** The `Device` entries of a capacity record (protocol §3.2). */
export function capacityDevices(devices: DeviceInfo): Device[] {
  return [
    { kind: 'cpu', name: `${devices.cpu.model} (${devices.cpu.cores} cores)`, memoryBytes: BigInt(devices.memoryBytes) },
    ...devices.gpus.map((g) => ({ kind: 'cuda', name: g.name, memoryBytes: BigInt(g.memoryBytes) }))
  ]
}
