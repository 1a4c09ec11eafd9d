/**
 * Verification math (spec §7.2, §7.3, §7.6): the probability that sampling catches a cheater, the
 * Proof-of-Sampling floor, the adaptive per-worker sampling rate, reputation and ban durations.
 * Pure functions of their arguments; the clock is never read.
 */

import { BAN_BASE_MS, BAN_MAX_MS, PERMANENT_BAN_OFFENCES, POS_SAFETY_MARGIN, REPUTATION_WEIGHTS } from './constants.js'
import { InvalidParameterError } from './errors.js'
import type { ResolvedPolicy } from './messages.js'

function rate(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0 || v > 1) {
    throw new InvalidParameterError(`${name} must be in [0, 1], got ${v}`)
  }
}

function count(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) {
    throw new InvalidParameterError(`${name} must be an integer ≥ 0, got ${v}`)
  }
}

export interface DetectionParams {
  /** f: fraction of its tasks the cheater fakes (each task independently). */
  cheatFraction: number
  /** p: probability that a real task is re-run by an independent worker. */
  sampleRate: number
  /** c: fraction of the worker's tasks that are canaries with known answers (default 0). */
  canaryRate?: number
}

/**
 * §7.4 Probability that one task of the worker exposes it:
 * q = f · (c + (1 − c) · p) — a faked canary is always caught, a faked real task with probability p.
 */
export function perTaskDetection({ cheatFraction: f, sampleRate: p, canaryRate: c = 0 }: DetectionParams): number {
  rate('cheatFraction', f)
  rate('sampleRate', p)
  rate('canaryRate', c)
  return f * (c + (1 - c) * p)
}

/** §7.4 Probability that a cheater is caught at least once within n tasks: 1 − (1 − q)^n. */
export function detectionProbability(params: DetectionParams & { tasks: number }): number {
  count('tasks', params.tasks)
  return 1 - (1 - perTaskDetection(params)) ** params.tasks
}

/**
 * §7.4 Fewest tasks after which the cheater is caught with probability ≥ `confidence`;
 * Infinity when q = 0.
 */
export function tasksToDetect(params: DetectionParams & { confidence: number }): number {
  rate('confidence', params.confidence)
  const q = perTaskDetection(params)
  if (params.confidence === 0) {
    return 0
  }
  if (q === 0) {
    return Number.POSITIVE_INFINITY
  }
  if (q === 1) {
    return 1
  }
  return Math.ceil(Math.log(1 - params.confidence) / Math.log(1 - q))
}

/**
 * §7.4 The constant sampling rate that catches a cheater faking fraction f with probability
 * ≥ `confidence` within n tasks: p = (1 − (1 − confidence)^(1/n)) / f, clamped to [0, 1].
 */
export function rateForDetection(cheatFraction: number, tasks: number, confidence: number): number {
  rate('cheatFraction', cheatFraction)
  rate('confidence', confidence)
  count('tasks', tasks)
  if (cheatFraction === 0 || tasks === 0) {
    return 1
  }
  return Math.min(1, (1 - (1 - confidence) ** (1 / tasks)) / cheatFraction)
}

export interface PosParams {
  /** R: the reward a task pays. */
  reward: bigint | number
  /** S: what a caught cheater forfeits beyond the reward. */
  penalty: bigint | number
  /** C: the compute cost a cheater saves by not running the task. */
  cost: bigint | number
  /** Safety multiplier on C/(R+S) (default POS_SAFETY_MARGIN). */
  margin?: number
}

/**
 * §7.3 Proof-of-Sampling floor. Cheating on a task pays (1 − p)·R − p·S, honest work R − C, so
 * honest play is the equilibrium when p·(R + S) > C. The floor is margin · C / (R + S), clamped to
 * [0, 1]; with R + S = 0 and C > 0 no rate below 1 is safe.
 */
export function proofOfSamplingFloor({ reward, penalty, cost, margin = POS_SAFETY_MARGIN }: PosParams): number {
  const r = Number(reward)
  const s = Number(penalty)
  const c = Number(cost)
  for (const [name, v] of [
    ['reward', r],
    ['penalty', s],
    ['cost', c]
  ] as const) {
    if (!Number.isFinite(v) || v < 0) {
      throw new InvalidParameterError(`${name} must be a finite number ≥ 0, got ${v}`)
    }
  }
  if (!Number.isFinite(margin) || margin < 1) {
    throw new InvalidParameterError(`margin must be ≥ 1, got ${margin}`)
  }
  if (c === 0) {
    return 0
  }
  if (r + s === 0) {
    return 1
  }
  return Math.min(1, (margin * c) / (r + s))
}

/** True when sampling at rate p makes honest play the equilibrium: p·(R+S) > C (§7.3). */
export function honestIsEquilibrium(p: number, { reward, penalty, cost }: PosParams): boolean {
  rate('p', p)
  return p * (Number(reward) + Number(penalty)) > Number(cost)
}

/** §7.3 The floor a requester applies to a job: max(policy min_rate, PoS floor). */
export function samplingFloor(policy: ResolvedPolicy, reward: bigint | number): number {
  return Math.max(policy.minRate, proofOfSamplingFloor({ reward, penalty: policy.penalty, cost: policy.cost }))
}

/**
 * §7.2 Adaptive sampling rate (after BOINC adaptive replication): a worker with k consecutive
 * agreements is sampled with p(k) = max(floor, p0 · H / (H + k)), where p0 is the policy's initial
 * rate and H its trust horizon. A disagreement resets k to 0.
 */
export function adaptiveRate(
  consecutiveAgreements: number,
  policy: Pick<ResolvedPolicy, 'initialRate' | 'trustHorizon'>,
  floor: number
): number {
  count('consecutiveAgreements', consecutiveAgreements)
  rate('floor', floor)
  rate('initialRate', policy.initialRate)
  const h = policy.trustHorizon
  return Math.min(1, Math.max(floor, (policy.initialRate * h) / (h + consecutiveAgreements)))
}

export interface ReputationCounts {
  agreements: number
  disagreements: number
  timeouts: number
}

/**
 * §7.6 Reputation in (0, 1): the mean of a Beta posterior,
 * (w_a·a + 1) / (w_a·a + 2 + w_d·d + w_t·t). A newcomer scores 0.5; agreements move it toward 1,
 * disagreements (weighted heavier) and lease timeouts toward 0.
 */
export function reputationScore({ agreements, disagreements, timeouts }: ReputationCounts): number {
  count('agreements', agreements)
  count('disagreements', disagreements)
  count('timeouts', timeouts)
  const good = REPUTATION_WEIGHTS.agreement * agreements + 1
  return good / (good + 1 + REPUTATION_WEIGHTS.disagreement * disagreements + REPUTATION_WEIGHTS.timeout * timeouts)
}

/**
 * §7.6 Ban length after the n-th valid fraud proof against a peer: BAN_BASE · 2^(n−1), capped at
 * BAN_MAX; from PERMANENT_BAN_OFFENCES on the ban is permanent (Infinity).
 */
export function banDuration(offences: number): number {
  count('offences', offences)
  if (offences === 0) {
    return 0
  }
  if (offences >= PERMANENT_BAN_OFFENCES) {
    return Number.POSITIVE_INFINITY
  }
  return Math.min(BAN_MAX_MS, BAN_BASE_MS * 2 ** (offences - 1))
}

/**
 * Wilson score interval for a binomial proportion (successes of n), used to check measured
 * detection rates against §7.4's formula.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): { low: number; high: number } {
  count('successes', successes)
  count('n', n)
  if (n === 0 || successes > n) {
    throw new InvalidParameterError(`need 0 ≤ successes ≤ n and n > 0, got ${successes}/${n}`)
  }
  const phat = successes / n
  const denom = 1 + (z * z) / n
  const centre = (phat + (z * z) / (2 * n)) / denom
  const half = (z * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n))) / denom
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}
