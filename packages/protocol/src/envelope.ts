/**
 * Signed statements (spec §1): every capacity record, job announcement, task result, receipt and
 * fraud proof travels as a libp2p signed envelope (RFC 0002) with its own payload type and
 * domain string, so a signature made for one kind can never be accepted as another.
 */

import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { RecordEnvelope } from '@libp2p/peer-record'
import { equals } from 'uint8arrays/equals'
import { concatBytes, toHex, uvarint } from './bytes.js'
import {
  DOMAINS,
  MAX_CAPACITY_RECORD_BYTES,
  MAX_FRAUD_PROOF_BYTES,
  MAX_JOB_ANNOUNCEMENT_BYTES,
  MAX_RECEIPT_BYTES,
  MAX_RESULT_BYTES,
  PAYLOAD_CODES
} from './constants.js'
import { acceptablePoint, ed25519Sign, verifyByAcceptableKey } from './ed25519.js'
import {
  InvalidSignatureError,
  MalformedMessageError,
  PeerIdMismatchError,
  TooLargeError,
  UnsupportedKeyError,
  WrongPayloadTypeError
} from './errors.js'
import { peerIdBytes } from './ids.js'
import {
  decodeBounded,
  type MessageCodec,
  validateCapacityRecord,
  validateFraudProof,
  validateJobAnnouncement,
  validateReceipt,
  validateTaskResult
} from './messages.js'
import { CapacityRecord, FraudProof, JobAnnouncement, Receipt, TaskResult } from './pb/openbatch.js'

/** Everything that distinguishes one kind of signed statement from another (§1.2). */
export interface StatementKind<T> {
  readonly name: string
  readonly domain: string
  /** uvarint of the kind's private-use multicodec code. */
  readonly payloadType: Uint8Array
  readonly codec: MessageCodec<T>
  /** Limit on the whole envelope, checked before decoding (§3.1). */
  readonly maxBytes: number
  /** The field naming the peer that must have signed (§1.3). */
  readonly signer: (message: T) => Uint8Array
  readonly validate: (message: T) => void
}

function kind<T>(
  name: string,
  key: keyof typeof DOMAINS,
  codec: MessageCodec<T>,
  maxBytes: number,
  signer: (m: T) => Uint8Array,
  validate: (m: T) => void
): StatementKind<T> {
  return { name, domain: DOMAINS[key], payloadType: uvarint(PAYLOAD_CODES[key]), codec, maxBytes, signer, validate }
}

/** The five statement kinds of §1.2. */
export const STATEMENTS = {
  capacity: kind('CapacityRecord', 'capacity', CapacityRecord, MAX_CAPACITY_RECORD_BYTES, (m) => m.worker, validateCapacityRecord),
  job: kind('JobAnnouncement', 'job', JobAnnouncement, MAX_JOB_ANNOUNCEMENT_BYTES, (m) => m.requester, validateJobAnnouncement),
  result: kind('TaskResult', 'result', TaskResult, MAX_RESULT_BYTES, (m) => m.worker, validateTaskResult),
  receipt: kind('Receipt', 'receipt', Receipt, MAX_RECEIPT_BYTES, (m) => m.requester, validateReceipt),
  fraud: kind('FraudProof', 'fraud', FraudProof, MAX_FRAUD_PROOF_BYTES, (m) => m.reporter, validateFraudProof)
} as const

/** An opened, verified statement. */
export interface Opened<T> {
  readonly message: T
  readonly signer: PeerId
  readonly publicKey: PublicKey
  /** The envelope bytes as received (what a receipt's result_digest and fraud proofs refer to). */
  readonly envelope: Uint8Array
}

/**
 * Validates `message`, checks that `privateKey` is the peer the message names as signer, and
 * returns the marshalled envelope. Refuses to sign anything a receiver would reject.
 */
export async function seal<T>(kind: StatementKind<T>, message: T, privateKey: PrivateKey): Promise<Uint8Array<ArrayBuffer>> {
  if (privateKey.type !== 'Ed25519') {
    throw new UnsupportedKeyError(`${kind.name} must be signed with an Ed25519 key, got ${privateKey.type}`)
  }
  kind.validate(message)
  const signer = peerIdFromPublicKey(privateKey.publicKey)
  if (!equals(kind.signer(message), peerIdBytes(signer))) {
    throw new PeerIdMismatchError(`${kind.name} names a different peer than the signing key ${signer.toString()}`)
  }
  const payload = kind.codec.encode(message as Partial<T>)
  const signature = ed25519Sign(privateKey, signedData(kind, payload))
  const bytes = new RecordEnvelope({ publicKey: privateKey.publicKey, payloadType: kind.payloadType, payload, signature }).marshal()
  if (bytes.byteLength > kind.maxBytes) {
    throw new TooLargeError(`${kind.name} envelope of ${bytes.byteLength} bytes exceeds ${kind.maxBytes}`, bytes.byteLength, kind.maxBytes)
  }
  return bytes as Uint8Array<ArrayBuffer>
}

/**
 * Opens a statement of the expected kind (§1.3), in this order: size limit, envelope decoding,
 * payload type, key type, signature over the kind's domain, payload decoding with limits, the
 * signer-field ↔ key match, then the kind's field rules. Each failure is its own named error.
 */
export async function open<T>(kind: StatementKind<T>, bytes: Uint8Array): Promise<Opened<T>> {
  if (bytes.byteLength > kind.maxBytes) {
    throw new TooLargeError(`${kind.name} envelope of ${bytes.byteLength} bytes exceeds ${kind.maxBytes}`, bytes.byteLength, kind.maxBytes)
  }
  const envelope = parseEnvelope(kind, bytes)
  if (!equals(envelope.payloadType, kind.payloadType)) {
    throw new WrongPayloadTypeError(
      `envelope carries payload type 0x${toHex(envelope.payloadType)}, expected ${kind.name} (0x${toHex(kind.payloadType)})`
    )
  }
  if (envelope.publicKey.type !== 'Ed25519') {
    throw new UnsupportedKeyError(`${kind.name} is signed with a ${envelope.publicKey.type} key; only Ed25519 is allowed`)
  }
  if (!acceptablePoint(envelope.publicKey.raw)) {
    // §1.1: a non-canonical or small-order key would verify signatures that prove nothing.
    throw new UnsupportedKeyError(`${kind.name} is signed with an Ed25519 key that is not canonical or is of small order`)
  }
  if (!verifyByAcceptableKey(envelope.publicKey, signedData(kind, envelope.payload), envelope.signature)) {
    throw new InvalidSignatureError(`${kind.name} signature does not verify for domain "${kind.domain}"`)
  }
  const message = decodeBounded(kind.codec, envelope.payload, kind.maxBytes, kind.name)
  const signer = peerIdFromPublicKey(envelope.publicKey)
  let claimed: Uint8Array
  try {
    claimed = kind.signer(message)
  } catch {
    claimed = new Uint8Array()
  }
  if (!equals(claimed, peerIdBytes(signer))) {
    throw new PeerIdMismatchError(`${kind.name} is signed by ${signer.toString()} but names another peer`)
  }
  kind.validate(message)
  return { message, signer, publicKey: envelope.publicKey, envelope: bytes }
}

/**
 * The message of a statement this peer opened (verified) before — read back from its own store —
 * decoded without checking its signature again. Never for bytes from the network: use `open`.
 */
export function decodeOpened<T>(kind: StatementKind<T>, bytes: Uint8Array): T {
  return decodeBounded(kind.codec, parseEnvelope(kind, bytes).payload, kind.maxBytes, kind.name)
}

/** The envelope around a statement of `kind`, or MalformedMessageError. */
function parseEnvelope(kind: Pick<StatementKind<unknown>, 'name'>, bytes: Uint8Array): RecordEnvelope {
  try {
    return RecordEnvelope.createFromProtobuf(bytes)
  } catch (err) {
    throw new MalformedMessageError(`${kind.name} envelope does not decode: ${(err as Error).message}`)
  }
}

const utf8 = new TextEncoder()

/**
 * RFC 0002's signed data: uvarint(len(domain)) ‖ domain ‖ uvarint(len(payload type)) ‖
 * payload type ‖ uvarint(len(payload)) ‖ payload.
 */
function signedData(kind: Pick<StatementKind<unknown>, 'domain' | 'payloadType'>, payload: Uint8Array): Uint8Array {
  const domain = utf8.encode(kind.domain)
  return concatBytes([
    uvarint(domain.byteLength),
    domain,
    uvarint(kind.payloadType.byteLength),
    kind.payloadType,
    uvarint(payload.byteLength),
    payload
  ])
}
