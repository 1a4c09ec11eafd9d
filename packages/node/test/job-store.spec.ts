/**
 * The JobStore contract (spec §6.5), run against both stores: what RequesterService writes and
 * resumes from, and what the SDK replays. A store decides nothing: a task's result is the run of
 * the worker its verdict names.
 */

import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { resolveJobPolicy, TaskState, type Verdict } from '@openbatch/core'
import {
  createJobAnnouncement,
  DType,
  FailureKind,
  float32Tensor,
  modelCid,
  peerIdBytes,
  STATEMENTS,
  seal,
  Task,
  type Tensor,
  tensorSetDigest,
  toHex
} from '@openbatch/protocol'
import { type AcceptedRun, type JobStore, MemoryJobStore, SqliteJobStore } from '../src/index.js'
import { tempDir } from './helpers.js'

const encoder = new TextEncoder()
const bytes = (s: string) => encoder.encode(s)

async function announcement(taskCount: number) {
  const key = await generateKeyPair('Ed25519')
  const job = createJobAnnouncement({
    requester: peerIdBytes(peerIdFromPrivateKey(key)),
    model: modelCid(bytes('contract model')).bytes,
    taskCount,
    now: Date.now(),
    nonce: crypto.getRandomValues(new Uint8Array(16))
  })
  return { jobId: toHex(job.jobId), envelope: await seal(STATEMENTS.job, job, key) }
}

const inputs = (n: number) => Array.from({ length: n }, (_, i) => [float32Tensor('x', [1, 2], [i, -i])])
const verdict = (task: number, worker: string, status: Verdict['status'], extra: Partial<Verdict> = {}): Verdict => ({
  task,
  status,
  worker,
  reputation: 0.5,
  ...extra
})

const run = (task: number, worker: string, result: Uint8Array, receipt: Uint8Array, extra: Partial<AcceptedRun> = {}): AcceptedRun => ({
  task,
  worker,
  result,
  receipt,
  ...extra
})

const stores: [string, () => Promise<JobStore>][] = [
  ['MemoryJobStore', async () => new MemoryJobStore()],
  ['SqliteJobStore', async () => new SqliteJobStore(join(await tempDir(), 'jobs.db'))]
]

for (const [name, make] of stores) {
  describe(`JobStore contract: ${name}`, () => {
    it('stages a job with its whole policy and inputs; lists and finds it', async () => {
      const store = await make()
      const { jobId, envelope } = await announcement(3)
      const policy = { ...resolveJobPolicy({ leaseMs: 5000, checkWaitMs: 250 }), minReputation: 0.2 }
      const staged = await store.stageJob(jobId, inputs(3), async (n) => (n === 3 ? envelope : new Uint8Array()), { policy, chunk: 2 })
      assert.deepEqual(staged, envelope)
      assert.deepEqual(
        store.listJobs().map((j) => j.jobId),
        [jobId]
      )
      assert.deepEqual(store.getJob(jobId)?.policy, policy, 'the policy comes back whole (a resumed job keeps it)')
      assert.deepEqual(store.inputs(jobId, 2), inputs(3)[2])
      assert.throws(() => store.inputs(jobId, 3), RangeError)
      assert.deepEqual(store.inputDigest(jobId, 1), tensorSetDigest(inputs(3)[1] ?? []), 'the digest staged with the inputs (§2.3)')
      assert.throws(() => store.inputDigest(jobId, 3), RangeError)
      assert.equal(store.getJob('nope'), undefined)
      store.close()
    })

    it('refuses an announcement that does not match the staged inputs, and keeps no trace of it', async () => {
      const store = await make()
      const { jobId, envelope } = await announcement(4)
      await assert.rejects(
        store.stageJob(jobId, inputs(3), async () => envelope, { policy: resolveJobPolicy() }),
        (err: Error) => err.name === 'InvalidJobError' && /4 tasks/.test(err.message)
      )
      assert.equal(store.getJob(jobId), undefined)
      assert.deepEqual(store.listJobs(), [])
      store.close()
    })

    it('refuses a task that no assignment frame could carry (§6.2), and keeps no trace of the job', async () => {
      const store = await make()
      const { jobId, envelope } = await announcement(2)
      // Five 16 MiB tensors: valid each (§2.2), 80 MiB together — more than a 64 MiB frame.
      const huge = Array.from({ length: 5 }, (_, i) => ({
        name: `x${i}`,
        dtype: DType.UINT8,
        dims: [16n * 1024n * 1024n],
        data: new Uint8Array(16 * 1024 * 1024)
      }))
      await assert.rejects(
        store.stageJob(jobId, [inputs(1)[0] as Tensor[], huge], async () => envelope, { policy: resolveJobPolicy() }),
        (err: Error) => err.name === 'InvalidJobError' && /task 1's inputs .* no assignment frame/.test(err.message)
      )
      assert.equal(store.getJob(jobId), undefined)
      store.close()
    })

    it('keeps leases until released or done; tasks come back for resume', async () => {
      const store = await make()
      const { jobId, envelope } = await announcement(4)
      await store.stageJob(jobId, inputs(4), async () => envelope, { policy: resolveJobPolicy() })
      await store.lease(jobId, 'w1', [0, 1, 2], 1234)
      await store.release(jobId, [1])
      await store.accept(jobId, [run(2, 'w1', bytes('r2'), bytes('rc2'))])
      const [job] = store.jobs([jobId])
      const tasks = [...(job?.tasks ?? [])].sort((a, b) => a.index - b.index)
      assert.deepEqual(tasks, [
        { index: 0, state: TaskState.LEASED, worker: 'w1', leaseExpiresAt: 1234 },
        { index: 2, state: TaskState.DONE, worker: 'w1', leaseExpiresAt: undefined }
      ])
      store.close()
    })

    it("a task's result is the run of the worker its verdict names; revised verdicts come again", async () => {
      const store = await make()
      const { jobId, envelope } = await announcement(3)
      await store.stageJob(jobId, inputs(3), async () => envelope, { policy: resolveJobPolicy() })
      await store.accept(jobId, [run(0, 'a', bytes('a0'), bytes('ra0'))])
      await store.accept(jobId, [run(1, 'cheat', bytes('c1'), bytes('rc1'))])
      await store.accept(jobId, [run(1, 'b', bytes('b1'), bytes('rb1'), { check: true })])
      await store.accept(jobId, [run(1, 'c', bytes('c1!'), bytes('rcc1'), { check: true })])
      await store.accept(jobId, [run(2, 'a', bytes(''), bytes('ra2'), { failure: FailureKind.INPUT_REJECTED })])
      assert.equal(store.results(jobId)[0]?.status, undefined, 'open verification: no status yet')
      await store.verdict(jobId, verdict(0, 'a', 'unsampled'))
      await store.verdict(jobId, verdict(1, 'b', 'disputed'))
      await store.verdict(jobId, verdict(2, 'a', 'agreed', { failure: FailureKind.INPUT_REJECTED }))
      const results = store.results(jobId)
      assert.deepEqual(
        results.map((r) => [r.index, r.worker, new TextDecoder().decode(r.result), r.status]),
        [
          [0, 'a', 'a0', 'unsampled'],
          [1, 'b', 'b1', 'disputed'],
          [2, 'a', '', 'agreed']
        ]
      )
      assert.equal(results[2]?.failure, FailureKind.INPUT_REJECTED)
      assert.deepEqual(store.firstResult(jobId, 1), bytes('c1'), 'the first run stays (audits read it)')
      assert.deepEqual(store.settledTasks(jobId, 1, 10), [1, 2])
      assert.equal(store.settledCount(jobId), 3)
      assert.equal(store.resultCount(jobId), 3)
      const first = store.settledSince(jobId, 0)
      assert.deepEqual(
        first.map((r) => r.index),
        [0, 1, 2]
      )
      // An audit revises task 0: the verdict comes again, after the others.
      await store.accept(jobId, [run(0, 'b', bytes('b0'), bytes('rb0'), { check: true })])
      await store.verdict(jobId, verdict(0, 'b', 'agreed', { revised: true }))
      const again = store.settledSince(jobId, (first.at(-1) as { seq: number }).seq)
      assert.deepEqual(
        again.map((r) => [r.index, r.worker, r.revised]),
        [[0, 'b', true]]
      )
      assert.equal(store.settledCount(jobId), 3)
      store.close()
    })

    it('counts what verdicts do not record; after a restart, open verifications settle unsampled', async () => {
      const store = await make()
      const { jobId, envelope } = await announcement(3)
      await store.stageJob(jobId, inputs(3), async () => envelope, { policy: resolveJobPolicy() })
      await store.accept(jobId, [run(0, 'a', bytes('a0'), bytes('ra0'))])
      await store.accept(jobId, [run(1, 'a', bytes('a1'), bytes('ra1'))])
      await store.verdict(jobId, verdict(0, 'a', 'agreed'))
      await store.count(jobId, 'fraudProofs')
      await store.count(jobId, 'canariesPassed')
      await store.count(jobId, 'canariesPassed')
      assert.equal(store.settleOrphans(jobId), 1)
      const counts = store.restoredCounts(jobId)
      assert.deepEqual(
        [counts.agreed, counts.unsampled, counts.fraudProofs, counts.canariesPassed, counts.audited, counts.failed],
        [1, 1, 1, 2, 0, 0]
      )
      const orphan = store.results(jobId).find((r) => r.index === 1)
      assert.equal(orphan?.status, 'unsampled')
      assert.equal(orphan?.reputation, undefined, 'its reputation is unknown')
      store.close()
    })

    it("keeps a submission's results all or none: one already stored refuses the lot", async () => {
      const store = await make()
      const { jobId, envelope } = await announcement(4)
      await store.stageJob(jobId, inputs(4), async () => envelope, { policy: resolveJobPolicy() })
      await store.accept(jobId, [run(0, 'a', bytes('a0'), bytes('ra0')), run(1, 'a', bytes('a1'), bytes('ra1'))])
      await assert.rejects(
        async () => store.accept(jobId, [run(2, 'b', bytes('b2'), bytes('rb2')), run(1, 'b', bytes('b1'), bytes('rb1'))]),
        'task 1 already has a first result'
      )
      assert.deepEqual(
        store.results(jobId).map((r) => [r.index, r.worker]),
        [
          [0, 'a'],
          [1, 'a']
        ],
        'task 2 was not kept either'
      )
      await store.accept(jobId, [run(2, 'b', bytes('b2'), bytes('rb2')), run(1, 'c', bytes('c1'), bytes('rc1'), { check: true })])
      assert.equal(store.resultCount(jobId), 3)
      store.close()
    })

    it('records a cancellation once, durably; a job not stored cannot be cancelled (§6.5)', async () => {
      const store = await make()
      const { jobId, envelope } = await announcement(2)
      await store.stageJob(jobId, inputs(2), async () => envelope, { policy: resolveJobPolicy() })
      assert.equal(store.getJob(jobId)?.cancelledAt, undefined)
      assert.equal(store.cancel(jobId, 1000), true)
      assert.equal(store.cancel(jobId, 2000), true)
      assert.equal(store.getJob(jobId)?.cancelledAt, 1000, 'the first cancellation counts')
      assert.equal(store.jobs([jobId])[0]?.cancelledAt, 1000)
      assert.equal(store.cancel('nope', 1000), false)
      store.close()
      if (store instanceof SqliteJobStore) {
        const reopened = new SqliteJobStore(store.path)
        assert.equal(reopened.getJob(jobId)?.cancelledAt, 1000, 'the cancellation outlives the process')
        reopened.close()
      }
    })

    it('takes writes for a job whose inputs the caller serves (never staged) without listing it', async () => {
      const store = await make()
      await store.accept('feed', [run(0, 'a', bytes('a0'), bytes('ra0'))])
      await store.verdict('feed', verdict(0, 'a', 'unsampled'))
      assert.equal(store.results('feed').length, 1)
      assert.deepEqual(store.listJobs(), [])
      store.close()
    })
  })
}

describe('SqliteJobStore: one sync per submission, the rest written behind', () => {
  it('writes behind (leases, verdicts, counts) are durable after the next accepted results or a flush, and survive a failed accept', async () => {
    const path = join(await tempDir(), 'jobs.db')
    const store = new SqliteJobStore(path)
    const { jobId, envelope } = await announcement(4)
    await store.stageJob(jobId, inputs(4), async () => envelope, { policy: resolveJobPolicy() })
    store.lease(jobId, 'w1', [0, 1, 2], 1234)
    // Another connection (another process) sees only what is committed.
    const reader = () => {
      const other = new DatabaseSync(path, { readOnly: true })
      const count = (table: string) =>
        Number((other.prepare(`SELECT count(*) AS n FROM ${table} WHERE job_id = ?`).get(jobId) as { n: number }).n)
      try {
        return { tasks: count('tasks'), results: count('results'), settled: count('verdicts') }
      } finally {
        other.close()
      }
    }
    assert.equal(reader().tasks, 0, 'a lease is written behind')
    store.accept(jobId, [run(0, 'w1', bytes('r0'), bytes('rc0'))])
    assert.deepEqual(reader(), { tasks: 3, results: 1, settled: 0 }, 'the accepted result committed the lease behind it')
    store.verdict(jobId, verdict(0, 'w1', 'unsampled'))
    store.count(jobId, 'audited')
    // A failed accept (task 0 stored already) keeps none of its results and loses none of the writes behind it.
    assert.throws(() => store.accept(jobId, [run(1, 'w1', bytes('r1'), bytes('rc1')), run(0, 'w2', bytes('x'), bytes('y'))]))
    assert.equal(store.resultCount(jobId), 1)
    assert.equal(store.settledCount(jobId), 1, 'the verdict behind is applied again after the rollback')
    store.flush()
    assert.deepEqual(reader(), { tasks: 3, results: 1, settled: 1 }, 'a flush makes it durable')
    store.close()
    const reopened = new SqliteJobStore(path)
    assert.equal(reopened.restoredCounts(jobId).audited, 1, 'the count behind was kept')
    reopened.close()
  })
})

describe('SqliteJobStore: a large job staged from a thread of its own', () => {
  it('writes every chunk durably before the job is listed, and a failed chunk leaves no trace', async () => {
    const path = join(await tempDir(), 'jobs.db')
    const store = new SqliteJobStore(path)
    // 8 chunks of 2: each chunk a transaction of the staging thread.
    const { jobId, envelope } = await announcement(16)
    await store.stageJob(jobId, inputs(16), async () => envelope, { policy: resolveJobPolicy(), chunk: 2 })
    const other = new DatabaseSync(path, { readOnly: true })
    const staged = other.prepare('SELECT count(*) AS n FROM inputs WHERE job_id = ?').get(jobId) as { n: number }
    other.close()
    assert.equal(Number(staged.n), 16, 'committed: another connection sees all 16')
    assert.deepEqual(store.inputs(jobId, 15), inputs(16)[15])
    assert.deepEqual(store.inputDigest(jobId, 9), tensorSetDigest(inputs(16)[9] ?? []))

    // The staging thread's insert of input 5 of the next job fails (a trigger refuses it).
    const admin = new DatabaseSync(path)
    admin.exec(`CREATE TRIGGER refuse AFTER INSERT ON inputs WHEN NEW.idx = 5 BEGIN SELECT RAISE(ABORT, 'disk says no'); END`)
    admin.close()
    const second = await announcement(8)
    await assert.rejects(
      store.stageJob(second.jobId, inputs(8), async () => second.envelope, { policy: resolveJobPolicy(), chunk: 2 }),
      /staging inputs into .*jobs\.db: disk says no/
    )
    assert.equal(store.getJob(second.jobId), undefined)
    assert.throws(() => store.inputs(second.jobId, 0), RangeError, 'the chunks written before the failure are dropped')
    // The chunk after the failed one was already queued at the thread, which wrote it: dropped too.
    const reader = new DatabaseSync(path, { readOnly: true, timeout: 10_000 })
    const left = reader.prepare('SELECT count(*) AS n FROM inputs WHERE job_id = ?').get(second.jobId) as { n: number }
    reader.close()
    assert.equal(Number(left.n), 0, 'no input of the failed job is left in the file')
    assert.deepEqual(
      store.listJobs().map((j) => j.jobId),
      [jobId]
    )
    store.close()
  })
})

describe('SqliteJobStore: staged inputs kept in memory for claims', () => {
  it('answers from memory until the job ends or is cancelled, then from the file; stops keeping at its budget', async () => {
    const path = join(await tempDir(), 'jobs.db')
    const encoded = Task.encode({ taskId: new Uint8Array(), index: 1n, inputs: inputs(2)[1] ?? [] }).byteLength
    // Room for 5 of the 16 inputs; chunks of 2 go through the staging thread, which hands them back.
    const store = new SqliteJobStore(path, { keepInputBytes: 5 * encoded })
    const { jobId, envelope } = await announcement(16)
    await store.stageJob(jobId, inputs(16), async () => envelope, { policy: resolveJobPolicy(), chunk: 2 })
    // The file's inputs change behind the store's back: what it answers from memory does not.
    const other = new DatabaseSync(path, { timeout: 10_000 })
    const replace = other.prepare('UPDATE inputs SET task = ? WHERE job_id = ? AND idx = ?')
    const altered = (i: number) => [float32Tensor('x', [1, 2], [100 + i, 0])]
    for (let i = 0; i < 16; i++) {
      replace.run(Task.encode({ taskId: new Uint8Array(), index: BigInt(i), inputs: altered(i) }), jobId, i)
    }
    other.close()
    for (let i = 0; i < 16; i++) {
      assert.deepEqual(store.inputs(jobId, i), i < 5 ? inputs(16)[i] : altered(i), `input ${i}: ${i < 5 ? 'memory' : 'the file'}`)
    }
    // A settled task's input stays (a canary re-sends one, §7.4) until the job ends; then the job's
    // inputs leave memory and their room goes to the next job.
    for (let i = 0; i < 16; i++) {
      store.verdict(jobId, verdict(i, 'w1', 'agreed'))
    }
    assert.deepEqual(store.inputs(jobId, 2), inputs(16)[2])
    assert.equal(store.keptInputBytes, 5 * encoded - 2, 'inputs 1–4, and input 0 two bytes shorter')
    store.ended(jobId)
    assert.equal(store.keptInputBytes, 0)
    assert.deepEqual(store.inputs(jobId, 2), altered(2))
    const second = await announcement(3)
    await store.stageJob(second.jobId, inputs(3), async () => second.envelope, { policy: resolveJobPolicy(), chunk: 2 })
    const again = new DatabaseSync(path, { timeout: 10_000 })
    again.prepare('DELETE FROM inputs WHERE job_id = ?').run(second.jobId)
    again.close()
    assert.deepEqual(store.inputs(second.jobId, 2), inputs(3)[2], 'kept: the room the first job left')
    // A cancelled job's inputs leave memory.
    assert.equal(store.cancel(second.jobId, Date.now()), true)
    assert.throws(() => store.inputs(second.jobId, 0), RangeError, 'read from the file, which lost it')
    // Past the budget, inputs are read from the file.
    const third = await announcement(8)
    await store.stageJob(third.jobId, inputs(8), async () => third.envelope, { policy: resolveJobPolicy(), chunk: 2 })
    const last = new DatabaseSync(path, { timeout: 10_000 })
    last.prepare('DELETE FROM inputs WHERE job_id = ?').run(third.jobId)
    last.close()
    assert.deepEqual(store.inputs(third.jobId, 4), inputs(8)[4])
    assert.throws(() => store.inputs(third.jobId, 5), RangeError, 'over the budget: read from the file, which lost it')
    store.close()
    const elsewhere = join(await tempDir(), 'x.db')
    assert.throws(() => new SqliteJobStore(elsewhere, { keepInputBytes: -1 }), /keepInputBytes must be a whole number ≥ 0, got -1/)
  })
})

describe('SqliteJobStore: the file', () => {
  it('creates 64 KiB pages and a rowid inputs table; a store made before keeps its own and works', async () => {
    const fresh = join(await tempDir(), 'jobs.db')
    new SqliteJobStore(fresh).close()
    const layout = (path: string) => {
      // busy_timeout: the staging thread's connection may still be closing (its last close checkpoints).
      const db = new DatabaseSync(path, { timeout: 10_000 })
      try {
        const { page_size } = db.prepare('PRAGMA page_size').get() as { page_size: number }
        const { sql } = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'inputs'").get() as { sql: string }
        return { pageSize: Number(page_size), withoutRowid: /WITHOUT ROWID/.test(sql) }
      } finally {
        db.close()
      }
    }
    assert.deepEqual(layout(fresh), { pageSize: 65_536, withoutRowid: false })

    // An older store: 4 KiB pages and a WITHOUT ROWID inputs table.
    const old = join(await tempDir(), 'jobs.db')
    const made = new DatabaseSync(old)
    made.exec(`PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;
      CREATE TABLE inputs (job_id TEXT NOT NULL, idx INTEGER NOT NULL, task BLOB NOT NULL, PRIMARY KEY (job_id, idx)) WITHOUT ROWID;`)
    made.close()
    const store = new SqliteJobStore(old)
    const { jobId, envelope } = await announcement(6)
    await store.stageJob(jobId, inputs(6), async () => envelope, { policy: resolveJobPolicy(), chunk: 2 })
    assert.deepEqual(store.inputs(jobId, 5), inputs(6)[5])
    store.close()
    assert.deepEqual(layout(old), { pageSize: 4096, withoutRowid: true })
  })
})
