/**
 * Timeouts for operations that reach into libp2p's DHT. `AbortSignal.timeout(ms)` fires even
 * after the operation it guarded has finished, and kad-dht (16.4) leaves listeners on a query's
 * signal in some paths: a late abort then rejected a promise nobody awaited and ended the process
 * (seen ~60 s after every capacity publish). A deadline made here is cleared when the operation
 * ends, so it never fires afterwards.
 */

/** A signal that aborts after `ms` (or with `parent`) until `clear()` is called. */
export interface Deadline {
  readonly signal: AbortSignal
  clear(): void
}

export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms)
  const onParent = () => controller.abort(parent?.reason)
  if (parent?.aborted === true) {
    onParent()
  } else {
    parent?.addEventListener('abort', onParent, { once: true })
  }
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParent)
    }
  }
}

/** Runs `fn` under a deadline of `ms` (and `parent`), cleared when `fn` settles. */
export async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T> {
  const d = deadline(ms, parent)
  try {
    return await fn(d.signal)
  } finally {
    d.clear()
  }
}

/** Waits `ms` (Infinity: until aborted); rejects with `signal`'s reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined
    function done() {
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    function abort() {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })
}

/**
 * How long work resumed by promises may hold the event loop before it lets timers and I/O run
 * (issue #15: sixteen workers' result submissions, each a chain of awaits on settled promises, ran in
 * one microtask drain and delayed the requester's timers by 110–190 ms).
 */
export const LOOP_SLICE_MS = 5

let sliceStart: number | undefined
let nextTurn: Promise<void> | undefined
/**
 * When the loop last turned as far as this module saw (a check phase it asked for): work that calls
 * loopTurn again before the loop turns once more has run since then. Stale after the loop idled,
 * which costs that work one early turn.
 */
let turnedAt = Number.NEGATIVE_INFINITY

/** The loop's next check phase ends the slice. */
function endSlice(): void {
  sliceStart = undefined
  turnedAt = performance.now()
}

/**
 * Undefined while the event loop turned within the last `sliceMs` of this process's work; else a
 * promise, shared by every caller, that resolves on its next turn (after timers and I/O). A loop
 * of CPU work awaits it between steps: `const turn = loopTurn(); if (turn) await turn`.
 */
export function loopTurn(sliceMs = LOOP_SLICE_MS): Promise<void> | undefined {
  const now = performance.now()
  if (sliceStart === undefined) {
    // The slice began at the loop's last turn, not at this call: a step that follows a turn and
    // outlasts the slice by itself (a 3.5 MB copy: 12 ms here) yields at once, not after the next
    // step too (issue #15: the requester's loop was held for two such steps at a time).
    sliceStart = turnedAt
    setImmediate(endSlice)
  }
  if (now - sliceStart < sliceMs) {
    return undefined
  }
  nextTurn ??= new Promise((resolve) =>
    setImmediate(() => {
      nextTurn = undefined
      resolve()
    })
  )
  return nextTurn
}
