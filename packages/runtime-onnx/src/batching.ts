/**
 * How the ONNX backend batches (spec-free, engine-free): queued tasks, the merge of tasks with the
 * same non-batch dims along the first dimension, the split of a task's rows across idle threads,
 * and the outputs cut back per task. `engine.ts` keeps the lifecycle (threads, sessions, devices)
 * and the scheduling loop; the arithmetic of rows lives here.
 */

import type { ModelInfo, RunResult } from '@openbatch/inference'
import type { Tensor } from '@openbatch/protocol'
import { type BufferPool, concatToBuffer, fromWire, ORT_TYPES, toWire, type WireTensor } from './convert.js'

/** A task waiting for an inference thread. */
export interface Pending {
  /** The model's description (resolved before the task was queued). */
  info: ModelInfo
  inputs: Tensor[]
  rows: number
  /**
   * Tasks with the same merge key can be merged along the batch dimension: the same non-batch dims
   * for every input. None: the task runs alone (its model is not batchable, or its outputs did not
   * follow its rows).
   */
  key?: string
  seq: number
  resolve: (r: RunResult) => void
  reject: (e: Error) => void
  signal?: AbortSignal
  onAbort?: () => void
  settled: boolean
  /** For a part of a task split across idle threads: the task. */
  parent?: Pending
}

/** The oldest task and every later one with the same key, up to `maxRows` rows (at least one task). */
export function takeGroup(queue: Pending[], maxRows: number): Pending[] {
  const first = queue.shift() as Pending
  const group = [first]
  if (first.key === undefined) {
    return group
  }
  let rows = first.rows
  for (let i = 0; i < queue.length && rows < maxRows; ) {
    const p = queue[i] as Pending
    if (p.key === first.key && rows + p.rows <= maxRows) {
      group.push(p)
      rows += p.rows
      queue.splice(i, 1)
    } else {
      i++
    }
  }
  return group
}

/** Rows [from, to) of a tensor whose first dimension is `rows`: a view of the same bytes. */
export function sliceRows(t: Tensor, rows: number, from: number, to: number): Tensor {
  const rowBytes = t.data.byteLength / rows
  return { ...t, dims: [BigInt(to - from), ...t.dims.slice(1)], data: t.data.subarray(from * rowBytes, to * rowBytes) }
}

/**
 * The parts' outputs joined along the first dimension, in order; null when an output's first
 * dimension is not its part's row count (the model's outputs do not follow its rows).
 */
export function joinRows(results: RunResult[], parts: Pending[]): RunResult | null {
  const first = results[0] as RunResult
  const outputs: Tensor[] = []
  for (const [j, out] of first.outputs.entries()) {
    const pieces = results.map((r) => r.outputs[j] as Tensor)
    if (pieces.some((t, i) => t == null || t.name !== out.name || Number(t.dims[0]) !== (parts[i] as Pending).rows)) {
      return null
    }
    const rows = pieces.reduce((n, t) => n + Number(t.dims[0]), 0)
    outputs.push({ ...out, dims: [BigInt(rows), ...out.dims.slice(1)], data: new Uint8Array(concatToBuffer(pieces.map((t) => t.data))) })
  }
  return {
    outputs,
    profile: { ...first.profile, batchSize: Math.max(...results.map((r) => r.profile.batchSize)) },
    durationUs: Math.max(...results.map((r) => r.durationUs))
  }
}

/** Concatenates each input of the group along the first dimension. */
export function mergeInputs(names: string[], group: Pending[], buffers: BufferPool): WireTensor[] {
  if (group.length === 1) {
    return (group[0] as Pending).inputs.map((t) => toWire(t, buffers))
  }
  return names.map((name, i) => {
    const parts = group.map((p) => p.inputs[i] as Tensor)
    const first = parts[0] as Tensor
    const rows = group.reduce((n, p) => n + p.rows, 0)
    return {
      name,
      type: ORT_TYPES[first.dtype] as string,
      dims: [rows, ...first.dims.slice(1).map(Number)],
      buffer: concatToBuffer(
        parts.map((t) => t.data),
        buffers
      )
    }
  })
}

/** Splits merged outputs back per task; null when an output's first dimension is not the row count. */
export function splitOutputs(outputs: WireTensor[], group: Pending[]): Tensor[][] | null {
  if (group.length === 1) {
    return [outputs.map(fromWire)]
  }
  const rows = group.reduce((n, p) => n + p.rows, 0)
  const result: Tensor[][] = group.map(() => [])
  for (const w of outputs) {
    if (w.dims[0] !== rows) {
      return null
    }
    const t = fromWire(w)
    const rowBytes = rows === 0 ? 0 : t.data.byteLength / rows
    let row = 0
    group.forEach((p, i) => {
      const data = t.data.slice(row * rowBytes, (row + p.rows) * rowBytes)
      ;(result[i] as Tensor[]).push({ ...t, dims: [BigInt(p.rows), ...t.dims.slice(1)], data })
      row += p.rows
    })
  }
  return result
}
