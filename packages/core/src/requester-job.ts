/**
 * The requester's side of one job (protocol spec §6.2, §6.3, §6.5), sans-IO: the caller passes the
 * time and each event in, and gets back the decision plus the actions to carry out (persist, set
 * the timer) — no sockets, no timers, no clock inside. The same code runs in a real peer, a unit
 * test with virtual time, and a simulation.
 *
 * Per-task state lives in typed arrays, so a job of a million tasks costs about 13 MB.
 */

import { DEFAULT_LEASE_MS, MAX_TRANSIENT_FAILURES } from '@openbatch/protocol'
import { CheckQueue, type Presence } from './check-queue.js'
import { InvalidJobParamsError } from './errors.js'
import { TimeHeap } from './heap.js'

/**
 * §6.5 task states tracked here. With verification on, an accepted result leaves its task
 * CHECKING until the caller settles it (the Verifier decides; re-runs go out as checks).
 */
export const TaskState = {
  PENDING: 0,
  LEASED: 1,
  DONE: 2,
  CHECKING: 3
} as const
export type TaskState = (typeof TaskState)[keyof typeof TaskState]

/**
 * How a requester runs a job beyond what its announcement says; kept with the job, so a resumed
 * job runs as before (§6.5). {@link resolveJobPolicy} is the one place its defaults are applied.
 */
export interface JobPolicy {
  /** How long a worker holds claimed tasks. @default DEFAULT_LEASE_MS */
  leaseMs: number
  /** How long a queued check may wait for an eligible worker before it is given up. @default leaseMs */
  checkWaitMs: number
  /**
   * Tasks a worker with no history may hold at once; doubles with each lease finished in time,
   * halves with each lease that expires (so a slow worker is not given more than it can finish).
   * @default 4
   */
  initialAllowance: number
  /** Transient failures (§6.6) on distinct workers after which a task's failure is accepted as its result. @default MAX_TRANSIENT_FAILURES */
  maxTransientFailures: number
}

/** Fills in a job policy's defaults and checks it (InvalidJobParamsError names the bad field). */
export function resolveJobPolicy(p: Partial<JobPolicy> = {}): JobPolicy {
  const leaseMs = p.leaseMs ?? DEFAULT_LEASE_MS
  if (!(leaseMs > 0) || !Number.isFinite(leaseMs)) {
    throw new InvalidJobParamsError(`leaseMs must be a number of ms > 0, got ${leaseMs}`)
  }
  const checkWaitMs = p.checkWaitMs ?? leaseMs
  if (!(checkWaitMs >= 0) || !Number.isFinite(checkWaitMs)) {
    throw new InvalidJobParamsError(`checkWaitMs must be a number of ms ≥ 0, got ${checkWaitMs}`)
  }
  const initialAllowance = p.initialAllowance ?? 4
  if (!Number.isInteger(initialAllowance) || initialAllowance < 1) {
    throw new InvalidJobParamsError(`initialAllowance must be an integer ≥ 1, got ${initialAllowance}`)
  }
  const maxTransientFailures = p.maxTransientFailures ?? MAX_TRANSIENT_FAILURES
  if (!Number.isInteger(maxTransientFailures) || maxTransientFailures < 1) {
    throw new InvalidJobParamsError(`maxTransientFailures must be an integer ≥ 1, got ${maxTransientFailures}`)
  }
  return { leaseMs, checkWaitMs, initialAllowance, maxTransientFailures }
}

export interface JobParams extends Partial<JobPolicy> {
  taskCount: number
  /** Most tasks one claim receives: the announcement's max_batch. */
  maxBatch: number
  /** Absolute deadline (ms). */
  deadline: number
  /**
   * Results wait for `settle()` (or re-runs via `recheck()`) before their task counts as done
   * (spec §7.2). Off: an accepted result completes its task.
   * @default false
   */
  verify?: boolean
}

/** What the requester answers to a claim (§6.2). */
export type ClaimOutcome = { code: 'OK'; tasks: number[]; leaseExpiresAt: number } | { code: 'NO_TASKS' | 'JOB_CLOSED'; tasks: [] }

/**
 * What the requester answers to one submitted result (§6.3). `check`: the result answers a re-run
 * or canary (§7.2, §7.4) of a task that already has a result, not the task's first result.
 */
export type ResultOutcome =
  | { code: 'OK'; check: boolean }
  | { code: 'NOT_ASSIGNED' | 'DUPLICATE' | 'LEASE_EXPIRED' }
  /** A transient failure (§6.6) was noted; the task goes to another worker. */
  | { code: 'RETRY_ELSEWHERE' }

/** Effects the caller carries out, in order, before answering the peer. */
export type JobAction =
  /** Persist: these tasks (first runs; checks are not persisted) are leased to `worker` until `expiresAt`. */
  | { type: 'lease'; worker: string; tasks: number[]; expiresAt: number }
  /** Persist: these tasks are pending again. */
  | { type: 'release'; worker: string; tasks: number[]; reason: 'expired' | 'worker-gone' | 'failed' | 'returned' }
  /** Persist the signed result (then send its receipt); `check`: a re-run's or canary's result. */
  | { type: 'accept'; worker: string; task: number; check: boolean }
  /** Call `tick()` at this time (undefined: no timer needed). */
  | { type: 'timer'; at: number | undefined }
  /** No eligible worker took this queued check within `checkWaitMs`; it was dropped. */
  | { type: 'check-expired'; task: number }
  /** Every task has an accepted result (and, with `verify`, is settled). */
  | { type: 'complete' }
  /** The deadline passed with tasks unfinished; the job is closed. */
  | { type: 'deadline'; unfinished: number }

export interface JobStep<T> {
  outcome: T
  actions: JobAction[]
}

/**
 * Tasks leased to one worker by one claim: first runs and checks alike. A task is live in the
 * lease while `leaseOf[task]` names it; it is a check when its task already has a result
 * (CHECKING or DONE), a first run when it is LEASED.
 */
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
  /** Tasks with an accepted result (settled or not). */
  done: number
  /** Of those, tasks whose result stands: verified, or not sampled (§6.5). */
  settled: number
  /** Of those, tasks whose verification is still open. */
  checking: number
  /** Re-runs and canaries waiting for, or leased to, an independent worker. */
  checks: number
  closed: boolean
}

export class RequesterJob {
  readonly taskCount: number
  readonly maxBatch: number
  readonly deadline: number
  readonly leaseMs: number
  private readonly initialAllowance: number
  private readonly state: Uint8Array
  /** Lease id holding each task — its first run, or a check of it — or -1. */
  private readonly leaseOf: Int32Array
  /** Worker whose result completed each task, or -1 (answers DUPLICATE). */
  private readonly doneBy: Int32Array
  private readonly leases = new Map<number, Lease>()
  /** Lease ids by expiry, soonest first; ids of leases already ended are skipped when met. */
  private readonly expiries = new TimeHeap<number>()
  private nextLease = 0
  /** Tasks at or above this index were never assigned. */
  private nextFresh = 0
  /** Released tasks, assigned before fresh ones (entries that are no longer pending are skipped). */
  private requeued: number[] = []
  private readonly workers: WorkerStats[] = []
  private readonly workerIndex = new Map<string, number>()
  private doneCount = 0
  private settledCount = 0
  private leasedCount = 0
  private closed = false
  /** Closed because every task settled (not cancelled, not past its deadline). */
  private completed = false
  private readonly verify: boolean
  readonly checkWaitMs: number
  /** Re-runs and canaries waiting for an independent worker (§7.2, §7.4). */
  private readonly checks: CheckQueue
  /** Checks out on a lease. */
  private checksOut = 0
  private readonly presence: Presence = {
    checkerAround: (exclude, now) => this.checkerAround(exclude, now),
    otherGroupActive: (avoid, now) => this.otherGroupActive(avoid, now)
  }
  /** When a worker of each network group last claimed. */
  private readonly groupSeen = new Map<string, number>()
  /** When each worker last claimed or was seen around (§7.2: who could take a check). */
  private readonly workerSeen = new Map<string, number>()
  /** Workers each task failed on transiently (§6.6): not given it again. */
  private readonly failedOn = new Map<number, Set<string>>()
  private readonly maxTransientFailures: number

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
    const policy = resolveJobPolicy(params)
    this.leaseMs = policy.leaseMs
    this.initialAllowance = policy.initialAllowance
    this.verify = params.verify ?? false
    this.checkWaitMs = policy.checkWaitMs
    this.maxTransientFailures = policy.maxTransientFailures
    this.checks = new CheckQueue(this.checkWaitMs, this.leaseMs / 4)
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
      if (t.state === TaskState.DONE || t.state === TaskState.CHECKING) {
        // An open verification is not resumed: the task's accepted result stands (unsampled).
        job.state[t.index] = TaskState.DONE
        job.doneBy[t.index] = t.worker == null ? -1 : job.worker(t.worker)
        job.doneCount++
        job.settledCount++
      } else if (t.state === TaskState.LEASED && t.worker != null && t.leaseExpiresAt != null) {
        const w = job.worker(t.worker)
        const key = `${t.worker}@${t.leaseExpiresAt}`
        let lease = byLease.get(key)
        if (lease == null) {
          lease = { worker: w, tasks: [], expiresAt: t.leaseExpiresAt }
          byLease.set(key, lease)
          job.expiries.push(lease.expiresAt, job.nextLease, job.nextLease)
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
    // A job whose every task was done before the restart stays complete.
    job.closed = job.settledCount === job.taskCount
    job.completed = job.closed
    return job
  }

  /**
   * §6.2 A worker asks for up to `maxTasks` tasks. Checks it may take (it never ran the task;
   * its `group` — e.g. its /24 — is not one to avoid, or no worker of another group claimed
   * within a lease, or the check has waited a quarter lease) come first, then pending tasks.
   */
  claim(now: number, worker: string, maxTasks: number, group?: string): JobStep<ClaimOutcome> {
    const actions: JobAction[] = []
    // The claiming worker is around: it may take a queued check (§7.2).
    this.workerSeen.set(worker, now)
    this.expire(now, actions)
    if (this.closed) {
      return { outcome: { code: 'JOB_CLOSED', tasks: [] }, actions }
    }
    const stats = this.workers[this.worker(worker)] as WorkerStats
    // Up to the worker's allowance held at once, and never more than one claim's worth.
    const room = Math.max(0, stats.allowance - stats.held)
    const want = Math.min(Math.max(0, Math.floor(maxTasks)), this.maxBatch, room)
    if (group != null) {
      this.groupSeen.set(group, now)
    }
    const tasks = this.checks.take(now, worker, group, want, this.presence)
    const checkCount = tasks.length
    while (tasks.length < want) {
      const t = this.nextPending(worker)
      if (t === undefined) {
        break
      }
      tasks.push(t)
    }
    if (tasks.length === 0) {
      actions.push(this.timer())
      return { outcome: { code: 'NO_TASKS', tasks: [] }, actions }
    }
    const expiresAt = Math.min(now + this.leaseMs, this.deadline)
    const id = this.nextLease++
    this.leases.set(id, { worker: this.workerIndex.get(worker) as number, tasks, expiresAt })
    this.expiries.push(expiresAt, id, id)
    tasks.forEach((t, i) => {
      if (i >= checkCount) {
        this.state[t] = TaskState.LEASED
      }
      this.leaseOf[t] = id
      stats.owed.add(t)
    })
    stats.held += tasks.length
    this.leasedCount += tasks.length
    this.checksOut += checkCount
    // Checks are not persisted: a task under check keeps its stored result (and is not resumed as a check).
    const firstRuns = tasks.slice(checkCount)
    if (firstRuns.length > 0) {
      actions.push({ type: 'lease', worker, tasks: firstRuns, expiresAt })
    }
    actions.push(this.timer())
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
    const checkLease = this.checkLeaseOf(task, w)
    if (checkLease !== undefined) {
      stats.owed.delete(task)
      this.unlease(task, checkLease.lease)
      this.checks.remove(task)
      this.leaseReturned(checkLease.id, checkLease.lease, stats)
      stats.completed++
      actions.push({ type: 'accept', worker, task, check: true }, this.timer())
      return { outcome: { code: 'OK', check: true }, actions }
    }
    if (this.state[task] === TaskState.DONE || this.state[task] === TaskState.CHECKING) {
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
      this.leaseReturned(leaseId, lease, stats)
    }
    this.doneBy[task] = w
    this.doneCount++
    stats.completed++
    actions.push({ type: 'accept', worker, task, check: false })
    if (this.verify) {
      this.state[task] = TaskState.CHECKING
    } else {
      this.state[task] = TaskState.DONE
      this.settledCount++
      this.maybeComplete(actions)
    }
    actions.push(this.timer())
    return { outcome: { code: 'OK', check: false }, actions }
  }

  /**
   * §6.6 `worker` reports that it could not run `task` for a transient reason (out of memory, a
   * lost device, the model unavailable). The task goes back to the queue for another worker and
   * this worker is not given it again; a check goes back to its queue the same way. After
   * `maxTransientFailures` distinct workers failed it, the failure is accepted as the task's
   * result (`OK`: the caller stores it like a result and settles it). Not the worker's fault:
   * its allowance is kept.
   */
  failed(now: number, worker: string, task: number): JobStep<ResultOutcome> {
    const actions: JobAction[] = []
    this.expire(now, actions)
    const w = this.workerIndex.get(worker)
    if (w === undefined || !Number.isInteger(task) || task < 0 || task >= this.taskCount) {
      return { outcome: { code: 'NOT_ASSIGNED' }, actions }
    }
    const stats = this.workers[w] as WorkerStats
    if (this.returnCheck(now, task, w, stats, 'back')) {
      actions.push(this.timer())
      return { outcome: { code: 'RETRY_ELSEWHERE' }, actions }
    }
    if (this.state[task] !== TaskState.LEASED || !stats.owed.has(task)) {
      // Not this worker's live lease (late, or never assigned): nothing to retry.
      if (this.doneBy[task] === w) {
        return { outcome: { code: 'DUPLICATE' }, actions }
      }
      return { outcome: { code: stats.owed.delete(task) ? 'LEASE_EXPIRED' : 'NOT_ASSIGNED' }, actions }
    }
    const leaseId = this.leaseOf[task] as number
    const lease = this.leases.get(leaseId) as Lease
    if (lease.worker !== w) {
      return { outcome: { code: 'LEASE_EXPIRED' }, actions }
    }
    let failed = this.failedOn.get(task)
    if (failed == null) {
      failed = new Set()
      this.failedOn.set(task, failed)
    }
    failed.add(worker)
    if (failed.size >= this.maxTransientFailures) {
      this.failedOn.delete(task)
      const step = this.result(now, worker, task)
      return { outcome: step.outcome, actions: [...actions, ...step.actions] }
    }
    stats.owed.delete(task)
    this.unlease(task, lease)
    this.leaseReturned(leaseId, lease, stats, false)
    this.state[task] = TaskState.PENDING
    this.requeued.push(task)
    actions.push({ type: 'release', worker, tasks: [task], reason: 'failed' }, this.timer())
    return { outcome: { code: 'RETRY_ELSEWHERE' }, actions }
  }

  /**
   * Tasks of a claim the caller could not send (they would not fit one frame, §6.2) go back to
   * the queue at once, without counting against the worker.
   */
  giveBack(now: number, worker: string, tasks: number[]): JobAction[] {
    const actions: JobAction[] = []
    const w = this.workerIndex.get(worker)
    if (w === undefined) {
      return actions
    }
    const stats = this.workers[w] as WorkerStats
    const back: number[] = []
    for (const t of tasks) {
      if (this.returnCheck(now, t, w, stats, 'front')) {
        continue
      }
      if (this.state[t] !== TaskState.LEASED) {
        continue
      }
      const leaseId = this.leaseOf[t] as number
      const lease = this.leases.get(leaseId) as Lease
      if (lease.worker !== w) {
        continue
      }
      stats.owed.delete(t)
      this.unlease(t, lease)
      this.leaseReturned(leaseId, lease, stats, false)
      this.state[t] = TaskState.PENDING
      back.push(t)
    }
    this.requeued.unshift(...back)
    if (back.length > 0) {
      actions.push({ type: 'release', worker, tasks: back, reason: 'returned' })
    }
    actions.push(this.timer())
    return actions
  }

  /**
   * When worker `w` holds a check of `task`, ends that lease without judging the worker and puts
   * the check back in its queue — at the back, with `w` excluded (it failed it), or at the front
   * (it could not be sent). False when `w` holds no check of `task`.
   */
  private returnCheck(now: number, task: number, w: number, stats: WorkerStats, where: 'back' | 'front'): boolean {
    const out = this.checkLeaseOf(task, w)
    if (out === undefined) {
      return false
    }
    stats.owed.delete(task)
    this.unlease(task, out.lease)
    this.leaseReturned(out.id, out.lease, stats, false)
    this.requeueCheck(now, task, where === 'back' ? stats.id : undefined)
    return true
  }

  /** The lease (of worker `w`) that holds a check of `task`, if any. */
  private checkLeaseOf(task: number, w: number): { id: number; lease: Lease } | undefined {
    const s = this.state[task]
    if (s !== TaskState.CHECKING && s !== TaskState.DONE) {
      return undefined
    }
    const id = this.leaseOf[task] as number
    const lease = id < 0 ? undefined : this.leases.get(id)
    return lease == null || lease.worker !== w ? undefined : { id, lease }
  }

  /** A check that was out goes back to its queue (nowhere once the job is closed). */
  private requeueCheck(now: number, task: number, failedBy: string | undefined): void {
    if (this.closed) {
      this.checks.remove(task)
    } else {
      this.checks.putBack(now, task, failedBy)
    }
  }

  /**
   * The accepted result of `task` from `worker` could not be stored (the write failed): the
   * acceptance is undone, so the task is not counted done — a first run is pending again (first in
   * line), a check goes back to its queue. Call it instead of carrying out the rest of the
   * result's actions.
   */
  unaccept(now: number, worker: string, task: number, check: false): JobAction[]
  /** A check's result: the check is queued again, for a worker outside `exclude` (preferably outside `avoid`). */
  unaccept(now: number, worker: string, task: number, check: true, exclude: Iterable<string>, avoid?: Iterable<string>): JobAction[]
  unaccept(
    now: number,
    worker: string,
    task: number,
    check: boolean,
    exclude: Iterable<string> = [],
    avoid: Iterable<string> = []
  ): JobAction[] {
    this.checkIndex(task)
    const actions: JobAction[] = []
    const w = this.workerIndex.get(worker)
    if (w === undefined) {
      return actions
    }
    const stats = this.workers[w] as WorkerStats
    stats.completed = Math.max(0, stats.completed - 1)
    if (check) {
      if (!this.closed) {
        this.checks.add(now, task, exclude, avoid)
      }
    } else if (this.doneBy[task] === w && (this.state[task] === TaskState.CHECKING || this.state[task] === TaskState.DONE)) {
      if (this.state[task] === TaskState.DONE) {
        this.settledCount--
        if (this.closed && this.completed) {
          this.closed = false // the completion was never carried out
          this.completed = false
        }
      }
      this.doneBy[task] = -1
      this.doneCount--
      this.state[task] = TaskState.PENDING
      this.requeued.unshift(task)
      actions.push({ type: 'release', worker, tasks: [task], reason: 'returned' })
    }
    actions.push(this.timer())
    return actions
  }

  /**
   * §7.2 The task's result stands (not sampled, re-runs agreed, or a majority decided): the task
   * is done. Call once per task when `verify` is on.
   */
  settle(_now: number, task: number): JobAction[] {
    this.checkIndex(task)
    const actions: JobAction[] = []
    if (this.state[task] !== TaskState.CHECKING) {
      return actions
    }
    this.dropCheck(task)
    this.state[task] = TaskState.DONE
    this.settledCount++
    this.maybeComplete(actions)
    actions.push(this.timer())
    return actions
  }

  /**
   * §7.2, §7.4 Queue a check of `task` — a re-run of a result under verification, or a canary of
   * a settled task — for a worker not in `exclude`, preferring workers outside the `avoid` groups.
   * Returns false when the task has no accepted result, already has a check out, or the job is
   * closed.
   */
  recheck(now: number, task: number, exclude: Iterable<string>, avoid: Iterable<string> = []): boolean {
    this.checkIndex(task)
    const s = this.state[task]
    if (this.closed || (s !== TaskState.CHECKING && s !== TaskState.DONE)) {
      return false
    }
    return this.checks.add(now, task, exclude, avoid)
  }

  /**
   * A settled task is under verification again (its worker was convicted elsewhere, §7.5): back
   * to CHECKING, so the job completes only when it settles again. False when the job is closed.
   */
  reopen(task: number): boolean {
    this.checkIndex(task)
    if (this.closed || this.state[task] !== TaskState.DONE) {
      return false
    }
    this.state[task] = TaskState.CHECKING
    this.settledCount--
    return true
  }

  /** Whether a check of `task` is queued or out. */
  checking(task: number): boolean {
    return this.checks.has(task)
  }

  /** Expires leases and the deadline; call at the time of the last `timer` action. */
  tick(now: number): JobAction[] {
    const actions: JobAction[] = []
    this.expire(now, actions)
    actions.push(this.timer())
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
          this.release(now, id, lease, 'worker-gone', actions)
        }
      }
    }
    actions.push(this.timer())
    return actions
  }

  /** Stops handing out tasks (cancelled by the user). */
  close(): void {
    this.closed = true
    this.checks.clearQueue()
  }

  summary(): JobSummary {
    const firstRunsLeased = this.leasedCount - this.checksOut
    return {
      taskCount: this.taskCount,
      pending: this.taskCount - this.doneCount - firstRunsLeased,
      leased: firstRunsLeased,
      done: this.doneCount,
      settled: this.settledCount,
      checking: this.doneCount - this.settledCount,
      checks: this.checks.waiting + this.checksOut,
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

  /** The next pending task `worker` may run: re-queued ones first, never one it failed on (§6.6). */
  private nextPending(worker: string): number | undefined {
    let skipped: number[] | undefined
    let found: number | undefined
    while (this.requeued.length > 0) {
      const t = this.requeued.shift() as number
      if (this.state[t] !== TaskState.PENDING) {
        continue
      }
      if (this.failedOn.get(t)?.has(worker) === true) {
        skipped ??= []
        skipped.push(t)
        continue
      }
      found = t
      break
    }
    if (skipped != null) {
      this.requeued.unshift(...skipped)
    }
    if (found !== undefined) {
      return found
    }
    if (this.nextFresh < this.taskCount) {
      return this.nextFresh++
    }
    return undefined
  }

  private leaseReturned(id: number, lease: Lease, stats: WorkerStats, grow = true): void {
    if (!lease.tasks.some((t) => this.leaseOf[t] === id)) {
      this.leases.delete(id)
      if (grow) {
        // The whole lease came back in time: trust the worker with more.
        stats.allowance = Math.min(this.maxBatch * 2, stats.allowance * 2)
      }
    }
  }

  /**
   * `worker` is around (e.g. it subscribes to the job's topic) though it may not have claimed
   * yet: it could take a check, and re-runs are held back from the groups to avoid while a worker
   * of another `group` may come (§7.2).
   */
  noteWorker(now: number, worker: string, group?: string): void {
    this.workerSeen.set(worker, Math.max(now, this.workerSeen.get(worker) ?? now))
    if (group != null) {
      this.groupSeen.set(group, Math.max(now, this.groupSeen.get(group) ?? now))
    }
  }

  /** §7.2 Whether a worker outside `exclude` was seen within a lease: someone could take the check. */
  private checkerAround(exclude: Set<string>, now: number): boolean {
    for (const [w, at] of this.workerSeen) {
      if (!exclude.has(w) && now - at < this.leaseMs) {
        return true
      }
    }
    return false
  }

  private otherGroupActive(avoid: Set<string>, now: number): boolean {
    for (const [g, at] of this.groupSeen) {
      if (!avoid.has(g) && now - at < this.leaseMs) {
        return true
      }
    }
    return false
  }

  /** The task settled: its check, queued or out, is no longer needed (a late answer is LEASE_EXPIRED). */
  private dropCheck(task: number): void {
    if (!this.checks.has(task)) {
      return
    }
    this.checks.remove(task)
    const lease = this.leaseOf[task] as number
    if (lease >= 0) {
      this.unlease(task, this.leases.get(lease) as Lease)
    }
  }

  private maybeComplete(actions: JobAction[]): void {
    if (!this.closed && this.settledCount === this.taskCount) {
      this.closed = true
      this.completed = true
      this.checks.clearQueue()
      actions.push({ type: 'complete' })
    }
  }

  /** `task` leaves its lease (answered, returned, expired or no longer needed). */
  private unlease(task: number, lease: Lease): void {
    if (this.state[task] !== TaskState.LEASED) {
      this.checksOut--
    }
    this.leaseOf[task] = -1
    this.leasedCount--
    ;(this.workers[lease.worker] as WorkerStats).held--
  }

  private release(now: number, id: number, lease: Lease, reason: 'expired' | 'worker-gone', actions: JobAction[]): void {
    this.leases.delete(id)
    const back: number[] = []
    for (const t of lease.tasks) {
      if (this.leaseOf[t] !== id) {
        continue
      }
      const check = this.state[t] !== TaskState.LEASED
      this.unlease(t, lease)
      if (check) {
        // An expired check goes back to the queue for another independent worker.
        this.requeueCheck(now, t, (this.workers[lease.worker] as WorkerStats).id)
      } else {
        this.state[t] = TaskState.PENDING
        this.requeued.push(t)
      }
      back.push(t)
    }
    if (back.length > 0) {
      const stats = this.workers[lease.worker] as WorkerStats
      stats.expired += back.length
      stats.allowance = Math.max(1, Math.floor(stats.allowance / 2))
      actions.push({ type: 'release', worker: stats.id, tasks: back, reason })
    }
  }

  private expire(now: number, actions: JobAction[]): void {
    // §7.2: a check is given up after the check wait, or at once when no worker that could take
    // it is around (a job with a single worker does not wait for a second one that never comes).
    for (const task of this.checks.expire(now, this.presence)) {
      actions.push({ type: 'check-expired', task })
    }
    // Due leases come off the expiry heap (a job holds one lease per claim in flight: scanning them
    // all on every event made a requester's cost grow with its workers); released in id order.
    const due: number[] = []
    for (let at = this.expiries.peekTime(); at !== undefined && at <= now; at = this.expiries.peekTime()) {
      const id = this.expiries.pop() as number
      if (this.leases.has(id)) {
        due.push(id)
      }
    }
    due.sort((a, b) => a - b)
    for (const id of due) {
      this.release(now, id, this.leases.get(id) as Lease, 'expired', actions)
    }
    if (!this.closed && now >= this.deadline && this.settledCount < this.taskCount) {
      this.closed = true
      this.checks.clearQueue()
      actions.push({ type: 'deadline', unfinished: this.taskCount - this.doneCount })
    }
  }

  /** When the caller should call `tick()` next (undefined: no timer needed). */
  timer(): JobAction {
    while (this.expiries.size > 0 && !this.leases.has(this.expiries.peek() as number)) {
      this.expiries.pop()
    }
    let at = this.expiries.peekTime()
    if (!this.closed) {
      at = Math.min(at ?? this.deadline, this.deadline, this.checks.nextExpiry() ?? this.deadline)
    }
    return { type: 'timer', at }
  }
}
