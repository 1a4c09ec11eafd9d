import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { seededRandom } from '@openbatch/core'
import { agreeOutputs, DEFAULT_AGREEMENT, float32Tensor } from '@openbatch/protocol'
import { BEHAVIOURS, type Params, Scenario, simulate } from '../src/index.js'

const HONEST = [0.5, -0.25, 0.125, 0.75]
const agree = (a: number[], b: number[]) =>
  agreeOutputs([float32Tensor('y', [1, a.length], a)], [float32Tensor('y', [1, b.length], b)], [DEFAULT_AGREEMENT]).agree

/** Answers of `n` tasks by one worker of `behaviour`. */
function answers(behaviour: string, params: Params, n: number, seed = 1) {
  const b = (BEHAVIOURS[behaviour] as (typeof BEHAVIOURS)[string])(params)
  const random = seededRandom(seed)
  return Array.from({ length: n }, (_, i) => b.respond(`job/0:${i}`, HONEST, random))
}

const share = (xs: ({ faked: boolean } | undefined)[]) => xs.filter((x) => x?.faked === true).length / xs.length

describe('adversary library', () => {
  it('honest: the honest outputs; with noise, other values that still agree under the default rule', () => {
    assert.ok(answers('honest', {}, 100).every((a) => a != null && !a.faked && a.values === HONEST))
    const noisy = answers('honest', { noise: 0.5 }, 200)
    assert.ok(noisy.every((a) => a != null && !a.faked && agree(HONEST, a.values)))
    assert.ok(noisy.some((a) => a?.values[0] !== HONEST[0]))
  })

  it('forger: honest answers; it forges a proof every `every` seconds (sent by the live engine)', () => {
    assert.ok(answers('forger', {}, 50).every((a) => a != null && !a.faked && a.values === HONEST))
    assert.equal((BEHAVIOURS.forger as (typeof BEHAVIOURS)[string])({ every: 2 }).forgeEveryS, 2)
    assert.throws(
      () => (BEHAVIOURS.forger as (typeof BEHAVIOURS)[string])({ every: 0 }),
      /params.every must be a number in \[0.1, Infinity\]/
    )
  })

  it('lazy: every answer random and disagreeing', () => {
    const all = answers('lazy', {}, 100)
    assert.equal(share(all), 1)
    assert.ok(all.every((a) => a != null && !agree(HONEST, a.values)))
  })

  it('cheater, zero and beyond-tolerance fake about `rate` of their answers, each disagreeing', () => {
    for (const behaviour of ['cheater', 'zero', 'beyond-tolerance']) {
      const all = answers(behaviour, { rate: 0.3 }, 4000)
      assert.ok(Math.abs(share(all) - 0.3) < 0.03, `${behaviour}: ${share(all)}`)
      for (const a of all) {
        assert.equal(agree(HONEST, a?.values ?? []), a?.faked === false, behaviour)
      }
    }
    // Just beyond: 1.5× the tolerance off disagrees; halfway to the edge of the tolerance agrees.
    const near = answers('beyond-tolerance', { rate: 1 }, 1)[0]?.values ?? []
    assert.ok(!agree(HONEST, near))
    const edge = answers('beyond-tolerance', { rate: 1, factor: 1.000001 }, 1)[0]?.values ?? []
    assert.ok(
      agree(
        HONEST,
        edge.map((x, i) => (x + (HONEST[i] as number)) / 2)
      )
    )
  })

  it('colluders of one group fake the same tasks with the same wrong answer; another group others', () => {
    const a = answers('colluder', { rate: 0.2, salt: 'g' }, 1000, 1)
    const b = answers('colluder', { rate: 0.2, salt: 'g' }, 1000, 99)
    assert.deepEqual(a, b)
    assert.ok(Math.abs(share(a) - 0.2) < 0.04, String(share(a)))
    const other = answers('colluder', { rate: 0.2, salt: 'h' }, 1000, 1)
    assert.notDeepEqual(a, other)
  })

  it('switcher: honest for its first `after` answers, then fakes', () => {
    const all = answers('switcher', { after: 50, rate: 1 }, 100)
    assert.equal(share(all.slice(0, 50)), 0)
    assert.equal(share(all.slice(50)), 1)
  })

  it('hoarder never answers; slow answers honestly, `factor` times slower', () => {
    assert.ok(answers('hoarder', {}, 10).every((a) => a === undefined))
    const slow = (BEHAVIOURS.slow as (typeof BEHAVIOURS)[string])({ factor: 7 })
    assert.equal(slow.slowdown, 7)
    assert.equal(share(answers('slow', { factor: 7 }, 10)), 0)
  })

  it('bad parameters are refused with the parameter named', () => {
    assert.throws(() => answers('cheater', { rate: 2 }, 1), /params\.rate must be a number in \[0, 1\], got 2/)
    assert.throws(() => answers('slow', { factor: 'fast' }, 1), /params\.factor must be a number/)
  })
})

describe('adversaries that need the engine', () => {
  it("replayer: a share `rate` of its answers are an earlier task's honest result", () => {
    const b = (BEHAVIOURS.replayer as (typeof BEHAVIOURS)[string])({ rate: 1 })
    const random = seededRandom(4)
    const first = b.respond('job/0:0', [1, 2, 3, 4], random)
    const second = b.respond('job/0:1', [5, 6, 7, 8], random)
    assert.deepEqual(first, { values: [1, 2, 3, 4], faked: false })
    assert.deepEqual(second, { values: [1, 2, 3, 4], faked: true })
  })

  it('sybils come back under new identities when convicted, up to `identities`; spammers cost honest work little', () => {
    const spec = {
      name: 'sybils-and-spam',
      seed: 21,
      duration: 1800,
      groups: [
        { id: 'honest', count: 30, behaviour: 'honest', capacity: 8, serviceMs: 50 },
        { id: 'sybils', count: 2, behaviour: 'sybil', params: { rate: 0.5, identities: 4 }, capacity: 8, serviceMs: 50 }
      ],
      requesters: [
        { id: 'alice', jobs: [{ tasks: 3000, maxBatch: 8 }] },
        { id: 'spammer', unresponsive: true, jobs: [{ tasks: 1000 }, { tasks: 1000 }, { tasks: 1000 }] }
      ]
    }
    const report = simulate(Scenario.parse(spec))
    const sybils = report.groups.sybils
    assert.ok(sybils != null)
    // Two operators, four identities each: every identity but the one each operator uses now was convicted.
    assert.ok(sybils.workers > 2 && sybils.workers <= 8, `identities used: ${sybils.workers}`)
    assert.ok(sybils.convicted >= sybils.workers - 2, `${sybils.convicted} of ${sybils.workers} convicted`)
    assert.equal(report.totals.tasks, 3000, "the spammer's jobs are counted nowhere")
    assert.equal(report.totals.settled, 3000)
    assert.equal(report.totals.lost, 0)
    assert.equal(report.totals.falseAccusations, 0)
    assert.deepEqual(
      report.jobs.filter((j) => j.id.startsWith('spammer/')).map((j) => j.ended),
      ['never answered', 'never answered', 'never answered']
    )
    // The honest job with the spammer around takes at most 25 % longer than without it (§6.2's unproven claims).
    const alone = simulate(Scenario.parse({ ...spec, requesters: [spec.requesters[0]] }))
    const withSpam = report.jobs.find((j) => j.id === 'alice/0')?.endedS as number
    const without = alone.jobs.find((j) => j.id === 'alice/0')?.endedS as number
    assert.ok(withSpam <= without * 1.25, `${withSpam} s with the spammer, ${without} s without`)
  })
})
