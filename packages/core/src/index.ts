/**
 * @packageDocumentation
 *
 * `@openbatch/core` holds openbatch's decision logic as sans-IO state machines (after quinn-proto):
 * each takes the current time and an input event, and returns its decision plus the actions the
 * caller must carry out — persist, send, set a timer. No sockets, no timers, no clock inside, so
 * the same code runs in a real peer, in unit tests with virtual time, and in large simulations.
 *
 * - {@link RequesterJob}: one job's task queue, leases, re-queueing of expired or abandoned work,
 *   the per-worker allowance that keeps slow workers from hoarding tasks, and completion.
 * - {@link WorkerAgent}: which announced jobs a worker claims from, and how many tasks (only what
 *   its free slots can run now), with backoff.
 *
 * @example
 *
 * ```ts
 * import { RequesterJob } from '@openbatch/core'
 *
 * const job = new RequesterJob({ taskCount: 1000, maxBatch: 32, deadline: now + 3_600_000 })
 * const { outcome, actions } = job.claim(now, workerPeerId, 16)
 * // carry out `actions` (persist the lease, arm the timer), then send the assignment
 * const accepted = job.result(later, workerPeerId, outcome.tasks[0])
 * ```
 */

/** Re-exported from @openbatch/protocol (one PRNG for tests and simulations). */
export { seededRandom } from '@openbatch/protocol'
export { type Check, CheckQueue, type Presence } from './check-queue.js'
export { InvalidJobParamsError, VerificationStateError } from './errors.js'
export { TimeHeap } from './heap.js'
export {
  type ClaimOutcome,
  type JobAction,
  type JobParams,
  type JobPolicy,
  type JobStep,
  type JobSummary,
  RequesterJob,
  type ResultOutcome,
  resolveJobPolicy,
  TaskState
} from './requester-job.js'
export {
  DEFAULT_MIN_REPUTATION,
  type Verdict,
  type VerificationCounts,
  type VerificationStatus,
  type VerifiedClaimOutcome,
  VerifiedJob,
  type VerifiedJobAction,
  type VerifiedJobInit,
  type VerifiedJobSummary,
  type VerifiedStep
} from './verified-job.js'
export {
  MemoryTrustBook,
  newcomerTrust,
  type ObservedResult,
  recordDisagreement,
  recordOffence,
  recordTimeouts,
  type TrustBook,
  Verifier,
  type VerifierInit,
  type VerifyAction,
  type WorkerTrust
} from './verifier.js'
export {
  type AgentAction,
  type ClaimAnswer,
  DEFAULT_WORKER_CAPACITY,
  type KnownJob,
  WorkerAgent,
  type WorkerAgentParams
} from './worker-agent.js'
