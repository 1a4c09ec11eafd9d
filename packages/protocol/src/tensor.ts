/**
 * Canonical tensors (spec §2.2): validation, the canonical byte encoding, digests, and numeric
 * views used by the agreement rules.
 */

import { fromString as utf8Encode } from 'uint8arrays/from-string'
import { compareBytes, concatBytes, uvarint } from './bytes.js'
import { MAX_TENSOR_BYTES, MAX_TENSOR_DIM, MAX_TENSOR_NAME_BYTES, MAX_TENSOR_RANK, MAX_TENSORS_PER_SET } from './constants.js'
import { InvalidTensorError, TooLargeError } from './errors.js'
import { sha256Parts } from './hash.js'
import { DType, type Tensor } from './pb/openbatch.js'

export { DType, type Tensor }

/** Element types by name, as ONNX (and onnxruntime) spell them. */
export type DTypeName =
  | 'float32'
  | 'float16'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'

export interface DTypeInfo {
  /** ONNX TensorProto.DataType code, also the protobuf enum value (§2.2). */
  readonly code: number
  /** Bytes per element. */
  readonly size: number
  readonly kind: 'float' | 'int' | 'uint' | 'bool'
  readonly name: DTypeName
}

/** §2.2 table of element types. */
export const DTYPES: Readonly<Record<Exclude<DType, DType.DTYPE_UNSPECIFIED>, DTypeInfo>> = {
  [DType.FLOAT32]: { code: 1, size: 4, kind: 'float', name: 'float32' },
  [DType.UINT8]: { code: 2, size: 1, kind: 'uint', name: 'uint8' },
  [DType.INT8]: { code: 3, size: 1, kind: 'int', name: 'int8' },
  [DType.UINT16]: { code: 4, size: 2, kind: 'uint', name: 'uint16' },
  [DType.INT16]: { code: 5, size: 2, kind: 'int', name: 'int16' },
  [DType.INT32]: { code: 6, size: 4, kind: 'int', name: 'int32' },
  [DType.INT64]: { code: 7, size: 8, kind: 'int', name: 'int64' },
  [DType.BOOL]: { code: 9, size: 1, kind: 'bool', name: 'bool' },
  [DType.FLOAT16]: { code: 10, size: 2, kind: 'float', name: 'float16' },
  [DType.FLOAT64]: { code: 11, size: 8, kind: 'float', name: 'float64' },
  [DType.UINT32]: { code: 12, size: 4, kind: 'uint', name: 'uint32' },
  [DType.UINT64]: { code: 13, size: 8, kind: 'uint', name: 'uint64' }
}

/** Element-type information, or an InvalidTensorError for DTYPE_UNSPECIFIED / unknown values. */
export function dtypeInfo(dtype: DType): DTypeInfo {
  const info = DTYPES[dtype as keyof typeof DTYPES]
  if (info == null) {
    throw new InvalidTensorError(`unsupported dtype ${String(dtype)}`)
  }
  return info
}

/**
 * Number of elements of a shape, or an error when it would exceed what MAX_TENSOR_BYTES allows
 * for the element size. §2.2: every dimension is checked first; a shape with a dimension of 0 holds
 * no elements whatever its other dimensions, so the verdict does not depend on their order.
 */
export function elementCount(dims: readonly bigint[], elementSize = 1): number {
  const maxElements = BigInt(Math.floor(MAX_TENSOR_BYTES / elementSize))
  for (const d of dims) {
    if (d < 0n || d > BigInt(MAX_TENSOR_DIM)) {
      throw new InvalidTensorError(`dimension ${d} is outside 0..${MAX_TENSOR_DIM}`)
    }
  }
  if (dims.includes(0n)) {
    return 0
  }
  let count = 1n
  for (const d of dims) {
    count *= d
    if (count > maxElements) {
      throw new TooLargeError(
        `tensor of shape [${dims.join(',')}] exceeds ${MAX_TENSOR_BYTES} bytes`,
        Number.MAX_SAFE_INTEGER,
        MAX_TENSOR_BYTES
      )
    }
  }
  return Number(count)
}

/** Checks one tensor against §2.2; throws InvalidTensorError / TooLargeError saying what is wrong. */
export function validateTensor(tensor: Tensor): void {
  const label = tensor.name === '' ? 'tensor' : `tensor "${tensor.name}"`
  if (utf8Encode(tensor.name).byteLength > MAX_TENSOR_NAME_BYTES) {
    throw new InvalidTensorError(`${label}: name longer than ${MAX_TENSOR_NAME_BYTES} bytes`)
  }
  let info: DTypeInfo
  try {
    info = dtypeInfo(tensor.dtype)
  } catch {
    throw new InvalidTensorError(`${label}: unsupported dtype ${String(tensor.dtype)}`)
  }
  if (tensor.dims.length > MAX_TENSOR_RANK) {
    throw new InvalidTensorError(`${label}: rank ${tensor.dims.length} exceeds ${MAX_TENSOR_RANK}`)
  }
  if (tensor.data.byteLength > MAX_TENSOR_BYTES) {
    throw new TooLargeError(
      `${label}: ${tensor.data.byteLength} bytes exceeds ${MAX_TENSOR_BYTES}`,
      tensor.data.byteLength,
      MAX_TENSOR_BYTES
    )
  }
  const count = elementCount(tensor.dims, info.size)
  const expected = count * info.size
  if (tensor.data.byteLength !== expected) {
    throw new InvalidTensorError(
      `${label}: ${tensor.dtype} shape [${tensor.dims.join(',')}] needs ${expected} bytes, data has ${tensor.data.byteLength}`
    )
  }
  if (info.kind === 'bool') {
    for (const b of tensor.data) {
      if (b > 1) {
        throw new InvalidTensorError(`${label}: BOOL element byte ${b} is not 0 or 1`)
      }
    }
  }
}

/**
 * Checks a set of named tensors (a task's inputs or outputs): each valid, every name non-empty and
 * unique, at most MAX_TENSORS_PER_SET (§2.3).
 */
export function validateTensorSet(tensors: readonly Tensor[]): void {
  if (tensors.length > MAX_TENSORS_PER_SET) {
    throw new InvalidTensorError(`tensor set has ${tensors.length} tensors, limit is ${MAX_TENSORS_PER_SET}`)
  }
  const names = new Set<string>()
  for (const t of tensors) {
    if (t.name === '') {
      throw new InvalidTensorError('tensor in a set has an empty name')
    }
    if (names.has(t.name)) {
      throw new InvalidTensorError(`duplicate tensor name "${t.name}"`)
    }
    names.add(t.name)
    validateTensor(t)
  }
}

/**
 * §2.2 canonical encoding of one tensor, without its name:
 * `uvarint(dtype code) || uvarint(rank) || uvarint(dim_0) … uvarint(dim_{rank-1}) || data`.
 * The data length follows from dtype and dims, so it is not written.
 */
export function encodeTensorCanonical(tensor: Tensor): Uint8Array<ArrayBuffer> {
  return concatBytes(tensorParts(tensor))
}

function tensorParts(tensor: Tensor): Uint8Array[] {
  validateTensor(tensor)
  return [uvarint(dtypeInfo(tensor.dtype).code), uvarint(tensor.dims.length), ...tensor.dims.map((d) => uvarint(d)), tensor.data]
}

/**
 * §2.3 canonical encoding of a named tensor set: `uvarint(count)` then, for each tensor in
 * ascending byte order of its UTF-8 name, `uvarint(len(name)) || name || canonical tensor`.
 */
export function encodeTensorSetCanonical(tensors: readonly Tensor[]): Uint8Array<ArrayBuffer> {
  return concatBytes(tensorSetParts(tensors))
}

/** The pieces of the §2.3 encoding in order; hashing them one by one avoids copying tensor data. */
function tensorSetParts(tensors: readonly Tensor[]): Uint8Array[] {
  validateTensorSet(tensors)
  const named = tensors.map((t) => ({ name: utf8Encode(t.name), tensor: t }))
  named.sort((a, b) => compareBytes(a.name, b.name))
  const parts: Uint8Array[] = [uvarint(named.length)]
  for (const { name, tensor } of named) {
    parts.push(uvarint(name.byteLength), name, ...tensorParts(tensor))
  }
  return parts
}

/** §2.3 digest of a tensor set: SHA-256 of its canonical encoding (32 bytes). */
export function tensorSetDigest(tensors: readonly Tensor[]): Uint8Array<ArrayBuffer> {
  return sha256Parts(tensorSetParts(tensors))
}

/** IEEE 754 binary16 → number. */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >> 10) & 0x1f
  const fraction = bits & 0x3ff
  if (exponent === 0) {
    return sign * 2 ** -14 * (fraction / 1024)
  }
  if (exponent === 0x1f) {
    return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN
  }
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024)
}

/**
 * The tensor's elements as float64 (int64/uint64 beyond 2^53 lose precision; the agreement rules
 * compare integer tensors bytewise instead, §7.1).
 */
export function toFloat64Array(tensor: Tensor): Float64Array {
  const info = dtypeInfo(tensor.dtype)
  const n = tensor.data.byteLength / info.size
  const view = new DataView(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const o = i * info.size
    switch (tensor.dtype) {
      case DType.FLOAT32:
        out[i] = view.getFloat32(o, true)
        break
      case DType.FLOAT64:
        out[i] = view.getFloat64(o, true)
        break
      case DType.FLOAT16:
        out[i] = float16ToNumber(view.getUint16(o, true))
        break
      case DType.UINT8:
      case DType.BOOL:
        out[i] = view.getUint8(o)
        break
      case DType.INT8:
        out[i] = view.getInt8(o)
        break
      case DType.UINT16:
        out[i] = view.getUint16(o, true)
        break
      case DType.INT16:
        out[i] = view.getInt16(o, true)
        break
      case DType.INT32:
        out[i] = view.getInt32(o, true)
        break
      case DType.UINT32:
        out[i] = view.getUint32(o, true)
        break
      case DType.INT64:
        out[i] = Number(view.getBigInt64(o, true))
        break
      case DType.UINT64:
        out[i] = Number(view.getBigUint64(o, true))
        break
      default:
        throw new InvalidTensorError(`unsupported dtype ${String(tensor.dtype)}`)
    }
  }
  return out
}

/** Builds a FLOAT32 tensor from numbers (little-endian), a convenience for callers and tests. */
export function float32Tensor(name: string, dims: readonly number[], values: ArrayLike<number>): Tensor {
  const data = new Uint8Array(values.length * 4)
  const view = new DataView(data.buffer)
  for (let i = 0; i < values.length; i++) {
    view.setFloat32(i * 4, values[i] as number, true)
  }
  const tensor: Tensor = { name, dtype: DType.FLOAT32, dims: dims.map((d) => BigInt(d)), data }
  validateTensor(tensor)
  return tensor
}
