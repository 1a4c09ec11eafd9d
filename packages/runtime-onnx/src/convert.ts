/**
 * Conversions between protocol tensors (canonical little-endian bytes, protocol §2.2) and the
 * plain `{ type, dims, data }` form that crosses the worker-thread boundary and feeds
 * onnxruntime. Shared by the main thread and the worker threads; no onnxruntime import.
 */

import { endianness } from 'node:os'
import { DTYPES, type DType, type Tensor } from '@openbatch/protocol'

if (endianness() !== 'LE') {
  // Typed arrays use the platform's byte order; protocol tensors are little-endian.
  throw new Error('@openbatch/runtime-onnx needs a little-endian platform')
}

/** onnxruntime tensor type names by protocol dtype (§2.2's names). */
export const ORT_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(DTYPES).map(([dtype, info]) => [dtype, info.name])
)

const DTYPE_BY_ORT = new Map(Object.entries(ORT_TYPES).map(([d, o]) => [o, d as DType]))

/** The protocol dtype of an onnxruntime type name, or undefined when it has none (e.g. string). */
export function dtypeOfOrt(type: string): DType | undefined {
  return DTYPE_BY_ORT.get(type)
}

/**
 * A tensor as it crosses the worker boundary: its bytes in a transferable ArrayBuffer, or — for
 * inputs the caller keeps in shared memory — a view into a SharedArrayBuffer, which crosses
 * without a copy.
 */
export interface WireTensor {
  name: string
  type: string
  dims: number[]
  buffer: ArrayBuffer | SharedArrayBuffer
  /** Where the bytes start in a shared `buffer`. @default 0 */
  byteOffset?: number
  /** How many bytes, in a shared `buffer`. @default buffer.byteLength */
  byteLength?: number
}

/** The ArrayBuffers among `buffers` (shared ones are neither transferred nor recycled). */
export function transferable(buffers: readonly (ArrayBuffer | SharedArrayBuffer)[]): ArrayBuffer[] {
  return buffers.filter((b): b is ArrayBuffer => !(b instanceof SharedArrayBuffer))
}

/**
 * Transferable buffers for inputs, reused once the worker hands them back, so steady-state
 * batching allocates (and garbage-collects) nothing. New buffers are not zero-filled: every byte
 * is written by the caller.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>()
  private count = 0

  constructor(private readonly limit = 16) {}

  take(size: number): ArrayBuffer {
    const reused = this.free.get(size)?.pop()
    if (reused != null) {
      this.count--
      return reused
    }
    const b = Buffer.allocUnsafeSlow(size)
    return b.buffer.byteLength === size ? (b.buffer as ArrayBuffer) : new ArrayBuffer(size)
  }

  give(buffer: ArrayBuffer): void {
    if (this.count >= this.limit || buffer.byteLength === 0) {
      return
    }
    const list = this.free.get(buffer.byteLength) ?? []
    list.push(buffer)
    this.free.set(buffer.byteLength, list)
    this.count++
  }
}

const defaultPool = new BufferPool(0)

/** Copies `parts` end to end into one transferable buffer. */
export function concatToBuffer(parts: readonly Uint8Array[], buffers: BufferPool = defaultPool): ArrayBuffer {
  const buffer = buffers.take(parts.reduce((n, p) => n + p.byteLength, 0))
  const view = new Uint8Array(buffer)
  let offset = 0
  for (const p of parts) {
    view.set(p, offset)
    offset += p.byteLength
  }
  return buffer
}

/**
 * A tensor for the worker boundary. Bytes in a SharedArrayBuffer, aligned for the element type,
 * are shared as they are (no copy); any other bytes are copied into a transferable buffer, as the
 * caller keeps its own.
 */
export function toWire(t: Tensor, buffers?: BufferPool): WireTensor {
  const type = ORT_TYPES[t.dtype] as string
  const dims = t.dims.map(Number)
  const { buffer, byteOffset, byteLength } = t.data
  if (buffer instanceof SharedArrayBuffer && byteOffset % elementBytes(type) === 0) {
    return { name: t.name, type, dims, buffer, byteOffset, byteLength }
  }
  return { name: t.name, type, dims, buffer: concatToBuffer([t.data], buffers) }
}

const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  float64: 8,
  int64: 8,
  uint64: 8,
  float32: 4,
  int32: 4,
  uint32: 4,
  float16: 2,
  int16: 2,
  uint16: 2
}

/** Bytes per element of an onnxruntime type (1 for uint8, int8 and bool). */
export function elementBytes(type: string): number {
  return ELEMENT_BYTES[type] ?? 1
}

export function fromWire(w: WireTensor): Tensor {
  const dtype = dtypeOfOrt(w.type)
  if (dtype == null) {
    throw new TypeError(`output "${w.name}" has type ${w.type}, which openbatch tensors cannot carry`)
  }
  // Outputs always come back in plain ArrayBuffers of their own.
  return { name: w.name, dtype, dims: w.dims.map(BigInt), data: new Uint8Array(w.buffer as ArrayBuffer) }
}

/** A typed array over a wire tensor's bytes suitable for `new ort.Tensor(type, data, dims)`. */
export function typedArrayFor(w: WireTensor): ArrayBufferView {
  const { type, buffer } = w
  const offset = w.byteOffset ?? 0
  const n = (w.byteLength ?? buffer.byteLength - offset) / elementBytes(type)
  switch (type) {
    case 'float32':
      return new Float32Array(buffer, offset, n)
    case 'float64':
      return new Float64Array(buffer, offset, n)
    case 'int8':
      return new Int8Array(buffer, offset, n)
    case 'uint16':
    case 'float16':
      return new Uint16Array(buffer, offset, n)
    case 'int16':
      return new Int16Array(buffer, offset, n)
    case 'int32':
      return new Int32Array(buffer, offset, n)
    case 'uint32':
      return new Uint32Array(buffer, offset, n)
    case 'int64':
      return new BigInt64Array(buffer, offset, n)
    case 'uint64':
      return new BigUint64Array(buffer, offset, n)
    default:
      return new Uint8Array(buffer, offset, n) // uint8, bool
  }
}
