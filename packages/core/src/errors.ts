/** Parameters a job or worker cannot work with; the message says which and why. */
export class InvalidJobParamsError extends Error {
  override readonly name = 'InvalidJobParamsError'
}
