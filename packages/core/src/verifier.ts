/**
 * Redundant sampling (spec §7.2–7.6), sans-IO: after a result is accepted the Verifier decides
 * whether an independent worker re-runs the task; it compares outputs with the job's agreement
 * rules, settles a disagreement by a third run, and keeps per-worker trust (consecutive
 * agreements, counts, offences, bans). Randomness is injected, so tests and simulations are
 * reproducible; a peer passes a cryptographically secure source.
 */

import {
  adaptiveRate,
  agreeResults,
  banDuration,
  isDeterministicFailure,
  type ResolvedPolicy,
  reputationScore,
  samplingFloor,
  type TaskFailure,
  type Tensor
} from '@openbatch/protocol'
import { VerificationStateError } from './errors.js'

/** A result as the verifier sees it: who computed which task, and the outputs. */
export interface ObservedResult {
  task: number
  worker: string
  outputs: Tensor[]
  /** The worker reported that the task cannot run (§6.6) instead of outputs. */
  failure?: TaskFailure
  /** The outputs' digest (§3.5): what a result that carries only the digest is compared by (§7.1). */
  outputDigest?: Uint8Array
  /** The signed result, carried through to a fraud proof (§7.5). */
  envelope?: Uint8Array
}

/** Per-worker trust a peer keeps (spec §7.6), across jobs; persisted by the caller's TrustBook. */
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

/**
 * Where trust records live. The Verifier mutates the record `get` returns and then calls
 * `changed`, so a persistent book can write it through (spec §7.6: reputation is stored durably).
 */
export interface TrustBook {
  /** The record of `worker`; a newcomer's when unknown. */
  get(worker: string): WorkerTrust
  changed(worker: string): void
}

export function newcomerTrust(): WorkerTrust {
  return { streak: 0, agreements: 0, disagreements: 0, timeouts: 0, offences: 0, bannedUntil: 0 }
}

/** A TrustBook in memory (tests, simulations, short-lived peers). */
export class MemoryTrustBook implements TrustBook {
  readonly records = new Map<string, WorkerTrust>()
  get(worker: string): WorkerTrust {
    let t = this.records.get(worker)
    if (t == null) {
      t = newcomerTrust()
      this.records.set(worker, t)
    }
    return t
  }
  changed(): void {}
}

/** §7.6: a valid fraud proof against the worker: trust starts over, and a ban (longer each time). */
export function recordOffence(t: WorkerTrust, now: number): void {
  recordDisagreement(t)
  t.offences++
  t.bannedUntil = Math.max(t.bannedUntil, now + banDuration(t.offences))
}

/** Leases that expired on `t`'s worker, or claims a requester left unanswered (§7.6). */
export function recordTimeouts(t: WorkerTrust, count = 1): void {
  t.timeouts += count
}

/** A provably bad result (§6.3: bad signature, wrong signer, model or input digest) counts as a disagreement (§7.6). */
export function recordDisagreement(t: WorkerTrust): void {
  t.disagreements++
  t.streak = 0
}

/**
 * What the caller does next for a task. Every action that ends a task's verification names the
 * result that stands (`result`: whose it is, and its signed envelope).
 */
export type VerifyAction =
  /** Run this task again on a worker outside `exclude` (everyone who ran it). */
  | { type: 'rerun'; task: number; exclude: string[] }
  /** The task's result stands: it was not sampled (`unsampled`). */
  | { type: 'settled'; task: number; status: 'unsampled'; result: ObservedResult }
  /** Re-runs agreed; `known`: the agreeing results (a canary's answer later, §7.4). */
  | { type: 'settled'; task: number; status: 'agreed'; result: ObservedResult; known: ObservedResult[] }
  /** `worker` passed a canary on this (already settled) task. */
  | { type: 'settled'; task: number; status: 'canary'; worker: string }
  /**
   * A majority outvoted `accused`: build a fraud proof from the accused's signed result and the
   * agreeing ones (§7.5), publish it, and keep the agreeing output as the task's result.
   */
  | { type: 'fraud'; task: number; accused: string; agreeing: string[]; evidence: { accused: ObservedResult; agreeing: ObservedResult[] } }
  /** Three runs, no two agree: nobody is penalised; the first run's result stands, unresolved (§6.5). */
  | { type: 'unresolved'; task: number; result: ObservedResult }

interface Pending {
  results: ObservedResult[]
  /** A canary: `results` are the known, agreeing answers (§7.4). */
  canary?: boolean
  /** An audit of a convicted worker's result (the first): agreement earns that worker no trust. */
  audit?: boolean
}

export interface VerifierInit {
  policy: ResolvedPolicy
  /** The job's reward per task (R), for the Proof-of-Sampling floor. */
  reward: bigint | number
  /** Uniform in [0, 1). Production: a CSPRNG. */
  random: () => number
  /** Shared across jobs (and persisted) by a peer. @default a MemoryTrustBook */
  trust?: TrustBook
}

export class Verifier {
  readonly floor: number
  readonly trust: TrustBook
  private readonly pending = new Map<number, Pending>()

  constructor(private readonly init: VerifierInit) {
    this.floor = samplingFloor(init.policy, init.reward)
    this.trust = init.trust ?? new MemoryTrustBook()
  }

  /** Trust record of a worker (a newcomer's when unknown). */
  trustOf(worker: string): WorkerTrust {
    return this.trust.get(worker)
  }

  /** Tasks whose verification is still open (a re-run or canary result is awaited). */
  get open(): number {
    return this.pending.size
  }

  /**
   * §7.4: `task`'s answer is known — `known` are its agreeing results — and it goes out again as a
   * canary; the next result for it is compared with them. The caller assigns it only to workers
   * that have not seen it.
   */
  canary(task: number, known: ObservedResult[]): void {
    if (known.length === 0 || this.pending.has(task)) {
      throw new VerificationStateError(
        `task ${task} cannot be a canary: ${known.length === 0 ? 'no known answer' : 'its verification is open'}`
      )
    }
    this.pending.set(task, { results: [...known], canary: true })
  }

  /**
   * Re-opens verification of a task whose result stands unsampled: `result` is compared with the
   * next independent result, as if it had been sampled (the audit of a convicted worker, §7.5).
   */
  audit(result: ObservedResult): void {
    if (!this.pending.has(result.task)) {
      this.pending.set(result.task, { results: [result], audit: true })
    }
  }

  /**
   * Gives up on a task's open verification (no independent worker came in time): nobody is
   * judged. Returns the results it held — the first stands; two or more disagreed (§6.5
   * unresolved) — and none for a canary (its task settled long ago).
   */
  abandon(task: number): ObservedResult[] {
    const p = this.pending.get(task)
    this.pending.delete(task)
    return p == null || p.canary === true ? [] : p.results
  }

  /** Whether a verification (a re-run, an audit or a canary) of `task` is open. */
  isOpen(task: number): boolean {
    return this.pending.has(task)
  }

  /** Workers whose results for `task`'s open verification are held (none when it is not open). */
  runners(task: number): string[] {
    return this.pending.get(task)?.results.map((r) => r.worker) ?? []
  }

  /** Tasks whose own verification is open (canaries of settled tasks left out). */
  openTasks(): number[] {
    const out: number[] = []
    for (const [task, p] of this.pending) {
      if (p.canary !== true) {
        out.push(task)
      }
    }
    return out
  }

  /** §6.3, §7.6: `worker` sent a provably bad result. */
  provablyBad(worker: string): void {
    recordDisagreement(this.trustOf(worker))
    this.trust.changed(worker)
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
    recordTimeouts(this.trustOf(worker))
    this.trust.changed(worker)
  }

  /**
   * A result was accepted (§6.3). The first result of a task is sampled with the worker's rate;
   * later ones are the re-runs the verifier asked for.
   */
  accepted(now: number, result: ObservedResult): VerifyAction[] {
    const p = this.pending.get(result.task)
    if (p == null) {
      // §6.6: a deterministic failure settles a task only once an independent worker confirms it.
      const confirm = result.failure != null && isDeterministicFailure(result.failure.kind)
      if (confirm || this.init.random() < this.rate(result.worker)) {
        this.pending.set(result.task, { results: [result] })
        return [{ type: 'rerun', task: result.task, exclude: [result.worker] }]
      }
      return [{ type: 'settled', task: result.task, status: 'unsampled', result }]
    }
    if (p.results.some((r) => r.worker === result.worker)) {
      return [] // the same worker twice is no independent evidence
    }
    if (p.canary === true) {
      this.pending.delete(result.task)
      const known = p.results[0] as ObservedResult
      if (this.agree(known, result)) {
        this.credit(result.worker)
        return [{ type: 'settled', task: result.task, status: 'canary', worker: result.worker }]
      }
      this.offence(now, result.worker)
      return [
        {
          type: 'fraud',
          task: result.task,
          accused: result.worker,
          agreeing: p.results.map((r) => r.worker),
          evidence: { accused: result, agreeing: p.results }
        }
      ]
    }
    p.results.push(result)
    return this.settle(now, result.task, p)
  }

  private agree(a: ObservedResult, b: ObservedResult): boolean {
    return agreeResults(a, b, this.init.policy.agreement).agree
  }

  private settle(now: number, task: number, p: Pending): VerifyAction[] {
    const [first, second, third] = p.results as [ObservedResult, ObservedResult, ObservedResult | undefined]
    if (third == null) {
      if (this.agree(first, second)) {
        this.pending.delete(task)
        this.credit(first.worker, p)
        this.credit(second.worker, p)
        return [{ type: 'settled', task, status: 'agreed', result: first, known: [first, second] }]
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
      // Two failures never outvote outputs: a result that exists is no fraud (§6.6, §7.5).
      if (this.agree(a, b) && !this.agree(a, odd) && a.failure == null) {
        this.credit(a.worker, p)
        this.credit(b.worker, p)
        this.offence(now, odd.worker)
        return [{ type: 'fraud', task, accused: odd.worker, agreeing: [a.worker, b.worker], evidence: { accused: odd, agreeing: [a, b] } }]
      }
    }
    if (this.agree(first, second) && this.agree(first, third)) {
      for (const r of p.results) {
        this.credit(r.worker, p)
      }
      return [{ type: 'settled', task, status: 'agreed', result: first, known: p.results }]
    }
    return [{ type: 'unresolved', task, result: first }]
  }

  private credit(worker: string, p?: Pending): void {
    if (p?.audit === true && worker === p.results[0]?.worker) {
      return
    }
    const t = this.trustOf(worker)
    t.agreements++
    t.streak++
    this.trust.changed(worker)
  }

  /** A valid fraud proof against `worker` (ours, or one received over gossip): §7.6. */
  offence(now: number, worker: string): void {
    recordOffence(this.trustOf(worker), now)
    this.trust.changed(worker)
  }
}
