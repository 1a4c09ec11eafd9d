/** Parameters a job or worker cannot work with; the message says which and why. */
export class InvalidJobParamsError extends Error {
  override readonly name = 'InvalidJobParamsError'
}

/** A verification step the job's state does not allow (a canary of a task whose verification is open). */
export class VerificationStateError extends Error {
  override readonly name = 'VerificationStateError'
}
