/** A scenario's assertions against its report: each names a metric by its dotted path and a bound. */

import type { Scenario } from './scenario.js'
import type { Report } from './simulate.js'

export interface AssertionResult {
  metric: string
  value: number | null
  min?: number
  max?: number
  ok: boolean
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
    const ok = value != null && (a.min == null || value >= a.min) && (a.max == null || value <= a.max)
    return { metric: a.metric, value, ...(a.min != null ? { min: a.min } : {}), ...(a.max != null ? { max: a.max } : {}), ok }
  })
}
