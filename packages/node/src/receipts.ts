/**
 * A worker's receipts (spec §3.6), kept durably: each is a requester's signed statement that it
 * accepted one result, for a reward — the worker's provable record of verified work (earnings).
 * Only receipts that verify, name this worker, were signed by the requester they name and — given
 * the results they answer — acknowledge those envelopes for the job's reward are kept.
 */

import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { PeerId } from '@libp2p/interface'
import { open, parsePeerId, type Receipt, STATEMENTS, sha256, toHex } from '@openbatch/protocol'
import { equals } from 'uint8arrays/equals'
import { openDatabase } from './database.js'
import { InvalidReceiptError } from './errors.js'

export interface ReceiptTotals {
  requester: string
  receipts: number
  /** Sum of the receipts' rewards, in the job's reward unit. */
  reward: bigint
}

export class ReceiptStore {
  private readonly db: DatabaseSync
  private readonly insert: StatementSync

  /** `path`: a SQLite file, or ':memory:'. A damaged file is moved aside and reported (StoreCorruptError). */
  constructor(path: string) {
    this.db = openDatabase(path, 'FULL')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS receipts (
        result_digest TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        requester TEXT NOT NULL,
        reward TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        envelope BLOB NOT NULL
      ) WITHOUT ROWID;`)
    this.insert = this.db.prepare(
      'INSERT OR IGNORE INTO receipts (result_digest, job_id, requester, reward, issued_at, envelope) VALUES (?, ?, ?, ?, ?, ?)'
    )
  }

  /** Verifies and stores a receipt for `worker`; false when it was already kept. Throws on a receipt that does not verify. */
  async add(envelope: Uint8Array, worker: PeerId): Promise<boolean> {
    const { kept, rejected } = await this.addAll([envelope], worker)
    if (rejected[0] != null) {
      throw rejected[0].error
    }
    return kept.length > 0
  }

  /**
   * Verifies the receipts of one acknowledgement (§3.6) and keeps the valid ones in one
   * transaction — one sync to disk, however many results the submission carried. `kept`: those
   * newly stored; `rejected`: those that do not verify (another worker's, or not signed by the
   * requester they name), each with its error; receipts already kept are in neither.
   */
  async addAll(
    envelopes: readonly Uint8Array[],
    worker: PeerId,
    expected?: readonly Expected[]
  ): Promise<{ kept: Uint8Array[]; rejected: { envelope: Uint8Array; error: Error }[] }> {
    const rejected: { envelope: Uint8Array; error: Error }[] = []
    const valid: { envelope: Uint8Array; row: [string, string, string, string, number] }[] = []
    for (const [i, envelope] of envelopes.entries()) {
      try {
        const { message: r, signer } = await open(STATEMENTS.receipt, envelope)
        checkReceipt(r, worker, expected?.[i])
        if (!signer.equals(parsePeerId(r.requester, 'receipt.requester'))) {
          throw new InvalidReceiptError('the receipt is not signed by the requester it names')
        }
        valid.push({ envelope, row: [toHex(r.resultDigest), toHex(r.jobId), signer.toString(), r.reward.toString(), Number(r.issuedAtMs)] })
      } catch (err) {
        rejected.push({ envelope, error: err as Error })
      }
    }
    const kept: Uint8Array[] = []
    if (valid.length > 0) {
      this.db.exec('BEGIN IMMEDIATE')
      try {
        for (const { envelope, row } of valid) {
          if (Number(this.insert.run(...row, envelope).changes) > 0) {
            kept.push(envelope)
          }
        }
        this.db.exec('COMMIT')
      } catch (err) {
        this.db.exec('ROLLBACK')
        throw err
      }
    }
    return { kept, rejected }
  }

  /** Counts and reward totals per requester. */
  totals(): ReceiptTotals[] {
    const rows = this.db.prepare('SELECT requester, reward FROM receipts').all() as { requester: string; reward: string }[]
    const by = new Map<string, ReceiptTotals>()
    for (const row of rows) {
      const t = by.get(row.requester) ?? { requester: row.requester, receipts: 0, reward: 0n }
      t.receipts++
      t.reward += BigInt(row.reward)
      by.set(row.requester, t)
    }
    return [...by.values()].sort((a, b) => b.receipts - a.receipts)
  }

  /** Every kept receipt envelope (to show a third party). */
  envelopes(): Uint8Array[] {
    return (this.db.prepare('SELECT envelope FROM receipts ORDER BY issued_at').all() as { envelope: Uint8Array }[]).map(
      (r) => new Uint8Array(r.envelope)
    )
  }

  close(): void {
    this.db.close()
  }
}

/** What a worker expects of the receipt for one result it submitted (§3.6). */
export interface Expected {
  /** The result envelope the receipt acknowledges; unset for a DUPLICATE's original receipt. */
  result?: Uint8Array
  /** The job's `reward_per_task` (0 for a failure); unset when the worker no longer knows the job. */
  reward?: bigint
}

/** A receipt as it came back for one submitted result, and what it must say (§3.6). */
export interface Acknowledged extends Expected {
  receipt: Uint8Array
}

/**
 * §3.6: a receipt names this worker, acknowledges the exact result envelope submitted (its
 * SHA-256) and pays the job's reward — 0 for a failure. InvalidReceiptError says which failed.
 */
export function checkReceipt(r: Receipt, worker: PeerId, expected: Expected = {}): void {
  if (!equals(r.worker, worker.toMultihash().bytes)) {
    throw new InvalidReceiptError('the receipt names another worker')
  }
  if (expected.result != null && !equals(r.resultDigest, sha256(expected.result))) {
    throw new InvalidReceiptError('the receipt acknowledges another result envelope than the one submitted (§3.6)')
  }
  if (expected.reward != null && r.reward !== expected.reward) {
    throw new InvalidReceiptError(`the receipt pays ${r.reward}, the job's reward for this result is ${expected.reward} (§3.6)`)
  }
}
