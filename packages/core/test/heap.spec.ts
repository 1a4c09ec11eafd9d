import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { TimeHeap } from '../src/index.js'

describe('TimeHeap', () => {
  it('pops in (time, sequence) order, whatever the order of pushes and interleaved pops', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 200 }), (ops) => {
        const heap = new TimeHeap<number>()
        const model: [number, number][] = []
        let seq = 0
        for (const [time, popFirst] of ops) {
          if (popFirst && model.length > 0) {
            model.sort((a, b) => a[0] - b[0] || a[1] - b[1])
            const [t, s] = model.shift() as [number, number]
            assert.equal(heap.peekTime(), t)
            assert.equal(heap.pop(), s)
          }
          heap.push(time, seq, seq)
          model.push([time, seq])
          seq++
        }
        model.sort((a, b) => a[0] - b[0] || a[1] - b[1])
        assert.deepEqual(
          Array.from({ length: heap.size }, () => heap.pop()),
          model.map((m) => m[1])
        )
        assert.equal(heap.pop(), undefined)
        assert.equal(heap.peekTime(), undefined)
      })
    )
  })
})
