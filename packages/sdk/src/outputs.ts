/**
 * Results people can read: each output tensor as a typed array of its dtype with `number[]` dims
 * (the signed little-endian bytes kept beside it), and small helpers for the common heads of
 * classifiers — softmax, argmax and top-k with labels.
 */

import { type DType, type DTypeName, dtypeInfo, float16ToNumber, type Tensor } from '@openbatch/protocol'

export type { DTypeName }

/** The typed array an output's elements come in. */
export type OutputArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array

/** What every {@link Output} has, whatever its dtype. */
export interface OutputBase {
  name: string
  dims: number[]
  /** The tensor as the worker signed it (§2.2: little-endian bytes, `bigint` dims). */
  tensor: Tensor
}

/**
 * One output of a result. `data` holds the elements in the typed array of `dtype` — checking
 * `dtype` narrows it: a `Float32Array` for float32, `Float64Array` for float64, `BigInt64Array` for
 * int64 and so on; float16 widened to a `Float32Array`, bool a `Uint8Array` of 0/1. {@link rows}
 * reads any dtype as numbers.
 */
export type Output = OutputBase &
  (
    | { dtype: 'float32' | 'float16'; data: Float32Array }
    | { dtype: 'float64'; data: Float64Array }
    | { dtype: 'int8'; data: Int8Array }
    | { dtype: 'uint8' | 'bool'; data: Uint8Array }
    | { dtype: 'int16'; data: Int16Array }
    | { dtype: 'uint16'; data: Uint16Array }
    | { dtype: 'int32'; data: Int32Array }
    | { dtype: 'uint32'; data: Uint32Array }
    | { dtype: 'int64'; data: BigInt64Array }
    | { dtype: 'uint64'; data: BigUint64Array }
  )

type ArrayCtor = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): OutputArray; BYTES_PER_ELEMENT: number }

const ARRAYS: Record<Exclude<DTypeName, 'float16'>, ArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array
}

/** The output's name of `dtype` ('float32', …). */
export function dtypeName(dtype: DType): DTypeName {
  return dtypeInfo(dtype).name
}

/**
 * A signed output tensor as an {@link Output}. The typed array is a view of the tensor's bytes when
 * they are aligned for it, else an aligned copy (bytes out of a message rarely are). The bytes are
 * little-endian (§2.2), as this machine's typed arrays are: the SDK's `tensor()` makes inputs the
 * same way.
 */
export function toOutput(tensor: Tensor): Output {
  const dtype = dtypeName(tensor.dtype)
  const dims = tensor.dims.map(Number)
  const bytes = tensor.data
  let data: OutputArray
  if (dtype === 'float16') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    data = new Float32Array(bytes.byteLength / 2)
    for (let i = 0; i < data.length; i++) {
      data[i] = float16ToNumber(view.getUint16(i * 2, true))
    }
  } else {
    const Ctor = ARRAYS[dtype]
    const size = Ctor.BYTES_PER_ELEMENT
    // A copy into a fresh buffer (not `slice()`: on a Node Buffer that is a view, as unaligned as before).
    const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes)
    data = new Ctor(aligned.buffer, aligned.byteOffset, aligned.byteLength / size)
  }
  return { name: tensor.name, dtype, dims, data, tensor } as Output
}

/** Outputs of a result as a record of {@link Output}s by name. */
export function toOutputs(tensors: readonly Tensor[]): Record<string, Output> {
  return Object.fromEntries(tensors.map((t) => [t.name, toOutput(t)]))
}

/**
 * The output's rows along its last axis, as numbers: `[1, 2]` scores give one row of two, `[4, 10]`
 * four rows of ten, a 1-D output one row, an empty one none. int64/uint64 beyond 2^53 lose precision.
 */
export function rows(output: Output): Float64Array[] {
  const width = output.dims.length === 0 ? 1 : (output.dims[output.dims.length - 1] as number)
  const values = Float64Array.from(output.data as ArrayLike<number | bigint>, Number)
  const out: Float64Array[] = []
  for (let start = 0; start < values.length; start += width) {
    out.push(values.subarray(start, start + width))
  }
  return out
}

/** softmax(values): exp(v − max) normalised to sum 1 (stable for large logits). */
export function softmax(values: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) {
    max = Math.max(max, values[i] as number)
  }
  const out = new Float64Array(values.length)
  let sum = 0
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.exp((values[i] as number) - max)
    sum += out[i] as number
  }
  for (let i = 0; i < out.length; i++) {
    out[i] = (out[i] as number) / sum
  }
  return out
}

/** Index of the largest value (the first one on ties); -1 for an empty array. NaN is never the largest. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (!Number.isNaN(v) && (best < 0 || v > (values[best] as number))) {
      best = i
    }
  }
  return best
}

/** One class of a classifier's output. */
export interface Prediction {
  /** The class's index along the output's last axis. */
  index: number
  /** Its label, when labels were given. */
  label?: string
  /** Its score (a probability when `softmax` was asked for). */
  score: number
}

export interface TopKOptions {
  /** Labels by class index; their count must match the number of classes. */
  labels?: readonly string[]
  /** Turn raw scores (logits) into probabilities first. Default false: the model may already end in a softmax. */
  softmax?: boolean
}

/** The `k` best-scoring classes of one row of scores, best first (ties: lower index first). */
export function topK(values: ArrayLike<number>, k = 5, options: TopKOptions = {}): Prediction[] {
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`k must be a positive integer, got ${k}`)
  }
  if (options.labels != null && options.labels.length !== values.length) {
    throw new RangeError(`${options.labels.length} labels for ${values.length} classes: give one label per class`)
  }
  const scores = options.softmax === true ? softmax(values) : Float64Array.from(values)
  const order = Array.from(scores.keys()).filter((i) => !Number.isNaN(scores[i]))
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b)
  return order.slice(0, k).map((index) => ({
    index,
    ...(options.labels == null ? {} : { label: options.labels[index] }),
    score: scores[index] as number
  }))
}

/**
 * A classifier's output read as labels: per row (see {@link rows}), its `k` best classes.
 *
 * ```ts
 * const [best] = classify(r.outputs.softmax_0, { labels: ['0°', '180°'] })[0]
 * console.log(best.label, best.score)
 * ```
 */
export function classify(output: Output, options: TopKOptions & { k?: number } = {}): Prediction[][] {
  return rows(output).map((row) => topK(row, options.k ?? 1, options))
}
