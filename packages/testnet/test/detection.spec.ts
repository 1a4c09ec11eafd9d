/**
 * The simulator earns trust: detection of every faking adversary matches §7.4's formula,
 * P(detect within n) = 1 − (1 − q)^n with q = f · (c + (1 − c) · p), at f = 1 %, 10 % and 50 %.
 * The measured probability is a Kaplan–Meier estimate (a faker banned through a re-run it faked, or
 * whose job ran out, is observed only up to its last first run); its interval is Wilson's at the
 * effective sample size p(1 − p) / se², se from Greenwood's formula. Eighteen comparisons are made
 * (six adversaries × three f), so each interval is 99.72 % (Bonferroni): together they hold with
 * 95 % confidence — at 95 % each, one in two runs of an exact simulator would see one fall outside.
 *
 * The faking adversaries whose f is a parameter: cheater, zero, beyond-tolerance, replayer, sybil
 * (a cheater under each of its identities) and colluders on one /24 (never picked to check each
 * other, §7.2). Not here: lazy (f = 1 only: caught by its first sampled run), the switcher (f is 0
 * and then `rate`: the formula applies from the switch on), and colluders spread over networks,
 * who check each other and are caught less often than the formula says — the point of the
 * colluders scenario.
 */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { detectionProbability } from '@openbatch/protocol'
import { Scenario, simulate } from '../src/index.js'

/** Wilson score interval of a proportion `p` measured on `n` trials, two-sided 1 − 0.05/18. */
function wilson(p: number, n: number): [number, number] {
  const z = 2.990124
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n)
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))
  return [centre - half, centre + half]
}

// For each f, a sampling rate p and a point n where the formula is near its middle (q·n ≈ 0.5).
const CASES = [
  { f: 0.01, p: 1, n: 50 },
  { f: 0.1, p: 0.2, n: 20 },
  { f: 0.5, p: 0.1, n: 10 }
]

describe('detection in the simulator against §7.4', () => {
  const ADVERSARIES: { behaviour: string; params?: Record<string, string | number>; network?: string }[] = [
    { behaviour: 'cheater' },
    { behaviour: 'zero' },
    { behaviour: 'beyond-tolerance' },
    { behaviour: 'replayer' },
    { behaviour: 'sybil', params: { identities: 3 } },
    { behaviour: 'colluder', params: { salt: 'ring' }, network: '198.51.100.0/24' }
  ]
  for (const { behaviour, params, network } of ADVERSARIES) {
    it(`${behaviour} at f = 1 %, 10 %, 50 %: the share caught within n first runs is the formula's (95 % family-wise)`, () => {
      for (const { f, p, n } of CASES) {
        const scenario = Scenario.parse({
          name: `detection-${behaviour}-${f}`,
          seed: 11,
          duration: 7200,
          network: { latencyMs: 20, jitter: 0.3, loss: 0 },
          groups: [
            { id: 'honest', count: 900, behaviour: 'honest', capacity: 4, serviceMs: 50 },
            {
              id: 'fakers',
              count: 100,
              behaviour,
              params: { ...params, rate: f },
              capacity: 4,
              serviceMs: 50,
              ...(network == null ? {} : { network })
            }
          ],
          requesters: [
            {
              id: 'alice',
              // Enough first runs for every faker to pass n (the job is shared about evenly).
              jobs: [{ tasks: 1000 * n * 2, maxBatch: 4, policy: { initialRate: p, minRate: p, canaryRate: 1e-9 } }]
            }
          ]
        })
        const report = simulate(scenario)
        assert.equal(report.totals.lost, 0)
        if (behaviour === 'cheater' || behaviour === 'replayer' || behaviour === 'sybil') {
          assert.equal(report.totals.falseAccusations, 0)
        }
        // Zeros and fixed offsets are deterministic: two such fakers checking each other agree,
        // and when they are the second and third runs they outvote an honest first run. The
        // colluders scenario shows that, and the closing note of issue #13 reports it.
        const point = report.groups.fakers?.detection.find((d) => d.n === n)
        assert.ok(point != null && point.exposures >= 5 && point.se > 0, JSON.stringify(report.groups.fakers?.detection))
        const expected = detectionProbability({ cheatFraction: f, sampleRate: p, canaryRate: 1e-9, tasks: n })
        const effective = (point.probability * (1 - point.probability)) / point.se ** 2
        const [lo, hi] = wilson(point.probability, effective)
        assert.ok(
          lo <= expected && expected <= hi,
          `${behaviour} f=${f} p=${p}: ${point.probability} caught within ${n} (99.72 % interval [${lo.toFixed(3)}, ${hi.toFixed(3)}]), formula ${expected.toFixed(3)}`
        )
      }
    })
  }
})
