/**
 * The worker's side (protocol spec §6.2), sans-IO: which announced jobs to claim from and how many
 * tasks to ask for. Work is pulled — the agent only claims what its free slots can run now — and
 * each job has at most one claim in flight. Jobs that answer NO_TASKS or RATE_LIMITED are retried
 * with exponential backoff; closed, unknown, banned or expired jobs are dropped.
 */

import { InvalidJobParamsError } from './errors.js'

export interface WorkerAgentParams {
  /** Tasks this worker can hold at once (queued + running). */
  capacity: number
  /** Largest claim. @default capacity */
  maxClaim?: number
  /** First backoff after NO_TASKS; doubles up to maxBackoffMs. @default 1000 */
  backoffMs?: number
  /** @default 30000 */
  maxBackoffMs?: number
}

export interface KnownJob {
  /** Job id (hex or any stable string). */
  id: string
  /** Peer id string of the requester. */
  requester: string
  /** Model CID string. */
  model: string
  deadline: number
  /** The announcement's max_batch. */
  maxBatch: number
}

export type ClaimAnswer = 'OK' | 'NO_TASKS' | 'RATE_LIMITED' | 'JOB_CLOSED' | 'UNKNOWN_JOB' | 'BANNED' | 'FAILED'

export type AgentAction =
  /** Open the work stream to `requester` and claim up to `maxTasks` tasks of `job`. */
  | { type: 'claim'; job: string; requester: string; maxTasks: number }
  /** Forget the job (closed, expired or refused). */
  | { type: 'drop'; job: string; reason: string }
  /** Call `tick()` at this time (undefined: nothing scheduled). */
  | { type: 'timer'; at: number | undefined }

interface JobEntry {
  job: KnownJob
  claiming: number
  notBefore: number
  backoff: number
  /** The requester had nothing more for us while we held tasks: claim again when one finishes. */
  untilFinished: boolean
}

export class WorkerAgent {
  readonly capacity: number
  readonly maxClaim: number
  private readonly backoffMs: number
  private readonly maxBackoffMs: number
  private readonly jobs = new Map<string, JobEntry>()
  /** Tasks held (assigned, not yet finished). */
  private held = 0
  /** Rotates the job claimed first, so jobs share this worker. */
  private turn = 0

  constructor(params: WorkerAgentParams) {
    this.capacity = params.capacity
    this.maxClaim = params.maxClaim ?? params.capacity
    this.backoffMs = params.backoffMs ?? 1000
    this.maxBackoffMs = params.maxBackoffMs ?? 30_000
    for (const [name, v] of [
      ['capacity', this.capacity],
      ['maxClaim', this.maxClaim]
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new InvalidJobParamsError(`${name} must be an integer ≥ 1, got ${v}`)
      }
    }
  }

  /** A valid announcement for a model this worker serves. */
  announce(now: number, job: KnownJob): AgentAction[] {
    if (!this.jobs.has(job.id) && job.deadline > now) {
      this.jobs.set(job.id, { job, claiming: 0, notBefore: now, backoff: this.backoffMs, untilFinished: false })
    }
    return this.plan(now)
  }

  /** The answer to a claim: `assigned` tasks were received (0 unless answer is OK). */
  claimed(now: number, job: string, answer: ClaimAnswer, assigned = 0): AgentAction[] {
    const entry = this.jobs.get(job)
    const actions: AgentAction[] = []
    if (entry != null) {
      entry.claiming = 0
      if (answer === 'OK' && assigned > 0) {
        entry.backoff = this.backoffMs
        entry.notBefore = now
      } else if ((answer === 'OK' || answer === 'NO_TASKS') && this.held > 0) {
        // Nothing more while we hold work (e.g. our allowance is used up): ask again as soon as
        // a task finishes, not after a backoff.
        entry.untilFinished = true
      } else if (answer === 'OK' || answer === 'NO_TASKS' || answer === 'RATE_LIMITED' || answer === 'FAILED') {
        entry.notBefore = now + entry.backoff
        entry.backoff = Math.min(this.maxBackoffMs, entry.backoff * 2)
      } else {
        this.jobs.delete(job)
        actions.push({ type: 'drop', job, reason: answer })
      }
    }
    this.held += assigned
    return [...actions, ...this.plan(now)]
  }

  /** `count` held tasks finished (result submitted, or given up). */
  finished(now: number, count = 1): AgentAction[] {
    this.held = Math.max(0, this.held - count)
    for (const e of this.jobs.values()) {
      e.untilFinished = false
    }
    return this.plan(now)
  }

  /** Re-plans: drops expired jobs, issues claims whose backoff has passed. */
  tick(now: number): AgentAction[] {
    return this.plan(now)
  }

  /** Forget a job (cancelled, or its requester went away). */
  forget(job: string): void {
    this.jobs.delete(job)
  }

  get heldTasks(): number {
    return this.held
  }

  get knownJobs(): number {
    return this.jobs.size
  }

  private plan(now: number): AgentAction[] {
    const actions: AgentAction[] = []
    for (const [id, e] of this.jobs) {
      if (e.job.deadline <= now) {
        this.jobs.delete(id)
        actions.push({ type: 'drop', job: id, reason: 'deadline passed' })
      }
    }
    const entries = [...this.jobs.values()]
    let free = this.capacity - this.held - entries.reduce((n, e) => n + e.claiming, 0)
    for (let i = 0; i < entries.length && free > 0; i++) {
      const e = entries[(this.turn + i) % entries.length] as JobEntry
      if (e.claiming > 0 || e.notBefore > now || e.untilFinished) {
        continue
      }
      const maxTasks = Math.min(free, this.maxClaim, e.job.maxBatch)
      e.claiming = maxTasks
      free -= maxTasks
      actions.push({ type: 'claim', job: e.job.id, requester: e.job.requester, maxTasks })
    }
    this.turn = entries.length === 0 ? 0 : (this.turn + 1) % entries.length
    // Wake for the next backoff to end, or the next deadline to drop a job.
    let at: number | undefined
    for (const e of this.jobs.values()) {
      const wake = e.claiming === 0 && e.notBefore > now ? Math.min(e.notBefore, e.job.deadline) : e.job.deadline
      at = at === undefined ? wake : Math.min(at, wake)
    }
    actions.push({ type: 'timer', at })
    return actions
  }
}
