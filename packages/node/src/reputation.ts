/**
 * A peer's reputation book (spec §7.6), persistent: per remote peer the counts of agreements,
 * disagreements and lease timeouts, offences (valid fraud proofs against it) and its ban. It is the
 * Verifier's TrustBook (shared by every job of this peer), and it feeds the connection gater
 * (banned peers are refused), gossipsub's application-specific score and task assignment.
 * Stored in SQLite (node:sqlite) next to the identity when the peer has a data directory.
 */

import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { PeerId } from '@libp2p/interface'
import { newcomerTrust, recordDisagreement, recordOffence, recordTimeouts, type TrustBook, type WorkerTrust } from '@openbatch/core'
import { reputationScore } from '@openbatch/protocol'
import { openDatabase } from './database.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS reputation (
  peer TEXT PRIMARY KEY,
  streak INTEGER NOT NULL,
  agreements INTEGER NOT NULL,
  disagreements INTEGER NOT NULL,
  timeouts INTEGER NOT NULL,
  offences INTEGER NOT NULL,
  banned_until REAL NOT NULL
) WITHOUT ROWID;
`

/**
 * Changed records reach the file together, at most this long after the change (one transaction),
 * or at once when the change bans the peer, and at close(). A crash may lose the changes of this
 * window (the file is kept with synchronous=NORMAL: a record of this peer's own policy, §7.6).
 */
export const REPUTATION_WRITE_BEHIND_MS = 1000

/** gossipsub's P5 for a banned peer: with the default weight 10 it is below the graylist threshold (-80). */
export const BANNED_APP_SCORE = -10

export class Reputation implements TrustBook {
  private readonly records = new Map<string, WorkerTrust>()
  private readonly db?: DatabaseSync
  private readonly upsert?: StatementSync
  private readonly banListeners = new Set<(peer: string) => void>()
  private closed = false
  /** Peers whose record changed since the last write. */
  private readonly dirty = new Set<string>()
  private flushTimer?: ReturnType<typeof setTimeout>

  /** `path`: a SQLite file (created if missing); omit to keep reputation in memory. */
  constructor(path?: string) {
    if (path == null) {
      return
    }
    this.db = openDatabase(path, 'NORMAL')
    this.db.exec(SCHEMA)
    this.upsert = this.db.prepare(
      'INSERT OR REPLACE INTO reputation (peer, streak, agreements, disagreements, timeouts, offences, banned_until) VALUES (?, ?, ?, ?, ?, ?, ?)'
    )
    for (const row of this.db.prepare('SELECT * FROM reputation').all() as Record<string, number | string>[]) {
      this.records.set(String(row.peer), {
        streak: Number(row.streak),
        agreements: Number(row.agreements),
        disagreements: Number(row.disagreements),
        timeouts: Number(row.timeouts),
        offences: Number(row.offences),
        bannedUntil: Number(row.banned_until)
      })
    }
  }

  get(peer: string): WorkerTrust {
    let t = this.records.get(peer)
    if (t == null) {
      t = newcomerTrust()
      this.records.set(peer, t)
    }
    return t
  }

  /**
   * Writes the record behind (REPUTATION_WRITE_BEHIND_MS), or at once when the peer is banned now,
   * and then tells ban listeners.
   */
  changed(peer: string): void {
    const t = this.get(peer)
    const banned = t.bannedUntil > Date.now()
    // After close() the book is read-only: a late event of a stopping peer changes nothing on disk.
    if (this.upsert != null && !this.closed) {
      this.dirty.add(peer)
      if (banned) {
        this.flush()
      } else if (this.flushTimer == null) {
        this.flushTimer = setTimeout(() => {
          try {
            this.flush()
          } catch {
            // Kept dirty: the next change, ban or close() writes them again.
          }
        }, REPUTATION_WRITE_BEHIND_MS)
        this.flushTimer.unref()
      }
    }
    if (banned) {
      for (const listener of this.banListeners) {
        listener(peer)
      }
    }
  }

  /** Writes every changed record in one transaction; on failure they stay changed and it throws. */
  flush(): void {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    if (this.db == null || this.upsert == null || this.closed || this.dirty.size === 0) {
      return
    }
    this.db.exec('BEGIN')
    try {
      for (const peer of this.dirty) {
        const t = this.get(peer)
        // SQLite stores Infinity as a REAL; a permanent ban survives a restart.
        this.upsert.run(peer, t.streak, t.agreements, t.disagreements, t.timeouts, t.offences, t.bannedUntil)
      }
      this.db.exec('COMMIT')
    } catch (err) {
      if (this.db.isTransaction) {
        this.db.exec('ROLLBACK')
      }
      throw err
    }
    this.dirty.clear()
  }

  /** A valid fraud proof against `peer` received from the network (§7.5, §7.6). */
  /** §6.3, §7.6: `peer` sent a provably bad result (bad signature, wrong signer, model or input digest). */
  provablyBad(peer: string): void {
    recordDisagreement(this.get(peer))
    this.changed(peer)
  }

  /** §6.2, §7.6: `peer`, a requester, left `count` claims unanswered (scored like lease timeouts). */
  unresponsive(peer: string, count: number): void {
    recordTimeouts(this.get(peer), count)
    this.changed(peer)
  }

  offence(peer: string, now = Date.now()): void {
    recordOffence(this.get(peer), now)
    this.changed(peer)
  }

  /** §7.6 score in (0, 1); a newcomer scores 0.5. */
  score(peer: PeerId | string): number {
    const t = this.records.get(peer.toString())
    return t == null ? 0.5 : reputationScore(t)
  }

  isBanned(peer: PeerId | string, now = Date.now()): boolean {
    const t = this.records.get(peer.toString())
    return t != null && t.bannedUntil > now
  }

  /** gossipsub P5: banned peers fall below the graylist threshold, others get 2·(score − 0.5) ∈ (−1, 1). */
  appScore(peer: string): number {
    return this.isBanned(peer) ? BANNED_APP_SCORE : 2 * (this.score(peer) - 0.5)
  }

  /** Calls `listener` with a peer id each time a peer's record changes while it is banned. */
  onBan(listener: (peer: string) => void): () => void {
    this.banListeners.add(listener)
    return () => this.banListeners.delete(listener)
  }

  /** Every peer with a record, for `openbatch status`. */
  entries(): [string, WorkerTrust][] {
    return [...this.records]
  }

  /** Writes what changed, then closes the file; the book stays readable. */
  close(): void {
    if (!this.closed) {
      try {
        this.flush()
      } finally {
        this.closed = true
        this.db?.close()
      }
    }
  }
}
