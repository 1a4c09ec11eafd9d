/** A scenario's assertions against its report: each names a metric by its dotted path and a bound. */

import type { Scenario } from './scenario.js'
import type { Report } from './simulate.js'

export interface AssertionResult {
  metric: string
  value: number | null
  min?: number
  max?: number
  /** With a confidence level: the rate's Wilson interval at that level, over `trials`. */
  confidence?: number
  interval?: [number, number]
  trials?: number
  ok: boolean
}

/** The Wilson score interval of a rate `p` over `n` trials at `confidence` (two-sided). */
export function wilsonInterval(p: number, n: number, confidence: number): [number, number] {
  if (!(n > 0)) {
    return [0, 1]
  }
  const z = normalQuantile(1 - (1 - confidence) / 2)
  const z2 = z * z
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n)
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n)
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

/** The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
function normalQuantile(q: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const poly = (k: number[], x: number) => k.reduce((acc, v) => acc * x + v, 0)
  if (q < 0.02425) {
    const t = Math.sqrt(-2 * Math.log(q))
    return poly(c, t) / (poly(d, t) * t + 1)
  }
  if (q > 1 - 0.02425) {
    const t = Math.sqrt(-2 * Math.log(1 - q))
    return -poly(c, t) / (poly(d, t) * t + 1)
  }
  const t = q - 0.5
  const r = t * t
  return (poly(a, r) * t) / (poly(b, r) * r + 1)
}

/** The number at `path` in the report (`totals.lost`, `groups.cheaters.detected`), or null. */
export function metric(report: Report, path: string): number | null {
  let v: unknown = report
  for (const key of path.split('.')) {
    if (v == null || typeof v !== 'object') {
      return null
    }
    v = (v as Record<string, unknown>)[key]
  }
  return typeof v === 'number' ? v : null
}

export function checkAssertions(report: Report, scenario: Scenario): AssertionResult[] {
  return scenario.assertions.map((a) => {
    const value = metric(report, a.metric)
    const bounds = { ...(a.min != null ? { min: a.min } : {}), ...(a.max != null ? { max: a.max } : {}) }
    if (a.confidence != null && a.of != null) {
      const trials = metric(report, a.of)
      if (value == null || trials == null) {
        return { metric: a.metric, value, ...bounds, confidence: a.confidence, ok: false }
      }
      const interval = wilsonInterval(value, trials, a.confidence)
      const ok = (a.min == null || interval[0] >= a.min) && (a.max == null || interval[1] <= a.max)
      return { metric: a.metric, value, ...bounds, confidence: a.confidence, interval, trials, ok }
    }
    const ok = value != null && (a.min == null || value >= a.min) && (a.max == null || value <= a.max)
    return { metric: a.metric, value, ...bounds, ok }
  })
}
