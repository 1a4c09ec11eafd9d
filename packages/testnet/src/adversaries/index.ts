/**
 * The adversary library: how a simulated worker answers a task. Each behaviour gets the honest
 * outputs (what a correct run computes) and returns what the worker sends — or nothing, for a
 * worker that holds tasks and never answers. Parameters come from the scenario's `params`.
 */

import { DEFAULT_ATOL, DEFAULT_RTOL } from '@openbatch/protocol'

export type Params = Record<string, number | string | boolean>

export interface Answer {
  values: number[]
  /** The worker knowingly returned something other than the honest outputs. */
  faked: boolean
}

export interface Behaviour {
  /** What the worker sends for task `key` (stable across workers: job and index); undefined: it never answers. */
  respond(key: string, honest: number[], random: () => number): Answer | undefined
  /** Service time multiplier. @default 1 */
  slowdown?: number
  /**
   * Seconds between the forged fraud proofs it publishes (the live engine sends them; every peer's
   * validation must reject them, §7.5). The simulator does not model proofs as messages.
   */
  forgeEveryS?: number
}

export type BehaviourFactory = (params: Params) => Behaviour

function num(params: Params, name: string, fallback: number, min = 0, max = Number.POSITIVE_INFINITY): number {
  const v = params[name] ?? fallback
  if (typeof v !== 'number' || !(v >= min && v <= max)) {
    throw new RangeError(`params.${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`)
  }
  return v
}

/** A stable number in [0, 1) from a string (FNV-1a), so that colluders decide alike. */
export function unitHash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  h ^= h >>> 13
  h = Math.imul(h, 0x5bd1e995) >>> 0
  h ^= h >>> 15
  return (h >>> 0) / 4294967296
}

const honestAnswer = (values: number[]): Answer => ({ values, faked: false })
const randomValues = (n: number, random: () => number) => Array.from({ length: n }, () => random() * 2 - 1)

/** Computes every task correctly. `noise`: relative drift within tolerance, as another device's rounding. */
export const honest: BehaviourFactory = (params) => {
  const noise = num(params, 'noise', 0, 0, 0.5)
  return {
    respond: (_key, values, random) =>
      honestAnswer(noise === 0 ? values : values.map((x) => x + (random() * 2 - 1) * noise * (DEFAULT_ATOL + DEFAULT_RTOL * Math.abs(x))))
  }
}

/** Never computes: random outputs for every task. */
export const lazy: BehaviourFactory = () => ({
  respond: (_key, values, random) => ({ values: randomValues(values.length, random), faked: true })
})

/** Fakes a share `rate` of its results with random outputs. */
export const cheater: BehaviourFactory = (params) => {
  const rate = num(params, 'rate', 0.1, 0, 1)
  return {
    respond: (_key, values, random) =>
      random() < rate ? { values: randomValues(values.length, random), faked: true } : honestAnswer(values)
  }
}

/** Fakes a share `rate` just beyond the agreement tolerance (`factor` × atol + rtol·|x|, default 1.5). */
export const beyondTolerance: BehaviourFactory = (params) => {
  const rate = num(params, 'rate', 0.1, 0, 1)
  const factor = num(params, 'factor', 1.5, 1.000001)
  return {
    respond: (_key, values, random) =>
      random() < rate
        ? { values: values.map((x) => x + factor * (DEFAULT_ATOL + DEFAULT_RTOL * Math.abs(x))), faked: true }
        : honestAnswer(values)
  }
}

/** Returns zeros for a share `rate` of its tasks. */
export const zero: BehaviourFactory = (params) => {
  const rate = num(params, 'rate', 0.1, 0, 1)
  return {
    respond: (_key, values, random) => (random() < rate ? { values: values.map(() => 0), faked: true } : honestAnswer(values))
  }
}

/**
 * A colluding group: on the same share `rate` of tasks (chosen by a hash of the task and the
 * group's `salt`) every member returns the same wrong answer, so two members checking each other agree.
 */
export const colluder: BehaviourFactory = (params) => {
  const rate = num(params, 'rate', 0.1, 0, 1)
  const salt = String(params.salt ?? 'colluders')
  return {
    respond: (key, values) =>
      unitHash(`${salt}:${key}`) < rate
        ? { values: values.map((_, i) => unitHash(`${salt}:${key}:${i}`) * 2 - 1), faked: true }
        : honestAnswer(values)
  }
}

/** Honest for its first `after` tasks (earning trust), then fakes a share `rate`. */
export const switcher: BehaviourFactory = (params) => {
  const after = num(params, 'after', 200, 0)
  const rate = num(params, 'rate', 0.5, 0, 1)
  let done = 0
  return {
    respond: (_key, values, random) =>
      done++ >= after && random() < rate ? { values: randomValues(values.length, random), faked: true } : honestAnswer(values)
  }
}

/** Returns, for a share `rate` of its tasks, the result of an earlier task (a replayed result). */
export const replayer: BehaviourFactory = (params) => {
  const rate = num(params, 'rate', 0.1, 0, 1)
  let previous: number[] | undefined
  return {
    respond: (_key, values, random) => {
      const replay = previous != null && random() < rate
      const answer = replay ? { values: previous as number[], faked: true } : honestAnswer(values)
      previous = values
      return answer
    }
  }
}

/**
 * A sybil: fakes a share `rate` like a cheater, and when it is convicted comes back under a new
 * identity (a newcomer again), `identities` identities in all (the engine spawns them).
 */
export const sybil: BehaviourFactory = (params) => {
  num(params, 'identities', 5, 1)
  return cheater(params)
}

/** Claims tasks and never returns them: its leases expire (§6.2). */
export const hoarder: BehaviourFactory = () => ({ respond: () => undefined })

/** Honest but `factor` times slower than its group's service time. */
export const slow: BehaviourFactory = (params) => ({
  respond: (_key, values) => honestAnswer(values),
  slowdown: num(params, 'factor', 10, 1)
})

/**
 * Runs its tasks honestly and every `every` seconds publishes a forged fraud proof against another
 * worker: a result it made up in the victim's name (signed with its own key, as it has no other),
 * outvoted by its own. Peers must reject every one (§7.5: each part's signer is the worker it names).
 */
export const forger: BehaviourFactory = (params) => ({
  respond: (_key, values) => honestAnswer(values),
  forgeEveryS: num(params, 'every', 5, 0.1)
})

export const BEHAVIOURS: Record<string, BehaviourFactory> = {
  honest,
  lazy,
  cheater,
  'beyond-tolerance': beyondTolerance,
  zero,
  colluder,
  switcher,
  replayer,
  sybil,
  hoarder,
  slow,
  forger
}
