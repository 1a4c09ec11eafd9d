/**
 * Capacity benchmark: items/s per model at a few batch sizes, through the backend's public API —
 * the numbers a capacity record advertises (protocol §3.2).
 */

import type { InferenceBackend } from '@openbatch/inference'
import type { ModelCapacity, Tensor } from '@openbatch/protocol'
import { parseModelCid } from '@openbatch/protocol'

export interface CapacityPoint {
  batchSize: number
  itemsPerSecond: number
  /** Mean wall time of one batch, ms. */
  latencyMs: number
}

export interface CapacityReport {
  model: string
  points: CapacityPoint[]
  /** Best measured throughput. */
  itemsPerSecond: number
  /** Rows per onnxruntime call that reached it (the capacity record's `max_batch`, §4.2). */
  batchRows: number
}

export interface CapacityOptions {
  /** @default [1, 8, 32] */
  batchSizes?: number[]
  /** Measure each batch size for at least this long. @default 1000 */
  minDurationMs?: number
  signal?: AbortSignal
}

/**
 * Submits `batchSize` single-item tasks at once (the backend merges them), repeatedly, for each
 * batch size in increasing order; `makeTask(i)` returns the inputs of task i. The search ends at a
 * batch size that fails (a device that cannot hold it: the sizes measured before stand) or whose
 * items/s falls below 90 % of the best so far (past the knee).
 */
export async function measureCapacity(
  backend: InferenceBackend,
  model: string,
  makeTask: (i: number) => Tensor[],
  options: CapacityOptions = {}
): Promise<CapacityReport> {
  const batchSizes = options.batchSizes ?? [1, 8, 32]
  const minDurationMs = options.minDurationMs ?? 1000
  const points: CapacityPoint[] = []
  let i = 0
  for (const batchSize of batchSizes) {
    const round = () => Promise.all(Array.from({ length: batchSize }, () => backend.run(model, makeTask(i++), { signal: options.signal })))
    let point: CapacityPoint
    try {
      await round() // warm-up: session load, allocator growth
      let rounds = 0
      const started = performance.now()
      while (performance.now() - started < minDurationMs) {
        await round()
        rounds++
      }
      const ms = performance.now() - started
      point = { batchSize, itemsPerSecond: (rounds * batchSize * 1000) / ms, latencyMs: ms / rounds }
    } catch (err) {
      if (points.length === 0 || options.signal?.aborted === true) {
        throw err
      }
      break
    }
    points.push(point)
    if (point.itemsPerSecond < 0.9 * Math.max(...points.map((p) => p.itemsPerSecond))) {
      break
    }
  }
  const best = points.reduce((a, b) => (b.itemsPerSecond > a.itemsPerSecond ? b : a))
  return { model, points, itemsPerSecond: best.itemsPerSecond, batchRows: best.batchSize }
}

/** The capacity-record entry for a measured model. */
export function toModelCapacity(report: CapacityReport, pricePerItem = 0n): ModelCapacity {
  return {
    model: parseModelCid(report.model).bytes as Uint8Array<ArrayBuffer>,
    itemsPerSecond: report.itemsPerSecond,
    maxBatch: report.batchRows,
    pricePerItem
  }
}
