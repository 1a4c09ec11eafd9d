/**
 * Fraud proofs (spec §7.5): what a proof must show and how every peer checks it on its own.
 */

import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { equals } from 'uint8arrays/equals'
import { agreeResults } from './agreement.js'
import { type Opened, open, STATEMENTS, seal } from './envelope.js'
import { InvalidFraudProofError } from './errors.js'
import { peerIdBytes } from './ids.js'
import { isDeterministicFailure, resolvePolicy } from './messages.js'
import type { FraudProof, JobAnnouncement, TaskResult } from './pb/openbatch.js'
import { type Tensor, tensorSetDigest } from './tensor.js'

/** A fraud proof whose every §7.5 check passed. */
export interface CheckedFraudProof {
  readonly announcement: Opened<JobAnnouncement>
  readonly accused: Opened<TaskResult>
  readonly agreeing: readonly Opened<TaskResult>[]
  readonly inputs: readonly Tensor[]
}

async function openPart<T>(what: string, kind: Parameters<typeof open<T>>[0], bytes: Uint8Array): Promise<Opened<T>> {
  try {
    return await open(kind, bytes)
  } catch (err) {
    throw new InvalidFraudProofError(`${what}: ${(err as Error).name}: ${(err as Error).message}`)
  }
}

/**
 * §7.5 checks, in order: (1) the announcement opens; (2) every result opens; (3) every result
 * is for the announced job and model, the same task, with an index below task_count; (4) every
 * agreeing result carries its outputs, the accused its outputs or a deterministic failure (§6.6); (5) signers are pairwise distinct; (6) the agreeing results agree
 * with each other and the accused disagrees with each of them under the job's agreement rules;
 * (7) inputs, when included, hash to the input digest. Throws InvalidFraudProofError naming the
 * failed check.
 */
export async function checkFraudProof(proof: FraudProof): Promise<CheckedFraudProof> {
  const announcement = await openPart('announcement', STATEMENTS.job, proof.announcement)
  const accused = await openPart('accused', STATEMENTS.result, proof.accused)
  const agreeing: Opened<TaskResult>[] = []
  for (const [i, bytes] of proof.agreeing.entries()) {
    agreeing.push(await openPart(`agreeing[${i}]`, STATEMENTS.result, bytes))
  }
  const job = announcement.message
  const results = [accused, ...agreeing]
  for (const [i, r] of results.entries()) {
    const what = i === 0 ? 'accused' : `agreeing[${i - 1}]`
    const m = r.message
    if (!equals(m.jobId, job.jobId)) {
      throw new InvalidFraudProofError(`${what}: result is for another job`)
    }
    if (!equals(m.model, job.model)) {
      throw new InvalidFraudProofError(`${what}: result is for another model than the job's`)
    }
    if (m.index >= job.taskCount) {
      throw new InvalidFraudProofError(`${what}: task index ${m.index} ≥ task_count ${job.taskCount}`)
    }
    if (!equals(m.taskId, accused.message.taskId)) {
      throw new InvalidFraudProofError(`${what}: result is for another task`)
    }
    // Witnesses carry outputs; the accused carries outputs or a deterministic failure (§6.6):
    // a false claim that a task cannot run is provable, a result that exists is never outvoted
    // by claims that it cannot.
    const failedDeterministically = i === 0 && m.failure != null && isDeterministicFailure(m.failure.kind)
    if (m.outputs.length === 0 && !failedDeterministically) {
      throw new InvalidFraudProofError(`${what}: result carries no outputs to compare`)
    }
  }
  const signers = new Set<string>()
  for (const r of results) {
    const id = r.signer.toString()
    if (signers.has(id)) {
      throw new InvalidFraudProofError(`signer ${id} appears twice; results must come from distinct peers`)
    }
    signers.add(id)
  }
  const rules = resolvePolicy(job.verification).agreement
  for (let i = 0; i < agreeing.length; i++) {
    for (let j = i + 1; j < agreeing.length; j++) {
      const a = agreeResults((agreeing[i] as Opened<TaskResult>).message, (agreeing[j] as Opened<TaskResult>).message, rules)
      if (!a.agree) {
        throw new InvalidFraudProofError(`agreeing[${i}] and agreeing[${j}] disagree (${a.reason})`)
      }
    }
    const d = agreeResults(accused.message, (agreeing[i] as Opened<TaskResult>).message, rules)
    if (d.agree) {
      throw new InvalidFraudProofError(`accused agrees with agreeing[${i}] under the job's rules; there is no fraud`)
    }
  }
  if (proof.inputs.length > 0 && !equals(tensorSetDigest(proof.inputs), accused.message.inputDigest)) {
    throw new InvalidFraudProofError("inputs do not hash to the results' input_digest")
  }
  return { announcement, accused, agreeing, inputs: proof.inputs }
}

export interface FraudProofInit {
  announcement: Uint8Array<ArrayBuffer>
  accused: Uint8Array<ArrayBuffer>
  agreeing: Uint8Array<ArrayBuffer>[]
  inputs?: Tensor[]
  issuedAt: number
}

/** Builds, checks and signs a fraud proof; refuses one that would not pass checkFraudProof. */
export async function createFraudProof(init: FraudProofInit, reporterKey: PrivateKey): Promise<Uint8Array> {
  const proof: FraudProof = {
    announcement: init.announcement,
    accused: init.accused,
    agreeing: init.agreeing,
    inputs: init.inputs ?? [],
    reporter: peerIdBytes(peerIdFromPublicKey(reporterKey.publicKey)),
    issuedAtMs: BigInt(Math.floor(init.issuedAt))
  }
  await checkFraudProof(proof)
  return seal(STATEMENTS.fraud, proof, reporterKey)
}
