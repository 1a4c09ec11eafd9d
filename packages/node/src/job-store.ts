/**
 * Where a requester keeps its jobs (spec §6.5): each job's signed announcement, policy and inputs,
 * its leases, every accepted result with its receipt, and every verdict. `RequesterService` writes
 * through it — a result is durable before its receipt goes out and before the core counts its task
 * done — and resumes from it after a restart. Two implementations pass one contract suite:
 * `MemoryJobStore` (tests, short-lived jobs) and `SqliteJobStore` (a peer's `jobs.db`).
 *
 * The store decides nothing: whose result is a task's result is the core's verdict
 * (`verdict.worker`); the store looks up that worker's run.
 */

import {
  type JobPolicy,
  resolveJobPolicy,
  type TaskState,
  type Verdict,
  type VerificationCounts,
  type VerificationStatus
} from '@openbatch/core'
import {
  decodeBounded,
  encodedTask,
  type FailureKind,
  type ItemPacking,
  MAX_FRAME_BYTES,
  open,
  STATEMENTS,
  Task,
  type Tensor,
  taskEncodingLength,
  tensorSetDigest,
  toHex
} from '@openbatch/protocol'
import { InvalidJobError, UnknownJobError } from './errors.js'

/**
 * A job's policy as stored: the core's, with the reputation threshold claims are refused below,
 * and how the submitter packed items into tasks (§6.8; the requester does not read it — a resumed
 * job's results unpack by it).
 */
export type StoredPolicy = JobPolicy & { minReputation?: number; items?: ItemPacking }

/** A stored job without its tasks. */
export interface JobRecord {
  jobId: string
  /** The signed announcement (§3.3). */
  announcement: Uint8Array
  /** Everything else the job runs by (lease, check wait, …), so a resumed job runs as before. */
  policy: StoredPolicy
  /** When it was stored (ms since the epoch). */
  createdAt?: number
  /** When it was cancelled (ms since the epoch): a cancelled job is not resumed (§6.5). */
  cancelledAt?: number
}

export interface StoredTask {
  index: number
  state: TaskState
  worker?: string
  leaseExpiresAt?: number
}

/** A stored job with the tasks that left the pending state (leased or done), for `RequesterService.resume`. */
export interface StoredJob extends JobRecord {
  tasks: StoredTask[]
}

export interface StoredResult {
  index: number
  worker: string
  /** The signed TaskResult envelope. */
  result: Uint8Array
  receipt: Uint8Array
  status?: VerificationStatus
  reputation?: number
  /** The verdict replaced an earlier one (the task was audited, §7.5). */
  revised?: boolean
  /** The task could not run: its result is this failure (§6.6). */
  failure?: FailureKind
}

/** Events a job's counts hold that verdicts do not record. */
export type CountedEvent = 'canariesPassed' | 'fraudProofs' | 'audited'

/** An accepted result to store (`JobStore.accept`). */
export interface AcceptedRun {
  task: number
  worker: string
  /** The signed TaskResult envelope. */
  result: Uint8Array
  receipt: Uint8Array
  /** A re-run's or canary's result (§7.2, §7.4), not the task's first. */
  check?: boolean
  /** The task could not run: its result is this failure (§6.6). */
  failure?: FailureKind
}

/**
 * How long a write behind (a lease, a verdict, a count) may stay in memory before it is made
 * durable, ms, when no accepted result makes it durable sooner.
 */
export const WRITE_BEHIND_MS = 50

export interface StageOptions {
  /** The job's policy (from `resolveJobPolicy`), stored with it. */
  policy: StoredPolicy
  /** Inputs written per transaction (and at most 4 MiB of them). @default 1024 */
  chunk?: number
}

export interface JobStore {
  /**
   * Stages a job's inputs — an array, iterable or async iterable, streamed: never all in memory —
   * under `jobId`; then calls `announce(taskCount)` for the signed announcement and records the
   * job. Until that last step the job does not exist (a restart drops its staged inputs).
   */
  stageJob(
    jobId: string,
    inputs: Iterable<Tensor[]> | AsyncIterable<Tensor[]>,
    announce: (taskCount: number) => Promise<Uint8Array>,
    options: StageOptions
  ): Promise<Uint8Array>
  /** Inputs of task `index` (RangeError when the job has no such input). */
  inputs(jobId: string, index: number): Tensor[]
  /** The §2.3 input digest of task `index`, computed once when the job was staged. */
  inputDigest(jobId: string, index: number): Uint8Array
  /** Every stored job, oldest first, without tasks. */
  listJobs(): JobRecord[]
  getJob(jobId: string): JobRecord | undefined
  /** Stored jobs (all, or those of `only`) with their tasks, for `RequesterService.resume`. */
  jobs(only?: readonly string[]): StoredJob[]
  /**
   * Marks the job cancelled at `at` (the first time counts), durably at once: it is not resumed
   * (§6.5), and a peer serving it from another process stops handing out its tasks. False when
   * there is no such job.
   */
  cancel(jobId: string, at: number): boolean

  /**
   * These tasks are leased to `worker` until `expiresAt` (first runs; checks are not stored).
   * Written behind (spec §6.5): durable with the next `accept` or `flush`, at most
   * WRITE_BEHIND_MS later; a lease lost in a crash only sends its tasks out again.
   */
  lease(jobId: string, worker: string, tasks: number[], expiresAt: number): void | Promise<void>
  /** These tasks are pending again (written behind, like `lease`). */
  release(jobId: string, tasks: number[]): void | Promise<void>
  /**
   * Accepted results of one job — a result submission's (§6.3): first runs, and re-runs' or
   * canaries' (`check`, §7.2, §7.4) — stored together: all or none, durable before it returns (one
   * sync for the lot, together with the writes behind it). The receipts are sent, and the tasks
   * counted, only afterwards. A throw means none of them is stored.
   */
  accept(jobId: string, runs: readonly AcceptedRun[]): void | Promise<void>
  /**
   * The task's verdict: its result is `verdict.worker`'s run (§6.5); a revised verdict replaces the
   * earlier one and comes again in `settledSince`. Written behind, like `lease`: a verdict lost in
   * a crash is an open verification, which a restart settles `unsampled` (§6.5).
   */
  verdict(jobId: string, verdict: Verdict): void | Promise<void>
  /** Counts an event verdicts do not record, so a resumed job's summary covers it (written behind). */
  count(jobId: string, name: CountedEvent): void | Promise<void>
  /** Makes the writes behind (leases, verdicts, counts) durable now. */
  flush(): void | Promise<void>
  /**
   * The job is over: every task settled, or its deadline passed. Nothing is written; what the store
   * keeps in memory to serve the job (SqliteJobStore: its staged inputs) may go.
   */
  ended?(jobId: string): void

  /** The signed result first accepted for a task (to audit it, §7.5). */
  firstResult(jobId: string, task: number): Uint8Array | undefined
  /**
   * Accepted first results in task order from `from`, at most `limit`, each as its verdict
   * settled it (the verdict's worker's run): `status` is undefined while verification is open.
   */
  results(jobId: string, from?: number, limit?: number): StoredResult[]
  /** Settled results in the order they settled, after sequence number `afterSeq`, at most `limit`. */
  settledSince(jobId: string, afterSeq: number, limit?: number): (StoredResult & { seq: number })[]
  /** Indexes of tasks with a verdict, ascending, from `from`, at most `limit` (cheap: no results read). */
  settledTasks(jobId: string, from: number, limit: number): number[]
  /** Tasks with a verdict. */
  settledCount(jobId: string): number
  /** Tasks with an accepted first result. */
  resultCount(jobId: string): number
  /** A job's counts so far, for its summary after a restart (spec §6.5). */
  restoredCounts(jobId: string): VerificationCounts
  /**
   * After a restart: results whose verification was open get an `unsampled` verdict (their
   * reputation unknown), as §6.5 says. Returns how many.
   */
  settleOrphans(jobId: string): number
  close(): void
}

/** Checks a staged job's announcement against its inputs; returns its id. */
export async function checkAnnouncement(jobId: string | undefined, taskCount: number, announcement: Uint8Array): Promise<string> {
  const { message } = await open(STATEMENTS.job, announcement)
  const id = toHex(message.jobId)
  if ((jobId != null && id !== jobId) || BigInt(taskCount) !== message.taskCount) {
    throw new InvalidJobError(
      `the announcement (${message.taskCount} tasks, job ${id}) does not match the staged job (${taskCount} inputs under ${jobId ?? id})`
    )
  }
  return id
}

/** Bytes an assignment of one task adds besides the task's encoding: its id, the assignment's fields, framing. */
const ONE_TASK_FRAME_OVERHEAD = 1024

/**
 * Refuses (InvalidJobError) task `index` whose encoding takes `bytes`, if it would not fit one frame
 * alone: it could never be assigned, so staging refuses it instead of leaving it pending forever.
 */
function checkTaskSize(index: number, bytes: number): void {
  if (bytes + ONE_TASK_FRAME_OVERHEAD > MAX_FRAME_BYTES) {
    throw new InvalidJobError(
      `task ${index}'s inputs take ${bytes} bytes: no assignment frame (${MAX_FRAME_BYTES} bytes) could carry it (§6.2)`
    )
  }
}

/** A task's inputs as stored (§6.2's Task message without its id); refuses one no frame could carry. */
export function encodeInputs(index: number, inputs: Tensor[]): Uint8Array {
  // A packed task was encoded as it was stacked (§6.8): its bytes are taken as they are.
  const bytes = encodedTask(inputs, index) ?? Task.encode({ taskId: new Uint8Array(), index: BigInt(index), inputs })
  checkTaskSize(index, bytes.byteLength)
  return bytes
}

export function decodeInputs(bytes: Uint8Array): Tensor[] {
  return decodeBounded(Task, bytes, MAX_FRAME_BYTES, 'stored task').inputs
}

interface Run {
  result: Uint8Array
  receipt: Uint8Array
  failure?: FailureKind
}

interface MemoryJob {
  record: JobRecord
  /** The caller's tensors themselves, not copies: a task's bytes reach the wire as views (§6.2). */
  inputs: Tensor[][]
  /** §2.3 input digests, computed at staging. */
  digests: Uint8Array[]
  tasks: Map<number, StoredTask>
  /** The first accepted run of each task. */
  first: Map<number, { worker: string } & Run>
  /** Every accepted run, by task and worker. */
  runs: Map<number, Map<string, Run>>
  verdicts: Map<number, Verdict & { seq: number; orphan?: boolean }>
  counters: Record<CountedEvent, number>
  /** Written to without being staged (its inputs served by the caller): not listed, not resumed. */
  unstaged?: boolean
}

function newJob(record: JobRecord): MemoryJob {
  return {
    record,
    inputs: [],
    digests: [],
    tasks: new Map(),
    first: new Map(),
    runs: new Map(),
    verdicts: new Map(),
    counters: { canariesPassed: 0, fraudProofs: 0, audited: 0 }
  }
}

/**
 * Keeps everything in memory (tests, short-lived jobs). It keeps the staged tensors themselves, not
 * copies (they go to the wire as views, §6.2): a caller must not change them while the job runs.
 */
export class MemoryJobStore implements JobStore {
  private readonly store = new Map<string, MemoryJob>()
  private seq = 0

  async stageJob(
    jobId: string,
    inputs: Iterable<Tensor[]> | AsyncIterable<Tensor[]>,
    announce: (taskCount: number) => Promise<Uint8Array>,
    options: StageOptions
  ): Promise<Uint8Array> {
    if (this.getJob(jobId) != null) {
      throw new InvalidJobError(`job ${jobId} is already stored`)
    }
    const staged: Tensor[][] = []
    const digests: Uint8Array[] = []
    for await (const tensors of inputs) {
      // the size of the encoding, not the encoding: these tensors go to the wire as they are
      checkTaskSize(staged.length, taskEncodingLength({ taskId: new Uint8Array(), index: BigInt(staged.length), inputs: tensors }))
      staged.push([...tensors])
      digests.push(tensorSetDigest(tensors))
    }
    const announcement = await announce(staged.length)
    await checkAnnouncement(jobId, staged.length, announcement)
    this.store.set(jobId, { ...newJob({ jobId, announcement, policy: { ...options.policy } }), inputs: staged, digests })
    return announcement
  }

  private job(jobId: string): MemoryJob {
    const job = this.store.get(jobId)
    if (job == null) {
      throw new UnknownJobError(jobId)
    }
    return job
  }

  /** A job's records for a write: a job served with inputs of the caller's own was never staged. */
  private written(jobId: string): MemoryJob {
    let job = this.store.get(jobId)
    if (job == null) {
      job = { ...newJob({ jobId, announcement: new Uint8Array(), policy: resolveJobPolicy() }), unstaged: true }
      this.store.set(jobId, job)
    }
    return job
  }

  inputs(jobId: string, index: number): Tensor[] {
    const tensors = this.job(jobId).inputs[index]
    if (tensors == null) {
      throw new RangeError(`job ${jobId} has no input ${index}`)
    }
    return [...tensors]
  }

  inputDigest(jobId: string, index: number): Uint8Array {
    const digest = this.job(jobId).digests[index]
    if (digest == null) {
      throw new RangeError(`job ${jobId} has no input ${index}`)
    }
    return digest
  }

  listJobs(): JobRecord[] {
    return [...this.store.values()].filter((j) => j.unstaged !== true).map((j) => ({ ...j.record }))
  }

  getJob(jobId: string): JobRecord | undefined {
    const j = this.store.get(jobId)
    return j == null || j.unstaged === true ? undefined : { ...j.record }
  }

  cancel(jobId: string, at: number): boolean {
    const j = this.store.get(jobId)
    if (j == null || j.unstaged === true) {
      return false
    }
    j.record.cancelledAt ??= at
    return true
  }

  jobs(only?: readonly string[]): StoredJob[] {
    const ids = only ?? [...this.store.keys()]
    return ids.flatMap((id) => {
      const j = this.store.get(id)
      return j == null || j.unstaged === true ? [] : [{ ...j.record, tasks: [...j.tasks.values()].map((t) => ({ ...t })) }]
    })
  }

  lease(jobId: string, worker: string, tasks: number[], expiresAt: number): void {
    const job = this.written(jobId)
    for (const index of tasks) {
      job.tasks.set(index, { index, state: 1 as TaskState, worker, leaseExpiresAt: expiresAt })
    }
  }

  release(jobId: string, tasks: number[]): void {
    const job = this.written(jobId)
    for (const index of tasks) {
      if (job.tasks.get(index)?.state === 1) {
        job.tasks.delete(index)
      }
    }
  }

  accept(jobId: string, runs: readonly AcceptedRun[]): void {
    const job = this.written(jobId)
    // All or none: every run is checked before any is kept.
    const firsts = new Set<number>()
    for (const r of runs) {
      if (r.check !== true && (job.first.has(r.task) || firsts.has(r.task))) {
        throw new InvalidJobError(`task ${r.task} of job ${jobId} already has a first result`)
      }
      if (r.check !== true) {
        firsts.add(r.task)
      }
    }
    for (const { task, worker, result, receipt, failure, check } of runs) {
      this.run(job, task, worker, check === true ? { result, receipt } : { result, receipt, failure })
      if (check !== true) {
        job.first.set(task, { worker, result, receipt, failure })
        job.tasks.set(task, { index: task, state: 2 as TaskState, worker, leaseExpiresAt: undefined })
      }
    }
  }

  flush(): void {}

  private run(job: MemoryJob, task: number, worker: string, run: Run): void {
    let byWorker = job.runs.get(task)
    if (byWorker == null) {
      byWorker = new Map()
      job.runs.set(task, byWorker)
    }
    byWorker.set(worker, run)
  }

  verdict(jobId: string, verdict: Verdict): void {
    const job = this.written(jobId)
    job.verdicts.set(verdict.task, { ...verdict, seq: ++this.seq })
  }

  count(jobId: string, name: CountedEvent): void {
    this.written(jobId).counters[name]++
  }

  firstResult(jobId: string, task: number): Uint8Array | undefined {
    return this.store.get(jobId)?.first.get(task)?.result
  }

  /** A task's result as its verdict (if any) settled it: the verdict's worker's run. */
  private settled(job: MemoryJob, task: number): StoredResult | undefined {
    const first = job.first.get(task)
    if (first == null) {
      return undefined
    }
    const v = job.verdicts.get(task)
    if (v == null) {
      return { index: task, worker: first.worker, result: first.result, receipt: first.receipt, failure: first.failure, revised: false }
    }
    const run = job.runs.get(task)?.get(v.worker) ?? first
    return {
      index: task,
      worker: v.worker,
      result: run.result,
      receipt: run.receipt,
      status: v.status,
      reputation: v.orphan === true ? undefined : v.reputation,
      revised: v.revised === true,
      failure: v.failure
    }
  }

  results(jobId: string, from = 0, limit = Number.MAX_SAFE_INTEGER): StoredResult[] {
    const job = this.store.get(jobId)
    if (job == null) {
      return []
    }
    const tasks = [...job.first.keys()].filter((t) => t >= from).sort((a, b) => a - b)
    return tasks.slice(0, limit).map((t) => this.settled(job, t) as StoredResult)
  }

  settledSince(jobId: string, afterSeq: number, limit = 1024): (StoredResult & { seq: number })[] {
    const job = this.store.get(jobId)
    if (job == null) {
      return []
    }
    return [...job.verdicts.values()]
      .filter((v) => v.seq > afterSeq && job.first.has(v.task))
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit)
      .map((v) => ({ ...(this.settled(job, v.task) as StoredResult), seq: v.seq }))
  }

  settledTasks(jobId: string, from: number, limit: number): number[] {
    const job = this.store.get(jobId)
    if (job == null) {
      return []
    }
    return [...job.verdicts.keys()]
      .filter((t) => t >= from)
      .sort((a, b) => a - b)
      .slice(0, limit)
  }

  settledCount(jobId: string): number {
    return this.store.get(jobId)?.verdicts.size ?? 0
  }

  resultCount(jobId: string): number {
    return this.store.get(jobId)?.first.size ?? 0
  }

  restoredCounts(jobId: string): VerificationCounts {
    const job = this.store.get(jobId)
    const counts: VerificationCounts = {
      agreed: 0,
      unsampled: 0,
      disputed: 0,
      unresolved: 0,
      canariesPassed: 0,
      fraudProofs: 0,
      audited: 0,
      failed: 0
    }
    if (job == null) {
      return counts
    }
    for (const v of job.verdicts.values()) {
      counts[v.status]++
      if (v.failure != null) {
        counts.failed++
      }
    }
    return { ...counts, ...job.counters }
  }

  settleOrphans(jobId: string): number {
    const job = this.job(jobId)
    let n = 0
    for (const [task, first] of job.first) {
      if (!job.verdicts.has(task)) {
        job.verdicts.set(task, {
          task,
          status: 'unsampled',
          worker: first.worker,
          reputation: -1,
          orphan: true,
          seq: ++this.seq,
          ...(first.failure == null ? {} : { failure: first.failure })
        })
        n++
      }
    }
    return n
  }

  close(): void {}
}
