/**
 * Opening a peer's SQLite files (jobs, reputation, receipts) so that damage is never silent: a
 * file that is empty where a database was, or that SQLite finds malformed, is moved aside (with
 * its -wal and -shm) and reported with a StoreCorruptError naming the file and where it went —
 * the peer does not start on an empty database in its place without saying so.
 */

import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

/** A database file is damaged; it was moved to `aside` and nothing was written in its place. */
export class StoreCorruptError extends Error {
  override readonly name = 'StoreCorruptError'
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly aside?: string
  ) {
    super(
      aside == null
        ? `${path} is damaged (${reason}); stop the peer and restore it from a backup`
        : `${path} is damaged (${reason}); it was moved to ${aside} so that nothing overwrites it. Restore it from a backup, or start again to begin with an empty one`
    )
  }
}

/** Whether `err` is SQLite saying the file is not a (sound) database. */
export function isCorruption(err: unknown): boolean {
  const e = err as { errcode?: number; message?: string }
  // SQLITE_CORRUPT = 11, SQLITE_NOTADB = 26 (primary codes; extended codes keep them in the low byte).
  const code = typeof e?.errcode === 'number' ? e.errcode & 0xff : undefined
  return code === 11 || code === 26 || /malformed|not a database|file is encrypted/i.test(String(e?.message ?? ''))
}

/** How long a connection waits for another's write transaction, ms. */
export const BUSY_TIMEOUT_MS = 5000

/** Databases larger than this get a cheap check at open (schema and roots) instead of a full quick_check. */
const FULL_CHECK_MAX_BYTES = 256 * 1024 * 1024

/**
 * Opens (creating if missing) the SQLite database at `path` in WAL mode with `synchronous`, after
 * checking it; ':memory:' for an in-memory one. `pageSize` (bytes) applies to a file it creates.
 */
export function openDatabase(path: string, synchronous: 'FULL' | 'NORMAL' = 'FULL', pageSize?: number): DatabaseSync {
  if (path === ':memory:') {
    const db = new DatabaseSync(path)
    db.exec(`PRAGMA synchronous = ${synchronous};`)
    return db
  }
  mkdirSync(dirname(path), { recursive: true })
  if (existsSync(path) && statSync(path).size === 0) {
    // SQLite writes a header when it creates a database here; an empty file is one whose
    // contents were lost (truncated, or a failed copy), and opening it would show no data.
    throw new StoreCorruptError(path, 'the file is empty (0 bytes) but a database was created there', moveAside(path))
  }
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(path)
    if (pageSize != null) {
      // Takes effect only while the file has no tables (a new store); an existing one keeps its own.
      db.exec(`PRAGMA page_size = ${pageSize};`)
    }
    // busy_timeout: another process's connection (the CLI reading a running peer's files) waits for
    // a write transaction to end instead of failing with "database is locked".
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous};`)
    if (statSync(path).size <= FULL_CHECK_MAX_BYTES) {
      const rows = db.prepare('PRAGMA quick_check').all() as Record<string, unknown>[]
      const verdict = rows.map((r) => String(Object.values(r)[0])).join('; ')
      if (verdict !== 'ok') {
        throw Object.assign(new Error(verdict), { errcode: 11 })
      }
    } else {
      db.prepare('SELECT count(*) FROM sqlite_master').get()
    }
    return db
  } catch (err) {
    db?.close()
    if (isCorruption(err)) {
      throw new StoreCorruptError(path, (err as Error).message, moveAside(path))
    }
    throw err
  }
}

/** Moves a damaged database (and its WAL files) to `<path>.damaged-<time>`; returns the new path. */
function moveAside(path: string): string {
  const aside = `${path}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`
  renameSync(path, aside)
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) {
      renameSync(path + suffix, aside + suffix)
    }
  }
  return aside
}
