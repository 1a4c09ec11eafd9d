/**
 * What a batch's inputs may be: per item, an array of protocol tensors, or a record of named
 * typed arrays with their dims; the batch is an array, an iterable or an async iterable of items
 * (streamed into the job store, never held in memory at once).
 */

import { type AgreementKind, type AgreementRule, DType, type Tensor, type VerificationPolicy, validateTensorSet } from '@openbatch/protocol'
import { InvalidInputsError } from './errors.js'

/** A named tensor as a typed array and its dims. */
export interface TensorInit {
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array | Int16Array
  dims: readonly number[]
}

/** One item of a batch: tensors (see `tensor()`), or `{ inputName: { data, dims } }`. */
export type BatchInput = Tensor[] | Record<string, TensorInit>

export type BatchInputs = Iterable<BatchInput> | AsyncIterable<BatchInput>

const DTYPE_OF: [new (...args: never[]) => TensorInit['data'], DType][] = [
  [Float32Array, DType.FLOAT32],
  [Float64Array, DType.FLOAT64],
  [Int32Array, DType.INT32],
  [BigInt64Array, DType.INT64],
  [Uint8Array, DType.UINT8],
  [Int8Array, DType.INT8],
  [Uint16Array, DType.UINT16],
  [Int16Array, DType.INT16]
]

/** A protocol tensor from a typed array (little-endian bytes, as the wire wants). */
export function tensor(name: string, data: TensorInit['data'], dims: readonly number[]): Tensor {
  const entry = DTYPE_OF.find(([ctor]) => data instanceof ctor)
  if (entry == null) {
    throw new InvalidInputsError(`tensor "${name}": unsupported array type ${Object.prototype.toString.call(data)}`)
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()
  return { name, dtype: entry[1], dims: dims.map((d) => BigInt(d)), data: bytes }
}

/** Normalises one item and checks it (§2.2 canonical tensors); throws InvalidInputsError naming the item. */
export function toTensors(item: BatchInput, index: number): Tensor[] {
  let tensors: Tensor[]
  if (Array.isArray(item)) {
    tensors = item
  } else if (item != null && typeof item === 'object') {
    tensors = Object.entries(item).map(([name, t]) => {
      if (t == null || typeof t !== 'object' || !('data' in t) || !Array.isArray(t.dims)) {
        throw new InvalidInputsError(`"${name}" must be { data: TypedArray, dims: number[] }`, index)
      }
      return tensor(name, t.data, t.dims)
    })
  } else {
    throw new InvalidInputsError(`expected an array of tensors or a record of named tensors, got ${typeof item}`, index)
  }
  if (tensors.length === 0) {
    throw new InvalidInputsError('an input has no tensors', index)
  }
  try {
    validateTensorSet(tensors)
  } catch (err) {
    throw new InvalidInputsError((err as Error).message, index)
  }
  return tensors
}

/** Streams `inputs` as validated tensor sets. */
export async function* normalise(inputs: BatchInputs): AsyncGenerator<Tensor[]> {
  if (
    inputs == null ||
    (typeof (inputs as Iterable<unknown>)[Symbol.iterator] !== 'function' &&
      typeof (inputs as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new InvalidInputsError('inputs must be an array, an iterable or an async iterable')
  }
  let index = 0
  for await (const item of inputs) {
    yield toTensors(item, index++)
  }
}

/** Outputs of a result as a record of named tensors. */
export function byName(tensors: readonly Tensor[]): Record<string, Tensor> {
  return Object.fromEntries(tensors.map((t) => [t.name, t]))
}

/**
 * A verification policy (spec §7) from the parts you care about; every other field keeps the
 * spec's default. `agreement` is one rule for every output (e.g. `AgreementKind.ARGMAX` for a
 * classifier) or a list of per-output rules.
 */
export function verificationPolicy(
  init: Partial<Omit<VerificationPolicy, 'agreement'>> & { agreement?: AgreementKind | AgreementRule[] } = {}
): VerificationPolicy {
  const { agreement, ...rest } = init
  const rules =
    agreement === undefined
      ? []
      : Array.isArray(agreement)
        ? agreement
        : [{ output: '', kind: agreement, atol: 0, rtol: 0, minCosine: 0, k: 0, tieTolerance: 0 }]
  return { initialRate: 0, minRate: 0, trustHorizon: 0, canaryRate: 0, penalty: 0n, cost: 0n, ...rest, agreement: rules }
}
