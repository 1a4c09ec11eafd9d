/** asError: whatever a stream read rejects with reaches `onError` listeners as an Error. */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { asError, NonErrorThrownError } from '../src/index.js'

describe('asError', () => {
  it('passes Errors through and wraps anything else, saying what it was', () => {
    const err = new TypeError('x')
    assert.equal(asError(err), err)
    for (const [value, shown] of [
      [undefined, 'undefined undefined'],
      [0, 'number 0'],
      ['reset', 'string reset'],
      [{ code: 1 }, 'Object {"code":1}'],
      [new Event('close'), 'Event "close"']
    ] as const) {
      const e = asError(value)
      assert.ok(e instanceof NonErrorThrownError)
      assert.equal(e.name, 'NonErrorThrownError')
      assert.equal(typeof e.message, 'string')
      assert.ok(e.message.includes(shown), `${e.message} names ${shown}`)
      assert.equal((e as NonErrorThrownError).value, value)
    }
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    assert.match(asError(cyclic).message, /\[object Object\]/)
  })
})
