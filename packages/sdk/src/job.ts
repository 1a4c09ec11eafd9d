/**
 * A submitted batch: progress events, its results (in input order or as they settle) each with
 * its verification status, a summary, and cancel(). Results are read back from the job store, so
 * a handle made after a restart yields everything accepted before it.
 */

import type { VerificationStatus, VerifiedJobSummary } from '@openbatch/core'
import type { SqliteJobStore, StoredResult } from '@openbatch/node'
import { type FailureKind, isDeterministicFailure, open, STATEMENTS, type Tensor } from '@openbatch/protocol'
import { TypedEventEmitter } from 'main-event'
import { byName } from './inputs.js'

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
  /** Output tensors by name (empty when `failure` is set). */
  outputs: Record<string, Tensor>
  /** Set when the item could not run: why. */
  failure?: TaskFailureInfo
  verification: Verification
  /** The worker's signed result (spec §3.5): proof of who computed it. */
  signed: Uint8Array
}

export interface BatchProgress {
  jobId: string
  taskCount: number
  /** Tasks with an accepted result. */
  done: number
  /** Tasks settled (verified or standing on reputation): their results can be read. */
  settled: number
  /** Settled results per second since the job started (or was resumed). */
  itemsPerSecond: number
  /** Estimated time to settle the rest, in ms (undefined until there is a rate). */
  etaMs?: number
}

export interface BatchSummary {
  jobId: string
  taskCount: number
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
  store: SqliteJobStore
  summary: () => VerifiedJobSummary | undefined
  cancel: () => void
  done: Promise<void>
}

export class BatchJob extends TypedEventEmitter<BatchJobEvents> {
  readonly id: string
  readonly taskCount: number
  /** Resolves with the summary when every task has settled; rejects when the deadline passes or the job is cancelled. */
  readonly finished: Promise<BatchSummary>
  private wake = Promise.withResolvers<void>()
  private ended = false
  private readonly started = performance.now()
  private readonly settledAtStart: number
  /** Tasks with a verdict: counted once from the store, then one per first verdict (no query per event). */
  private settled: number

  /** @internal */
  constructor(private readonly ctx: JobContext) {
    super()
    this.id = ctx.jobId
    this.taskCount = ctx.taskCount
    this.settledAtStart = ctx.store.settledCount(ctx.jobId)
    this.settled = this.settledAtStart
    this.finished = ctx.done.then(
      () => this.end(),
      (err: unknown) => {
        this.end()
        throw err
      }
    )
    this.finished.catch(() => {})
  }

  /** @internal A task progressed; `settled`: a task got its first verdict. */
  notify(settled = false): void {
    if (settled) {
      this.settled++
    }
    const s = this.summary()
    const elapsed = (performance.now() - this.started) / 1000
    const rate = elapsed > 0 ? (s.settled - this.settledAtStart) / elapsed : 0
    this.safeDispatchEvent('progress', {
      detail: {
        jobId: this.id,
        taskCount: this.taskCount,
        done: this.ctx.summary()?.done ?? s.settled,
        settled: s.settled,
        itemsPerSecond: rate,
        etaMs: rate > 0 ? ((this.taskCount - s.settled) / rate) * 1000 : undefined
      }
    })
    this.wake.resolve()
    this.wake = Promise.withResolvers()
  }

  private end(): BatchSummary {
    this.ended = true
    this.wake.resolve()
    return this.summary()
  }

  /** Stops handing out tasks; results already accepted stay readable. */
  cancel(): void {
    this.ctx.cancel()
  }

  summary(): BatchSummary {
    const live = this.ctx.summary()
    const settled = this.settled
    const seconds = (performance.now() - this.started) / 1000
    return {
      jobId: this.id,
      taskCount: this.taskCount,
      settled,
      agreed: live?.agreed ?? 0,
      unsampled: live?.unsampled ?? 0,
      disputed: live?.disputed ?? 0,
      unresolved: live?.unresolved ?? 0,
      canariesPassed: live?.canariesPassed ?? 0,
      failed: live?.failed ?? this.ctx.store.failedCount(this.id),
      audited: live?.audited ?? 0,
      fraudProofs: live?.fraudProofs ?? 0,
      missing: this.ended ? this.taskCount - settled : 0,
      durationMs: seconds * 1000,
      itemsPerSecond: seconds > 0 ? (settled - this.settledAtStart) / seconds : 0
    }
  }

  /**
   * The job's settled results, each with its verification status. Ends when every task's result
   * was yielded, or when the job ended (deadline, cancel) and nothing more will come.
   */
  async *results(options: ResultsOptions = {}): AsyncGenerator<BatchResult> {
    const { signal } = options
    const aborted = new Promise<never>((_, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
    aborted.catch(() => {})
    let yielded = 0
    let next = 0
    let seq = 0
    while (yielded < this.taskCount) {
      signal?.throwIfAborted()
      const wake = this.wake.promise
      const ended = this.ended
      let progressed = false
      if (options.order === 'completion') {
        for (const row of this.ctx.store.settledSince(this.id, seq, 256)) {
          seq = row.seq
          yielded++
          progressed = true
          yield await this.toResult(row)
        }
      } else {
        for (const row of this.ctx.store.results(this.id, next, 256)) {
          // In input order a gap waits for its task, unless the job has ended (then it is skipped).
          if ((row.index !== next && !ended) || row.status == null) {
            break
          }
          next = row.index + 1
          yielded++
          progressed = true
          yield await this.toResult(row)
        }
      }
      if (!progressed) {
        if (ended) {
          return
        }
        await Promise.race([wake, aborted])
      }
    }
  }

  private async toResult(row: StoredResult): Promise<BatchResult> {
    const opened = await open(STATEMENTS.result, row.result)
    const f = opened.message.failure
    return {
      index: row.index,
      outputs: byName(opened.message.outputs),
      ...(f == null ? {} : { failure: { kind: f.kind, message: f.message, transient: !isDeterministicFailure(f.kind) } }),
      verification: { status: row.status ?? 'unsampled', worker: row.worker, reputation: row.reputation, revised: row.revised === true },
      signed: row.result
    }
  }
}
