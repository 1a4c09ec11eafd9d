import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DType, float32Tensor } from '@openbatch/protocol'
import { type ModelInfo, validateInputs } from '../src/index.js'

const info: ModelInfo = {
  model: 'm',
  inputs: [
    { name: 'image', dtype: DType.FLOAT32, shape: ['N', 3, 'H', 'W'] },
    { name: 'scale', dtype: DType.FLOAT32, shape: ['N', 1] }
  ],
  outputs: [{ name: 'probs', dtype: DType.FLOAT32, shape: ['N', 2] }],
  batchable: true,
  sizeBytes: 1
}
const image = (dims: number[]) => float32Tensor('image', dims, new Array(dims.reduce((a, b) => a * b, 1)).fill(0))
const scale = float32Tensor('scale', [1, 1], [1])

describe('validateInputs', () => {
  it('accepts inputs matching names, dtypes, ranks and fixed dims; symbolic dims take any size', () => {
    validateInputs(info, [image([1, 3, 4, 5]), scale])
    validateInputs(info, [scale, image([2, 3, 7, 1])])
  })

  it('names the input and what the model expects', () => {
    const cases: [Parameters<typeof validateInputs>[1], string, RegExp][] = [
      [[image([1, 3, 4, 5])], 'scale', /missing input "scale" \(FLOAT32 \[N, 1\]\)/],
      [[image([1, 4, 4, 5]), scale], 'image', /dimension 1 must be 3/],
      [[image([1, 3, 4]), scale], 'image', /rank 3 \[1, 3, 4\], the model expects rank 4 \[N, 3, H, W\]/],
      [[image([1, 3, 4, 5]), scale, float32Tensor('extra', [1], [0])], 'extra', /unknown input "extra"/],
      [[{ ...scale, dtype: DType.FLOAT64, data: new Uint8Array(8) }, image([1, 3, 1, 1])], 'scale', /is FLOAT64, the model expects FLOAT32/]
    ]
    for (const [inputs, input, message] of cases) {
      assert.throws(() => validateInputs(info, inputs), { name: 'InvalidInputError', input, message })
    }
  })

  it('rejects an empty input list and non-canonical tensors', () => {
    assert.throws(() => validateInputs(info, []), { name: 'InvalidInputError', message: /no inputs; the model expects "image", "scale"/ })
    assert.throws(() => validateInputs(info, [scale, { ...scale, data: new Uint8Array(8) }]), {
      name: 'InvalidInputError',
      message: /duplicate tensor name "scale"/
    })
  })
})
