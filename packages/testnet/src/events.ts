/**
 * The discrete-event queue: events ordered by (virtual time, sequence) on core's TimeHeap, so
 * events at the same time run in the order they were scheduled — runs replay to the byte.
 */

import { TimeHeap } from '@openbatch/core'

export class EventQueue {
  private readonly heap = new TimeHeap<() => void>()
  private seq = 0
  /** The current virtual time (ms). */
  now = 0
  /** Events run so far. */
  processed = 0

  get size(): number {
    return this.heap.size
  }

  /** Runs `run` at virtual time `at` (not before now). */
  at(at: number, run: () => void): void {
    this.heap.push(Math.max(at, this.now), this.seq++, run)
  }

  /** Runs events in order until none is left, `until` is passed, or `stop()` says so. */
  run(until: number, stop: () => boolean = () => false): void {
    for (let at = this.heap.peekTime(); at !== undefined && at <= until && !stop(); at = this.heap.peekTime()) {
      const run = this.heap.pop() as () => void
      this.now = at
      this.processed++
      run()
    }
  }
}
