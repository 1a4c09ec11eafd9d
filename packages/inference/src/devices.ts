import { cpus, totalmem } from 'node:os'
import type { Device } from '@openbatch/protocol'

/** A CPU as a capacity record lists it (§3.2): its model and cores, and the host's memory. */
export function cpuDevice(model: string, cores: number, memoryBytes: number): Device {
  return { kind: 'cpu', name: `${model} (${cores} cores)`, memoryBytes: BigInt(memoryBytes) }
}

/** This host's CPU, for a worker whose backend does not detect devices itself. */
export function hostCpuDevice(): Device {
  const list = cpus()
  return cpuDevice(list[0]?.model ?? 'cpu', list.length, totalmem())
}
