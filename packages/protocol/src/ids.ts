/**
 * Content addressing and identifiers (spec §2): model CIDs, job ids, task ids, the worker
 * rendezvous CID, capacity-record DHT keys, gossip topic names, and peer-id bytes.
 */

import type { PeerId } from '@libp2p/interface'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { equals } from 'uint8arrays/equals'
import { fromString as utf8Encode } from 'uint8arrays/from-string'
import { concatBytes, lengthPrefixed, uvarint } from './bytes.js'
import {
  CAPACITY_NAMESPACE,
  JOBS_TOPIC_PREFIX,
  MAX_NONCE_BYTES,
  MIN_NONCE_BYTES,
  WORKER_RENDEZVOUS_PREIMAGE,
  WORKER_SHARD_PREFIX,
  WORKER_SHARDS
} from './constants.js'
import { InvalidCidError, InvalidFieldError, InvalidPeerIdError, InvalidRecordKeyError } from './errors.js'
import { sha256 } from './hash.js'

/** multicodec `raw` (§2.1). */
export const RAW_CODEC = 0x55
/** multihash `sha2-256` (§2.1). */
export const SHA2_256_CODE = 0x12
/** Length of every openbatch digest and id: SHA-256 output (§2). */
export const DIGEST_LENGTH = 32

const TASK_ID_DOMAIN = utf8Encode('openbatch/task-id/v1')
const JOB_ID_DOMAIN = utf8Encode('openbatch/job-id/v1')

/** §2.1 The model id: CIDv1, codec raw, multihash sha2-256 of the .onnx file's bytes. */
export function modelCid(modelBytes: Uint8Array): CID {
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256_CODE, sha256(modelBytes)))
}

/**
 * Parses a model id from CID bytes or a CID string and checks it has the §2.1 form
 * (v1, raw, sha2-256, 32-byte digest). Throws InvalidCidError otherwise.
 */
export function parseModelCid(input: Uint8Array | string): CID {
  let cid: CID
  try {
    cid = typeof input === 'string' ? CID.parse(input) : CID.decode(input)
  } catch (err) {
    throw new InvalidCidError(`not a CID: ${(err as Error).message}`)
  }
  if (cid.version !== 1 || cid.code !== RAW_CODEC || cid.multihash.code !== SHA2_256_CODE || cid.multihash.size !== DIGEST_LENGTH) {
    throw new InvalidCidError(`model id ${cid.toString()} is not CIDv1 raw sha2-256`)
  }
  return cid
}

/** True when `modelBytes` hash to `cid` (§2.1): the check every model load and fetch makes. */
export function modelMatchesCid(modelBytes: Uint8Array, cid: CID): boolean {
  return equals(sha256(modelBytes), cid.multihash.digest)
}

/** §4.3 The CID every worker provides so requesters can find workers of any model. */
export const WORKER_RENDEZVOUS_CID: CID = modelCid(utf8Encode(WORKER_RENDEZVOUS_PREIMAGE))

/**
 * §4.3 The CID of shard `shard` of a model's workers: the model-id form of the UTF-8 bytes
 * `openbatch/workers/v1/<model CID, base32>/<shard>`.
 */
export function workerShardCid(model: CID | Uint8Array | string, shard: number): CID {
  if (!Number.isInteger(shard) || shard < 0 || shard >= WORKER_SHARDS) {
    throw new RangeError(`shard must be 0..${WORKER_SHARDS - 1}, got ${shard}`)
  }
  return modelCid(utf8Encode(`${WORKER_SHARD_PREFIX}${parseModelCid(model instanceof CID ? model.bytes : model).toString()}/${shard}`))
}

/** §4.3 The shard a worker provides for each of its models: SHA-256(peer id bytes)[0] mod WORKER_SHARDS. */
export function workerShard(worker: PeerId | Uint8Array): number {
  const bytes = worker instanceof Uint8Array ? worker : worker.toMultihash().bytes
  return (sha256(bytes)[0] as number) % WORKER_SHARDS
}

/**
 * §2.4 job id = SHA-256(lp("openbatch/job-id/v1") || lp(requester peer id bytes) || lp(nonce)),
 * where lp(x) = uvarint(len(x)) || x. Binding the requester means nobody else can announce a job
 * under the same id.
 */
export function deriveJobId(requester: Uint8Array, nonce: Uint8Array): Uint8Array<ArrayBuffer> {
  if (nonce.byteLength < MIN_NONCE_BYTES || nonce.byteLength > MAX_NONCE_BYTES) {
    throw new InvalidFieldError('nonce', `must be ${MIN_NONCE_BYTES}..${MAX_NONCE_BYTES} bytes, got ${nonce.byteLength}`)
  }
  return sha256(concatBytes([...lengthPrefixed(JOB_ID_DOMAIN), ...lengthPrefixed(requester), ...lengthPrefixed(nonce)]))
}

/**
 * §2.4 task id = SHA-256(lp("openbatch/task-id/v1") || lp(job id) || uvarint(index) ||
 * lp(model CID bytes) || lp(input digest)).
 */
export function deriveTaskId(
  jobId: Uint8Array,
  index: bigint | number,
  model: Uint8Array,
  inputDigest: Uint8Array
): Uint8Array<ArrayBuffer> {
  const i = BigInt(index)
  if (i < 0n || i >= 2n ** 64n) {
    throw new InvalidFieldError('index', `must be a uint64, got ${i}`)
  }
  return sha256(
    concatBytes([
      ...lengthPrefixed(TASK_ID_DOMAIN),
      ...lengthPrefixed(jobId),
      uvarint(i),
      ...lengthPrefixed(model),
      ...lengthPrefixed(inputDigest)
    ])
  )
}

/** The bytes a message carries for a peer id (the identity multihash of its public key). */
export function peerIdBytes(peerId: PeerId): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(peerId.toMultihash().bytes)
}

/** Parses peer id bytes from a message; throws InvalidPeerIdError naming `field`. */
export function parsePeerId(bytes: Uint8Array, field = 'peer id'): PeerId {
  try {
    return peerIdFromMultihash(Digest.decode(bytes))
  } catch (err) {
    throw new InvalidPeerIdError(`${field}: not a peer id (${(err as Error).message})`)
  }
}

const CAPACITY_KEY_PREFIX = utf8Encode(`/${CAPACITY_NAMESPACE}/`)

/** §4.2 DHT key of a worker's capacity record: "/openbatch-capacity/" || peer id bytes. */
export function capacityKey(worker: PeerId | Uint8Array): Uint8Array<ArrayBuffer> {
  const id = worker instanceof Uint8Array ? worker : peerIdBytes(worker)
  const key = new Uint8Array(CAPACITY_KEY_PREFIX.byteLength + id.byteLength)
  key.set(CAPACITY_KEY_PREFIX)
  key.set(id, CAPACITY_KEY_PREFIX.byteLength)
  return key
}

/** The peer id bytes a capacity key names; throws InvalidRecordKeyError for any other key. */
export function parseCapacityKey(key: Uint8Array): Uint8Array {
  if (key.byteLength <= CAPACITY_KEY_PREFIX.byteLength || !equals(key.subarray(0, CAPACITY_KEY_PREFIX.byteLength), CAPACITY_KEY_PREFIX)) {
    throw new InvalidRecordKeyError(`key is not in the /${CAPACITY_NAMESPACE}/ namespace`)
  }
  return key.subarray(CAPACITY_KEY_PREFIX.byteLength)
}

/** §5.1 Gossip topic of a model's job announcements. */
export function jobsTopic(model: CID | Uint8Array): string {
  const cid = model instanceof Uint8Array ? parseModelCid(model) : model
  return `${JOBS_TOPIC_PREFIX}${cid.toString()}`
}

/** The model of a jobs topic, or undefined when `topic` is not one. */
export function modelOfJobsTopic(topic: string): CID | undefined {
  if (!topic.startsWith(JOBS_TOPIC_PREFIX)) {
    return undefined
  }
  try {
    return parseModelCid(topic.slice(JOBS_TOPIC_PREFIX.length))
  } catch {
    return undefined
  }
}
