/** Multi-item tasks (§6.8): items packed into tasks and back, for any mix of shapes. */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  DType,
  encodedTask,
  encodeStackedTask,
  float32Tensor,
  ItemMap,
  type ItemPacking,
  packItems,
  splitRows,
  stackItems,
  Task,
  type Tensor
} from '../src/index.js'

/** An item: one input "x" of one row of `width` values (or `rows` rows), values from `seed`. */
const item = (seed: number, width: number, rows = 1): Tensor[] => [
  float32Tensor(
    'x',
    [rows, width],
    Array.from({ length: rows * width }, (_, i) => seed * 100 + i)
  )
]

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of gen) {
    out.push(x)
  }
  return out
}

describe('multi-item tasks (§6.8)', () => {
  it('packs any items into tasks and maps every task back to its items (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ width: fc.integer({ min: 1, max: 3 }), rows: fc.constantFrom(1, 1, 1, 2) }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 4, max: 64 }),
        async (shapes, perTask, maxTaskBytes) => {
          const items = shapes.map((s, i) => item(i, s.width, s.rows))
          const packing: ItemPacking = { itemsPerTask: 1, itemCount: 0, short: [] }
          const tasks = await collect(packItems(items, perTask, maxTaskBytes, packing))
          assert.equal(packing.itemCount, items.length)
          const map = new ItemMap(tasks.length, packing)
          let next = 0
          for (const [t, inputs] of tasks.entries()) {
            const { start, count } = map.itemsOf(t)
            assert.equal(start, next, `task ${t} starts where the previous one ended`)
            assert.ok(count >= 1 && count <= perTask)
            // A worker that echoes its inputs: the split rows are the items themselves.
            assert.deepEqual(splitRows(inputs, count), items.slice(start, start + count))
            // A stacked task comes with its encoding, the bytes Task.encode gives (the store takes them).
            const encoded = encodedTask(inputs, t)
            assert.equal(encoded != null, count > 1)
            if (encoded != null) {
              assert.deepEqual(encoded, Task.encode({ taskId: new Uint8Array(), index: BigInt(t), inputs }))
              assert.equal(encodedTask(inputs, t + 1), undefined, 'only for its own index')
            }
            next += count
          }
          assert.equal(next, items.length, 'every item is in exactly one task')
        }
      ),
      { numRuns: 200 }
    )
  })

  it('stacks one-row items along the first dimension and splits outputs back into views', () => {
    const stacked = stackItems([item(1, 3), item(2, 3)])
    assert.deepEqual(stacked[0]?.dims, [2n, 3n])
    const [a, b] = splitRows(stacked, 2)
    assert.deepEqual(a, item(1, 3))
    assert.deepEqual(b, item(2, 3))
    assert.equal(b?.[0]?.data.buffer, stacked[0]?.data.buffer, 'a row is a view, not a copy')
  })

  it('stacks and encodes a task in one buffer: Task.encode of the stacked inputs byte for byte, the inputs views of it (property)', () => {
    const input = fc.record({
      name: fc.string({ maxLength: 8 }),
      dtype: fc.constantFrom(DType.FLOAT32, DType.UINT8, DType.INT64),
      width: fc.integer({ min: 0, max: 40 })
    })
    fc.assert(
      fc.property(
        fc.array(input, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(1 << 20),
        (inputs, count, index) => {
          const items = Array.from({ length: count }, (_, i) =>
            inputs.map(({ name, dtype, width }) => ({
              name,
              dtype,
              dims: [1n, BigInt(width)],
              data: Uint8Array.from({ length: width * 4 }, (_, k) => (i * 31 + k) & 0xff)
            }))
          )
          const { bytes, inputs: stacked } = encodeStackedTask(index, items)
          const expected = stackItems(items)
          assert.deepEqual(stacked, expected)
          assert.deepEqual(bytes, Task.encode({ taskId: new Uint8Array(), index: BigInt(index), inputs: expected }))
          for (const t of stacked) {
            assert.equal(t.data.byteLength === 0 || t.data.buffer === bytes.buffer, true, 'an input is a view of the encoding')
          }
          assert.equal(encodedTask(stacked, index), bytes)
          assert.equal(encodedTask(expected, index), undefined, 'arrays it did not make have none')
        }
      ),
      { numRuns: 300 }
    )
    assert.throws(() => encodeStackedTask(0, [item(1, 3), item(2, 4)]), /item 1 does not have the one-row shape/)
    assert.throws(() => encodeStackedTask(0, []), /no items/)
  })

  it('refuses what cannot be packed or split, naming why', async () => {
    assert.throws(() => stackItems([item(1, 3), item(2, 4)]), /item 1 does not have the one-row shape/)
    assert.throws(() => stackItems([]), /no items/)
    const y = { name: 'y', dtype: DType.FLOAT32, dims: [1n], data: new Uint8Array(4) }
    assert.throws(() => splitRows([y], 2), /output "y" has shape \[1\]: a task of 2 items needs 2 rows/)
    await assert.rejects(collect(packItems([item(1, 1)], 0, 1024, { itemsPerTask: 1, itemCount: 0, short: [] })), RangeError)
  })
})
