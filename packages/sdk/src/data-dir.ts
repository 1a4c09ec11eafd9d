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
import { loadOrCreateIdentity, ReceiptStore, type ReceiptTotals, Reputation, SqliteJobStore } from '@openbatch/node'
import { open, STATEMENTS } from '@openbatch/protocol'

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

export interface DataDirStatus {
  dataDir: string
  /** Undefined until the peer first ran (no identity yet). */
  peerId?: string
  models: StoredModel[]
  /** `settled` and `verdicts` count tasks; `itemCount` the items they carry (§6.8). */
  jobs: {
    jobId: string
    taskCount: number
    itemCount: number
    settled: number
    verdicts: Record<VerificationStatus, number>
    store: string
  }[]
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
  const jobs: DataDirStatus['jobs'] = []
  for (const db of [join(dataDir, 'jobs.db'), join(dataDir, 'client', 'jobs.db')]) {
    if (!existsSync(db)) {
      continue
    }
    const store = new SqliteJobStore(db)
    try {
      for (const j of store.listJobs()) {
        const taskCount = Number((await open(STATEMENTS.job, j.announcement)).message.taskCount)
        jobs.push({
          jobId: j.jobId,
          taskCount,
          itemCount: j.policy.items?.itemCount ?? taskCount,
          settled: store.settledCount(j.jobId),
          verdicts: store.verdictCounts(j.jobId),
          store: db
        })
      }
    } finally {
      store.close()
    }
  }
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
    receipts: { receipts: totals.reduce((a, t) => a + t.receipts, 0), reward: totals.reduce((a, t) => a + t.reward, 0n) }
  }
}
