/**
 * One error class per condition. Each has a stable `name` (tests and callers check `err.name`)
 * and, where the spec numbers the condition, the matching wire `code` (spec §3.9).
 */

import type { ErrorCode } from './pb/openbatch.js'

abstract class OpenbatchError extends Error {
  /** Wire error code (spec §3.9) a peer reports for this condition. */
  abstract readonly code: `${ErrorCode}`
}

/** A message, envelope or tensor is larger than the spec allows (§3.1). */
export class TooLargeError extends OpenbatchError {
  override readonly name = 'TooLargeError'
  readonly code = 'TOO_LARGE'
  constructor(
    message: string,
    readonly size: number,
    readonly limit: number
  ) {
    super(message)
  }
}

/** Bytes that do not decode as the expected protobuf message or envelope. */
export class MalformedMessageError extends OpenbatchError {
  override readonly name = 'MalformedMessageError'
  readonly code = 'MALFORMED'
}

/** A repeated field holds more elements than the spec's limit (§3.1). */
export class LimitExceededError extends OpenbatchError {
  override readonly name = 'LimitExceededError'
  readonly code = 'TOO_LARGE'
}

/** A decoded message breaks a field rule of the spec; `field` names the field. */
export class InvalidFieldError extends OpenbatchError {
  override readonly name = 'InvalidFieldError'
  readonly code = 'MALFORMED'
  constructor(
    readonly field: string,
    message: string
  ) {
    super(`${field}: ${message}`)
  }
}

/** A tensor breaks the canonical tensor rules (§2.2); `tensor` names it when it has a name. */
export class InvalidTensorError extends OpenbatchError {
  override readonly name = 'InvalidTensorError'
  readonly code = 'MALFORMED'
}

/** Bytes that are not a CIDv1 raw sha2-256 model id (§2.1). */
export class InvalidCidError extends OpenbatchError {
  override readonly name = 'InvalidCidError'
  readonly code = 'MALFORMED'
}

/** Bytes that are not a libp2p peer id. */
export class InvalidPeerIdError extends OpenbatchError {
  override readonly name = 'InvalidPeerIdError'
  readonly code = 'MALFORMED'
}

/** The envelope's signature does not verify for the message kind's domain (§1.2). */
export class InvalidSignatureError extends OpenbatchError {
  override readonly name = 'InvalidSignatureError'
  readonly code = 'BAD_SIGNATURE'
}

/** The envelope's payload type is not the one of the expected message kind (§1.2). */
export class WrongPayloadTypeError extends OpenbatchError {
  override readonly name = 'WrongPayloadTypeError'
  readonly code = 'MALFORMED'
}

/** The envelope is signed with a key type the spec does not allow (§1.1: Ed25519 only). */
export class UnsupportedKeyError extends OpenbatchError {
  override readonly name = 'UnsupportedKeyError'
  readonly code = 'BAD_SIGNATURE'
}

/** The peer id a message claims (worker, requester, reporter) is not the signer's (§1.3). */
export class PeerIdMismatchError extends OpenbatchError {
  override readonly name = 'PeerIdMismatchError'
  readonly code = 'WRONG_SIGNER'
}

/** A record whose expiry has passed, or which claims to be issued in the future (§4.2). */
export class ExpiredRecordError extends OpenbatchError {
  override readonly name = 'ExpiredRecordError'
  readonly code = 'MALFORMED'
}

/** A record whose sequence number is not newer than the one already held (§4.2). */
export class StaleRecordError extends OpenbatchError {
  override readonly name = 'StaleRecordError'
  readonly code = 'DUPLICATE'
}

/** A DHT record stored under a key that does not belong to its signer or namespace (§4.2). */
export class InvalidRecordKeyError extends OpenbatchError {
  override readonly name = 'InvalidRecordKeyError'
  readonly code = 'MALFORMED'
}

/** A fraud proof that fails a check of §7.5; `reason` says which. */
export class InvalidFraudProofError extends OpenbatchError {
  override readonly name = 'InvalidFraudProofError'
  readonly code = 'MALFORMED'
}

/** A math or policy parameter out of its domain (a rate outside [0, 1], a negative count). */
export class InvalidParameterError extends OpenbatchError {
  override readonly name = 'InvalidParameterError'
  readonly code = 'MALFORMED'
}
