/**
 * The requester's side of one job (protocol spec §6.2, §6.3, §6.5), sans-IO: the caller passes the
 * time and each event in, and gets back the decision plus the actions to carry out (persist, set
 * the timer) — no sockets, no timers, no clock inside. The same code runs in a real peer, a unit
 * test with virtual time, and a simulation.
 *
 * Per-task state lives in typed arrays, so a job of a million tasks costs about 13 MB.
 */

import { DEFAULT_LEASE_MS } from '@openbatch/protocol'
import { InvalidJobParamsError } from './errors.js'

/** §6.5 task states tracked here (verification states come with the verifier). */
export const TaskState = {
  PENDING: 0,
  LEASED: 1,
  DONE: 2
} as const
export type TaskState = (typeof TaskState)[keyof typeof TaskState]

export interface JobParams {
  taskCount: number
  /** Most tasks one claim receives: the announcement's max_batch. */
  maxBatch: number
  /** Absolute deadline (ms). */
  deadline: number
  /** @default DEFAULT_LEASE_MS */
  leaseMs?: number
  /**
   * Tasks a worker with no history may hold at once; doubles with each lease finished in time,
   * halves with each lease that expires (so a slow worker is not given more than it can finish).
   * @default 4
   */
  initialAllowance?: number
}

/** What the requester answers to a claim (§6.2). */
export type ClaimOutcome = { code: 'OK'; tasks: number[]; leaseExpiresAt: number } | { code: 'NO_TASKS' | 'JOB_CLOSED'; tasks: [] }

/** What the requester answers to one submitted result (§6.3). */
export type ResultOutcome = { code: 'OK' } | { code: 'NOT_ASSIGNED' | 'DUPLICATE' | 'LEASE_EXPIRED' }

/** Effects the caller carries out, in order, before answering the peer. */
export type JobAction =
  /** Persist: these tasks are leased to `worker` until `expiresAt`. */
  | { type: 'lease'; worker: string; tasks: number[]; expiresAt: number }
  /** Persist: these tasks are pending again. */
  | { type: 'release'; worker: string; tasks: number[]; reason: 'expired' | 'worker-gone' }
  /** Persist the signed result (then send its receipt): it completes the task. */
  | { type: 'accept'; worker: string; task: number }
  /** Call `tick()` at this time (undefined: no timer needed). */
  | { type: 'timer'; at: number | undefined }
  /** Every task has an accepted result. */
  | { type: 'complete' }
  /** The deadline passed with tasks unfinished; the job is closed. */
  | { type: 'deadline'; unfinished: number }

export interface JobStep<T> {
  outcome: T
  actions: JobAction[]
}

interface Lease {
  worker: number
  tasks: number[]
  expiresAt: number
}

interface WorkerStats {
  id: string
  allowance: number
  /** Tasks currently leased to this worker. */
  held: number
  /** Tasks this worker was leased and has not returned a result for (leases live or expired). */
  owed: Set<number>
  completed: number
  expired: number
}

export interface JobSummary {
  taskCount: number
  pending: number
  leased: number
  done: number
  closed: boolean
}

export class RequesterJob {
  readonly taskCount: number
  readonly maxBatch: number
  readonly deadline: number
  readonly leaseMs: number
  private readonly initialAllowance: number
  private readonly state: Uint8Array
  /** Lease id holding each task, or -1. */
  private readonly leaseOf: Int32Array
  /** Worker whose result completed each task, or -1 (answers DUPLICATE). */
  private readonly doneBy: Int32Array
  private readonly leases = new Map<number, Lease>()
  private nextLease = 0
  /** Tasks at or above this index were never assigned. */
  private nextFresh = 0
  /** Released tasks, assigned before fresh ones (entries that are no longer pending are skipped). */
  private requeued: number[] = []
  private readonly workers: WorkerStats[] = []
  private readonly workerIndex = new Map<string, number>()
  private doneCount = 0
  private leasedCount = 0
  private closed = false

  constructor(params: JobParams) {
    const { taskCount, maxBatch, deadline } = params
    if (!Number.isSafeInteger(taskCount) || taskCount < 1) {
      throw new InvalidJobParamsError(`taskCount must be an integer ≥ 1, got ${taskCount}`)
    }
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new InvalidJobParamsError(`maxBatch must be an integer ≥ 1, got ${maxBatch}`)
    }
    if (!Number.isFinite(deadline)) {
      throw new InvalidJobParamsError(`deadline must be a time in ms, got ${deadline}`)
    }
    this.leaseMs = params.leaseMs ?? DEFAULT_LEASE_MS
    if (!(this.leaseMs > 0)) {
      throw new InvalidJobParamsError(`leaseMs must be > 0, got ${this.leaseMs}`)
    }
    this.initialAllowance = params.initialAllowance ?? 4
    if (!Number.isInteger(this.initialAllowance) || this.initialAllowance < 1) {
      throw new InvalidJobParamsError(`initialAllowance must be an integer ≥ 1, got ${this.initialAllowance}`)
    }
    this.taskCount = taskCount
    this.maxBatch = maxBatch
    this.deadline = deadline
    this.state = new Uint8Array(taskCount)
    this.leaseOf = new Int32Array(taskCount).fill(-1)
    this.doneBy = new Int32Array(taskCount).fill(-1)
  }

  /**
   * Rebuilds a job from its persisted tasks after a restart: `done` tasks stay done, live leases
   * stay leased until they expire, everything else is pending.
   */
  static restore(
    params: JobParams,
    tasks: Iterable<{ index: number; state: TaskState; worker?: string; leaseExpiresAt?: number }>
  ): RequesterJob {
    const job = new RequesterJob(params)
    const byLease = new Map<string, Lease>()
    for (const t of tasks) {
      job.checkIndex(t.index)
      job.nextFresh = Math.max(job.nextFresh, t.index + 1)
      if (t.state === TaskState.DONE) {
        job.state[t.index] = TaskState.DONE
        job.doneBy[t.index] = t.worker == null ? -1 : job.worker(t.worker)
        job.doneCount++
      } else if (t.state === TaskState.LEASED && t.worker != null && t.leaseExpiresAt != null) {
        const w = job.worker(t.worker)
        const key = `${t.worker}@${t.leaseExpiresAt}`
        let lease = byLease.get(key)
        if (lease == null) {
          lease = { worker: w, tasks: [], expiresAt: t.leaseExpiresAt }
          byLease.set(key, lease)
          job.leases.set(job.nextLease++, lease)
        }
        lease.tasks.push(t.index)
        job.state[t.index] = TaskState.LEASED
        job.leaseOf[t.index] = job.nextLease - 1
        job.leasedCount++
        const stats = job.workers[w] as WorkerStats
        stats.held++
        stats.owed.add(t.index)
      }
    }
    for (let i = 0; i < job.nextFresh; i++) {
      if (job.state[i] === TaskState.PENDING) {
        job.requeued.push(i)
      }
    }
    return job
  }

  /** §6.2 A worker asks for up to `maxTasks` tasks. */
  claim(now: number, worker: string, maxTasks: number): JobStep<ClaimOutcome> {
    const actions: JobAction[] = []
    this.expire(now, actions)
    if (this.closed) {
      return { outcome: { code: 'JOB_CLOSED', tasks: [] }, actions }
    }
    const stats = this.workers[this.worker(worker)] as WorkerStats
    // Up to the worker's allowance held at once, and never more than one claim's worth.
    const room = Math.max(0, stats.allowance - stats.held)
    const want = Math.min(Math.max(0, Math.floor(maxTasks)), this.maxBatch, room)
    const tasks: number[] = []
    while (tasks.length < want) {
      const t = this.nextPending()
      if (t === undefined) {
        break
      }
      tasks.push(t)
    }
    if (tasks.length === 0) {
      actions.push(this.timerAction())
      return { outcome: { code: 'NO_TASKS', tasks: [] }, actions }
    }
    const expiresAt = Math.min(now + this.leaseMs, this.deadline)
    const id = this.nextLease++
    this.leases.set(id, { worker: this.workerIndex.get(worker) as number, tasks, expiresAt })
    for (const t of tasks) {
      this.state[t] = TaskState.LEASED
      this.leaseOf[t] = id
      stats.owed.add(t)
    }
    stats.held += tasks.length
    this.leasedCount += tasks.length
    actions.push({ type: 'lease', worker, tasks, expiresAt }, this.timerAction())
    return { outcome: { code: 'OK', tasks, leaseExpiresAt: expiresAt }, actions }
  }

  /**
   * §6.3 A verified, signed result for `task` from `worker` (signature, model and input digest are
   * checked by the caller). Accepted from the worker holding the task's live lease, or — late —
   * from a worker whose lease expired while the task is pending again (not yet re-assigned).
   */
  result(now: number, worker: string, task: number): JobStep<ResultOutcome> {
    const actions: JobAction[] = []
    this.expire(now, actions)
    const w = this.workerIndex.get(worker)
    if (w === undefined || !Number.isInteger(task) || task < 0 || task >= this.taskCount) {
      return { outcome: { code: 'NOT_ASSIGNED' }, actions }
    }
    const stats = this.workers[w] as WorkerStats
    if (this.state[task] === TaskState.DONE) {
      const code = this.doneBy[task] === w ? 'DUPLICATE' : stats.owed.delete(task) ? 'LEASE_EXPIRED' : 'NOT_ASSIGNED'
      return { outcome: { code }, actions }
    }
    if (!stats.owed.delete(task)) {
      return { outcome: { code: 'NOT_ASSIGNED' }, actions }
    }
    if (this.state[task] === TaskState.LEASED) {
      const leaseId = this.leaseOf[task] as number
      const lease = this.leases.get(leaseId) as Lease
      if (lease.worker !== w) {
        return { outcome: { code: 'LEASE_EXPIRED' }, actions } // re-assigned after this worker's lease expired
      }
      this.unlease(task, lease)
      if (lease.tasks.every((t) => this.leaseOf[t] !== leaseId)) {
        this.leases.delete(leaseId)
        // The whole lease came back in time: trust the worker with more.
        stats.allowance = Math.min(this.maxBatch * 2, stats.allowance * 2)
      }
    }
    this.state[task] = TaskState.DONE
    this.doneBy[task] = w
    this.doneCount++
    stats.completed++
    actions.push({ type: 'accept', worker, task })
    if (this.doneCount === this.taskCount) {
      this.closed = true
      actions.push({ type: 'complete' })
    }
    actions.push(this.timerAction())
    return { outcome: { code: 'OK' }, actions }
  }

  /** Expires leases and the deadline; call at the time of the last `timer` action. */
  tick(now: number): JobAction[] {
    const actions: JobAction[] = []
    this.expire(now, actions)
    actions.push(this.timerAction())
    return actions
  }

  /** The worker disconnected or crashed: its leased tasks go back to the queue now. */
  workerGone(now: number, worker: string): JobAction[] {
    const actions: JobAction[] = []
    this.expire(now, actions)
    const w = this.workerIndex.get(worker)
    if (w !== undefined) {
      for (const [id, lease] of this.leases) {
        if (lease.worker === w) {
          this.release(id, lease, 'worker-gone', actions)
        }
      }
    }
    actions.push(this.timerAction())
    return actions
  }

  /** Stops handing out tasks (cancelled by the user). */
  close(): void {
    this.closed = true
  }

  summary(): JobSummary {
    return {
      taskCount: this.taskCount,
      pending: this.taskCount - this.doneCount - this.leasedCount,
      leased: this.leasedCount,
      done: this.doneCount,
      closed: this.closed
    }
  }

  taskState(task: number): TaskState {
    this.checkIndex(task)
    return this.state[task] as TaskState
  }

  /** Tasks a worker may hold at once right now (for tests and metrics). */
  allowance(worker: string): number {
    const w = this.workerIndex.get(worker)
    return w === undefined ? this.initialAllowance : (this.workers[w] as WorkerStats).allowance
  }

  private checkIndex(task: number): void {
    if (!Number.isInteger(task) || task < 0 || task >= this.taskCount) {
      throw new InvalidJobParamsError(`task index ${task} is outside 0..${this.taskCount - 1}`)
    }
  }

  private worker(id: string): number {
    let w = this.workerIndex.get(id)
    if (w === undefined) {
      w = this.workers.length
      this.workers.push({ id, allowance: this.initialAllowance, held: 0, owed: new Set(), completed: 0, expired: 0 })
      this.workerIndex.set(id, w)
    }
    return w
  }

  private nextPending(): number | undefined {
    while (this.requeued.length > 0) {
      const t = this.requeued.shift() as number
      if (this.state[t] === TaskState.PENDING) {
        return t
      }
    }
    if (this.nextFresh < this.taskCount) {
      return this.nextFresh++
    }
    return undefined
  }

  private unlease(task: number, lease: Lease): void {
    this.leaseOf[task] = -1
    this.leasedCount--
    ;(this.workers[lease.worker] as WorkerStats).held--
  }

  private release(id: number, lease: Lease, reason: 'expired' | 'worker-gone', actions: JobAction[]): void {
    this.leases.delete(id)
    const back: number[] = []
    for (const t of lease.tasks) {
      if (this.leaseOf[t] === id && this.state[t] === TaskState.LEASED) {
        this.unlease(t, lease)
        this.state[t] = TaskState.PENDING
        this.requeued.push(t)
        back.push(t)
      }
    }
    if (back.length > 0) {
      const stats = this.workers[lease.worker] as WorkerStats
      stats.expired += back.length
      stats.allowance = Math.max(1, Math.floor(stats.allowance / 2))
      actions.push({ type: 'release', worker: stats.id, tasks: back, reason })
    }
  }

  private expire(now: number, actions: JobAction[]): void {
    for (const [id, lease] of this.leases) {
      if (lease.expiresAt <= now) {
        this.release(id, lease, 'expired', actions)
      }
    }
    if (!this.closed && now >= this.deadline && this.doneCount < this.taskCount) {
      this.closed = true
      actions.push({ type: 'deadline', unfinished: this.taskCount - this.doneCount })
    }
  }

  private timerAction(): JobAction {
    let at: number | undefined
    for (const lease of this.leases.values()) {
      at = at === undefined ? lease.expiresAt : Math.min(at, lease.expiresAt)
    }
    if (!this.closed) {
      at = at === undefined ? this.deadline : Math.min(at, this.deadline)
    }
    return { type: 'timer', at }
  }
}
