import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  adaptiveRate,
  banDuration,
  detectionProbability,
  honestIsEquilibrium,
  perTaskDetection,
  proofOfSamplingFloor,
  rateForDetection,
  reputationScore,
  resolvePolicy,
  samplingFloor,
  tasksToDetect,
  wilsonInterval
} from '../src/index.js'
import { rng } from './fixtures.js'

describe('detection probability (§7.4)', () => {
  it('matches the closed form 1 − (1 − f·(c + (1−c)·p))^n', () => {
    assert.ok(Math.abs(perTaskDetection({ cheatFraction: 0.1, sampleRate: 0.05 }) - 0.005) < 1e-15)
    assert.ok(Math.abs(detectionProbability({ cheatFraction: 0.1, sampleRate: 0.05, tasks: 1000 }) - (1 - 0.995 ** 1000)) < 1e-12)
    assert.equal(detectionProbability({ cheatFraction: 0, sampleRate: 1, tasks: 1000 }), 0)
    assert.equal(detectionProbability({ cheatFraction: 1, sampleRate: 0, canaryRate: 0.5, tasks: 1 }), 0.5)
  })

  it('a Monte Carlo run of the sampling process lands inside the 95% interval of the formula', () => {
    const random = rng(42)
    const params = { cheatFraction: 0.1, sampleRate: 0.05, canaryRate: 0.01, tasks: 200 }
    const trials = 4000
    let caught = 0
    for (let t = 0; t < trials; t++) {
      for (let i = 0; i < params.tasks; i++) {
        const canary = random() < params.canaryRate
        const faked = random() < params.cheatFraction
        const sampled = canary || random() < params.sampleRate
        if (faked && sampled) {
          caught++
          break
        }
      }
    }
    const { low, high } = wilsonInterval(caught, trials)
    const expected = detectionProbability(params)
    assert.ok(low <= expected && expected <= high, `${expected} outside [${low}, ${high}]`)
  })

  it('tasksToDetect and rateForDetection invert each other', () => {
    const p = rateForDetection(0.1, 1000, 0.99)
    assert.ok(p > 0.045 && p < 0.047, `p = ${p}`)
    assert.ok(detectionProbability({ cheatFraction: 0.1, sampleRate: p, tasks: 1000 }) >= 0.99 - 1e-9)
    assert.equal(tasksToDetect({ cheatFraction: 0.1, sampleRate: 0.05, confidence: 0.99 }), 919)
    assert.equal(tasksToDetect({ cheatFraction: 0, sampleRate: 0.5, confidence: 0.99 }), Number.POSITIVE_INFINITY)
  })

  it('rejects rates outside [0, 1] and negative task counts', () => {
    assert.throws(() => detectionProbability({ cheatFraction: 1.5, sampleRate: 0.1, tasks: 1 }), { name: 'InvalidParameterError' })
    assert.throws(() => detectionProbability({ cheatFraction: 0.1, sampleRate: Number.NaN, tasks: 1 }), { name: 'InvalidParameterError' })
    assert.throws(() => detectionProbability({ cheatFraction: 0.1, sampleRate: 0.1, tasks: -1 }), { name: 'InvalidParameterError' })
  })
})

describe('Proof-of-Sampling floor (§7.3)', () => {
  it('is margin · C / (R + S) and makes honest play the equilibrium', () => {
    const params = { reward: 100, penalty: 900, cost: 20 }
    const floor = proofOfSamplingFloor(params)
    assert.equal(floor, 0.04)
    assert.ok(honestIsEquilibrium(floor, params))
    assert.ok(!honestIsEquilibrium(0.019, params))
  })

  it('handles the edges: no cost → 0, nothing at stake → 1, clamps at 1', () => {
    assert.equal(proofOfSamplingFloor({ reward: 10, penalty: 0, cost: 0 }), 0)
    assert.equal(proofOfSamplingFloor({ reward: 0, penalty: 0, cost: 5 }), 1)
    assert.equal(proofOfSamplingFloor({ reward: 1, penalty: 1, cost: 5 }), 1)
    assert.throws(() => proofOfSamplingFloor({ reward: -1, penalty: 0, cost: 1 }), { name: 'InvalidParameterError' })
  })

  it('the job floor is the larger of min_rate and the PoS floor', () => {
    const policy = resolvePolicy({
      initialRate: 1,
      minRate: 0.05,
      trustHorizon: 20,
      canaryRate: 0,
      penalty: 100n,
      cost: 50n,
      agreement: []
    })
    assert.equal(samplingFloor(policy, 100n), 0.5)
    assert.equal(samplingFloor({ ...policy, cost: 0n }, 100n), 0.05)
  })
})

describe('adaptive rate (§7.2)', () => {
  const policy = resolvePolicy(undefined)

  it('starts at the initial rate, decays with agreements, never drops below the floor', () => {
    assert.equal(adaptiveRate(0, policy, 0.05), 1)
    assert.equal(adaptiveRate(10, policy, 0.05), 0.5)
    assert.equal(adaptiveRate(10_000, policy, 0.05), 0.05)
    let prev = 2
    for (let k = 0; k < 500; k += 10) {
      const p = adaptiveRate(k, policy, 0.05)
      assert.ok(p <= prev)
      prev = p
    }
  })

  it('fills spec defaults for zero fields', () => {
    assert.deepEqual(
      { ...policy, agreement: undefined },
      { initialRate: 1, minRate: 0.05, trustHorizon: 10, canaryRate: 0.01, penalty: 0n, cost: 0n, agreement: undefined }
    )
  })
})

describe('reputation and bans (§7.6)', () => {
  it('newcomers score 0.5; agreements raise it, disagreements lower it faster', () => {
    assert.equal(reputationScore({ agreements: 0, disagreements: 0, timeouts: 0 }), 0.5)
    assert.ok(reputationScore({ agreements: 100, disagreements: 0, timeouts: 0 }) > 0.98)
    assert.ok(
      reputationScore({ agreements: 5, disagreements: 1, timeouts: 0 }) < reputationScore({ agreements: 5, disagreements: 0, timeouts: 1 })
    )
  })

  it('bans double per offence, cap at 30 days, and become permanent at the third', () => {
    assert.equal(banDuration(0), 0)
    assert.equal(banDuration(1), 24 * 3_600_000)
    assert.equal(banDuration(2), 48 * 3_600_000)
    assert.equal(banDuration(3), Number.POSITIVE_INFINITY)
  })
})
