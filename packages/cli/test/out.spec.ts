/** The peer's log for its owner (issue #16): repeated failures once per backoff, levels. */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RepeatFilter } from '../src/commands.js'
import { log, setLogLevel } from '../src/out.js'

/** The JSON lines `fn` writes to stderr. */
function captured(fn: () => void): Record<string, unknown>[] {
  const lines: string[] = []
  const write = process.stderr.write
  process.stderr.write = ((chunk: string) => {
    lines.push(chunk)
    return true
  }) as typeof process.stderr.write
  try {
    fn()
  } finally {
    process.stderr.write = write
  }
  return lines.map((l) => JSON.parse(l))
}

describe("the peer's log (issue #16)", () => {
  it('the same failure is logged once, then once per backoff with how often it came', () => {
    let now = 0
    const filter = new RepeatFilter(() => now)
    const lines = captured(() => {
      // A requester that vanished: a claim fails every 4 s for 15 minutes (the finding: 444 lines).
      for (now = 0; now < 15 * 60_000; now += 4000) {
        filter.log('warn', `could not reach 12D3KooWabc: connect ECONNREFUSED 127.0.0.1:${40000 + (now % 7)}`)
      }
      filter.log('warn', 'another failure')
    })
    assert.ok(lines.length <= 7, `${lines.length} lines in 15 minutes`)
    assert.equal(lines[0]?.repeated, undefined)
    assert.equal(lines[1]?.repeated, 8, 'the second line says how many came since the first (32 s at one per 4 s)')
    assert.equal(lines[1]?.sinceMs, 30_000)
    assert.equal(lines.at(-1)?.msg, 'another failure', 'a different failure is logged at once')
  })

  it('--log-level leaves out the lines below it', () => {
    try {
      setLogLevel('warn')
      assert.deepEqual(
        captured(() => {
          log('debug', 'a')
          log('info', 'b')
          log('warn', 'c')
          log('error', 'd')
        }).map((l) => [l.level, l.msg]),
        [
          ['warn', 'c'],
          ['error', 'd']
        ]
      )
      setLogLevel('debug')
      assert.equal(captured(() => log('debug', 'e')).length, 1)
    } finally {
      setLogLevel('info')
    }
  })
})
