/**
 * A submitted batch: progress events, its results (in input order or as they settle) each with
 * its verification status, a summary, and cancel(). Progress and results come from the requester's
 * events as tasks settle; the job store is read only to replay what settled before an iterator
 * began (or before a restart), so a handle made after a restart yields everything accepted before it.
 */

import type { VerificationStatus, VerifiedJobSummary } from '@openbatch/core'
import type { JobProgress, JobStore, VerdictEvent } from '@openbatch/node'
import { decodeOpened, FailureKind, type ItemMap, isDeterministicFailure, STATEMENTS, splitRows, type Tensor } from '@openbatch/protocol'
import { TypedEventEmitter } from 'main-event'
import { type Output, toOutputs } from './outputs.js'

/** How a result was verified (spec §6.5): see {@link VerificationStatus}. */
export interface Verification {
  /**
   * `agreed`: an independent worker re-ran the task and agreed. `unsampled`: not re-run; it stands
   * on `worker`'s reputation. `disputed`: runs disagreed and a majority decided (a fraud proof names
   * the outvoted worker); the result is the majority's. `unresolved`: no two runs agreed — do not
   * trust it.
   */
  status: VerificationStatus
  /** The peer id whose result this is. */
  worker: string
  /** That worker's reputation (0–1) when the task settled; undefined after a restart cut verification short. */
  reputation?: number
  /**
   * This verdict replaces an earlier `unsampled` one: the task's worker was later proven to cheat,
   * so its unsampled results were re-run (spec §7.5). In completion order such a task comes again.
   */
  revised?: boolean
}

/** Why an item has no outputs (spec §6.6). */
export interface TaskFailureInfo {
  /**
   * `INPUT_REJECTED`, `INFERENCE_FAILED` or `UNSUPPORTED_MODEL` (deterministic: an independent
   * worker confirmed it unless the status is `unsampled`), or a transient kind
   * (`RESOURCE_EXHAUSTED`, `DEVICE_LOST`, `MODEL_UNAVAILABLE`, `WORKER_STOPPING`) that happened on
   * every worker that tried.
   */
  kind: FailureKind
  /** The worker's words, e.g. the input and shape it expected. */
  message: string
  /** True for transient kinds: another try later may succeed. */
  transient: boolean
}

export interface BatchResult {
  /** The input's position in the batch. */
  index: number
  /** The task that carried it (§6.8: a task may carry several items; they share its verification and signed result). */
  task: number
  /**
   * Outputs by name (empty when `failure` is set): each a typed array of its dtype with `number[]`
   * dims, and the signed tensor; see {@link classify} for a classifier's labels.
   */
  outputs: Record<string, Output>
  /** Set when the item could not run: why. */
  failure?: TaskFailureInfo
  verification: Verification
  /** The worker's signed result of the task (spec §3.5): proof of who computed it. */
  signed: Uint8Array
}

export interface BatchProgress {
  jobId: string
  taskCount: number
  /** Items submitted (§6.8: a task may carry several). */
  itemCount: number
  /** Tasks with an accepted result. */
  done: number
  /** Tasks settled (verified or standing on reputation): their results can be read. */
  settled: number
  /** Items settled per second since the job started (or was resumed): settled tasks × items per task. */
  itemsPerSecond: number
  /** Estimated time to settle the rest, in ms (undefined until there is a rate). */
  etaMs?: number
}

export interface BatchSummary {
  jobId: string
  taskCount: number
  /** Items submitted (§6.8: a task may carry several). */
  itemCount: number
  settled: number
  agreed: number
  unsampled: number
  disputed: number
  unresolved: number
  canariesPassed: number
  /** Settled items that could not run (their results carry `failure`), counted in `settled`. */
  failed: number
  /** Results re-checked because their worker was proven to cheat later (verdicts revised). */
  audited: number
  /** Fraud proofs this job produced (each names a worker that was outvoted). */
  fraudProofs: number
  /** Tasks without a result (only when the job ended early: deadline or cancel). */
  missing: number
  durationMs: number
  itemsPerSecond: number
}

export interface BatchJobEvents {
  progress: CustomEvent<BatchProgress>
}

export interface ResultsOptions {
  /** `input`: in input order (waits for gaps); `completion`: as tasks settle. @default 'input' */
  order?: 'input' | 'completion'
  signal?: AbortSignal
}

/** @internal What a handle needs from the peer that owns the job. */
export interface JobContext {
  jobId: string
  taskCount: number
  /** Which items each task carries (§6.8). */
  items: ItemMap
  /** Read only to replay results settled before an iterator began. */
  store: JobStore
  summary: () => VerifiedJobSummary | undefined
  cancel: () => void
  done: Promise<void>
}

/** Results held for an iterator that has not reached them; beyond this they are read back from the store. */
const BUFFERED_RESULTS = 4096

/** Verdicts held for one iterator, and whether some were let go past BUFFERED_RESULTS. */
interface Feed {
  events: VerdictEvent[]
  overflowed: boolean
}

/** A settled result as an iterator receives it: from an event, or replayed from the store. */
interface Settled {
  index: number
  worker: string
  result: Uint8Array
  status?: VerificationStatus
  reputation?: number
  revised?: boolean
  /** The store's sequence number (replayed rows only). */
  seq?: number
}

function fromEvent(e: VerdictEvent): Settled {
  const v = e.verdict
  return { index: v.task, worker: v.worker, result: e.result, status: v.status, reputation: v.reputation, revised: v.revised === true }
}

export class BatchJob extends TypedEventEmitter<BatchJobEvents> {
  readonly id: string
  /** Tasks the items travel in (§6.8: fewer than items when tasks carry several). */
  readonly taskCount: number
  /** Items submitted: results are yielded per item. */
  readonly itemCount: number
  /** Resolves with the summary when every task has settled; rejects when the deadline passes or the job is cancelled. */
  readonly finished: Promise<BatchSummary>
  private ended = false
  private readonly started = performance.now()
  private readonly settledAtStart: number
  /** Iterators waiting for verdicts. */
  private readonly listeners = new Set<(e: VerdictEvent | undefined) => void>()

  /** @internal */
  constructor(private readonly ctx: JobContext) {
    super()
    this.id = ctx.jobId
    this.taskCount = ctx.taskCount
    this.itemCount = ctx.items.itemCount
    this.settledAtStart = ctx.summary()?.settled ?? ctx.store.settledCount(ctx.jobId)
    this.finished = ctx.done.then(
      () => this.end(),
      (err: unknown) => {
        this.end()
        throw err
      }
    )
    this.finished.catch(() => {})
  }

  /** Items per task on average (§6.8). */
  private get itemsPerTask(): number {
    return this.taskCount > 0 ? this.itemCount / this.taskCount : 1
  }

  /** @internal A result was stored (the requester's progress event). */
  progress(p: JobProgress): void {
    const elapsed = (performance.now() - this.started) / 1000
    const rate = elapsed > 0 ? (p.settled - this.settledAtStart) / elapsed : 0
    this.safeDispatchEvent('progress', {
      detail: {
        jobId: this.id,
        taskCount: this.taskCount,
        itemCount: this.itemCount,
        done: p.done,
        settled: p.settled,
        itemsPerSecond: rate * this.itemsPerTask,
        etaMs: rate > 0 ? ((this.taskCount - p.settled) / rate) * 1000 : undefined
      }
    })
  }

  /** @internal A task settled (the requester's verdict event, its result stored). */
  verdict(e: VerdictEvent): void {
    for (const listener of this.listeners) {
      listener(e)
    }
  }

  private end(): BatchSummary {
    this.ended = true
    for (const listener of this.listeners) {
      listener(undefined)
    }
    return this.summary()
  }

  /** Stops handing out tasks; results already accepted stay readable. */
  cancel(): void {
    this.ctx.cancel()
  }

  summary(): BatchSummary {
    const live = this.ctx.summary()
    const restored = live == null ? this.ctx.store.restoredCounts(this.id) : undefined
    const counts = live ?? restored
    const settled = live?.settled ?? this.ctx.store.settledCount(this.id)
    const seconds = (performance.now() - this.started) / 1000
    return {
      jobId: this.id,
      taskCount: this.taskCount,
      itemCount: this.itemCount,
      settled,
      agreed: counts?.agreed ?? 0,
      unsampled: counts?.unsampled ?? 0,
      disputed: counts?.disputed ?? 0,
      unresolved: counts?.unresolved ?? 0,
      canariesPassed: counts?.canariesPassed ?? 0,
      failed: counts?.failed ?? 0,
      audited: counts?.audited ?? 0,
      fraudProofs: counts?.fraudProofs ?? 0,
      missing: this.ended ? this.taskCount - settled : 0,
      durationMs: seconds * 1000,
      itemsPerSecond: seconds > 0 ? ((settled - this.settledAtStart) * this.itemsPerTask) / seconds : 0
    }
  }

  /**
   * The job's settled results, each with its verification status. Ends when every task's result
   * was yielded, or when the job ended (deadline, cancel) and nothing more will come. Results
   * settled before the call are replayed from the store; later ones come as they settle.
   */
  async *results(options: ResultsOptions = {}): AsyncGenerator<BatchResult> {
    const { signal } = options
    const aborted = new Promise<never>((_, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
    aborted.catch(() => {})
    // Subscribed before the store is read, so nothing settles unseen in between.
    const feed: Feed = { events: [], overflowed: false }
    let wake = Promise.withResolvers<void>()
    const listener = (e: VerdictEvent | undefined) => {
      if (e != null) {
        if (feed.events.length < BUFFERED_RESULTS) {
          feed.events.push(e)
        } else {
          feed.overflowed = true // the store has it: read back when reached
        }
      }
      wake.resolve()
    }
    this.listeners.add(listener)
    try {
      const source = options.order === 'completion' ? this.inCompletionOrder(feed) : this.inInputOrder(feed)
      while (true) {
        signal?.throwIfAborted()
        const ended = this.ended
        const step = source.next(ended)
        if (step === 'done') {
          return
        }
        if (step === 'wait') {
          if (ended) {
            return
          }
          await Promise.race([wake.promise, aborted])
          wake = Promise.withResolvers()
          continue
        }
        yield* this.toResults(step)
      }
    } finally {
      this.listeners.delete(listener)
    }
  }

  /** Completion order: the store's settled rows first, by sequence number, then live verdicts. */
  private inCompletionOrder(feed: Feed) {
    let seq = 0
    let replaying = true
    const yielded = new Set<number>()
    const revisedYielded = new Set<number>()
    let pending: Settled[] = []
    const fresh = (r: Settled) => (r.revised === true ? !revisedYielded.has(r.index) : !yielded.has(r.index))
    const take = (r: Settled): Settled => {
      ;(r.revised === true ? revisedYielded : yielded).add(r.index)
      return r
    }
    return {
      next: (): Settled | 'wait' | 'done' => {
        while (true) {
          if (yielded.size >= this.taskCount && pending.length === 0 && feed.events.length === 0) {
            return 'done'
          }
          const r = pending.shift()
          if (r != null) {
            if (fresh(r)) {
              return take(r)
            }
            continue
          }
          if (replaying || feed.overflowed) {
            feed.overflowed = false
            const rows = this.ctx.store.settledSince(this.id, seq, 256)
            if (rows.length > 0) {
              seq = (rows.at(-1) as { seq: number }).seq
              pending = rows
              continue
            }
            replaying = false
          }
          const e = feed.events.shift()
          if (e == null) {
            return 'wait'
          }
          pending.push(fromEvent(e))
        }
      }
    }
  }

  /**
   * Input order: a gap waits for its task (unless the job ended: then it is skipped). Results that
   * settled before the iterator began, or were not held for it, are read back from the store.
   */
  private inInputOrder(feed: Feed) {
    let next = 0
    const ahead = new Map<number, Settled>()
    let ready: Settled[] = []
    // Whether the store may hold `next` although no event brought it: at the start, after an
    // overflow, and after moving to a task whose verdict may predate this iterator.
    let mayBeStored = true
    return {
      next: (ended: boolean): Settled | 'wait' | 'done' => {
        while (true) {
          const r = ready.shift()
          if (r != null) {
            return r
          }
          if (next >= this.taskCount) {
            return 'done'
          }
          if (feed.overflowed) {
            feed.overflowed = false
            ahead.clear() // what was dropped is read back, with the rest, from the store
            mayBeStored = true
          }
          for (let e = feed.events.shift(); e != null; e = feed.events.shift()) {
            if (e.verdict.task >= next) {
              ahead.set(e.verdict.task, fromEvent(e)) // a revised verdict replaces one not yet yielded
            }
          }
          const held = ahead.get(next)
          if (held != null) {
            ahead.delete(next)
            next++
            mayBeStored = true
            return held
          }
          if (!mayBeStored && !ended) {
            return 'wait' // `next` has not settled: its verdict will come as an event
          }
          // Not held: settled before this iterator began (or dropped), or not settled yet. The
          // store's index of verdicts says which, without reading a result.
          const settled = this.ctx.store.settledTasks(this.id, next, 256)
          let run = 0
          while (run < settled.length && settled[run] === next + run) {
            run++
          }
          if (run === 0 && ended && settled.length > 0) {
            next = settled[0] as number // the job ended: a gap will never fill
            continue
          }
          if (run > 0) {
            ready = this.ctx.store.results(this.id, next, run).filter((row) => row.status != null)
            for (const row of ready) {
              ahead.delete(row.index)
            }
            next += run
            continue
          }
          mayBeStored = false
          return ended ? 'done' : 'wait'
        }
      }
    }
  }

  /**
   * A settled task's results, one per item it carries (§6.8). Its signed result was verified when
   * it was accepted, so it is only decoded here.
   */
  private toResults(row: Settled): BatchResult[] {
    const message = decodeOpened(STATEMENTS.result, row.result)
    const verification: Verification = {
      status: row.status ?? 'unsampled',
      worker: row.worker,
      reputation: row.reputation,
      revised: row.revised === true
    }
    const { start, count } = this.ctx.items.itemsOf(row.index)
    const item = (i: number, outputs: Tensor[], failure?: TaskFailureInfo): BatchResult => ({
      index: start + i,
      task: row.index,
      outputs: toOutputs(outputs),
      ...(failure == null ? {} : { failure }),
      verification,
      signed: row.result
    })
    const f = message.failure
    if (f != null) {
      const failure = { kind: f.kind, message: f.message, transient: !isDeterministicFailure(f.kind) }
      return Array.from({ length: count }, (_, i) => item(i, [], failure))
    }
    let rows: Tensor[][]
    try {
      rows = splitRows(message.outputs, count)
    } catch (err) {
      // The model's outputs have no row per item (no batch dimension): nothing to give each item.
      const failure = {
        kind: FailureKind.INFERENCE_FAILED,
        message: `${(err as Error).message}; submit this model with itemsPerTask: 1`,
        transient: false
      }
      return Array.from({ length: count }, (_, i) => item(i, [], failure))
    }
    return rows.map((outputs, i) => item(i, outputs))
  }
}
