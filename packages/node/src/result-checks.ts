/**
 * §6.3 The checks a requester makes on a submitted result before the core sees it, in the spec's
 * order: the envelope opens (a TaskResult, its signature valid), its signer is the peer that sent
 * it, the job is served here, the model is the job's, and the input digest is the task's. A pure
 * function of the envelope and what the job knows: no state, no I/O.
 */

import type { PeerId } from '@libp2p/interface'
import { ErrorCode, type Opened, open, STATEMENTS, type TaskResult, toHex } from '@openbatch/protocol'
import { equals } from 'uint8arrays/equals'

/** What the checks need to know of a job served here. */
export interface ResultJob {
  /** The job's model CID bytes. */
  model: Uint8Array
  /** The input digest of task `index` (undefined: not known now, so not checked — §6.3 leaves late results to the core). */
  inputDigest(index: number): Uint8Array | undefined | Promise<Uint8Array | undefined>
}

export type CheckedResult =
  | { ok: true; jobId: string; index: number; result: Opened<TaskResult> }
  | { ok: false; code: ErrorCode; message: string }

/** Codes that prove the sender misbehaved (not merely late): each counts as a disagreement (§7.6). */
export const PROVABLY_BAD: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.MALFORMED,
  ErrorCode.BAD_SIGNATURE,
  ErrorCode.WRONG_SIGNER,
  ErrorCode.WRONG_MODEL,
  ErrorCode.WRONG_INPUT_DIGEST
])

/** §6.3 checks of one signed result from `sender`; `job` finds the job it names. */
export async function checkResult(
  envelope: Uint8Array,
  sender: PeerId,
  job: (jobId: string) => ResultJob | undefined
): Promise<CheckedResult> {
  const reject = (code: ErrorCode, message: string): CheckedResult => ({ ok: false, code, message })
  let opened: Opened<TaskResult>
  try {
    opened = await open(STATEMENTS.result, envelope)
  } catch (err) {
    // §1.3's table: each error of opening carries its code (TOO_LARGE, MALFORMED, BAD_SIGNATURE —
    // an unsupported key too — or WRONG_SIGNER).
    const code = (err as { code?: unknown }).code
    const known = Object.values(ErrorCode).includes(code as ErrorCode) ? (code as ErrorCode) : ErrorCode.MALFORMED
    return reject(known, (err as Error).message.slice(0, 500))
  }
  if (!opened.signer.equals(sender)) {
    return reject(ErrorCode.WRONG_SIGNER, 'the result is signed by another peer than the one submitting it')
  }
  const r = opened.message
  const jobId = toHex(r.jobId)
  const served = job(jobId)
  if (served == null) {
    return reject(ErrorCode.UNKNOWN_JOB, 'no such job here')
  }
  if (!equals(r.model, served.model)) {
    return reject(ErrorCode.WRONG_MODEL, "the result names another model than the job's")
  }
  const index = Number(r.index)
  const expected = await served.inputDigest(index)
  if (expected != null && !equals(expected, r.inputDigest)) {
    return reject(ErrorCode.WRONG_INPUT_DIGEST, "the result's input digest is not the task's")
  }
  return { ok: true, jobId, index, result: opened }
}
