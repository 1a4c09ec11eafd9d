/**
 * Redundant sampling (spec §7.2–7.6), sans-IO: after a result is accepted the Verifier decides
 * whether an independent worker re-runs the task; it compares outputs with the job's agreement
 * rules, settles a disagreement by a third run, and keeps per-worker trust (consecutive
 * agreements, counts, offences, bans). Randomness is injected, so tests and simulations are
 * reproducible; a peer passes a cryptographically secure source.
 */

import {
  type AgreementRule,
  adaptiveRate,
  agreeOutputs,
  banDuration,
  type ResolvedPolicy,
  reputationScore,
  samplingFloor,
  type Tensor
} from '@openbatch/protocol'

/** A result as the verifier sees it: who computed which task, and the outputs. */
export interface ObservedResult {
  task: number
  worker: string
  outputs: Tensor[]
}

export interface WorkerTrust {
  /** Consecutive results that agreed with an independent re-run (k in §7.2). */
  streak: number
  agreements: number
  disagreements: number
  timeouts: number
  /** Valid fraud proofs against this worker (§7.6). */
  offences: number
  /** Banned until this time (ms); Infinity for a permanent ban. */
  bannedUntil: number
}

/** What the caller does next for a task. */
export type VerifyAction =
  /** Assign this task again, as an ordinary task, to a worker other than `exclude`. */
  | { type: 'rerun'; task: number; exclude: string[] }
  /** The task's result stands: it was not sampled, or re-runs agreed. */
  | { type: 'settled'; task: number; status: 'unsampled' | 'agreed' }
  /**
   * A majority outvoted `accused`: build a fraud proof from the accused's signed result and the
   * agreeing ones (§7.5), publish it, and keep the agreeing output as the task's result.
   */
  | { type: 'fraud'; task: number; accused: string; agreeing: string[] }
  /** Three runs, no two agree: nobody is penalised, the task is marked unresolved (§6.5). */
  | { type: 'unresolved'; task: number }

interface Pending {
  results: ObservedResult[]
}

export interface VerifierInit {
  policy: ResolvedPolicy
  /** The job's reward per task (R), for the Proof-of-Sampling floor. */
  reward: bigint | number
  agreement: AgreementRule[]
  /** Uniform in [0, 1). Production: a CSPRNG. */
  random: () => number
}

export class Verifier {
  readonly floor: number
  private readonly trust = new Map<string, WorkerTrust>()
  private readonly pending = new Map<number, Pending>()

  constructor(private readonly init: VerifierInit) {
    this.floor = samplingFloor(init.policy, init.reward)
  }

  /** Trust record of a worker (a newcomer's when unknown). */
  trustOf(worker: string): WorkerTrust {
    let t = this.trust.get(worker)
    if (t == null) {
      t = { streak: 0, agreements: 0, disagreements: 0, timeouts: 0, offences: 0, bannedUntil: 0 }
      this.trust.set(worker, t)
    }
    return t
  }

  /** §7.2 sampling probability for this worker now. */
  rate(worker: string): number {
    return adaptiveRate(this.trustOf(worker).streak, this.init.policy, this.floor)
  }

  reputation(worker: string): number {
    const t = this.trustOf(worker)
    return reputationScore({ agreements: t.agreements, disagreements: t.disagreements, timeouts: t.timeouts })
  }

  isBanned(worker: string, now: number): boolean {
    return this.trustOf(worker).bannedUntil > now
  }

  /** A lease of this worker expired (§7.6 counts it). */
  timedOut(worker: string): void {
    this.trustOf(worker).timeouts++
  }

  /**
   * A result was accepted (§6.3). The first result of a task is sampled with the worker's rate;
   * later ones are the re-runs the verifier asked for.
   */
  accepted(now: number, result: ObservedResult): VerifyAction[] {
    const p = this.pending.get(result.task)
    if (p == null) {
      if (this.init.random() < this.rate(result.worker)) {
        this.pending.set(result.task, { results: [result] })
        return [{ type: 'rerun', task: result.task, exclude: [result.worker] }]
      }
      return [{ type: 'settled', task: result.task, status: 'unsampled' }]
    }
    if (p.results.some((r) => r.worker === result.worker)) {
      return [] // the same worker twice is no independent evidence
    }
    p.results.push(result)
    return this.settle(now, result.task, p)
  }

  private agree(a: ObservedResult, b: ObservedResult): boolean {
    return agreeOutputs(a.outputs, b.outputs, this.init.agreement).agree
  }

  private settle(now: number, task: number, p: Pending): VerifyAction[] {
    const [first, second, third] = p.results as [ObservedResult, ObservedResult, ObservedResult | undefined]
    if (third == null) {
      if (this.agree(first, second)) {
        this.pending.delete(task)
        this.credit(first.worker)
        this.credit(second.worker)
        return [{ type: 'settled', task, status: 'agreed' }]
      }
      // §7.5: a disagreement is settled by a further independent run.
      return [{ type: 'rerun', task, exclude: [first.worker, second.worker] }]
    }
    this.pending.delete(task)
    const pairs: [ObservedResult, ObservedResult, ObservedResult][] = [
      [first, second, third],
      [first, third, second],
      [second, third, first]
    ]
    for (const [a, b, odd] of pairs) {
      if (this.agree(a, b) && !this.agree(a, odd)) {
        this.credit(a.worker)
        this.credit(b.worker)
        this.offence(now, odd.worker)
        return [{ type: 'fraud', task, accused: odd.worker, agreeing: [a.worker, b.worker] }]
      }
    }
    if (this.agree(first, second) && this.agree(first, third)) {
      for (const r of p.results) {
        this.credit(r.worker)
      }
      return [{ type: 'settled', task, status: 'agreed' }]
    }
    return [{ type: 'unresolved', task }]
  }

  private credit(worker: string): void {
    const t = this.trustOf(worker)
    t.agreements++
    t.streak++
  }

  /** A valid fraud proof against `worker` (ours, or one received over gossip): §7.6. */
  offence(now: number, worker: string): void {
    const t = this.trustOf(worker)
    t.disagreements++
    t.streak = 0
    t.offences++
    t.bannedUntil = Math.max(t.bannedUntil, now + banDuration(t.offences))
  }
}
