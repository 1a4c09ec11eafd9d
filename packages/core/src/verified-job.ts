/**
 * One job with verification (spec §6.5, §7), sans-IO: a RequesterJob (tasks, leases) driven by a
 * Verifier (sampling, agreement, majority, trust). It decides, per claim, whether the worker is
 * refused (banned or below the reputation threshold, §7.6), which checks — re-runs of sampled
 * results and canaries (§7.2, §7.4) — it gets, and per result what the task's verdict is. The
 * caller carries out the actions (persist, publish a fraud proof, arm the timer) and reports
 * verdicts to its user. The same code runs in a peer, in unit tests and in simulations.
 */

import { type FailureKind, isDeterministicFailure, type ResolvedPolicy } from '@openbatch/protocol'
import {
  type ClaimOutcome,
  type JobAction,
  type JobParams,
  type JobSummary,
  RequesterJob,
  type ResultOutcome,
  TaskState
} from './requester-job.js'
import { type ObservedResult, type TrustBook, Verifier } from './verifier.js'

/** How a task's result was verified (what a user sees next to each result). */
export type VerificationStatus =
  /** An independent worker re-ran the task and agreed (§7.2). */
  | 'agreed'
  /** Not sampled: the result stands on its worker's reputation. */
  | 'unsampled'
  /** Runs disagreed and a majority decided; the result is the majority's, a fraud proof names the other. */
  | 'disputed'
  /** Three runs, no two agreed (§6.5): the result is the first run's and is not to be trusted. */
  | 'unresolved'

/** A task's final verdict: its result is the one `worker` computed. */
export interface Verdict {
  task: number
  status: VerificationStatus
  /** This verdict replaces an earlier one (the task was audited after its worker was convicted). */
  revised?: boolean
  /** Whose result is the task's result. */
  worker: string
  /** That worker's reputation (§7.6) when the verdict was reached. */
  reputation: number
  /** The task could not run: the result is this failure (§6.6), not outputs. */
  failure?: FailureKind
}

/**
 * Effects for the caller, carried out in order by one executor. RequesterJob's `accept` carries
 * the result here: store it durably (and sign its receipt), then call `stored()` — the task counts
 * as done, and its verification goes on, only then — or `storeFailed()` when the write failed.
 */
export type VerifiedJobAction =
  | Exclude<JobAction, { type: 'accept' }>
  | { type: 'accept'; worker: string; task: number; check: boolean; result: ObservedResult }
  /** The task is settled: report it; its result is `result` (`verdict.worker`'s). */
  | { type: 'verdict'; verdict: Verdict; result: ObservedResult | undefined }
  /**
   * `worker` was convicted; its result for `task` stood unsampled and is audited now: load that
   * result (signed envelope included) and pass it to `audit()`. The task's re-run is queued.
   */
  | { type: 'audit'; task: number; worker: string }
  /** `worker` passed a canary (§7.4). */
  | { type: 'canary-passed'; task: number; worker: string }
  /**
   * §7.5: build a fraud proof from these results (their `envelope`s), publish it, and ban the
   * accused (its trust record is already updated).
   */
  | { type: 'fraud'; task: number; accused: ObservedResult; agreeing: ObservedResult[] }

export interface VerifiedStep<T> {
  outcome: T
  actions: VerifiedJobAction[]
}

export type VerifiedClaimOutcome = ClaimOutcome | { code: 'BANNED' | 'RATE_LIMITED'; tasks: [] }

export interface VerifiedJobInit extends Omit<JobParams, 'verify'> {
  /** The job's resolved policy (§7): sampling rates, canary rate and agreement rules. */
  policy: ResolvedPolicy
  /** R, the reward per task (for the §7.3 floor). */
  reward: bigint | number
  /** Uniform in [0, 1); a CSPRNG in a peer. */
  random: () => number
  trust?: TrustBook
  /** Workers scoring below this get no tasks (§7.6). @default DEFAULT_MIN_REPUTATION */
  minReputation?: number
  /** Canaries kept at once (each holds two results' outputs). @default 64 */
  canaryPool?: number
  /** Persisted task states after a restart (RequesterJob.restore); open verifications are not resumed. */
  restore?: Parameters<typeof RequesterJob.restore>[1]
  /** With `restore`: the counts of the job before the restart, so the summary covers the whole job. */
  restoredCounts?: Partial<VerificationCounts>
}

/** Workers scoring below this get no tasks (§7.6). */
export const DEFAULT_MIN_REPUTATION = 0.1

/** How a job's settled tasks were verified; a resumed job's carry over its restart (spec §6.5). */
export interface VerificationCounts {
  agreed: number
  unsampled: number
  disputed: number
  unresolved: number
  canariesPassed: number
  fraudProofs: number
  /** Tasks whose unsampled result was audited after its worker was convicted (their verdicts revised). */
  audited: number
  /** Settled tasks whose result is a failure (§6.6): the input did not fit, or no worker could run it. */
  failed: number
}

export interface VerifiedJobSummary extends JobSummary, VerificationCounts {}

interface Canary {
  task: number
  known: ObservedResult[]
}

const COUNTED = ['agreed', 'unsampled', 'disputed', 'unresolved', 'canariesPassed', 'fraudProofs', 'audited'] as const

export class VerifiedJob {
  readonly #job: RequesterJob
  /** The one owner of verification evidence: who ran each open task, with what result. */
  readonly #verifier: Verifier
  readonly #random: () => number
  readonly #canaryRate: number
  readonly #minReputation: number
  readonly #canaryLimit: number
  #canaries: Canary[] = []
  /** Network group (e.g. /24) of each worker, from its claims. */
  readonly #groups = new Map<string, string>()
  readonly #counts = { agreed: 0, unsampled: 0, disputed: 0, unresolved: 0, canariesPassed: 0, fraudProofs: 0, audited: 0 }
  /** Tasks whose result stands unsampled, by worker: audited if that worker is convicted. */
  readonly #unsampledBy = new Map<string, Set<number>>()
  /** Tasks being audited (their earlier verdict will be revised). */
  readonly #auditing = new Set<number>()
  /** Settled tasks whose result is a failure. */
  readonly #failedTasks = new Set<number>()
  /** Failed tasks settled before a restart. */
  readonly #restoredFailed: number

  constructor(init: VerifiedJobInit) {
    this.#job =
      init.restore == null ? new RequesterJob({ ...init, verify: true }) : RequesterJob.restore({ ...init, verify: true }, init.restore)
    this.#verifier = new Verifier({
      policy: init.policy,
      reward: init.reward,
      random: init.random,
      trust: init.trust
    })
    this.#random = init.random
    this.#canaryRate = init.policy.canaryRate
    this.#minReputation = init.minReputation ?? DEFAULT_MIN_REPUTATION
    this.#canaryLimit = init.canaryPool ?? 64
    const r = init.restoredCounts ?? {}
    for (const key of COUNTED) {
      this.#counts[key] = r[key] ?? 0
    }
    this.#restoredFailed = r.failed ?? 0
  }

  get taskCount(): number {
    return this.#job.taskCount
  }

  taskState(task: number): TaskState {
    return this.#job.taskState(task)
  }

  /** When `tick()` is due next. */
  timer(): JobAction {
    return this.#job.timer()
  }

  /** §7.2 This worker's sampling probability now. */
  rate(worker: string): number {
    return this.#verifier.rate(worker)
  }

  /** Verifications (re-runs, audits, canaries) still open. */
  get openVerifications(): number {
    return this.#verifier.open
  }

  /** A worker (of `group`) is known to be around (RequesterJob.noteWorker). */
  noteWorker(now: number, worker: string, group?: string): void {
    this.#job.noteWorker(now, worker, group)
  }

  /** §6.2, §7.6: refused when banned or below the threshold; canaries are mixed in (§7.4). */
  claim(now: number, worker: string, maxTasks: number, group?: string): VerifiedStep<VerifiedClaimOutcome> {
    if (this.#verifier.isBanned(worker, now)) {
      return { outcome: { code: 'BANNED', tasks: [] }, actions: [] }
    }
    if (this.#verifier.reputation(worker) < this.#minReputation) {
      return { outcome: { code: 'RATE_LIMITED', tasks: [] }, actions: [] }
    }
    if (group != null) {
      this.#groups.set(worker, group)
    }
    const slots = Math.min(Math.max(0, Math.floor(maxTasks)), this.#job.maxBatch)
    for (let i = 0; i < slots && this.#canaries.length > 0; i++) {
      if (this.#random() < this.#canaryRate) {
        this.queueCanary(now, worker)
      }
    }
    const step = this.#job.claim(now, worker, maxTasks, group)
    // Checks that expired, leases that lapsed and the deadline are handled here as everywhere.
    return { outcome: step.outcome, actions: this.expired(now, step.actions) }
  }

  /** A canary this worker has not seen goes into the check queue (it may go to another such worker). */
  private queueCanary(now: number, worker: string): void {
    const i = this.#canaries.findIndex((c) => !c.known.some((r) => r.worker === worker) && !this.#job.checking(c.task))
    if (i < 0) {
      return
    }
    const [canary] = this.#canaries.splice(i, 1) as [Canary]
    if (this.#verifier.isOpen(canary.task)) {
      return
    }
    const exclude = canary.known.map((r) => r.worker)
    if (this.#job.recheck(now, canary.task, exclude, this.groupsOf(exclude))) {
      this.#verifier.canary(canary.task, canary.known)
    }
  }

  /**
   * §6.3 A result whose signature, model and input digest the caller checked. On `OK` the actions
   * begin with `accept`: the caller stores the result durably, then calls `stored()` (or
   * `storeFailed()`) before answering the worker.
   */
  result(now: number, result: ObservedResult): VerifiedStep<ResultOutcome> {
    const step = this.#job.result(now, result.worker, result.task)
    return { outcome: step.outcome, actions: this.acceptStep(now, step, result) }
  }

  /**
   * §6.6 A transient failure (the worker could not run the task now): the task goes to another
   * worker (`RETRY_ELSEWHERE`), or — after `maxTransientFailures` workers failed it — the failure
   * is accepted as its result (`OK`, with an `accept` action like `result()`'s) and the task
   * settles once stored: there is nothing an independent worker could confirm.
   */
  failed(now: number, result: ObservedResult): VerifiedStep<ResultOutcome> {
    const step = this.#job.failed(now, result.worker, result.task)
    return { outcome: step.outcome, actions: this.acceptStep(now, step, result) }
  }

  /**
   * A step that may accept `result`: its actions, the `accept` carrying the result. An accepted
   * step ends without a timer: `stored()` or `storeFailed()` ends with the one that counts (a timer
   * armed now would be stale by then, and the executor's last timer wins).
   */
  private acceptStep(now: number, step: { outcome: ResultOutcome; actions: JobAction[] }, result: ObservedResult): VerifiedJobAction[] {
    const actions = this.expired(now, step.actions, result)
    return step.outcome.code === 'OK' ? actions.filter((a) => a.type !== 'timer') : actions
  }

  /**
   * The `accept` action's result is stored durably: the task counts as done now and its
   * verification goes on (sampling, agreement, majority, §7.2–7.5).
   */
  stored(now: number, accepted: Extract<VerifiedJobAction, { type: 'accept' }>): VerifiedJobAction[] {
    const { result } = accepted
    const actions: VerifiedJobAction[] = []
    if (result.failure != null && !isDeterministicFailure(result.failure.kind)) {
      // §6.6: a transient failure accepted after maxTransientFailures workers: nothing to confirm.
      if (!accepted.check) {
        this.finish(now, result.task, 'unsampled', result, actions)
      }
      return [...actions, this.#job.timer() as VerifiedJobAction]
    }
    for (const v of this.#verifier.accepted(now, result)) {
      switch (v.type) {
        case 'rerun':
          if (!this.#job.recheck(now, v.task, v.exclude, this.groupsOf(v.exclude))) {
            // No check can go out (the job is closed): the first result stands.
            const [first] = this.#verifier.abandon(v.task)
            this.finish(now, v.task, 'unsampled', first ?? result, actions)
          }
          break
        case 'settled':
          if (v.status === 'canary') {
            this.#counts.canariesPassed++
            actions.push({ type: 'canary-passed', task: v.task, worker: v.worker })
          } else if (v.status === 'agreed') {
            if (v.known.every((r) => r.failure == null)) {
              this.remember({ task: v.task, known: v.known.slice(0, 2) })
            }
            this.finish(now, v.task, 'agreed', v.result, actions)
          } else {
            this.finish(now, v.task, 'unsampled', v.result, actions)
          }
          break
        case 'fraud': {
          this.#counts.fraudProofs++
          actions.push({ type: 'fraud', task: v.task, accused: v.evidence.accused, agreeing: v.evidence.agreeing })
          this.auditConvicted(now, v.accused, actions)
          // A canary's task was settled long ago; a disputed task settles on the majority's result.
          if (this.#job.taskState(v.task) === TaskState.CHECKING) {
            this.finish(now, v.task, 'disputed', v.evidence.agreeing[0] as ObservedResult, actions)
          }
          break
        }
        case 'unresolved':
          this.finish(now, v.task, 'unresolved', v.result, actions)
          break
      }
    }
    return [...actions, this.#job.timer() as VerifiedJobAction]
  }

  /**
   * The `accept` action's result could not be stored: it is not counted — a first run goes back
   * to the queue, a check to its queue — and the worker gets no receipt.
   */
  storeFailed(now: number, accepted: Extract<VerifiedJobAction, { type: 'accept' }>): VerifiedJobAction[] {
    const { task, worker } = accepted.result
    if (!accepted.check) {
      return this.expired(now, this.#job.unaccept(now, worker, task, false))
    }
    const exclude = this.#verifier.runners(task)
    return this.expired(now, this.#job.unaccept(now, worker, task, true, exclude, this.groupsOf(exclude)))
  }

  tick(now: number): VerifiedJobAction[] {
    return this.expired(now, this.#job.tick(now))
  }

  /** Tasks of a claim that could not be sent go back to the queue (RequesterJob.giveBack). */
  giveBack(now: number, worker: string, tasks: number[]): VerifiedJobAction[] {
    return this.expired(now, this.#job.giveBack(now, worker, tasks))
  }

  workerGone(now: number, worker: string): VerifiedJobAction[] {
    return this.expired(now, this.#job.workerGone(now, worker))
  }

  /** §6.3, §7.6: `worker` sent a provably bad result for this job (its trust is shared across jobs). */
  provablyBad(worker: string): void {
    this.#verifier.provablyBad(worker)
  }

  close(): void {
    this.#job.close()
  }

  summary(): VerifiedJobSummary {
    return { ...this.#job.summary(), ...this.#counts, failed: this.#restoredFailed + this.#failedTasks.size }
  }

  /**
   * Handles RequesterJob actions that concern verification: timeouts, expired checks, the
   * deadline; an `accept` gets the `result` to store.
   */
  private expired(now: number, jobActions: JobAction[], result?: ObservedResult): VerifiedJobAction[] {
    const out: VerifiedJobAction[] = []
    for (const a of jobActions) {
      if (a.type === 'accept') {
        if (result != null) {
          out.push({ ...a, result })
        }
        continue
      }
      out.push(a)
      if (a.type === 'release' && a.reason === 'expired') {
        this.#verifier.timedOut(a.worker)
      } else if (a.type === 'check-expired') {
        // No independent worker in time: the first result stands (two disagreeing: unresolved).
        this.giveUp(now, a.task, out)
      } else if (a.type === 'deadline') {
        for (const task of this.#verifier.openTasks()) {
          this.giveUp(now, task, out)
        }
      }
    }
    return out
  }

  /** A task's open verification ends without a decision: its first result stands (§6.5). */
  private giveUp(now: number, task: number, out: VerifiedJobAction[]): void {
    const held = this.#verifier.abandon(task)
    const first = held[0]
    if (first != null && this.#job.taskState(task) === TaskState.CHECKING) {
      this.finish(now, task, held.length >= 2 ? 'unresolved' : 'unsampled', first, out)
    }
  }

  /**
   * §7.5: a convicted worker's results that stood unsampled in this job are re-run by others; the
   * tasks stay open until they settle again (if the job has not completed).
   */
  private auditConvicted(now: number, worker: string, actions: VerifiedJobAction[]): void {
    const tasks = this.#unsampledBy.get(worker)
    this.#unsampledBy.delete(worker)
    for (const task of tasks ?? []) {
      if (this.#job.checking(task) || !this.#job.reopen(task)) {
        continue
      }
      this.#auditing.add(task)
      this.#job.recheck(now, task, [worker], this.groupsOf([worker]))
      actions.push({ type: 'audit', task, worker })
    }
  }

  /** The convicted worker's stored result for an `audit` action's task. */
  audit(result: ObservedResult): void {
    if (this.#auditing.has(result.task)) {
      this.#verifier.audit(result)
    }
  }

  private finish(now: number, task: number, status: VerificationStatus, result: ObservedResult, actions: VerifiedJobAction[]): void {
    const revised = this.#auditing.delete(task)
    if (revised) {
      this.#counts.unsampled--
      this.#counts.audited++
    }
    this.#counts[status]++
    const { worker, failure } = result
    if (failure != null) {
      this.#failedTasks.add(task)
    } else {
      this.#failedTasks.delete(task)
    }
    if (status === 'unsampled') {
      let set = this.#unsampledBy.get(worker)
      if (set == null) {
        set = new Set()
        this.#unsampledBy.set(worker, set)
      }
      set.add(task)
    }
    const verdict: Verdict = { task, status, worker, reputation: this.#verifier.reputation(worker) }
    if (revised) {
      verdict.revised = true
    }
    if (failure != null) {
      verdict.failure = failure.kind
    }
    actions.push({ type: 'verdict', verdict, result })
    actions.push(...this.expired(now, this.#job.settle(now, task)))
  }

  private remember(canary: Canary): void {
    if (this.#canaryRate <= 0) {
      return // a policy without canaries (only a caller's own ResolvedPolicy can say so: on the wire 0 means the default)
    }
    this.#canaries.push(canary)
    if (this.#canaries.length > this.#canaryLimit) {
      // Keep a random sample, so canaries do not all come from the job's start.
      const drop = Math.floor(this.#random() * this.#canaries.length)
      this.#canaries.splice(drop, 1)
    }
  }

  private groupsOf(workers: Iterable<string>): string[] {
    const out: string[] = []
    for (const w of workers) {
      const g = this.#groups.get(w)
      if (g != null) {
        out.push(g)
      }
    }
    return out
  }
}
