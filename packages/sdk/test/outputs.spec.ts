import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { argmax, classify, DType, type Output, rows, softmax, type Tensor, toOutput, topK } from '../src/index.js'

/** A tensor whose bytes start at an odd offset of their buffer, as bytes cut out of a message do. */
function unaligned(dtype: DType, dims: number[], bytes: Uint8Array): Tensor {
  const buffer = new Uint8Array(bytes.byteLength + 1)
  buffer.set(bytes, 1)
  return { name: 'y', dtype, dims: dims.map(BigInt), data: buffer.subarray(1) }
}

/** An output's elements as a plain array (numbers, or bigints for 64-bit integers). */
const list = (o: Output): (number | bigint)[] => Array.from(o.data as ArrayLike<number | bigint>)

function le(values: number[], write: (view: DataView, offset: number, value: number) => void, size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(values.length * size)
  const view = new DataView(bytes.buffer)
  for (const [i, v] of values.entries()) {
    write(view, i * size, v)
  }
  return bytes
}

describe('results people can read: typed outputs and classifier helpers (issue #16)', () => {
  it('each output is a typed array of its dtype with number dims, even from unaligned bytes', () => {
    // `new Float32Array(tensor.data.buffer)` is what a user tried first: it throws or reads the wrong bytes here.
    const f32 = unaligned(
      DType.FLOAT32,
      [1, 3],
      le([0.25, -1.5, 3], (v, o, x) => v.setFloat32(o, x, true), 4)
    )
    assert.throws(() => new Float32Array(f32.data.buffer, f32.data.byteOffset, 3), RangeError)
    const out = toOutput(f32)
    assert.ok(out.data instanceof Float32Array)
    assert.deepEqual(list(out), [0.25, -1.5, 3])
    if (out.dtype === 'float32') {
      const narrowed: Float32Array = out.data // checking dtype narrows the array's type
      assert.equal(narrowed[2], 3)
    }
    assert.deepEqual(out.dims, [1, 3])
    assert.equal(out.dtype, 'float32')
    assert.equal(out.tensor, f32, 'the signed tensor stays beside the typed array')

    // Bytes decoded from a message are often a Node Buffer, whose slice() is a view, not a copy.
    const buffer = Buffer.alloc(13)
    Buffer.from(le([0.5, 2, -4], (v, o, x) => v.setFloat32(o, x, true), 4)).copy(buffer, 1)
    assert.deepEqual(list(toOutput({ name: 'y', dtype: DType.FLOAT32, dims: [3n], data: buffer.subarray(1) })), [0.5, 2, -4])

    const i64 = toOutput(
      unaligned(
        DType.INT64,
        [2],
        le([7, -2], (v, o, x) => v.setBigInt64(o, BigInt(x), true), 8)
      )
    )
    assert.ok(i64.data instanceof BigInt64Array)
    assert.deepEqual(list(i64), [7n, -2n])
    assert.equal(i64.dtype, 'int64')

    const u8 = toOutput(unaligned(DType.UINT8, [3], new Uint8Array([1, 2, 255])))
    assert.ok(u8.data instanceof Uint8Array)
    assert.deepEqual(list(u8), [1, 2, 255])

    const bool = toOutput(unaligned(DType.BOOL, [2], new Uint8Array([1, 0])))
    assert.equal(bool.dtype, 'bool')
    assert.deepEqual(list(bool), [1, 0])

    // float16 1.0 = 0x3c00, -2.0 = 0xc000: widened to float32.
    const f16 = toOutput(
      unaligned(
        DType.FLOAT16,
        [2],
        le([0x3c00, 0xc000], (v, o, x) => v.setUint16(o, x, true), 2)
      )
    )
    assert.equal(f16.dtype, 'float16')
    assert.ok(f16.data instanceof Float32Array)
    assert.deepEqual(list(f16), [1, -2])

    const f64 = toOutput(
      unaligned(
        DType.FLOAT64,
        [],
        le([Math.PI], (v, o, x) => v.setFloat64(o, x, true), 8)
      )
    )
    assert.deepEqual(f64.dims, [])
    assert.deepEqual(list(f64), [Math.PI])
  })

  it('an aligned output is a view of the signed bytes, not a copy', () => {
    const bytes = le([1, 2], (v, o, x) => v.setInt32(o, x, true), 4)
    const out = toOutput({ name: 'y', dtype: DType.INT32, dims: [2n], data: bytes })
    assert.equal(out.data.buffer, bytes.buffer)
    assert.deepEqual(list(out), [1, 2])
  })

  it('softmax, argmax and top-k with labels', () => {
    const p = softmax([1000, 1000, 999])
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12, 'large logits do not overflow')
    assert.ok(Math.abs((p[0] as number) - (p[1] as number)) < 1e-15)
    assert.equal(argmax([0.1, 0.7, 0.7, 0.2]), 1, 'the first of equal maxima')
    assert.equal(argmax([Number.NaN, -1]), 1, 'NaN is never the largest')
    assert.equal(argmax([]), -1)
    assert.deepEqual(topK([0.1, 0.6, 0.3], 2, { labels: ['cat', 'dog', 'fox'] }), [
      { index: 1, label: 'dog', score: 0.6 },
      { index: 2, label: 'fox', score: 0.3 }
    ])
    assert.deepEqual(
      topK([2, 0], 1, { softmax: true }).map((x) => x.index),
      [0]
    )
  })

  it('classify reads every row of a classifier output', () => {
    const out = toOutput({
      name: 'softmax_0',
      dtype: DType.FLOAT32,
      dims: [2n, 2n],
      data: le([0.9, 0.1, 0.2, 0.8], (v, o, x) => v.setFloat32(o, x, true), 4)
    })
    assert.equal(rows(out).length, 2)
    const best = classify(out, { labels: ['0°', '180°'] }).map((r) => r[0]?.label)
    assert.deepEqual(best, ['0°', '180°'])
    assert.deepEqual(
      classify(out, { k: 2 })[1]?.map((x) => x.index),
      [1, 0]
    )
  })

  it('bad arguments are named errors that say what to give', () => {
    assert.throws(() => topK([0.5, 0.5], 1, { labels: ['only one'] }), {
      name: 'RangeError',
      message: /1 labels for 2 classes: give one label per class/
    })
    assert.throws(() => topK([1], 0), { name: 'RangeError', message: /k must be a positive integer, got 0/ })
    assert.throws(() => toOutput({ name: 'y', dtype: DType.DTYPE_UNSPECIFIED, dims: [], data: new Uint8Array() }), /unsupported dtype/)
  })
})
