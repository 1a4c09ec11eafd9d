/** A configuration a peer cannot start with; `field` names the option, the message what to do. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    readonly field: string,
    message: string
  ) {
    super(`${field}: ${message}`)
  }
}

/** The identity key file exists but cannot be used (unreadable, corrupt, or open to other users). */
export class IdentityKeyError extends Error {
  override readonly name = 'IdentityKeyError'
}
