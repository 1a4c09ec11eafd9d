import fc from 'fast-check'
import { DTYPES, type DType, type Tensor } from '../src/index.js'

/** Arbitrary valid tensor: any supported dtype, rank 0..3, small dims, bytes of the right length. */
export const arbTensor = (name: fc.Arbitrary<string> = fc.constantFrom('a', 'b', 'probs', 'x')): fc.Arbitrary<Tensor> =>
  fc
    .record(
      {
        name,
        dtype: fc.constantFrom(...(Object.keys(DTYPES) as DType[])),
        dims: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
      },
      { noNullPrototype: true }
    )
    .chain(({ name, dtype, dims }) => {
      const info = DTYPES[dtype as keyof typeof DTYPES]
      const n = dims.reduce((a, b) => a * b, 1) * info.size
      const byte = info.kind === 'bool' ? fc.integer({ min: 0, max: 1 }) : fc.integer({ min: 0, max: 255 })
      return fc
        .array(byte, { minLength: n, maxLength: n })
        .map((data) => ({ name, dtype, dims: dims.map(BigInt), data: Uint8Array.from(data) }))
    })
