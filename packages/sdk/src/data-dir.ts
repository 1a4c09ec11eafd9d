/**
 * What a peer's data directory holds, read without starting a peer: its identity, models, jobs,
 * reputation and receipts (`openbatch status`, `keys`, `receipts`). Each store is opened, read and
 * closed; a running peer may hold the same files (SQLite's WAL lets readers in).
 */

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { VerificationStatus } from '@openbatch/core'
import { ModelStore, type StoredModel } from '@openbatch/inference'
import { type JobRecord, loadOrCreateIdentity, ReceiptStore, type ReceiptTotals, Reputation, SqliteJobStore } from '@openbatch/node'
import { ItemMap, open, parseModelCid, STATEMENTS } from '@openbatch/protocol'
import { JobNotFoundError } from './errors.js'
import { BatchJob } from './job.js'

/** The peer's identity (the key is created on first use, mode 0600). */
export async function identity(dataDir: string): Promise<{ peerId: string; type: string; path: string }> {
  const path = join(dataDir, 'identity.key')
  const key = await loadOrCreateIdentity(path)
  return { peerId: peerIdFromPrivateKey(key).toString(), type: key.type, path }
}

/** The models stored in `<dataDir>/models`. */
export function modelStore(dataDir: string): ModelStore {
  return new ModelStore(join(dataDir, 'models'))
}

/** Receipts and reward summed over requesters. */
export function sumReceipts(totals: readonly ReceiptTotals[]): { receipts: number; reward: bigint } {
  return { receipts: totals.reduce((a, t) => a + t.receipts, 0), reward: totals.reduce((a, t) => a + t.reward, 0n) }
}

/** Receipts kept per requester (the worker's provable earnings, §3.6); none when it never worked. */
export function receiptTotals(dataDir: string): ReceiptTotals[] {
  const path = join(dataDir, 'receipts.db')
  if (!existsSync(path)) {
    return []
  }
  const store = new ReceiptStore(path)
  try {
    return store.totals()
  } finally {
    store.close()
  }
}

/**
 * Where a stored job stands: `finished` (every task settled), `cancelled`, `expired` (its
 * deadline passed first) or `unfinished` (a peer with this data directory resumes it).
 */
export type JobState = 'finished' | 'unfinished' | 'cancelled' | 'expired'

/** A job stored in a data directory, as `openbatch jobs` lists it. */
export interface StoredJobInfo {
  jobId: string
  /** The model's CID. */
  model: string
  state: JobState
  /** When it was announced, and its deadline (ms since the epoch). */
  issuedAt: number
  deadline: number
  taskCount: number
  itemCount: number
  /** Tasks settled; `verdicts` counts them by status. */
  settled: number
  verdicts: Record<VerificationStatus, number>
  /** The job store file that holds it. */
  store: string
}

/** The job stores of a data directory: a peer's own, and the one `openbatch submit` keeps under `client/`. */
function jobStores(dataDir: string): string[] {
  return [join(dataDir, 'jobs.db'), join(dataDir, 'client', 'jobs.db')].filter((db) => existsSync(db))
}

async function describeJob(store: SqliteJobStore, path: string, j: JobRecord, now: number): Promise<StoredJobInfo> {
  const job = (await open(STATEMENTS.job, j.announcement)).message
  const taskCount = Number(job.taskCount)
  const settled = store.settledCount(j.jobId)
  const deadline = Number(job.deadlineMs)
  const state: JobState =
    settled >= taskCount ? 'finished' : j.cancelledAt != null ? 'cancelled' : deadline <= now ? 'expired' : 'unfinished'
  return {
    jobId: j.jobId,
    model: parseModelCid(job.model).toString(),
    state,
    issuedAt: Number(job.issuedAtMs),
    deadline,
    taskCount,
    itemCount: j.policy.items?.itemCount ?? taskCount,
    settled,
    verdicts: store.verdictCounts(j.jobId),
    store: path
  }
}

/** The jobs stored in a data directory, oldest first, each with its state and counts. */
export async function listStoredJobs(dataDir: string, now = Date.now()): Promise<StoredJobInfo[]> {
  const jobs: StoredJobInfo[] = []
  for (const db of jobStores(dataDir)) {
    const store = new SqliteJobStore(db)
    try {
      for (const j of store.listJobs()) {
        jobs.push(await describeJob(store, db, j, now))
      }
    } finally {
      store.close()
    }
  }
  return jobs.sort((a, b) => a.issuedAt - b.issuedAt)
}

/** A stored job opened for reading without starting a peer (`openStoredJob`). */
export interface StoredJobHandle {
  info: StoredJobInfo
  /**
   * Its results (settled ones; a gap is skipped), summary, and `cancel()`, which records the
   * cancellation: a peer resumes it no more, and one serving it now stops handing out its tasks.
   */
  job: BatchJob
  /** Closes the job store. */
  close(): void
}

/**
 * Opens a job stored in a data directory, by its id or a unique prefix of it (8 hex digits at
 * least), for reading: `JobNotFoundError` when none or several match.
 */
export async function openStoredJob(dataDir: string, jobId: string): Promise<StoredJobHandle> {
  const id = jobId.toLowerCase()
  if (!/^[0-9a-f]{8,64}$/.test(id)) {
    throw new JobNotFoundError(jobId, 'not a job id (8 to 64 hex digits):')
  }
  // The stores that hold a match stay open: the one job found is read from its store as it is.
  const matches: { db: string; record: JobRecord; store: SqliteJobStore }[] = []
  for (const db of jobStores(dataDir)) {
    const store = new SqliteJobStore(db)
    const found = store.listJobs().filter((record) => record.jobId.startsWith(id))
    matches.push(...found.map((record) => ({ db, record, store })))
    if (found.length === 0) {
      store.close()
    }
  }
  if (matches.length !== 1) {
    for (const store of new Set(matches.map((m) => m.store))) {
      store.close()
    }
    throw new JobNotFoundError(jobId, matches.length === 0 ? 'no job' : `${matches.length} jobs start with`)
  }
  const { db, record, store } = matches[0] as (typeof matches)[number]
  try {
    const info = await describeJob(store, db, record, Date.now())
    const job = new BatchJob({
      jobId: record.jobId,
      taskCount: info.taskCount,
      items: new ItemMap(info.taskCount, record.policy.items),
      store,
      summary: () => undefined,
      cancel: () => store.cancel(record.jobId, Date.now()),
      // Nothing runs it here: what is stored is all there is (results skip gaps).
      done: Promise.resolve()
    })
    await job.finished
    return { info, job, close: () => store.close() }
  } catch (err) {
    store.close()
    throw err
  }
}

export interface DataDirStatus {
  dataDir: string
  /** Undefined until the peer first ran (no identity yet). */
  peerId?: string
  models: StoredModel[]
  /** `settled` and `verdicts` count tasks; `itemCount` the items they carry (§6.8). */
  jobs: StoredJobInfo[]
  reputation: { peers: number; banned: number }
  receipts: { receipts: number; reward: bigint }
}

/** Everything `openbatch status` shows of a data directory. */
export async function inspectDataDir(dataDir: string): Promise<DataDirStatus> {
  let peerId: string | undefined
  if (existsSync(join(dataDir, 'identity.key'))) {
    peerId = (await identity(dataDir)).peerId
  }
  const models = existsSync(join(dataDir, 'models')) ? await modelStore(dataDir).list() : []
  const jobs = await listStoredJobs(dataDir)
  let reputation = { peers: 0, banned: 0 }
  if (existsSync(join(dataDir, 'reputation.db'))) {
    const rep = new Reputation(join(dataDir, 'reputation.db'))
    const entries = rep.entries()
    reputation = { peers: entries.length, banned: entries.filter(([p]) => rep.isBanned(p)).length }
    rep.close()
  }
  const totals = receiptTotals(dataDir)
  return {
    dataDir,
    peerId,
    models,
    jobs,
    reputation,
    receipts: sumReceipts(totals)
  }
}
