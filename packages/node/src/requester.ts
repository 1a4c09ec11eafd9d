/**
 * The requester's service: runs each job's sans-IO RequesterJob against the work protocols
 * (spec §6.2, §6.3). It answers claims with inputs under a lease, checks every result (signature,
 * signer = sender, job, model, input digest, assignment), stores accepted results through a
 * JobStore, and answers each with a signed receipt. The wall clock and the lease timer live here,
 * at the edge; all decisions are RequesterJob's.
 */

import type { AbortOptions, PeerId } from '@libp2p/interface'
import { type JobAction, RequesterJob, TaskState } from '@openbatch/core'
import {
  type Assignment,
  DEFAULT_LEASE_MS,
  deriveTaskId,
  ErrorCode,
  type JobAnnouncement,
  type Opened,
  open,
  peerIdBytes,
  type Receipt,
  type ResultStatus,
  STATEMENTS,
  seal,
  sha256,
  type TaskClaim,
  type TaskResult,
  type Tensor,
  tensorSetDigest,
  toHex
} from '@openbatch/protocol'
import { equals } from 'uint8arrays/equals'
import type { OpenbatchPeer } from './peer.js'
import type { SqliteJobStore, StoredJob } from './sqlite-store.js'
import type { WorkHandlers } from './work.js'

/** Where a requester keeps leases and accepted results (the SQLite store implements it). */
export interface JobStore {
  lease(jobId: string, worker: string, tasks: number[], expiresAt: number): void | Promise<void>
  release(jobId: string, tasks: number[]): void | Promise<void>
  /** Must be durable before it returns: the receipt is sent only afterwards. */
  accept(jobId: string, task: number, worker: string, result: Uint8Array, receipt: Uint8Array): void | Promise<void>
}

/** Keeps everything in memory (tests, short-lived jobs). */
export class MemoryJobStore implements JobStore {
  readonly results = new Map<string, Map<number, { worker: string; result: Uint8Array; receipt: Uint8Array }>>()
  lease(): void {}
  release(): void {}
  accept(jobId: string, task: number, worker: string, result: Uint8Array, receipt: Uint8Array): void {
    let job = this.results.get(jobId)
    if (job == null) {
      job = new Map()
      this.results.set(jobId, job)
    }
    job.set(task, { worker, result, receipt })
  }
}

export interface AddJobInit {
  /** The job's signed announcement (signed by this peer). */
  announcement: Uint8Array
  /** Inputs of task `index`. */
  inputs: (index: number) => Tensor[] | Promise<Tensor[]>
  /** @default DEFAULT_LEASE_MS */
  leaseMs?: number
  /** Persisted task states, when resuming after a restart (see `resume`). */
  restore?: StoredJob['tasks']
}

export interface JobProgress {
  jobId: string
  done: number
  taskCount: number
}

interface Entry {
  announcement: Opened<JobAnnouncement>
  job: RequesterJob
  inputs: AddJobInit['inputs']
  /** Input digests of leased tasks, to check results against. */
  digests: Map<number, Uint8Array>
  timer?: ReturnType<typeof setTimeout>
  complete: PromiseWithResolvers<void>
}

export interface RequesterServiceInit {
  store?: JobStore
  /** Called after each accepted result. */
  onProgress?: (progress: JobProgress) => void
  /** Called for each rejected result with the sender and the code (feeds reputation, spec §7.6). */
  onRejected?: (worker: PeerId, code: ErrorCode) => void
}

export class RequesterService implements WorkHandlers {
  private readonly jobs = new Map<string, Entry>()
  private readonly store: JobStore

  constructor(
    private readonly peer: OpenbatchPeer,
    private readonly init: RequesterServiceInit = {}
  ) {
    this.store = init.store ?? new MemoryJobStore()
    peer.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** A worker that disconnects has its leased tasks re-queued at once (spec §6.5). */
  private readonly onDisconnect = (evt: CustomEvent<PeerId>) => {
    const worker = evt.detail.toString()
    for (const [jobId, entry] of this.jobs) {
      void this.apply(jobId, entry, entry.job.workerGone(Date.now(), worker))
    }
  }

  /** Starts serving a job; resolves its `done` promise when every task has an accepted result. */
  async addJob(init: AddJobInit): Promise<{ jobId: string; done: Promise<void> }> {
    const announcement = await open(STATEMENTS.job, init.announcement)
    if (!announcement.signer.equals(this.peer.peerId)) {
      throw new Error('the announcement is signed by another peer; a requester serves only its own jobs')
    }
    const a = announcement.message
    const jobId = toHex(a.jobId)
    const params = {
      taskCount: Number(a.taskCount),
      maxBatch: a.maxBatch,
      deadline: Number(a.deadlineMs),
      leaseMs: init.leaseMs ?? DEFAULT_LEASE_MS
    }
    const job = init.restore == null ? new RequesterJob(params) : RequesterJob.restore(params, init.restore)
    const entry: Entry = { announcement, job, inputs: init.inputs, digests: new Map(), complete: Promise.withResolvers() }
    entry.complete.promise.catch(() => {}) // callers that never await `done` must not see an unhandled rejection
    this.jobs.set(jobId, entry)
    if (job.summary().done === job.taskCount) {
      entry.complete.resolve()
    } else {
      await this.apply(jobId, entry, job.tick(Date.now()))
    }
    return { jobId, done: entry.complete.promise }
  }

  /**
   * Resumes every unfinished job of a SQLite store after a restart: accepted results stay
   * accepted, live leases are honoured until they expire, everything else is handed out again.
   */
  async resume(store: SqliteJobStore): Promise<{ jobId: string; done: Promise<void> }[]> {
    const resumed = []
    for (const job of store.jobs()) {
      resumed.push(
        await this.addJob({
          announcement: job.announcement,
          leaseMs: job.leaseMs,
          restore: job.tasks,
          inputs: (i) => store.inputs(job.jobId, i)
        })
      )
    }
    return resumed
  }

  /** Stops serving every job and clears its timers. */
  stop(): void {
    this.peer.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const entry of this.jobs.values()) {
      clearTimeout(entry.timer)
      entry.job.close()
    }
  }

  summary(jobId: string) {
    return this.jobs.get(jobId)?.job.summary()
  }

  async claim(remote: PeerId, claim: TaskClaim, _options: AbortOptions): Promise<Assignment> {
    const jobId = toHex(claim.jobId)
    const entry = this.jobs.get(jobId)
    const empty = { jobId: claim.jobId, model: new Uint8Array(), tasks: [], leaseExpiresAtMs: 0n }
    if (entry == null) {
      return { ...empty, code: ErrorCode.UNKNOWN_JOB, message: 'no such job here' }
    }
    const { outcome, actions } = entry.job.claim(Date.now(), remote.toString(), claim.maxTasks)
    await this.apply(jobId, entry, actions)
    if (outcome.code !== 'OK') {
      return { ...empty, code: ErrorCode[outcome.code], message: '' }
    }
    const a = entry.announcement.message
    const tasks = await Promise.all(
      outcome.tasks.map(async (index) => {
        const inputs = await entry.inputs(index)
        const digest = tensorSetDigest(inputs)
        entry.digests.set(index, digest)
        return { taskId: deriveTaskId(a.jobId, index, a.model, digest), index: BigInt(index), inputs }
      })
    )
    return { code: ErrorCode.OK, jobId: a.jobId, model: a.model, tasks, leaseExpiresAtMs: BigInt(outcome.leaseExpiresAt), message: '' }
  }

  async results(remote: PeerId, envelopes: Uint8Array[], _options: AbortOptions): Promise<ResultStatus[]> {
    const statuses: ResultStatus[] = []
    for (const envelope of envelopes) {
      const status = await this.result(remote, envelope)
      if (status.code !== ErrorCode.OK && status.code !== ErrorCode.DUPLICATE) {
        this.init.onRejected?.(remote, status.code)
      }
      statuses.push(status)
    }
    return statuses
  }

  /** §6.3 checks, in the spec's order. */
  private async result(remote: PeerId, envelope: Uint8Array): Promise<ResultStatus> {
    const reject = (code: ErrorCode, message: string): ResultStatus => ({ code, receipt: new Uint8Array(), message })
    let opened: Opened<TaskResult>
    try {
      opened = await open(STATEMENTS.result, envelope)
    } catch (err) {
      const name = (err as Error).name
      const code =
        name === 'InvalidSignatureError'
          ? ErrorCode.BAD_SIGNATURE
          : name === 'PeerIdMismatchError'
            ? ErrorCode.WRONG_SIGNER
            : ErrorCode.MALFORMED
      return reject(code, (err as Error).message.slice(0, 500))
    }
    if (!opened.signer.equals(remote)) {
      return reject(ErrorCode.WRONG_SIGNER, 'the result is signed by another peer than the one submitting it')
    }
    const r = opened.message
    const jobId = toHex(r.jobId)
    const entry = this.jobs.get(jobId)
    if (entry == null) {
      return reject(ErrorCode.UNKNOWN_JOB, 'no such job here')
    }
    const a = entry.announcement.message
    if (!equals(r.model, a.model)) {
      return reject(ErrorCode.WRONG_MODEL, "the result names another model than the job's")
    }
    const index = Number(r.index)
    const expected = entry.digests.get(index)
    if (expected != null && !equals(expected, r.inputDigest)) {
      return reject(ErrorCode.WRONG_INPUT_DIGEST, "the result's input digest is not the task's")
    }
    if (expected == null && index >= 0 && index < entry.job.taskCount && entry.job.taskState(index) === TaskState.PENDING) {
      // A late result for a task that is pending again: its digest was dropped with the lease.
      if (!equals(tensorSetDigest(await entry.inputs(index)), r.inputDigest)) {
        return reject(ErrorCode.WRONG_INPUT_DIGEST, "the result's input digest is not the task's")
      }
    }
    const { outcome, actions } = entry.job.result(Date.now(), remote.toString(), index)
    if (outcome.code !== 'OK') {
      await this.apply(jobId, entry, actions)
      return reject(ErrorCode[outcome.code], '')
    }
    const receipt: Receipt = {
      jobId: r.jobId,
      taskId: r.taskId,
      worker: r.worker,
      requester: peerIdBytes(this.peer.peerId),
      resultDigest: sha256(envelope),
      reward: a.rewardPerTask,
      issuedAtMs: BigInt(Date.now())
    }
    const receiptEnvelope = await seal(STATEMENTS.receipt, receipt, this.peer.privateKey)
    // The accepted result is stored before the receipt goes out (spec §6.3).
    await this.store.accept(jobId, index, remote.toString(), envelope, receiptEnvelope)
    entry.digests.delete(index)
    await this.apply(jobId, entry, actions)
    this.init.onProgress?.({ jobId, done: entry.job.summary().done, taskCount: entry.job.taskCount })
    return { code: ErrorCode.OK, receipt: receiptEnvelope, message: '' }
  }

  /** Carries out a RequesterJob's actions: persist leases and releases, arm the one timer. */
  private async apply(jobId: string, entry: Entry, actions: JobAction[]): Promise<void> {
    for (const action of actions) {
      switch (action.type) {
        case 'lease':
          await this.store.lease(jobId, action.worker, action.tasks, action.expiresAt)
          break
        case 'release':
          for (const t of action.tasks) {
            entry.digests.delete(t)
          }
          await this.store.release(jobId, action.tasks)
          break
        case 'timer':
          clearTimeout(entry.timer)
          if (action.at !== undefined) {
            entry.timer = setTimeout(() => void this.apply(jobId, entry, entry.job.tick(Date.now())), Math.max(0, action.at - Date.now()))
            entry.timer.unref()
          }
          break
        case 'complete':
          entry.complete.resolve()
          break
        case 'deadline':
          entry.complete.reject(new Error(`job ${jobId} passed its deadline with ${action.unfinished} tasks unfinished`))
          break
        default:
          break
      }
    }
  }
}
