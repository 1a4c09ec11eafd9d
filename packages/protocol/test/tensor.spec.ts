import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  Assignment,
  assignedInputDigest,
  DType,
  decodeFrame,
  deriveTaskId,
  ErrorCode,
  encodeTensorCanonical,
  encodeTensorSetCanonical,
  float16ToNumber,
  float32Tensor,
  modelCid,
  type Tensor,
  tensorSetDigest,
  toFloat64Array,
  toHex,
  validateTensor,
  validateTensorSet
} from '../src/index.js'
import { arbTensor } from './arbitraries.js'

const t = (dtype: DType, dims: number[], data: number[], name = 'x'): Tensor => ({
  name,
  dtype,
  dims: dims.map(BigInt),
  data: Uint8Array.from(data)
})

describe('tensor validation (§2.2)', () => {
  it('accepts a well-formed tensor, scalars and empty tensors', () => {
    validateTensor(float32Tensor('x', [2, 2], [1, 2, 3, 4]))
    validateTensor(t(DType.UINT8, [], [7]))
    validateTensor(t(DType.INT32, [0, 5], []))
  })

  it('rejects DTYPE_UNSPECIFIED with a message naming the tensor', () => {
    assert.throws(() => validateTensor(t(DType.DTYPE_UNSPECIFIED, [1], [0])), {
      name: 'InvalidTensorError',
      message: /tensor "x": unsupported dtype/
    })
  })

  it('rejects data whose length does not match dtype and shape', () => {
    assert.throws(() => validateTensor(t(DType.FLOAT32, [2], [0, 0, 0, 0])), {
      name: 'InvalidTensorError',
      message: /FLOAT32 shape \[2\] needs 8 bytes, data has 4/
    })
  })

  it('rejects BOOL bytes other than 0 and 1', () => {
    assert.throws(() => validateTensor(t(DType.BOOL, [2], [1, 2])), { name: 'InvalidTensorError', message: /BOOL element byte 2/ })
  })

  it('rejects rank above 8', () => {
    assert.throws(() => validateTensor(t(DType.UINT8, [1, 1, 1, 1, 1, 1, 1, 1, 1], [0])), { name: 'InvalidTensorError', message: /rank 9/ })
  })

  it('rejects a dimension of 2^63 even next to a zero dimension', () => {
    const huge: Tensor = { name: 'x', dtype: DType.UINT8, dims: [0n, 2n ** 63n], data: new Uint8Array() }
    assert.throws(() => validateTensor(huge), { name: 'InvalidTensorError', message: /outside 0\.\.4294967295/ })
    // §2.2: a zero dimension empties the shape wherever it stands; the verdict is order-free.
    for (const dims of [
      [4294967295n, 4294967295n, 0n],
      [0n, 4294967295n, 4294967295n]
    ]) {
      validateTensor({ name: 'e', dtype: DType.FLOAT32, dims, data: new Uint8Array() })
    }
  })

  it('rejects a shape whose byte size exceeds MAX_TENSOR_BYTES without allocating it', () => {
    const big: Tensor = { name: 'x', dtype: DType.FLOAT64, dims: [65536n, 65536n], data: new Uint8Array() }
    assert.throws(() => validateTensor(big), { name: 'TooLargeError' })
  })

  it('rejects sets with duplicate or empty names', () => {
    assert.throws(() => validateTensorSet([t(DType.UINT8, [1], [1], 'a'), t(DType.UINT8, [1], [2], 'a')]), {
      name: 'InvalidTensorError',
      message: /duplicate tensor name "a"/
    })
    assert.throws(() => validateTensorSet([t(DType.UINT8, [1], [1], '')]), { name: 'InvalidTensorError', message: /empty name/ })
  })
})

describe('canonical encoding (§2.2, §2.3)', () => {
  it('encodes dtype, rank, dims and data as the spec says', () => {
    // FLOAT32 = 1, rank 2, dims 1 and 2, then 8 data bytes
    const bytes = encodeTensorCanonical(float32Tensor('p', [1, 2], [1, 0]))
    assert.equal(toHex(bytes), '01020102' + '0000803f' + '00000000')
  })

  it('writes multi-byte varints for large dims', () => {
    assert.equal(toHex(encodeTensorCanonical(t(DType.UINT8, [300], new Array(300).fill(0)))).slice(0, 8), '0201ac02')
  })

  it('digest of a set does not depend on the order of its tensors', () => {
    fc.assert(
      fc.property(arbTensor(fc.constant('a')), arbTensor(fc.constant('b')), (a, b) => {
        assert.deepEqual(tensorSetDigest([a, b]), tensorSetDigest([b, a]))
      })
    )
  })

  it('is unique: two tensors share an encoding exactly when dtype, dims and data are equal', () => {
    fc.assert(
      fc.property(arbTensor(), arbTensor(), (a, b) => {
        const same = a.dtype === b.dtype && a.dims.join() === b.dims.join() && toHex(a.data) === toHex(b.data)
        assert.equal(toHex(encodeTensorCanonical(a)) === toHex(encodeTensorCanonical(b)), same)
      })
    )
  })

  it('set encoding separates names from tensor bytes (no ambiguity between sets)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbTensor(fc.string({ minLength: 1, maxLength: 4 })), { selector: (x) => x.name, maxLength: 3 }),
        (set) => {
          const renamed = set.map((x) => ({ ...x, name: `${x.name}_` }))
          if (set.length > 0) {
            assert.notEqual(toHex(encodeTensorSetCanonical(set)), toHex(encodeTensorSetCanonical(renamed)))
          }
        }
      )
    )
  })
})

describe('numeric views', () => {
  it('decodes float16 including subnormals, infinities and NaN', () => {
    assert.equal(float16ToNumber(0x3c00), 1)
    assert.equal(float16ToNumber(0xc000), -2)
    assert.equal(float16ToNumber(0x0001), 2 ** -24)
    assert.equal(float16ToNumber(0x7c00), Number.POSITIVE_INFINITY)
    assert.ok(Number.isNaN(float16ToNumber(0x7e00)))
  })

  it('reads every dtype little-endian', () => {
    assert.deepEqual(Array.from(toFloat64Array(t(DType.INT16, [2], [0xff, 0xff, 0x02, 0x01]))), [-1, 258])
    assert.deepEqual(Array.from(toFloat64Array(t(DType.UINT64, [1], [1, 0, 0, 0, 0, 0, 0, 1]))), [2 ** 56 + 1])
    assert.deepEqual(Array.from(toFloat64Array(t(DType.INT8, [1], [0x80]))), [-128])
  })
})

describe('assigned input digests (§2.3, §2.4)', () => {
  const jobId = new Uint8Array(32).fill(7)
  const model = modelCid(new TextEncoder().encode('m')).bytes
  const inputs = [float32Tensor('x', [1, 2], [1, 2])]
  const frame = (digest: Uint8Array) =>
    Assignment.encode({
      code: ErrorCode.OK,
      jobId,
      model,
      tasks: [{ taskId: deriveTaskId(jobId, 0n, model, digest), index: 0n, inputs }],
      leaseExpiresAtMs: 1n,
      message: ''
    })

  it('a checked assignment hands each task the digest its task id was checked against', () => {
    const digest = tensorSetDigest(inputs)
    const [task] = decodeFrame('Assignment', frame(digest)).tasks
    assert.ok(task != null)
    assert.deepEqual(assignedInputDigest(task), digest)
    // A task that never went through the check gets the digest computed afresh.
    assert.deepEqual(assignedInputDigest({ ...task }), digest)
  })

  it('a task id derived from other inputs is refused, naming the task', () => {
    assert.throws(() => decodeFrame('Assignment', frame(new Uint8Array(32))), { name: 'InvalidFieldError', message: /tasks\[0\]\.task_id/ })
  })
})
