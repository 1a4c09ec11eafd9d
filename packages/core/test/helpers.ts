import type { ObservedResult, ResultOutcome, VerifiedJob, VerifiedJobAction, VerifiedStep } from '../src/index.js'

/**
 * A result submitted and, when accepted, stored: what a peer's executor does with the `accept`
 * action (store, then `stored()`), so a test sees the verdicts that follow.
 */
export function submit(
  job: VerifiedJob,
  now: number,
  result: ObservedResult,
  via: 'result' | 'failed' = 'result'
): VerifiedStep<ResultOutcome> {
  const step = via === 'result' ? job.result(now, result) : job.failed(now, result)
  const actions: VerifiedJobAction[] = []
  for (const a of step.actions) {
    actions.push(a)
    if (a.type === 'accept') {
      actions.push(...job.stored(now, a))
    }
  }
  return { outcome: step.outcome, actions }
}
