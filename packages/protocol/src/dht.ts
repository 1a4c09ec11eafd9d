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

/** §4.2 A record may replace the one held only with a strictly higher seq. */
export function assertNewer(current: CapacityRecord, candidate: CapacityRecord): void {
  if (candidate.seq <= current.seq) {
    throw new StaleRecordError(`capacity record seq ${candidate.seq} is not newer than held seq ${current.seq}`)
  }
}

/**
 * §4.2 selector: of several valid records for one key, the highest seq wins; equal seqs are
 * decided by the later expiry, then by the larger envelope bytes, so every peer picks the same.
 * Values that do not decode lose to any that do. Returns the index of the best value.
 */
export function selectCapacityRecord(values: readonly { record?: CapacityRecord; bytes: Uint8Array }[]): number {
  let best = -1
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v?.record == null) {
      continue
    }
    if (best === -1) {
      best = i
      continue
    }
    const b = values[best] as { record: CapacityRecord; bytes: Uint8Array }
    const r = v.record
    if (
      r.seq > b.record.seq ||
      (r.seq === b.record.seq &&
        (r.expiresAtMs > b.record.expiresAtMs || (r.expiresAtMs === b.record.expiresAtMs && compareBytes(v.bytes, b.bytes) > 0)))
    ) {
      best = i
    }
  }
  return best === -1 ? 0 : best
}
