/**
 * Gossip message validation (spec §5). One function per topic kind; each check cites its rule and
 * says [REJECT] (invalid: the sender is penalised by gossipsub scoring) or [IGNORE] (valid but not
 * to be forwarded now). The node maps `action` to gossipsub's TopicValidatorResult in one place.
 */

import { equals } from 'uint8arrays/equals'
import { FRAUD_PROOF_MAX_AGE_MS, MAX_CLOCK_SKEW_MS } from './constants.js'
import { type Opened, open, STATEMENTS } from './envelope.js'
import { type CheckedFraudProof, checkFraudProof } from './fraud.js'
import { modelOfJobsTopic } from './ids.js'
import type { FraudProof, JobAnnouncement } from './pb/openbatch.js'

export type GossipAction = 'accept' | 'ignore' | 'reject'

export interface GossipVerdict<T> {
  readonly action: GossipAction
  /** Set when action is 'accept'. */
  readonly value?: T
  /** Why the message was ignored or rejected. */
  readonly reason?: string
  /** The named error behind a rejection, when there was one. */
  readonly errorName?: string
}

function reject(err: unknown): GossipVerdict<never> {
  const e = err as Error
  return { action: 'reject', reason: e.message, errorName: e.name }
}

/** §5.1 Validation of a message on a jobs topic. */
export async function validateJobMessage(topic: string, data: Uint8Array, now: number): Promise<GossipVerdict<Opened<JobAnnouncement>>> {
  // [REJECT] the topic must be a jobs topic naming a valid model id (§5.1).
  const model = modelOfJobsTopic(topic)
  if (model == null) {
    return { action: 'reject', reason: `${topic} is not a jobs topic` }
  }
  // [REJECT] size, envelope, payload type, Ed25519 key, signature, requester = signer, and the
  // announcement's field rules incl. job_id derivation (§1.3, §3.3).
  let opened: Opened<JobAnnouncement>
  try {
    opened = await open(STATEMENTS.job, data)
  } catch (err) {
    return reject(err)
  }
  const job = opened.message
  // [REJECT] the announced model must be the topic's model (§5.1).
  if (!equals(job.model, model.bytes)) {
    return { action: 'reject', reason: 'announcement is for another model than its topic' }
  }
  const t = BigInt(Math.floor(now))
  // [IGNORE] issued more than MAX_CLOCK_SKEW_MS in the future: maybe our clock is behind (§5.1).
  if (job.issuedAtMs > t + BigInt(MAX_CLOCK_SKEW_MS)) {
    return { action: 'ignore', reason: 'announcement is issued in the future' }
  }
  // [IGNORE] the deadline has passed: nothing left to do, nothing to forward (§5.1).
  if (job.deadlineMs <= t) {
    return { action: 'ignore', reason: 'job deadline has passed' }
  }
  return { action: 'accept', value: opened }
}

/** §5.2 Validation of a message on the fraud topic. */
export async function validateFraudMessage(
  data: Uint8Array,
  now: number
): Promise<GossipVerdict<CheckedFraudProof & { reporter: Opened<unknown>['signer'] }>> {
  // [REJECT] size, envelope, signature, reporter = signer, structure (§1.3, §3.7).
  let opened: Opened<FraudProof>
  try {
    opened = await open(STATEMENTS.fraud, data)
  } catch (err) {
    return reject(err)
  }
  const t = BigInt(Math.floor(now))
  // [IGNORE] issued in the future beyond the allowed skew (§5.2).
  if (opened.message.issuedAtMs > t + BigInt(MAX_CLOCK_SKEW_MS)) {
    return { action: 'ignore', reason: 'fraud proof is issued in the future' }
  }
  // [REJECT] every check of §7.5.
  let checked: CheckedFraudProof
  try {
    checked = await checkFraudProof(opened.message)
  } catch (err) {
    return reject(err)
  }
  // [IGNORE] the job ended more than FRAUD_PROOF_MAX_AGE_MS ago: old news is not forwarded (§5.2).
  if (checked.announcement.message.deadlineMs + BigInt(FRAUD_PROOF_MAX_AGE_MS) < t) {
    return { action: 'ignore', reason: 'fraud proof is about a job that ended too long ago' }
  }
  return { action: 'accept', value: { ...checked, reporter: opened.signer } }
}
