/** Messages between the pool (main thread) and its worker threads. */

import type { WireTensor } from './convert.js'

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all'

export interface WorkerInit {
  intraOpThreads: number
  graphOptimizationLevel: GraphOptimizationLevel
  /** Names, or a CUDA provider object with its memory limit. */
  executionProviders: (string | { name: 'cuda'; gpuMemLimit?: number })[]
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
  /** Skip what is queued, let the run in progress end, release the sessions and exit. */
  | { op: 'stop'; id: number }

export type WorkerReply =
  | { id: number; ok: true; meta: { inputs: ValueMeta[]; outputs: ValueMeta[] }; loaded: string[] }
  | { id: number; ok: true; outputs: WireTensor[]; durationUs: number; loaded: string[]; recycled: ArrayBuffer[] }
  | { id: number; ok: false; error: { name: string; message: string }; loaded: string[] }
