/** Messages between the pool (main thread) and its worker threads. */

import type { WireTensor } from './convert.js'

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all'

export interface WorkerInit {
  intraOpThreads: number
  graphOptimizationLevel: GraphOptimizationLevel
  /** Names, or a CUDA provider object with its memory limit. */
  executionProviders: (string | { name: 'cuda'; gpuMemLimit?: number })[]
  /**
   * On WebGPU: where a new session's first run writes onnxruntime's profile, read to tell which
   * nodes onnxruntime placed on the CPU (WebGPU lacks their kernels); the file is removed after.
   */
  placementProfileDir?: string
  sessionBudgetBytes: number
  sessionCostFactor: number
  allowSpinning: boolean
}

export interface ValueMeta {
  name: string
  type: string
  shape: Array<number | string>
}

export type WorkerRequest =
  | { op: 'describe'; id: number; model: string; bytes?: ArrayBuffer }
  | { op: 'run'; id: number; model: string; bytes?: ArrayBuffer; feeds: WireTensor[] }
  | { op: 'crash'; id: number }
  /** Test hook: the next run fails as a lost WebGPU device makes it fail. */
  | { op: 'lose-device'; id: number }
  /** Skip what is queued, let the run in progress end, release the sessions and exit. */
  | { op: 'stop'; id: number }

/** Nodes of a model that onnxruntime placed on the CPU provider instead of the one asked for. */
export interface CpuPlacement {
  model: string
  /** Node count by operator type. */
  ops: Record<string, number>
}

type Common = { id: number; loaded: string[]; placements?: CpuPlacement[] }

export type WorkerReply =
  | (Common & { ok: true; meta: { inputs: ValueMeta[]; outputs: ValueMeta[] } })
  | (Common & { ok: true; outputs: WireTensor[]; durationUs: number; recycled: ArrayBuffer[] })
  | (Common & { ok: false; error: { name: string; message: string } })
