/**
 * §4.2: a peer holding a capacity record replaces it only with one the selector prefers. kad-dht
 * stores every PUT_VALUE that passes the validator over the record it holds, so two records of
 * one seq heard in different orders would stay split between peers; this guard sits under
 * kad-dht, on the datastore, where the held record and the new one meet.
 */

import { Libp2pRecord } from '@libp2p/record'
import { assertPreferred, CAPACITY_NAMESPACE, type CapacityRecord, checkCapacityTimes, decodeOpened, STATEMENTS } from '@openbatch/protocol'
import type { Libp2pOptions } from 'libp2p'

type Datastore = NonNullable<Libp2pOptions['datastore']>

/** Where kad-dht keeps the values it stores (its default datastore prefix). */
const RECORD_PREFIX = '/dht/record/'
const CAPACITY_PREFIX = `/${CAPACITY_NAMESPACE}/`

const capacityValue = (stored: Uint8Array) => {
  const record = Libp2pRecord.deserialize(stored)
  return new TextDecoder().decode(record.key).startsWith(CAPACITY_PREFIX) ? record.value : undefined
}

/** The value stored under `key`, or undefined when there is none. */
async function held(datastore: Datastore, key: Parameters<Datastore['get']>[0], options: Parameters<Datastore['get']>[1]) {
  try {
    return await datastore.get(key, options)
  } catch (err) {
    if ((err as Error).name === 'NotFoundError') {
      return undefined
    }
    throw err
  }
}

/** Whether a held record still passes the validator's time rule (an expired one may be replaced by any). */
function isLive(record: CapacityRecord, now: number): boolean {
  try {
    checkCapacityTimes(record, now)
    return true
  } catch {
    return false
  }
}

/**
 * `datastore` with its `put` refusing (StaleRecordError) a capacity record that does not win over
 * the held one, unless the held one has expired at `now()`. Values reach the datastore only after
 * kad-dht's validator (§4.2), so both decode; the held one is not verified again.
 */
export function guardCapacityRecords(datastore: Datastore, now: () => number = Date.now): Datastore {
  const put = datastore.put.bind(datastore)
  datastore.put = async (key, value, options) => {
    const candidate = key.toString().startsWith(RECORD_PREFIX) ? capacityValue(value) : undefined
    const stored = candidate == null ? undefined : await held(datastore, key, options)
    const heldValue = stored == null ? undefined : capacityValue(stored)
    if (candidate != null && heldValue != null) {
      const heldRecord = decodeOpened(STATEMENTS.capacity, heldValue)
      if (isLive(heldRecord, now())) {
        assertPreferred(
          { record: heldRecord, bytes: heldValue },
          { record: decodeOpened(STATEMENTS.capacity, candidate), bytes: candidate }
        )
      }
    }
    return put(key, value, options)
  }
  return datastore
}
