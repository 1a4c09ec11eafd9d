/**
 * Capacity records in the DHT (spec §4.2): the validator and selector a peer registers with
 * kad-dht under the `openbatch-capacity` namespace. `now` is a parameter; kad-dht glue passes the
 * wall clock.
 */

import { equals } from 'uint8arrays/equals'
import { compareBytes } from './bytes.js'
import { MAX_CLOCK_SKEW_MS } from './constants.js'
import { type Opened, open, STATEMENTS } from './envelope.js'
import { ExpiredRecordError, InvalidRecordKeyError, StaleRecordError } from './errors.js'
import { parseCapacityKey } from './ids.js'
import type { CapacityRecord } from './pb/openbatch.js'

/** §4.2 Time rules: not expired, and not issued more than MAX_CLOCK_SKEW_MS in the future. */
export function checkCapacityTimes(record: CapacityRecord, now: number): void {
  const t = BigInt(Math.floor(now))
  if (record.expiresAtMs <= t) {
    throw new ExpiredRecordError(`capacity record seq ${record.seq} expired at ${record.expiresAtMs}, now is ${t}`)
  }
  if (record.issuedAtMs > t + BigInt(MAX_CLOCK_SKEW_MS)) {
    throw new ExpiredRecordError(`capacity record seq ${record.seq} is issued ${record.issuedAtMs - t} ms in the future`)
  }
}

/**
 * §4.2 validator: the value is a capacity-record envelope that opens (signature, domain, payload
 * type, field rules), its signer is the worker it names and the peer the key names, and it is
 * within its lifetime at `now`.
 */
export async function validateCapacityEntry(key: Uint8Array, value: Uint8Array, now: number): Promise<Opened<CapacityRecord>> {
  const keyPeer = parseCapacityKey(key)
  const opened = await open(STATEMENTS.capacity, value)
  if (!equals(opened.message.worker, keyPeer)) {
    throw new InvalidRecordKeyError("capacity record is stored under another peer's key")
  }
  checkCapacityTimes(opened.message, now)
  return opened
}

/** A capacity record with the envelope bytes it came in (the selector's last tie-break). */
export interface CapacityValue {
  record: CapacityRecord
  bytes: Uint8Array
}

/**
 * §4.2 The selector's order: `a` wins over `b` when its seq is higher; at equal seqs when it
 * expires later; at equal expiries when its envelope bytes are lexicographically larger.
 */
export function preferredCapacity(a: CapacityValue, b: CapacityValue): boolean {
  if (a.record.seq !== b.record.seq) {
    return a.record.seq > b.record.seq
  }
  if (a.record.expiresAtMs !== b.record.expiresAtMs) {
    return a.record.expiresAtMs > b.record.expiresAtMs
  }
  return compareBytes(a.bytes, b.bytes) > 0
}

/**
 * §4.2 A held record is replaced only by one the selector prefers — a higher seq, or an equal seq
 * that wins the selector's tie-breaks — so peers that heard two records of one seq in different
 * orders converge on the same one.
 */
export function assertPreferred(held: CapacityValue, candidate: CapacityValue): void {
  if (!preferredCapacity(candidate, held)) {
    throw new StaleRecordError(
      `capacity record seq ${candidate.record.seq} does not win over the held seq ${held.record.seq} (§4.2: higher seq, then later expiry, then larger bytes)`
    )
  }
}

/**
 * §4.2 selector: of several valid records for one key, the one `preferredCapacity` ranks first.
 * Values that do not decode lose to any that do. Returns the index of the best value.
 */
export function selectCapacityRecord(values: readonly { record?: CapacityRecord; bytes: Uint8Array }[]): number {
  let best = -1
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v?.record == null) {
      continue
    }
    if (best === -1 || preferredCapacity(v as CapacityValue, values[best] as CapacityValue)) {
      best = i
    }
  }
  return best === -1 ? 0 : best
}
