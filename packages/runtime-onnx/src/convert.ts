/**
 * Conversions between protocol tensors (canonical little-endian bytes, protocol §2.2) and the
 * plain `{ type, dims, data }` form that crosses the worker-thread boundary and feeds
 * onnxruntime. Shared by the main thread and the worker threads; no onnxruntime import.
 */

import { endianness } from 'node:os'
import { DType, type Tensor } from '@openbatch/protocol'

if (endianness() !== 'LE') {
  // Typed arrays use the platform's byte order; protocol tensors are little-endian.
  throw new Error('@openbatch/runtime-onnx needs a little-endian platform')
}

/** onnxruntime tensor type names by protocol dtype. */
export const ORT_TYPES: Readonly<Record<string, string>> = {
  [DType.FLOAT32]: 'float32',
  [DType.UINT8]: 'uint8',
  [DType.INT8]: 'int8',
  [DType.UINT16]: 'uint16',
  [DType.INT16]: 'int16',
  [DType.INT32]: 'int32',
  [DType.INT64]: 'int64',
  [DType.BOOL]: 'bool',
  [DType.FLOAT16]: 'float16',
  [DType.FLOAT64]: 'float64',
  [DType.UINT32]: 'uint32',
  [DType.UINT64]: 'uint64'
}

const DTYPE_BY_ORT = new Map(Object.entries(ORT_TYPES).map(([d, o]) => [o, d as DType]))

/** The protocol dtype of an onnxruntime type name, or undefined when it has none (e.g. string). */
export function dtypeOfOrt(type: string): DType | undefined {
  return DTYPE_BY_ORT.get(type)
}

/** A tensor as it crosses the worker boundary: its bytes in a transferable ArrayBuffer. */
export interface WireTensor {
  name: string
  type: string
  dims: number[]
  buffer: ArrayBuffer
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

export function toWire(t: Tensor, buffers?: BufferPool): WireTensor {
  return { name: t.name, type: ORT_TYPES[t.dtype] as string, dims: t.dims.map(Number), buffer: concatToBuffer([t.data], buffers) }
}

export function fromWire(w: WireTensor): Tensor {
  const dtype = dtypeOfOrt(w.type)
  if (dtype == null) {
    throw new TypeError(`output "${w.name}" has type ${w.type}, which openbatch tensors cannot carry`)
  }
  return { name: w.name, dtype, dims: w.dims.map(BigInt), data: new Uint8Array(w.buffer) }
}

/** A typed array over `buffer` suitable for `new ort.Tensor(type, data, dims)`. */
export function typedArrayFor(type: string, buffer: ArrayBuffer): ArrayBufferView {
  switch (type) {
    case 'float32':
      return new Float32Array(buffer)
    case 'float64':
      return new Float64Array(buffer)
    case 'int8':
      return new Int8Array(buffer)
    case 'uint16':
    case 'float16':
      return new Uint16Array(buffer)
    case 'int16':
      return new Int16Array(buffer)
    case 'int32':
      return new Int32Array(buffer)
    case 'uint32':
      return new Uint32Array(buffer)
    case 'int64':
      return new BigInt64Array(buffer)
    case 'uint64':
      return new BigUint64Array(buffer)
    default:
      return new Uint8Array(buffer) // uint8, bool
  }
}
