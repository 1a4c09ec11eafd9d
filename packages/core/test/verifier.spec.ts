import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AgreementKind, detectionProbability, float32Tensor, resolvePolicy, type Tensor, wilsonInterval } from '@openbatch/protocol'
import { type ObservedResult, seededRandom, Verifier, type VerifyAction } from '../src/index.js'

const ARGMAX = [{ output: '', kind: AgreementKind.ARGMAX, atol: 0, rtol: 0, minCosine: 0, k: 0, tieTolerance: 1e-4 }]

/** The honest answer to task t: a 2-class distribution, with float noise of an honest machine. */
function honest(task: number, noise: number): Tensor[] {
  const p = 0.2 + ((task * 7919) % 600) / 1000 // in [0.2, 0.8): never a near-tie
  return [float32Tensor('probs', [1, 2], [p + noise, 1 - p - noise])]
}
/** A cheater's answer: the classes swapped. */
const wrong = (task: number): Tensor[] => {
  const [a, b] = [0.2 + ((task * 7919) % 600) / 1000, 0]
  return [float32Tensor('probs', [1, 2], [1 - a, a + b])]
}

interface Sim {
  verifier: Verifier
  actions: VerifyAction[]
}

/**
 * Runs `tasks` tasks of `worker` through a verifier; re-runs go to honest workers h0..h4 chosen
 * at random; `cheat(task)` says whether the worker fakes that task.
 */
function simulate(
  verifier: Verifier,
  random: () => number,
  worker: string,
  tasks: number,
  cheat: (t: number) => boolean,
  firstTask = 0
): Sim {
  const actions: VerifyAction[] = []
  const queue: ObservedResult[] = []
  for (let t = firstTask; t < firstTask + tasks; t++) {
    queue.push({ task: t, worker, outputs: cheat(t) ? wrong(t) : honest(t, (random() - 0.5) * 1e-6) })
    while (queue.length > 0) {
      const r = queue.shift() as ObservedResult
      for (const a of verifier.accepted(0, r)) {
        actions.push(a)
        if (a.type === 'rerun') {
          const candidates = ['h0', 'h1', 'h2', 'h3', 'h4'].filter((h) => !a.exclude.includes(h))
          const h = candidates[Math.floor(random() * candidates.length)] as string
          queue.push({ task: a.task, worker: h, outputs: honest(a.task, (random() - 0.5) * 1e-6) })
        }
      }
    }
  }
  return { verifier, actions }
}

const constantRate = (p: number) => ({ ...resolvePolicy(undefined), initialRate: p, minRate: p })

describe('Verifier (spec §7.2–7.6)', () => {
  for (const f of [0.01, 0.1, 0.5]) {
    it(`detects a worker faking ${f * 100}% of results at the rate the §7.4 formula predicts`, () => {
      const random = seededRandom(Math.round(f * 1000) + 1)
      const p = 0.05
      const n = f === 0.01 ? 400 : 40
      const trials = 1000
      let caught = 0
      for (let trial = 0; trial < trials; trial++) {
        const verifier = new Verifier({ policy: { ...constantRate(p), agreement: ARGMAX }, reward: 100n, random })
        const { actions } = simulate(verifier, random, 'cheater', n, () => random() < f)
        if (actions.some((a) => a.type === 'fraud' && a.accused === 'cheater')) {
          caught++
        }
      }
      const expected = detectionProbability({ cheatFraction: f, sampleRate: p, tasks: n })
      const { low, high } = wilsonInterval(caught, trials)
      assert.ok(
        low <= expected && expected <= high,
        `measured ${caught}/${trials}, formula ${expected.toFixed(4)}, CI [${low.toFixed(4)}, ${high.toFixed(4)}]`
      )
    })
  }

  it('never accuses honest workers whose outputs differ by float noise (as honest settings do), while still sampling them', () => {
    const random = seededRandom(7)
    const verifier = new Verifier({ policy: { ...resolvePolicy(undefined), agreement: ARGMAX }, reward: 100n, random })
    const { actions } = simulate(verifier, random, 'honest', 5000, () => false)
    assert.equal(actions.filter((a) => a.type === 'fraud' || a.type === 'unresolved').length, 0)
    assert.ok(actions.filter((a) => a.type === 'settled' && a.status === 'agreed').length > 200, 'it did sample')
  })

  it('samples newcomers always, trusted workers less, never below the floor; a proven offence resets trust and bans', () => {
    const random = seededRandom(9)
    const verifier = new Verifier({ policy: { ...resolvePolicy(undefined), agreement: ARGMAX }, reward: 100n, random })
    assert.equal(verifier.rate('new'), 1)
    simulate(verifier, random, 'w', 2000, () => false)
    assert.ok(verifier.rate('w') < 0.2, `rate after a long honest streak: ${verifier.rate('w')}`)
    assert.ok(verifier.rate('w') >= verifier.floor)
    assert.ok(verifier.reputation('w') > 0.9)
    // Honest until trusted, then cheating on every task: caught, and trust starts over.
    const { actions } = simulate(verifier, random, 'w', 500, () => true, 2000)
    assert.ok(actions.some((a) => a.type === 'fraud' && a.accused === 'w'))
    assert.ok(verifier.isBanned('w', 1))
    assert.ok(verifier.rate('w') > 0.5, 'trust starts over after an offence')
  })

  it('a re-run by the same worker is no independent evidence; three-way disagreement blames nobody', () => {
    const verifier = new Verifier({ policy: { ...constantRate(1), agreement: ARGMAX }, reward: 100n, random: () => 0 })
    assert.deepEqual(verifier.accepted(0, { task: 1, worker: 'a', outputs: honest(1, 0) }), [{ type: 'rerun', task: 1, exclude: ['a'] }])
    assert.deepEqual(verifier.accepted(0, { task: 1, worker: 'a', outputs: honest(1, 0) }), [])
    const three = (o: number) => [float32Tensor('probs', [1, 3], [o === 0 ? 1 : 0, o === 1 ? 1 : 0, o === 2 ? 1 : 0])]
    const v = new Verifier({ policy: { ...constantRate(1), agreement: ARGMAX }, reward: 100n, random: () => 0 })
    v.accepted(0, { task: 2, worker: 'a', outputs: three(0) })
    assert.deepEqual(v.accepted(0, { task: 2, worker: 'b', outputs: three(1) }), [{ type: 'rerun', task: 2, exclude: ['a', 'b'] }])
    assert.deepEqual(v.accepted(0, { task: 2, worker: 'c', outputs: three(2) }), [
      { type: 'unresolved', task: 2, result: { task: 2, worker: 'a', outputs: three(0) } }
    ])
    assert.equal(v.trustOf('a').offences + v.trustOf('b').offences + v.trustOf('c').offences, 0)
  })
})
