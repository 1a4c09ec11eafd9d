/**
 * The thread that writes a job's inputs into its SQLite file while the requester's event loop keeps
 * serving (SqliteJobStore.stageJob): a chunk of a few MiB of inputs is a transaction whose commit
 * syncs them (and now and then checkpoints the WAL) — 50–450 ms on the thread that commits, which
 * on the event loop stalled claims and results (issue #15's dispatch bench: loop p99 up to 100 ms).
 * Its own connection to the same file; chunks in the order sent, one transaction each, each answered
 * when durable.
 */

import { DatabaseSync } from 'node:sqlite'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { isCorruption } from './database.js'

/**
 * What the store sends: the encoded inputs (§6.2's Task without its id) of one chunk, from `first`,
 * and their §2.3 digests (computed by the store: this thread imports no more than SQLite, so it
 * starts in a few milliseconds).
 */
export interface StageChunk {
  jobId: string
  first: number
  tasks: Uint8Array[]
  digests: Uint8Array[]
}

/**
 * The answer to a chunk: durable, with its encoded inputs handed back (moved, not copied: the store
 * keeps them in memory for claims), or why not (`corrupt`: SQLite found the file malformed).
 */
export type StageAnswer = { ok: true; tasks: Uint8Array[] } | { ok: false; message: string; corrupt: boolean }

export interface StageWorkerData {
  path: string
  busyTimeoutMs: number
}

/**
 * Writes one chunk's rows (in the caller's transaction): each input, and its §2.3 digest beside it —
 * kept apart, so that reading a digest does not walk a large input's overflow pages (files of older
 * versions have none: computed on read). The store's own connection writes small jobs with it.
 */
export function stageRows(db: DatabaseSync): (chunk: StageChunk) => void {
  const addInput = db.prepare('INSERT OR REPLACE INTO inputs (job_id, idx, task) VALUES (?, ?, ?)')
  const addDigest = db.prepare('INSERT OR REPLACE INTO input_digests (job_id, idx, digest) VALUES (?, ?, ?)')
  return ({ jobId, first, tasks, digests }) => {
    tasks.forEach((task, i) => {
      addInput.run(jobId, first + i, task)
      addDigest.run(jobId, first + i, digests[i] as Uint8Array)
    })
  }
}

// The store imports stageRows from this file too: only a thread it started runs the rest.
if (!isMainThread && parentPort != null) {
  const port = parentPort
  const { path, busyTimeoutMs } = workerData as StageWorkerData
  const db = new DatabaseSync(path)
  // The file is the store's: WAL already (journal_mode persists), synchronous=FULL per connection.
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}; PRAGMA synchronous = FULL;`)
  const stage = stageRows(db)
  port.on('message', (chunk: StageChunk) => {
    let answer: StageAnswer
    try {
      db.exec('BEGIN IMMEDIATE')
      try {
        stage(chunk)
        db.exec('COMMIT')
      } catch (err) {
        if (db.isTransaction) {
          db.exec('ROLLBACK')
        }
        throw err
      }
      answer = { ok: true, tasks: chunk.tasks }
    } catch (err) {
      answer = { ok: false, message: (err as Error).message, corrupt: isCorruption(err) }
    }
    // Every buffer here is this thread's (moved or copied to it): each goes back moved.
    const buffers = new Set(answer.ok ? answer.tasks.map((t) => t.buffer as ArrayBuffer) : [])
    port.postMessage(answer, [...buffers])
  })
}
