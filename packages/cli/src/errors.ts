/**
 * Errors a person can act on: the CLI prints their message on one line and exits with `code`.
 * Named errors from the libraries below (a missing model file, no workers, an unreachable
 * bootstrap peer…) are mapped to the same one-line form in bin.ts.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  constructor(
    message: string,
    readonly code = 2
  ) {
    super(message)
  }
}

/** Ctrl-C during a job: what arrived was kept and the line to resume it printed; exit code 130. */
export class InterruptedError extends UsageError {
  constructor() {
    super('interrupted', 130)
  }
}

/** Errors whose message is already one line a person can act on (exit code 1). */
export const ACTIONABLE = new Set([
  'ModelFileError',
  'InvalidInputsError',
  'NoWorkersError',
  'BootstrapError',
  'JobNotFoundError',
  'ConfigError',
  'IdentityKeyError',
  'InvalidModelIdError',
  'AbortError'
])
