import type { ErrorCode } from '@openbatch/protocol'
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

/** A job that cannot be served or stored as given (an announcement of another peer, one that does not match its inputs). */
export class InvalidJobError extends Error {
  override readonly name = 'InvalidJobError'
}

/** No job with this id is stored or served here. */
export class UnknownJobError extends Error {
  override readonly name = 'UnknownJobError'
  constructor(readonly jobId: string) {
    super(`no job ${jobId} here`)
  }
}

/** The job was cancelled before every task settled (its settled results stay stored). */
export class JobCancelledError extends Error {
  override readonly name = 'AbortError'
  readonly code = 'JOB_CANCELLED'
  constructor(readonly jobId: string) {
    super(`job ${jobId} was cancelled`)
  }
}

/** The job's deadline passed with tasks unsettled (its settled results stay stored). */
export class JobDeadlineError extends Error {
  override readonly name = 'JobDeadlineError'
  constructor(
    readonly jobId: string,
    readonly unfinished: number
  ) {
    super(`job ${jobId} passed its deadline with ${unfinished} tasks unfinished`)
  }
}

/** A fraud proof could not be built: a result's signed envelope is missing. */
export class FraudProofError extends Error {
  override readonly name = 'FraudProofError'
}

/** A peer answered a protocol request with something the spec does not allow (wrong count, oversized, inconsistent). */
export class ProtocolViolationError extends Error {
  override readonly name = 'ProtocolViolationError'
}

/** A receipt that does not prove the work it claims to (another worker, or not signed by its requester). */
export class InvalidReceiptError extends Error {
  override readonly name = 'InvalidReceiptError'
}

/** No worker (or too few) for a model was found in the DHT within the discovery timeout (spec §4.3). */
export class NoWorkersError extends Error {
  override readonly name = 'NoWorkersError'
  constructor(
    readonly model: string,
    readonly waitedMs: number,
    readonly found = 0,
    readonly wanted = 1,
    /** Peers this one was connected to when it gave up: none means it never joined a network. */
    readonly connected?: number,
    /** Workers found that ask more per item than the requester's maximum (§6.2). */
    readonly priced?: { count: number; maxPricePerItem: bigint }
  ) {
    super(
      found === 0 && priced != null && priced.count > 0
        ? `no workers serve model ${model} at your maximum price of ${priced.maxPricePerItem} per item: ${priced.count} found ask more (searched for ${Math.round(waitedMs / 1000)} s); raise the maximum (maxPricePerItem, --max-price) or wait for cheaper workers`
        : found === 0 && connected === 0
          ? `no workers serve model ${model}: this peer is connected to no other peer (searched for ${Math.round(waitedMs / 1000)} s); give the address of a running peer with --bootstrap (the SDK's bootstrap option), or start one on this LAN with mDNS on`
          : found === 0
            ? `no workers serve model ${model} (searched the network for ${Math.round(waitedMs / 1000)} s); start a worker with this model, or check the bootstrap addresses`
            : `found ${found} of the ${wanted} workers wanted for model ${model} in ${Math.round(waitedMs / 1000)} s; start more workers or ask for fewer`
    )
  }
}

/** The answer to an InputRequest (spec §6.9) was not the inputs: its code and message. */
export class InputsRefusedError extends Error {
  override readonly name = 'InputsRefusedError'
  constructor(
    readonly code: ErrorCode,
    message: string
  ) {
    super(message)
  }
}

/**
 * The only connection to a peer is a limited relay's, and hole punching gave no direct one in
 * time: bulk protocols do not run over limited relays (spec §4.4).
 */
export class NoDirectConnectionError extends Error {
  override readonly name = 'NoDirectConnectionError'
  constructor(
    readonly peer: string,
    readonly waitedMs: number,
    readonly connections: number
  ) {
    super(
      `peer ${peer} is reachable only through a limited relay (${connections} connection${connections === 1 ? '' : 's'}) and hole punching gave no direct connection within ${waitedMs} ms; ` +
        'bulk data never crosses a limited relay (spec §4.4): the peer needs a public or port-mapped address, or both sides an unlimited relay'
    )
  }
}

/** A value that was thrown or rejected but is not an Error. */
export class NonErrorThrownError extends Error {
  override readonly name = 'NonErrorThrownError'
  constructor(readonly value: unknown) {
    super(`a non-Error value was thrown: ${describe(value)}`)
  }
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value == null) {
    return `${typeof value} ${String(value)}`
  }
  const type = (value as { type?: unknown }).type
  try {
    return `${value.constructor?.name ?? 'object'}${typeof type === 'string' ? ` "${type}"` : ''} ${JSON.stringify(value)}`
  } catch {
    return String(value)
  }
}

/**
 * `value` as an Error. A stream read can reject with whatever a closed stream's `error` holds,
 * which need not be an Error: a worker that logged one read `.message` of it, got undefined and
 * stopped with an uncaught TypeError in the middle of a job.
 */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new NonErrorThrownError(value)
}
