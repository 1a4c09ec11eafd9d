/**
 * Verification benchmark (issue #5): with the sans-IO Verifier and a synthetic backend, a cheater
 * fakes f = 10% of its results among honest workers. For the default adaptive policy and for fixed
 * 2× replication (BOINC's default quorum), measured the same way in the same run: the probability
 * that the cheater is caught within 1,000 of its tasks (a caught worker is banned), and the compute
 * overhead factor (all executions / tasks) an honest worker's tasks cost over its first 1,000 tasks
 * and in the long run. Floor: ≥ 99% detection at overhead ≤ 1.15×, i.e. ≤ 0.58 of replication's.
 * The last line is a JSON object with all figures.
 */

import { type ObservedResult, seededRandom, Verifier } from '@openbatch/core'
import { AgreementKind, float32Tensor, type ResolvedPolicy, resolvePolicy, type Tensor } from '@openbatch/protocol'

const F = 0.1
const TASKS = 1000
const TRIALS = Number(process.env.BENCH_TRIALS ?? 1000)
const HONEST = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7']
const ARGMAX = [{ output: '', kind: AgreementKind.ARGMAX, atol: 0, rtol: 0, minCosine: 0, k: 0, tieTolerance: 1e-4 }]

const answer = (task: number, cheat: boolean): Tensor[] => {
  const p = 0.2 + ((task * 7919) % 600) / 1000
  return [float32Tensor('probs', [1, 2], cheat ? [1 - p, p] : [p, 1 - p])]
}

/** Runs `tasks` tasks of one worker through `verifier`; re-runs go to random honest workers. */
function run(verifier: Verifier, random: () => number, tasks: number, cheat: () => boolean): { executions: number; caughtAt?: number } {
  let executions = 0
  for (let t = 0; t < tasks; t++) {
    const queue: ObservedResult[] = [{ task: t, worker: 'w', outputs: answer(t, cheat()) }]
    while (queue.length > 0) {
      const r = queue.shift() as ObservedResult
      executions++
      for (const a of verifier.accepted(0, r)) {
        if (a.type === 'rerun') {
          const pool = HONEST.filter((h) => !a.exclude.includes(h))
          queue.push({ task: t, worker: pool[Math.floor(random() * pool.length)] as string, outputs: answer(t, false) })
        } else if (a.type === 'fraud' && a.accused === 'w') {
          return { executions, caughtAt: t } // caught: banned, it gets no more tasks
        }
      }
    }
  }
  return { executions }
}

interface Outcome {
  /** Share of cheaters caught within TASKS of their tasks. */
  detection: number
  /** Executions per task for an honest newcomer over its first TASKS tasks. */
  overhead: number
  /** The same over 20 × TASKS tasks: what a long-lived honest worker costs. */
  longRunOverhead: number
}

function measure(policy: ResolvedPolicy, seed: number): Outcome {
  const random = seededRandom(seed)
  let caught = 0
  for (let trial = 0; trial < TRIALS; trial++) {
    const verifier = new Verifier({ policy: { ...policy, agreement: ARGMAX }, reward: 100n, random })
    if (run(verifier, random, TASKS, () => random() < F).caughtAt !== undefined) {
      caught++
    }
  }
  let executions = 0
  const honestTrials = Math.max(1, Math.floor(TRIALS / 10))
  for (let trial = 0; trial < honestTrials; trial++) {
    executions += run(
      new Verifier({ policy: { ...policy, agreement: ARGMAX }, reward: 100n, random }),
      random,
      TASKS,
      () => false
    ).executions
  }
  const long = run(new Verifier({ policy: { ...policy, agreement: ARGMAX }, reward: 100n, random }), random, 20 * TASKS, () => false)
  return { detection: caught / TRIALS, overhead: executions / (honestTrials * TASKS), longRunOverhead: long.executions / (20 * TASKS) }
}

export async function main(): Promise<void> {
  const base = resolvePolicy(undefined)
  const adaptivePolicy = { ...base, trustHorizon: Number(process.env.BENCH_HORIZON ?? base.trustHorizon) }
  const adaptive = measure(adaptivePolicy, 1)
  const replication = measure({ ...adaptivePolicy, initialRate: 1, minRate: 1 }, 2)
  const relative = adaptive.overhead / replication.overhead
  const floorMet = adaptive.detection >= 0.99 && adaptive.overhead <= 1.15
  console.log(`cheater faking ${F * 100}% of results, ${TASKS} of its tasks, ${TRIALS} trials, re-runs by ${HONEST.length} honest workers`)
  const line = (name: string, o: Outcome) =>
    `${name}: detection ${(o.detection * 100).toFixed(1)}%, overhead ${o.overhead.toFixed(3)}× over a newcomer's first ${TASKS} tasks, ${o.longRunOverhead.toFixed(3)}× in the long run`
  console.log(
    line(`adaptive (p0 ${adaptivePolicy.initialRate}, horizon ${adaptivePolicy.trustHorizon}, floor ${adaptivePolicy.minRate})`, adaptive)
  )
  console.log(line('fixed 2× replication', replication))
  console.log(
    `adaptive / replication cost: ${relative.toFixed(3)} (floor: detection ≥ 99% at overhead ≤ 1.15×: ${floorMet ? 'met' : 'NOT met'})`
  )
  console.log(
    JSON.stringify({
      bench: 'verification',
      cheatFraction: F,
      tasks: TASKS,
      trials: TRIALS,
      adaptive,
      replication,
      relativeCost: relative,
      floorMet
    })
  )
}
