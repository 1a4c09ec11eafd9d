import { type Tensor, validateTensorSet } from '@openbatch/protocol'
import type { ModelInfo } from './backend.js'
import { InvalidInputError } from './errors.js'

const shapeText = (shape: ReadonlyArray<number | string | bigint>) => `[${shape.join(', ')}]`

/**
 * Checks a task's inputs against the model's declared inputs: every declared input present, no
 * others, canonical tensors (protocol §2.2), the declared dtype and rank, and every fixed
 * dimension. Throws InvalidInputError naming the input and what was expected.
 */
export function validateInputs(info: ModelInfo, inputs: readonly Tensor[]): void {
  if (inputs.length === 0) {
    throw new InvalidInputError('', `no inputs; the model expects ${info.inputs.map((i) => `"${i.name}"`).join(', ')}`)
  }
  try {
    validateTensorSet(inputs)
  } catch (err) {
    throw new InvalidInputError('', (err as Error).message)
  }
  const byName = new Map(inputs.map((t) => [t.name, t]))
  for (const spec of info.inputs) {
    const t = byName.get(spec.name)
    if (t == null) {
      throw new InvalidInputError(spec.name, `missing input "${spec.name}" (${spec.dtype} ${shapeText(spec.shape)})`)
    }
    if (t.dtype !== spec.dtype) {
      throw new InvalidInputError(spec.name, `input "${spec.name}" is ${t.dtype}, the model expects ${spec.dtype}`)
    }
    if (t.dims.length !== spec.shape.length) {
      throw new InvalidInputError(
        spec.name,
        `input "${spec.name}" has rank ${t.dims.length} ${shapeText(t.dims)}, the model expects rank ${spec.shape.length} ${shapeText(spec.shape)}`
      )
    }
    spec.shape.forEach((d, i) => {
      if (typeof d === 'number' && d >= 0 && BigInt(d) !== t.dims[i]) {
        throw new InvalidInputError(
          spec.name,
          `input "${spec.name}" has shape ${shapeText(t.dims)}, the model expects ${shapeText(spec.shape)} (dimension ${i} must be ${d})`
        )
      }
    })
    byName.delete(spec.name)
  }
  for (const name of byName.keys()) {
    throw new InvalidInputError(name, `unknown input "${name}"; the model's inputs are ${info.inputs.map((i) => `"${i.name}"`).join(', ')}`)
  }
}
