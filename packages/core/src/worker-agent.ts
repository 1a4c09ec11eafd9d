/**
 * The worker's side (protocol spec §6.2, §6.5), sans-IO: which announced jobs to claim from and
 * how many tasks to ask for. Work is pulled — the agent only claims what its free slots can run
 * now — and each job has at most one claim in flight.
 *
 * Liveness rules (spec §6.2, §6.5):
 * - NO_TASKS and RATE_LIMITED back the job off exponentially.
 * - UNKNOWN_JOB is transient (a requester restarting answers it until it resumed its jobs): the
 *   job is backed off, and dropped only after `maxUnknown` such answers in a row.
 * - A requester that does not answer (the claim failed or timed out) is backed off as a whole —
 *   every job it announced waits — and after `maxRequesterFailures` failures in a row its jobs
 *   are dropped and an `unresponsive` action lets the caller score it. A fresh announcement
 *   brings its jobs back for one more try.
 * - Until a requester has answered a claim, claims to it ask for `unprovenClaim` tasks and at most
 *   `maxUnprovenClaims` such claims are in flight at once, so announcements of jobs whose
 *   requester never answers cannot hold this worker's capacity.
 * - JOB_CLOSED, BANNED and a passed deadline drop the job.
 */

import { InvalidJobParamsError } from './errors.js'

/** Tasks a worker holds at once (queued and running) unless told otherwise. */
export const DEFAULT_WORKER_CAPACITY = 32

export interface WorkerAgentParams {
  /** Tasks this worker can hold at once (queued + running). @default DEFAULT_WORKER_CAPACITY */
  capacity?: number
  /** Largest claim. @default capacity */
  maxClaim?: number
  /**
   * First backoff after NO_TASKS or a failed claim; doubles up to maxBackoffMs. Short: re-runs of
   * sampled tasks appear as other workers' results come in, and a claim is one small stream.
   * @default 250
   */
  backoffMs?: number
  /** @default 4000 */
  maxBackoffMs?: number
  /** UNKNOWN_JOB answers in a row before the job is dropped. @default 3 */
  maxUnknown?: number
  /** Failed or unanswered claims in a row before a requester's jobs are dropped. @default 4 */
  maxRequesterFailures?: number
  /** Tasks asked for in a claim to a requester that has not answered one yet. @default 1 */
  unprovenClaim?: number
  /** Claims in flight at once to requesters that have not answered one yet. @default 2 */
  maxUnprovenClaims?: number
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
  /** The announcement's issued_at_ms: a later one is a re-announcement (§5.1). @default 0 */
  issuedAt?: number
}

export type ClaimAnswer =
  | 'OK'
  | 'NO_TASKS'
  | 'RATE_LIMITED'
  | 'JOB_CLOSED'
  | 'UNKNOWN_JOB'
  | 'BANNED'
  /** The claim could not be made (dial failed, the stream broke, a malformed answer). */
  | 'FAILED'
  /** The requester did not begin its answer within the claim timeout (§6.2). */
  | 'TIMEOUT'

export type AgentAction =
  /** Open the work stream to `requester` and claim up to `maxTasks` tasks of `job`. */
  | { type: 'claim'; job: string; requester: string; maxTasks: number }
  /** Forget the job (closed, expired or refused). */
  | { type: 'drop'; job: string; reason: string }
  /** The requester failed `failures` claims in a row: its jobs were dropped; score it (§7.6). */
  | { type: 'unresponsive'; requester: string; failures: number }
  /** Call `tick()` at this time (undefined: nothing scheduled). */
  | { type: 'timer'; at: number | undefined }

interface JobEntry {
  job: KnownJob
  claiming: number
  notBefore: number
  backoff: number
  /** UNKNOWN_JOB answers in a row. */
  unknown: number
  /** The requester had nothing more for us while we held tasks: claim again when one finishes. */
  untilFinished: boolean
}

interface RequesterEntry {
  /** It answered a claim (any code) at least once. */
  proven: boolean
  /** Failed or unanswered claims in a row. */
  failures: number
  notBefore: number
}

/** How many dropped job ids are remembered, to tell a re-announcement from a repeat. */
const DROPPED_LIMIT = 4096

export class WorkerAgent {
  readonly capacity: number
  readonly maxClaim: number
  private readonly backoffMs: number
  private readonly maxBackoffMs: number
  private readonly maxUnknown: number
  private readonly maxRequesterFailures: number
  private readonly unprovenClaim: number
  private readonly maxUnprovenClaims: number
  private readonly jobs = new Map<string, JobEntry>()
  private readonly requesters = new Map<string, RequesterEntry>()
  /** issued_at of dropped jobs: only a later announcement brings one back. */
  private readonly dropped = new Map<string, number>()
  /** Tasks held (assigned, not yet finished). */
  private held = 0
  /** Rotates the job claimed first, so jobs share this worker. */
  private turn = 0

  constructor(params: WorkerAgentParams) {
    this.capacity = params.capacity ?? DEFAULT_WORKER_CAPACITY
    this.maxClaim = params.maxClaim ?? this.capacity
    this.backoffMs = params.backoffMs ?? 250
    this.maxBackoffMs = params.maxBackoffMs ?? 4000
    this.maxUnknown = params.maxUnknown ?? 3
    this.maxRequesterFailures = params.maxRequesterFailures ?? 4
    this.unprovenClaim = params.unprovenClaim ?? 1
    this.maxUnprovenClaims = params.maxUnprovenClaims ?? 2
    for (const [name, v] of [
      ['capacity', this.capacity],
      ['maxClaim', this.maxClaim],
      ['maxUnknown', this.maxUnknown],
      ['maxRequesterFailures', this.maxRequesterFailures],
      ['unprovenClaim', this.unprovenClaim],
      ['maxUnprovenClaims', this.maxUnprovenClaims]
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new InvalidJobParamsError(`${name} must be an integer ≥ 1, got ${v}`)
      }
    }
  }

  /**
   * A valid announcement for a model this worker serves. A job already known is refreshed when
   * this announcement is newer (a re-announcement, §5.1): it is claimed again at once. A job
   * dropped earlier comes back only with a newer announcement.
   */
  announce(now: number, job: KnownJob): AgentAction[] {
    if (job.deadline <= now) {
      return this.plan(now)
    }
    const issuedAt = job.issuedAt ?? 0
    const known = this.jobs.get(job.id)
    if (known != null) {
      if (issuedAt > (known.job.issuedAt ?? 0)) {
        known.job = job
        known.unknown = 0
        if (known.claiming === 0) {
          known.notBefore = now
          known.backoff = this.backoffMs
        }
        this.refreshRequester(now, job.requester)
      }
      return this.plan(now)
    }
    const droppedAt = this.dropped.get(job.id)
    if (droppedAt !== undefined && issuedAt <= droppedAt) {
      return this.plan(now)
    }
    this.dropped.delete(job.id)
    if (droppedAt !== undefined) {
      this.refreshRequester(now, job.requester)
    }
    this.jobs.set(job.id, { job, claiming: 0, notBefore: now, backoff: this.backoffMs, unknown: 0, untilFinished: false })
    return this.plan(now)
  }

  /** The answer to a claim: `assigned` tasks were received (0 unless answer is OK). */
  claimed(now: number, job: string, answer: ClaimAnswer, assigned = 0): AgentAction[] {
    const entry = this.jobs.get(job)
    const actions: AgentAction[] = []
    this.held += assigned
    if (entry == null) {
      return this.plan(now)
    }
    entry.claiming = 0
    const requester = this.requesterOf(entry.job.requester)
    if (answer === 'FAILED' || answer === 'TIMEOUT') {
      // §6.2: the requester did not answer. Every job of it waits; after a few, they are dropped.
      requester.failures++
      requester.notBefore = now + Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (requester.failures - 1))
      if (requester.failures >= this.maxRequesterFailures) {
        for (const [id, e] of this.jobs) {
          if (e.job.requester === entry.job.requester) {
            this.drop(id, e, `requester unresponsive (${answer})`, actions)
          }
        }
        actions.push({ type: 'unresponsive', requester: entry.job.requester, failures: requester.failures })
      }
      return [...actions, ...this.plan(now)]
    }
    requester.proven = true
    requester.failures = 0
    requester.notBefore = 0
    if (answer === 'OK' && assigned > 0) {
      entry.backoff = this.backoffMs
      entry.notBefore = now
      entry.unknown = 0
    } else if ((answer === 'OK' || answer === 'NO_TASKS') && this.held > 0) {
      // Nothing more while we hold work (e.g. our allowance is used up): ask again as soon as
      // a task finishes, not after a backoff.
      entry.untilFinished = true
    } else if (answer === 'OK' || answer === 'NO_TASKS' || answer === 'RATE_LIMITED') {
      this.backOff(now, entry)
    } else if (answer === 'UNKNOWN_JOB' && ++entry.unknown < this.maxUnknown) {
      // §6.5: a restarting requester does not know its jobs until it resumed them.
      this.backOff(now, entry)
    } else {
      this.drop(job, entry, answer, actions)
    }
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

  /** Whether a job is known and not dropped. */
  knows(job: string): boolean {
    return this.jobs.has(job)
  }

  private requesterOf(id: string): RequesterEntry {
    let r = this.requesters.get(id)
    if (r == null) {
      r = { proven: false, failures: 0, notBefore: 0 }
      this.requesters.set(id, r)
    }
    return r
  }

  /**
   * A fresh announcement from a requester that failed before: one more try now (its failure
   * count stays, so one more failure drops its jobs again).
   */
  private refreshRequester(now: number, id: string): void {
    const r = this.requesters.get(id)
    if (r != null && r.failures > 0) {
      r.failures = Math.min(r.failures, this.maxRequesterFailures - 1)
      r.notBefore = now
    }
  }

  private backOff(now: number, entry: JobEntry): void {
    entry.notBefore = now + entry.backoff
    entry.backoff = Math.min(this.maxBackoffMs, entry.backoff * 2)
  }

  private drop(id: string, entry: JobEntry, reason: string, actions: AgentAction[]): void {
    this.jobs.delete(id)
    this.dropped.set(id, entry.job.issuedAt ?? 0)
    if (this.dropped.size > DROPPED_LIMIT) {
      this.dropped.delete(this.dropped.keys().next().value as string)
    }
    actions.push({ type: 'drop', job: id, reason })
  }

  private plan(now: number): AgentAction[] {
    const actions: AgentAction[] = []
    for (const [id, e] of this.jobs) {
      if (e.job.deadline <= now) {
        this.drop(id, e, 'deadline passed', actions)
      }
    }
    const entries = [...this.jobs.values()]
    const proven = (e: JobEntry) => this.requesters.get(e.job.requester)?.proven === true
    let free = this.capacity - this.held
    let unprovenInFlight = 0
    const claiming = new Set<string>()
    for (const e of entries) {
      if (e.claiming > 0) {
        claiming.add(e.job.requester)
        if (proven(e)) {
          free -= e.claiming
        } else {
          unprovenInFlight++
        }
      }
    }
    for (let i = 0; i < entries.length; i++) {
      const e = entries[(this.turn + i) % entries.length] as JobEntry
      const r = this.requesters.get(e.job.requester)
      if (e.claiming > 0 || e.notBefore > now || e.untilFinished || (r != null && r.notBefore > now)) {
        continue
      }
      if (r?.proven === true) {
        if (free <= 0) {
          continue
        }
        const maxTasks = Math.min(free, this.maxClaim, e.job.maxBatch)
        e.claiming = maxTasks
        free -= maxTasks
        claiming.add(e.job.requester)
        actions.push({ type: 'claim', job: e.job.id, requester: e.job.requester, maxTasks })
        continue
      }
      // A requester not yet known to answer: a small claim, one per requester, a few at once. They
      // do not count against the free slots, so announcements of jobs whose requester never
      // answers cannot starve the others (§6.2); at most `maxUnprovenClaims` tasks over capacity.
      if (unprovenInFlight >= this.maxUnprovenClaims || claiming.has(e.job.requester)) {
        continue
      }
      const maxTasks = Math.min(this.unprovenClaim, this.maxClaim, e.job.maxBatch)
      e.claiming = maxTasks
      unprovenInFlight++
      claiming.add(e.job.requester)
      actions.push({ type: 'claim', job: e.job.id, requester: e.job.requester, maxTasks })
    }
    this.turn = entries.length === 0 ? 0 : (this.turn + 1) % entries.length
    // Wake for the next backoff to end, or the next deadline to drop a job.
    let at: number | undefined
    for (const e of this.jobs.values()) {
      const r = this.requesters.get(e.job.requester)
      const ready = Math.max(e.notBefore, r?.notBefore ?? 0)
      const wake = e.claiming === 0 && ready > now ? Math.min(ready, e.job.deadline) : e.job.deadline
      at = at === undefined ? wake : Math.min(at, wake)
    }
    actions.push({ type: 'timer', at })
    return actions
  }
}
