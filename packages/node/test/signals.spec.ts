import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LOOP_SLICE_MS, loopTurn } from '../src/index.js'

/** Holds the thread for `ms`, as checking a result or reading an input does. */
function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // CPU work
  }
}

describe('loopTurn: promise-chained CPU work lets timers run (issue #15)', () => {
  it('two chains of 1 ms steps yield together every LOOP_SLICE_MS; a timer waits one slice, not the whole work', async () => {
    const seen = { steps: 0, beforeTimer: -1 }
    const chain = async (useTurns: boolean) => {
      for (let i = 0; i < 60; i++) {
        const turn = useTurns ? loopTurn() : undefined
        if (turn != null) {
          await turn
        }
        await Promise.resolve() // an await on a settled promise: no turn of the loop
        busy(1)
        seen.steps++
      }
    }
    const run = async (useTurns: boolean) => {
      seen.steps = 0
      seen.beforeTimer = -1
      const timer = new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.beforeTimer = seen.steps
          resolve()
        }, 0)
      )
      await Promise.all([chain(useTurns), chain(useTurns)])
      await timer
      return seen.beforeTimer
    }
    // Without turns the timer waits for all 120 steps: the case this helper exists for.
    assert.equal(await run(false), 120)
    // With turns it fires within a slice or two of 1 ms steps (both chains share the slice).
    const before = await run(true)
    assert.ok(before <= 4 * LOOP_SLICE_MS, `the timer ran after ${before} of 120 steps`)
  })
})

describe('loopTurn: a step longer than a slice', () => {
  it('yields after every such step, the first one after a turn included (issue #15)', async () => {
    // Each step holds the thread for two slices (a 3.5 MB copy did, here): the loop must turn
    // between every two of them. The slice counted from the first call after a turn, so a step that
    // followed a turn never yielded and the loop was held for two steps at a time.
    const turnedBefore: boolean[] = []
    let turned = true
    for (let i = 0; i < 8; i++) {
      const turn = loopTurn()
      if (turn != null) {
        await turn
      }
      turnedBefore.push(turned)
      turned = false
      setImmediate(() => {
        turned = true
      })
      busy(2 * LOOP_SLICE_MS)
    }
    assert.deepEqual(turnedBefore, Array(8).fill(true))
  })
})
