/**
 * The requester's durable state in SQLite (Node's built-in node:sqlite: no native build): jobs,
 * their inputs (each with its digest), leases, and every accepted result with its receipt. WAL
 * journal with synchronous=FULL, so a result submission's results are on disk before `accept`
 * returns and their receipts are sent (spec §6.3, §6.5): a requester killed with SIGKILL resumes
 * with every accepted result intact. One commit — one sync — per submission: leases, verdicts and
 * counts are written behind, in the transaction the next accepted results commit (or a flush at
 * most WRITE_BEHIND_MS later); a crash loses only those, which §6.5 allows.
 */

import type { DatabaseSync } from 'node:sqlite'
import { setImmediate } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { resolveJobPolicy, type TaskState, type Verdict, type VerificationCounts, type VerificationStatus } from '@openbatch/core'
import { type FailureKind, type Tensor, tensorSetDigest } from '@openbatch/protocol'
import { BUSY_TIMEOUT_MS, isCorruption, openDatabase, StoreCorruptError } from './database.js'
import {
  type AcceptedRun,
  type CountedEvent,
  checkAnnouncement,
  decodeInputs,
  encodeInputs,
  type JobRecord,
  type JobStore,
  type StageOptions,
  type StoredJob,
  type StoredPolicy,
  type StoredResult,
  WRITE_BEHIND_MS
} from './job-store.js'
import { loopTurn } from './signals.js'
import { type StageAnswer, type StageChunk, type StageWorkerData, stageRows } from './stage-worker.js'

function toStored(r: Record<string, unknown>): StoredResult {
  return {
    index: Number(r.idx),
    worker: String(r.worker),
    result: new Uint8Array(r.result as Uint8Array),
    receipt: new Uint8Array(r.receipt as Uint8Array),
    status: r.status == null ? undefined : (String(r.status) as VerificationStatus),
    reputation: r.reputation == null || Number(r.reputation) < 0 ? undefined : Number(r.reputation),
    revised: Number(r.revised ?? 0) === 1,
    failure: r.failure == null ? undefined : (String(r.failure) as FailureKind)
  }
}

/**
 * A new store's SQLite page: 64 KiB. A staged 110 KB input spans 2 pages, not 28 (4 KiB): staging
 * 1,000 of them took 640–800 ms instead of 890–950, and the small rows of claims and results showed
 * no cost in the dispatch bench. A store created before keeps its page size.
 */
const PAGE_SIZE = 65_536

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  announcement BLOB NOT NULL,
  lease_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
-- A rowid table: its large rows stage faster than WITHOUT ROWID's (SQLite keeps those for small
-- rows); a store created before keeps its WITHOUT ROWID table, which reads and writes the same.
CREATE TABLE IF NOT EXISTS inputs (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  task BLOB NOT NULL,
  PRIMARY KEY (job_id, idx)
);
CREATE TABLE IF NOT EXISTS input_digests (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  digest BLOB NOT NULL,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tasks (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  state INTEGER NOT NULL,
  worker TEXT,
  lease_expires_at INTEGER,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS results (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  worker TEXT NOT NULL,
  result BLOB NOT NULL,
  receipt BLOB NOT NULL,
  accepted_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checks (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  worker TEXT NOT NULL,
  result BLOB NOT NULL,
  receipt BLOB NOT NULL,
  accepted_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, idx, worker)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS verdicts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  status TEXT NOT NULL,
  worker TEXT NOT NULL,
  reputation REAL NOT NULL,
  revised INTEGER NOT NULL DEFAULT 0,
  UNIQUE (job_id, idx)
);
CREATE TABLE IF NOT EXISTS counters (
  job_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (job_id, name)
) WITHOUT ROWID;
`

/** Columns added after the first release, added to older files on open. */
const MIGRATIONS: [table: string, column: string, definition: string][] = [
  ['jobs', 'check_wait_ms', 'INTEGER'],
  // The job's whole policy as JSON (lease_ms and check_wait_ms stay for files of older versions).
  ['jobs', 'policy', 'TEXT'],
  ['verdicts', 'failure', 'TEXT'],
  ['results', 'failure', 'TEXT'],
  // When the job was cancelled (ms): it is not resumed (§6.5).
  ['jobs', 'cancelled_at', 'INTEGER']
]

/** Input bytes staged per transaction at most (besides StageOptions.chunk inputs): memory stays bounded with large tasks. */
const STAGE_CHUNK_BYTES = 4 * 1024 * 1024

/**
 * Chunks handed to the staging thread and not yet durable, at most: the requester encodes the next
 * ones meanwhile. One at a time kept it waiting ~200 ms for the thread's first commit (the thread
 * starts with the first chunk) while it could have packed six more (issue #15).
 */
const STAGE_CHUNKS_IN_FLIGHT = 8

/**
 * Encoded inputs a store keeps in memory after staging them, at most (per store, by default): a
 * claim for one of them builds its assignment from memory instead of reading it back from the file
 * (with 16 workers on 110 KB items, reading each input back — once, and again for its re-run — was
 * the requester's largest cost in `pnpm bench dispatch`). Kept until the job ends (`ended`: every
 * task settled — a canary re-sends a settled task's input, §7.4 — or its deadline passed), it is
 * cancelled or the store closes; inputs staged past the budget, and all after a restart, are read
 * from the file. A copy in memory only: the file stays the record.
 */
export const STAGED_INPUT_CACHE_BYTES = 256 * 1024 * 1024

/** Bytes of the file SQLite reads through a memory map: a 110 KB input is then a copy, not hundreds of reads. */
const MMAP_BYTES = 1 << 30

// A task's result is its verdict's worker's run: the first run (results), or a check's (checks)
// when the verdict names another worker. The core decides whose; the query only looks it up.
const SETTLED_SELECT = `
  SELECT r.idx AS idx, coalesce(c.worker, r.worker) AS worker, coalesce(c.result, r.result) AS result,
         coalesce(c.receipt, r.receipt) AS receipt, v.status AS status, v.reputation AS reputation, v.seq AS seq,
         v.revised AS revised, v.failure AS failure`
const CHECK_JOIN = 'LEFT JOIN checks c ON c.job_id = r.job_id AND c.idx = r.idx AND v.worker = c.worker AND v.worker != r.worker'

function prepare(db: DatabaseSync) {
  return {
    addJob: db.prepare('INSERT INTO jobs (job_id, announcement, lease_ms, check_wait_ms, policy, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    stage: stageRows(db),
    input: db.prepare('SELECT task FROM inputs WHERE job_id = ? AND idx = ?'),
    inputDigest: db.prepare('SELECT digest FROM input_digests WHERE job_id = ? AND idx = ?'),
    lease: db.prepare('INSERT OR REPLACE INTO tasks (job_id, idx, state, worker, lease_expires_at) VALUES (?, ?, 1, ?, ?)'),
    release: db.prepare('DELETE FROM tasks WHERE job_id = ? AND idx = ? AND state = 1'),
    done: db.prepare('INSERT OR REPLACE INTO tasks (job_id, idx, state, worker, lease_expires_at) VALUES (?, ?, 2, ?, NULL)'),
    result: db.prepare('INSERT INTO results (job_id, idx, worker, result, receipt, accepted_at, failure) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    jobs: db.prepare(
      'SELECT job_id, announcement, lease_ms, check_wait_ms, policy, created_at, cancelled_at FROM jobs ORDER BY created_at'
    ),
    job: db.prepare('SELECT job_id, announcement, lease_ms, check_wait_ms, policy, created_at, cancelled_at FROM jobs WHERE job_id = ?'),
    cancel: db.prepare('UPDATE jobs SET cancelled_at = coalesce(cancelled_at, ?) WHERE job_id = ?'),
    tasks: db.prepare('SELECT idx, state, worker, lease_expires_at FROM tasks WHERE job_id = ?'),
    check: db.prepare('INSERT OR REPLACE INTO checks (job_id, idx, worker, result, receipt, accepted_at) VALUES (?, ?, ?, ?, ?, ?)'),
    // A revised verdict replaces the earlier one and gets a new seq (it settled again).
    verdict: db.prepare(
      'INSERT OR REPLACE INTO verdicts (job_id, idx, status, worker, reputation, revised, failure) VALUES (?, ?, ?, ?, ?, ?, ?)'
    ),
    failedCount: db.prepare('SELECT count(*) AS n FROM verdicts WHERE job_id = ? AND failure IS NOT NULL'),
    count: db.prepare(
      'INSERT INTO counters (job_id, name, value) VALUES (?, ?, 1) ON CONFLICT (job_id, name) DO UPDATE SET value = value + 1'
    ),
    counters: db.prepare('SELECT name, value FROM counters WHERE job_id = ?'),
    firstResult: db.prepare('SELECT result FROM results WHERE job_id = ? AND idx = ?'),
    // The task's result is the verdict's worker's: the first run's, or a check's when a majority decided.
    results: db.prepare(`${SETTLED_SELECT}
      FROM results r
      LEFT JOIN verdicts v ON v.job_id = r.job_id AND v.idx = r.idx
      ${CHECK_JOIN}
      WHERE r.job_id = ? AND r.idx >= ? ORDER BY r.idx LIMIT ?`),
    settledBySeq: db.prepare(`${SETTLED_SELECT}
      FROM verdicts v
      JOIN results r ON r.job_id = v.job_id AND r.idx = v.idx
      ${CHECK_JOIN}
      WHERE v.job_id = ? AND v.seq > ? ORDER BY v.seq LIMIT ?`),
    settledCount: db.prepare('SELECT count(*) AS n FROM verdicts WHERE job_id = ?'),
    settledTasks: db.prepare('SELECT idx FROM verdicts WHERE job_id = ? AND idx >= ? ORDER BY idx LIMIT ?'),
    verdictCounts: db.prepare('SELECT status, count(*) AS n FROM verdicts WHERE job_id = ? GROUP BY status'),
    orphans: db.prepare(
      `INSERT OR IGNORE INTO verdicts (job_id, idx, status, worker, reputation, failure)
       SELECT r.job_id, r.idx, 'unsampled', r.worker, -1, r.failure FROM results r
       WHERE r.job_id = ? AND NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.job_id = r.job_id AND v.idx = r.idx)`
    ),
    orphanInputs: db.prepare('SELECT 1 FROM inputs WHERE job_id NOT IN (SELECT job_id FROM jobs) LIMIT 1'),
    dropOrphanInputs: db.prepare('DELETE FROM inputs WHERE job_id NOT IN (SELECT job_id FROM jobs)'),
    dropOrphanDigests: db.prepare('DELETE FROM input_digests WHERE job_id NOT IN (SELECT job_id FROM jobs)'),
    resultCount: db.prepare('SELECT count(*) AS n FROM results WHERE job_id = ?')
  }
}

export class SqliteJobStore implements JobStore {
  private readonly db: DatabaseSync
  private readonly stmts: ReturnType<typeof prepare>
  /** A transaction of writes behind is open: applied (this connection reads them), not yet durable. */
  #open = false
  /** Its writes, applied again when its commit fails (an accept's failure must not lose them). */
  #behind: (() => void)[] = []
  #flushTimer: ReturnType<typeof setTimeout> | undefined
  /** Writes large jobs' inputs from a thread of its own. */
  readonly #stager: StageWriter
  /** Encoded inputs kept after staging, by job and task (keepInputBytes in all). */
  readonly #staged = new Map<string, Map<number, Uint8Array>>()
  #stagedBytes = 0

  readonly #keepInputBytes: number

  /**
   * `path`: the SQLite file (created if missing) or ':memory:'. A damaged file is moved aside and
   * reported (StoreCorruptError naming it), never replaced silently by an empty store.
   * `keepInputBytes`: how many bytes of staged inputs to keep in memory for claims (default
   * STAGED_INPUT_CACHE_BYTES; 0 reads every input from the file).
   */
  constructor(
    readonly path: string,
    { keepInputBytes = STAGED_INPUT_CACHE_BYTES }: { keepInputBytes?: number } = {}
  ) {
    if (!(Number.isSafeInteger(keepInputBytes) && keepInputBytes >= 0)) {
      throw new RangeError(`keepInputBytes must be a whole number ≥ 0, got ${keepInputBytes}`)
    }
    this.#keepInputBytes = keepInputBytes
    this.db = openDatabase(path, 'FULL', PAGE_SIZE)
    this.#stager = new StageWriter(path)
    try {
      this.db.exec(`PRAGMA foreign_keys = ON; PRAGMA mmap_size = ${MMAP_BYTES};`)
      this.db.exec(SCHEMA)
      for (const [table, column, definition] of MIGRATIONS) {
        const columns = this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]
        if (!columns.some((c) => c.name === column)) {
          this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`)
        }
      }
      this.stmts = prepare(this.db)
      // Inputs of a job whose creation did not finish (a crash while staging) are dropped. Looked
      // for first, so that opening a file another connection writes to (the CLI reading a running
      // peer's) takes no write lock.
      if (this.stmts.orphanInputs.get() != null) {
        this.dropOrphans()
      }
    } catch (err) {
      this.db.close()
      throw isCorruption(err) ? new StoreCorruptError(path, (err as Error).message) : err
    }
  }

  /** Runs `fn`; SQLite's "malformed" errors become a StoreCorruptError naming this file. */
  private guard<T>(fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      throw isCorruption(err) ? new StoreCorruptError(this.path, (err as Error).message) : err
    }
  }

  async stageJob(
    jobId: string,
    inputs: Iterable<Tensor[]> | AsyncIterable<Tensor[]>,
    announce: (taskCount: number) => Promise<Uint8Array>,
    options: StageOptions
  ): Promise<Uint8Array> {
    const chunk = options.chunk ?? 1024
    let index = 0
    let batch: Tensor[][] = []
    let bytes = 0
    // A job of more than one chunk is written by a thread of its own (stage-worker.ts): each chunk's
    // commit syncs megabytes, which on this thread would stall every claim and result meanwhile. A
    // job of one chunk (most small jobs) is written here, without waiting for a thread to start.
    let threaded = false
    // Chunks the thread is writing (in order) while this one reads and encodes the next ones.
    const writing: Promise<void>[] = []
    const flush = async (full: boolean) => {
      const first = index - batch.length
      const sets = batch
      batch = []
      bytes = 0
      // Encoded here either way, so that a task no frame can carry is refused by name (InvalidJobError).
      // Each is a copy and a digest of megabytes: timers and I/O get a turn between them.
      const rows: StageChunk = { jobId, first, tasks: [], digests: [] }
      for (const [i, tensors] of sets.entries()) {
        const turn = loopTurn()
        if (turn != null) {
          await turn
        }
        rows.tasks.push(encodeInputs(first + i, tensors))
        // A packed task is megabytes: its copy and its digest are a turn each (issue #15).
        const next = loopTurn()
        if (next != null) {
          await next
        }
        rows.digests.push(tensorSetDigest(tensors))
      }
      threaded ||= full && this.path !== ':memory:'
      if (threaded) {
        while (writing.length >= STAGE_CHUNKS_IN_FLIGHT) {
          await writing.shift()
        }
        // The thread hands the encoded inputs back once they are durable (moved both ways).
        const written = this.#stager.write(rows).then((tasks) => this.keep(jobId, first, tasks))
        // Awaited later or at the end; until then its failure must not go unhandled.
        written.catch(() => {})
        writing.push(written)
      } else {
        this.durably(() => this.stmts.stage(rows))
        this.keep(jobId, first, rows.tasks)
      }
    }
    try {
      for await (const tensors of inputs) {
        // Producing an input may be CPU work too (the SDK packs items into tasks).
        const turn = loopTurn()
        if (turn != null) {
          await turn
        }
        batch.push(tensors)
        index++
        bytes += tensors.reduce((n, t) => n + t.data.byteLength, 0)
        if (batch.length >= chunk || bytes >= STAGE_CHUNK_BYTES) {
          await flush(true)
          // Other work (claims, results of other jobs) runs between chunks.
          await setImmediate()
        }
      }
      if (batch.length > 0) {
        await flush(false)
      }
      await Promise.all(writing)
      const announcement = await announce(index)
      await checkAnnouncement(jobId, index, announcement)
      const p = options.policy
      this.durably(() => this.stmts.addJob.run(jobId, announcement, p.leaseMs, p.checkWaitMs, JSON.stringify(p), Date.now()))
      return announcement
    } catch (err) {
      // Chunks still being written must end before their rows are dropped.
      await Promise.allSettled(writing)
      this.forgetJob(jobId)
      this.dropOrphans()
      throw err
    }
  }

  inputs(jobId: string, index: number): Tensor[] {
    const kept = this.#staged.get(jobId)?.get(index)
    if (kept != null) {
      return decodeInputs(kept)
    }
    const row = this.guard(() => this.stmts.input.get(jobId, index)) as { task: Uint8Array } | undefined
    if (row == null) {
      throw new RangeError(`job ${jobId} has no input ${index}`)
    }
    return decodeInputs(row.task)
  }

  inputDigest(jobId: string, index: number): Uint8Array {
    const row = this.guard(() => this.stmts.inputDigest.get(jobId, index)) as { digest: Uint8Array } | undefined
    return row == null ? tensorSetDigest(this.inputs(jobId, index)) : new Uint8Array(row.digest)
  }

  lease(jobId: string, worker: string, tasks: number[], expiresAt: number): void {
    this.behind(() => {
      for (const t of tasks) {
        this.stmts.lease.run(jobId, t, worker, expiresAt)
      }
    })
  }

  release(jobId: string, tasks: number[]): void {
    this.behind(() => {
      for (const t of tasks) {
        this.stmts.release.run(jobId, t)
      }
    })
  }

  accept(jobId: string, runs: readonly AcceptedRun[]): void {
    const now = Date.now()
    this.durably(() => {
      for (const r of runs) {
        if (r.check === true) {
          this.stmts.check.run(jobId, r.task, r.worker, r.result, r.receipt, now)
        } else {
          this.stmts.result.run(jobId, r.task, r.worker, r.result, r.receipt, now, r.failure ?? null)
          this.stmts.done.run(jobId, r.task, r.worker)
        }
      }
    })
  }

  verdict(jobId: string, verdict: Verdict): void {
    const { task, status, worker, reputation, revised, failure } = verdict
    this.behind(() => this.stmts.verdict.run(jobId, task, status, worker, reputation, revised === true ? 1 : 0, failure ?? null))
  }

  /** Marks the job cancelled at `at` (the first time counts), durably; false when there is no such job. */
  cancel(jobId: string, at: number): boolean {
    this.forgetJob(jobId)
    let changed = 0
    this.durably(() => {
      changed = Number(this.stmts.cancel.run(at, jobId).changes)
    })
    return changed > 0
  }

  /** Counts an event of a job that verdicts do not record (canaries passed, fraud proofs, audits). */
  count(jobId: string, name: CountedEvent): void {
    this.behind(() => this.stmts.count.run(jobId, name))
  }

  /** The job is over: its staged inputs leave memory (a late check or a proof reads the file). */
  ended(jobId: string): void {
    this.forgetJob(jobId)
  }

  /** Bytes of staged inputs this store keeps in memory now. */
  get keptInputBytes(): number {
    return this.#stagedBytes
  }

  /** Makes the writes behind (leases, verdicts, counts) durable now. */
  flush(): void {
    if (this.#open) {
      this.durably(() => {})
    }
  }

  /** A job's counts so far, for its summary after a restart (spec §6.5). */
  restoredCounts(jobId: string): VerificationCounts {
    const v = this.verdictCounts(jobId)
    const counts: VerificationCounts = { ...v, canariesPassed: 0, fraudProofs: 0, audited: 0, failed: this.failedCount(jobId) }
    for (const row of this.guard(() => this.stmts.counters.all(jobId)) as { name: keyof VerificationCounts; value: number }[]) {
      counts[row.name] = Number(row.value)
    }
    return counts
  }

  /** Settled tasks whose result is a failure (§6.6). */
  failedCount(jobId: string): number {
    return Number((this.guard(() => this.stmts.failedCount.get(jobId)) as { n: number }).n)
  }

  /** Every stored job, without its tasks (cheap: for listings). */
  listJobs(): JobRecord[] {
    return (this.guard(() => this.stmts.jobs.all()) as unknown as JobRow[]).map(toJob)
  }

  /** One stored job without its tasks, or undefined. */
  getJob(jobId: string): JobRecord | undefined {
    const row = this.guard(() => this.stmts.job.get(jobId)) as unknown as JobRow | undefined
    return row == null ? undefined : toJob(row)
  }

  /** Every stored job (or those of `only`) with the tasks that left the pending state, for RequesterService.resume. */
  jobs(only?: readonly string[]): StoredJob[] {
    const list = only == null ? this.listJobs() : only.map((id) => this.getJob(id)).filter((j) => j != null)
    return list.map((j) => ({
      ...j,
      tasks: (
        this.stmts.tasks.all(j.jobId) as { idx: number; state: number; worker: string | null; lease_expires_at: number | null }[]
      ).map((t) => ({
        index: Number(t.idx),
        state: t.state as TaskState,
        worker: t.worker ?? undefined,
        leaseExpiresAt: t.lease_expires_at == null ? undefined : Number(t.lease_expires_at)
      }))
    }))
  }

  /**
   * Accepted results in task order from `from`, at most `limit`: each task's settled result (the
   * majority's when runs disagreed) with its verdict; `status` is undefined while verification is
   * open, or when it was cut short by a restart.
   */
  results(jobId: string, from = 0, limit = Number.MAX_SAFE_INTEGER): StoredResult[] {
    return (this.stmts.results.all(jobId, from, limit) as Record<string, unknown>[]).map(toStored)
  }

  /**
   * Settled results in the order they settled, after sequence number `afterSeq` (each row's
   * `seq`), at most `limit`.
   */
  settledSince(jobId: string, afterSeq: number, limit = 1024): (StoredResult & { seq: number })[] {
    return (this.stmts.settledBySeq.all(jobId, afterSeq, limit) as Record<string, unknown>[]).map((r) => ({
      ...toStored(r),
      seq: Number(r.seq)
    }))
  }

  firstResult(jobId: string, task: number): Uint8Array | undefined {
    const row = this.stmts.firstResult.get(jobId, task) as { result: Uint8Array } | undefined
    return row == null ? undefined : new Uint8Array(row.result)
  }

  /** Settled tasks per verification status. */
  verdictCounts(jobId: string): Record<VerificationStatus, number> {
    const counts: Record<VerificationStatus, number> = { agreed: 0, unsampled: 0, disputed: 0, unresolved: 0 }
    for (const row of this.stmts.verdictCounts.all(jobId) as { status: VerificationStatus; n: number }[]) {
      counts[row.status] = Number(row.n)
    }
    return counts
  }

  settledTasks(jobId: string, from: number, limit: number): number[] {
    return (this.guard(() => this.stmts.settledTasks.all(jobId, from, limit)) as { idx: number }[]).map((r) => Number(r.idx))
  }

  /** Tasks with a verdict. */
  settledCount(jobId: string): number {
    return Number((this.stmts.settledCount.get(jobId) as { n: number }).n)
  }

  /**
   * After a restart: results whose verification was open get an `unsampled` verdict (their
   * reputation unknown: -1), as §6.5 says.
   */
  settleOrphans(jobId: string): number {
    let changes = 0
    this.durably(() => {
      changes = Number(this.stmts.orphans.run(jobId).changes)
    })
    return changes
  }

  resultCount(jobId: string): number {
    return Number((this.stmts.resultCount.get(jobId) as { n: number }).n)
  }

  /** Makes the writes behind durable, then closes the file. */
  close(): void {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    this.#staged.clear()
    this.#stagedBytes = 0
    void this.#stager.close()
    try {
      this.flush()
    } finally {
      this.db.close()
    }
  }

  /** Keeps the encoded inputs of tasks `first…` (durable) in memory while the budget allows. */
  private keep(jobId: string, first: number, tasks: readonly Uint8Array[]): void {
    let job = this.#staged.get(jobId)
    tasks.forEach((task, i) => {
      if (this.#stagedBytes + task.byteLength > this.#keepInputBytes) {
        return
      }
      if (job == null) {
        job = new Map()
        this.#staged.set(jobId, job)
      }
      job.set(first + i, task)
      this.#stagedBytes += task.byteLength
    })
  }

  private forgetJob(jobId: string): void {
    for (const bytes of this.#staged.get(jobId)?.values() ?? []) {
      this.#stagedBytes -= bytes.byteLength
    }
    this.#staged.delete(jobId)
  }

  /** Inputs (and their digests) of jobs whose staging did not finish. */
  private dropOrphans(): void {
    this.durably(() => {
      this.stmts.dropOrphanInputs.run()
      this.stmts.dropOrphanDigests.run()
    })
  }

  private begin(): void {
    if (!this.#open) {
      this.db.exec('BEGIN IMMEDIATE')
      this.#open = true
    }
  }

  /**
   * A write behind (spec §6.5): applied now in the open transaction, made durable by the next
   * `durably` — an accepted result's, or the flush at most WRITE_BEHIND_MS later.
   */
  private behind(fn: () => void): void {
    this.guard(() => {
      this.begin()
      fn()
    })
    this.#behind.push(fn)
    if (this.#flushTimer == null) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined
        try {
          this.flush()
        } catch {
          // The writes stay behind (applied again after the rollback); the next accept or flush
          // commits them, or throws the error to its caller.
        }
      }, WRITE_BEHIND_MS)
      this.#flushTimer.unref()
    }
  }

  /**
   * Applies `fn` and commits it with every write behind it: one sync (synchronous=FULL), durable
   * when this returns. When the commit fails nothing of `fn` is kept, and the writes behind are
   * applied again in a new transaction, to be committed by the next `durably`.
   */
  private durably(fn: () => void): void {
    this.guard(() => {
      this.begin()
      try {
        fn()
        this.db.exec('COMMIT')
      } catch (err) {
        this.rollback()
        throw err
      }
      this.#open = false
      this.#behind = []
    })
  }

  private rollback(): void {
    if (this.db.isTransaction) {
      this.db.exec('ROLLBACK')
    }
    this.#open = false
    const again = this.#behind
    this.#behind = []
    for (const fn of again) {
      this.behind(fn)
    }
  }
}

/**
 * The requester's side of stage-worker.ts: chunks are written in the order sent, each in its own
 * transaction, each answered when durable. The thread starts with the first chunk and lives with
 * the store (unreferenced while idle).
 */
class StageWriter {
  #worker: Worker | undefined
  /** Answers still to come, in the order their chunks were sent: the thread answers in that order. */
  readonly #waiting: { resolve: (answer: StageAnswer) => void; reject: (err: Error) => void }[] = []

  constructor(private readonly path: string) {}

  /** Writes `chunk` in one transaction; resolves when it is on disk, with its encoded inputs (handed back). */
  async write(chunk: StageChunk): Promise<Uint8Array[]> {
    const worker = this.#thread()
    // A task's encoding owns its whole buffer (protons allocates it): moved, not copied.
    const owned = chunk.tasks.filter((t) => t.byteOffset === 0 && t.byteLength === t.buffer.byteLength).map((t) => t.buffer as ArrayBuffer)
    const answer = new Promise<StageAnswer>((resolve, reject) => this.#waiting.push({ resolve, reject }))
    worker.ref()
    worker.postMessage(chunk, owned)
    const reply = await answer
    if (!reply.ok) {
      throw reply.corrupt
        ? new StoreCorruptError(this.path, reply.message)
        : new Error(`staging inputs into ${this.path}: ${reply.message}`)
    }
    return reply.tasks
  }

  /** The staging thread, started if it is not running: it answers each chunk in turn. */
  #thread(): Worker {
    if (this.#worker != null) {
      return this.#worker
    }
    const worker = new Worker(new URL('./stage-worker.js', import.meta.url), {
      workerData: { path: this.path, busyTimeoutMs: BUSY_TIMEOUT_MS } satisfies StageWorkerData
    })
    const fail = (err: Error) => {
      if (this.#worker === worker) {
        this.#worker = undefined
      }
      for (const w of this.#waiting.splice(0)) {
        w.reject(err)
      }
    }
    worker
      .on('message', (answer: StageAnswer) => {
        this.#waiting.shift()?.resolve(answer)
        if (this.#waiting.length === 0) {
          worker.unref()
        }
      })
      .on('error', fail)
      .on('exit', (code) => fail(new Error(`the thread staging inputs into ${this.path} exited (code ${code})`)))
    this.#worker = worker
    return worker
  }

  async close(): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    await worker?.terminate()
  }
}

interface JobRow {
  job_id: string
  announcement: Uint8Array
  lease_ms: number
  check_wait_ms: number | null
  policy: string | null
  created_at: number
  cancelled_at: number | null
}

function toJob(j: JobRow): JobRecord {
  // Files of older versions kept only the lease and (when not the default) the check wait.
  const policy: StoredPolicy =
    j.policy == null
      ? resolveJobPolicy({ leaseMs: Number(j.lease_ms), checkWaitMs: j.check_wait_ms == null ? undefined : Number(j.check_wait_ms) })
      : (JSON.parse(j.policy) as StoredPolicy)
  return {
    jobId: j.job_id,
    announcement: new Uint8Array(j.announcement),
    policy,
    createdAt: Number(j.created_at),
    ...(j.cancelled_at == null ? {} : { cancelledAt: Number(j.cancelled_at) })
  }
}
