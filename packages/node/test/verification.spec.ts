import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  createJobAnnouncement,
  ErrorCode,
  float32Tensor,
  jobsTopic,
  modelCid,
  open,
  peerIdBytes,
  STATEMENTS,
  seal,
  type Tensor,
  toFloat64Array
} from '@openbatch/protocol'
import type { FraudEvent, VerdictEvent } from '../src/index.js'
import {
  announceJob,
  claimTasks,
  createOpenbatchPeer,
  fetchInputs,
  type InputsRefusedError,
  MemoryJobStore,
  REPUTATION_WRITE_BEHIND_MS,
  ReceiptStore,
  Reputation,
  RequesterService,
  WorkerService,
  WorkServer
} from '../src/index.js'
import { network, sumBackend, tempDir, waitFor, within } from './helpers.js'

const MODEL = modelCid(new TextEncoder().encode('verification test model'))
const inputs = (i: number): Tensor[] => [float32Tensor('x', [1, 2], [i, 1])]

describe('verification between real libp2p peers (spec §7, issue #5)', () => {
  it('a worker cheating on half its tasks is sampled, outvoted, proven and banned everywhere; every result is right', async () => {
    const [requester, h1, h2, h3, cheater, bystander] = await network(6, { mesh: true })
    assert.ok(requester && h1 && h2 && h3 && cheater && bystander)
    const store = new MemoryJobStore()
    const verdicts: VerdictEvent[] = []
    const frauds: FraudEvent[] = []
    const service = new RequesterService(requester, {
      store,
      onVerdict: (v) => verdicts.push(v),
      onFraud: (f) => frauds.push(f),
      onError: (err) => assert.fail(err)
    })
    await new WorkServer(requester, service).start()
    const honest = [h1, h2, h3]
    const receiptStore = new ReceiptStore(':memory:')
    const workers = [...honest, cheater].map(
      (w) =>
        new WorkerService(w, {
          backend: sumBackend({ cheatEvery: w === cheater ? 2 : undefined }),
          models: [MODEL.toString()],
          capacity: 4,
          receiptStore: w === h1 ? receiptStore : undefined
        })
    )
    for (const w of workers) {
      w.start()
    }
    await waitFor('workers to subscribe', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length >= 4)
    const job = createJobAnnouncement({
      requester: peerIdBytes(requester.peerId),
      model: MODEL.bytes,
      taskCount: 60,
      rewardPerTask: 3n,
      maxBatch: 4,
      now: Date.now(),
      durationMs: 600_000,
      nonce: crypto.getRandomValues(new Uint8Array(16))
    })
    const envelope = await seal(STATEMENTS.job, job, requester.privateKey)
    const { jobId, done } = await service.addJob({ announcement: envelope, inputs })
    await announceJob(requester, envelope)
    await within('the job to complete', done, 60_000)

    // The cheater was caught (a newcomer is always sampled) and only the cheater.
    assert.ok(frauds.length > 0, 'a fraud proof was published')
    assert.ok(frauds.every((f) => f.accused === cheater.peerId.toString()))
    assert.ok(frauds.every((f) => !f.agreeing.includes(cheater.peerId.toString())))
    assert.ok(requester.reputation.isBanned(cheater.peerId))
    for (const h of honest) {
      assert.equal(requester.reputation.get(h.peerId.toString()).offences, 0, 'honest workers are never accused')
    }
    // Every other peer checked the proof itself and banned the cheater (§7.5, §7.6).
    await waitFor('every peer to accept a fraud proof', () => [...honest, bystander].every((p) => p.reputation.isBanned(cheater.peerId)))
    // Banned: refused claims (or connections) by the requester.
    const claim = await claimTasks(cheater, requester.peerId, { jobId: job.jobId, maxTasks: 1 }).catch((err: Error) => err)
    assert.ok(claim instanceof Error || claim.code === ErrorCode.BANNED || claim.code === ErrorCode.JOB_CLOSED, String(claim))

    // One verdict per task; every task's result — verified or not — is right, none lost.
    // One verdict per task, plus a revised one for each of the cheater's unsampled results audited
    // after its conviction (§7.5).
    assert.equal(new Set(verdicts.map((v) => v.verdict.task)).size, 60)
    assert.equal(verdicts.length, 60 + (service.summary(jobId)?.audited ?? 0))
    assert.equal(verdicts.filter((v) => v.verdict.revised === true).length, service.summary(jobId)?.audited)
    const results = store.results(jobId)
    assert.equal(results.length, 60)
    for (const r of results) {
      const index = r.index
      const opened = await open(STATEMENTS.result, r.result)
      assert.deepEqual(Array.from(toFloat64Array(opened.message.outputs[0] as Tensor)), [index + 1], `task ${index}`)
      assert.ok(r.status != null)
      if (r.status === 'disputed') {
        assert.notEqual(r.worker, cheater.peerId.toString(), 'a disputed task settles on the majority')
      }
    }
    const summary = service.summary(jobId)
    assert.ok(summary != null && summary.disputed > 0)
    assert.equal(summary.unresolved, 0)
    assert.equal(summary.fraudProofs, frauds.length)

    // The honest workers hold receipts for their work, signed by the requester (§3.6).
    for (const w of workers.slice(0, 3)) {
      for (const receipt of w.receipts) {
        assert.ok((await open(STATEMENTS.receipt, receipt)).signer.equals(requester.peerId))
      }
    }
    // h1's receipts are kept durably, and add up to its verified work. (Which honest workers get
    // work depends on timing: on a loaded machine h1 may have none — then it holds no receipts.)
    const [totals] = receiptStore.totals()
    assert.equal(totals?.receipts ?? 0, workers[0]?.receipts.length)
    if (totals != null) {
      assert.equal(totals.requester, requester.peerId.toString())
      assert.equal(totals.reward, 3n * BigInt(totals.receipts))
    }
    const others = workers.slice(1, 3).flatMap((w) => w.receipts)
    assert.ok(others.length > 0 || (workers[0]?.receipts.length ?? 0) > 0, 'honest workers hold receipts')
    if (others.length > 0) {
      await assert.rejects(receiptStore.add(others[0] as Uint8Array, h1.peerId), /another worker/)
    }
    await Promise.all(workers.map((w) => w.stop()))
    service.stop()
  })

  it('a task whose inputs a fraud proof cannot carry is still proven: the proof leaves them out, and peers fetch them by digest (§6.9, §7.5)', async () => {
    const [requester, h1, h2, cheater, bystander] = await network(5, { mesh: true })
    assert.ok(requester && h1 && h2 && cheater && bystander)
    const frauds: FraudEvent[] = []
    const service = new RequesterService(requester, { onFraud: (f) => frauds.push(f), onError: (err) => assert.fail(err) })
    await new WorkServer(requester, service).start()
    const workers = [h1, h2, cheater].map(
      (w) =>
        new WorkerService(w, {
          backend: sumBackend({ cheatEvery: w === cheater ? 1 : undefined, anyWidth: true }),
          models: [MODEL.toString()],
          capacity: 2
        })
    )
    for (const w of workers) {
      w.start()
    }
    await waitFor('workers to subscribe', () => requester.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length >= 3)
    // 1.2 MB of inputs per task: more than MAX_FRAUD_PROOF_BYTES (1 MiB).
    const wide = (i: number): Tensor[] => [
      float32Tensor(
        'x',
        [1, 300_000],
        Float32Array.from({ length: 300_000 }, (_, k) => (k === 0 ? i : 1))
      )
    ]
    const job = createJobAnnouncement({
      requester: peerIdBytes(requester.peerId),
      model: MODEL.bytes,
      taskCount: 6,
      maxBatch: 2,
      now: Date.now(),
      durationMs: 600_000,
      nonce: crypto.getRandomValues(new Uint8Array(16))
    })
    const envelope = await seal(STATEMENTS.job, job, requester.privateKey)
    const { done } = await service.addJob({ announcement: envelope, inputs: wide })
    await announceJob(requester, envelope)
    await within('the job to complete', done, 60_000)
    assert.ok(frauds.length > 0, 'the cheater was proven')
    for (const f of frauds) {
      assert.equal(f.accused, cheater.peerId.toString())
      const { message } = await open(STATEMENTS.fraud, f.proof)
      assert.equal(message.inputs.length, 0, 'the inputs are left out')
    }
    await waitFor('a bystander to accept the proof', () => bystander.reputation.isBanned(cheater.peerId))

    // §6.9 A peer that wants to re-execute fetches the inputs by the results' digest from the requester.
    const proof = (await open(STATEMENTS.fraud, (frauds[0] as FraudEvent).proof)).message
    const accused = (await open(STATEMENTS.result, proof.accused)).message
    const fetched = await fetchInputs(bystander, requester.peerId, accused)
    assert.deepEqual(fetched, wide(Number(accused.index)))
    await assert.rejects(
      fetchInputs(bystander, requester.peerId, { ...accused, inputDigest: new Uint8Array(32) }),
      (err: Error) => err.name === 'ProtocolViolationError' && /do not hash to its input digest/.test(err.message)
    )
    await assert.rejects(
      fetchInputs(bystander, requester.peerId, { ...accused, index: 99n }),
      (err: InputsRefusedError) => err.name === 'InputsRefusedError' && err.code === ErrorCode.UNKNOWN_JOB
    )
    const unproven = [0, 1, 2, 3, 4, 5].find((t) => !frauds.some((f) => f.task === t))
    if (unproven !== undefined) {
      // Inputs of tasks no proof names go only to the workers that claim them.
      await assert.rejects(
        fetchInputs(bystander, requester.peerId, { ...accused, index: BigInt(unproven) }),
        (err: InputsRefusedError) => err.name === 'InputsRefusedError' && err.code === ErrorCode.NOT_ASSIGNED
      )
    }
    for (const w of workers) {
      await w.stop()
    }
    service.stop()
  })

  it('reputation persists across restarts of a peer with a data directory (§7.6)', async () => {
    const dataDir = await tempDir()
    const first = await createOpenbatchPeer({ dataDir, transports: ['memory'], listen: [], local: true })
    await first.start()
    first.reputation.offence('12D3KooWtest', Date.now())
    Object.assign(first.reputation.get('12D3KooWgood'), { agreements: 7 })
    first.reputation.changed('12D3KooWgood')
    await first.stop()
    const second = await createOpenbatchPeer({ dataDir, transports: ['memory'], listen: [], local: true })
    assert.ok(second.reputation.isBanned('12D3KooWtest'))
    assert.equal(second.reputation.get('12D3KooWtest').offences, 1)
    assert.equal(second.reputation.get('12D3KooWgood').agreements, 7)
    assert.ok(second.reputation.score('12D3KooWgood') > 0.85)
    second.reputation.close()
  })

  it('reputation changes are written together behind the verdicts, a ban at once (§7.6)', async () => {
    const path = join(await tempDir(), 'reputation.db')
    const book = new Reputation(path)
    const onDisk = (peer: string) => {
      const reader = new Reputation(path)
      try {
        return reader.entries().find(([p]) => p === peer)?.[1]
      } finally {
        reader.close()
      }
    }
    for (let i = 0; i < 50; i++) {
      book.get('12D3KooWgood').agreements++
      book.changed('12D3KooWgood')
    }
    // No turn of the event loop since: the timer of the write behind has not run.
    assert.equal(onDisk('12D3KooWgood'), undefined, 'written behind, not per change')
    book.offence('12D3KooWbad', Date.now())
    assert.equal(onDisk('12D3KooWbad')?.offences, 1, 'a ban is written at once')
    assert.equal(onDisk('12D3KooWgood')?.agreements, 50, 'with every change before it')
    book.get('12D3KooWlate').timeouts = 3
    book.changed('12D3KooWlate')
    await waitFor('the write behind', () => onDisk('12D3KooWlate')?.timeouts === 3, REPUTATION_WRITE_BEHIND_MS * 10)
    book.get('12D3KooWlast').agreements = 2
    book.changed('12D3KooWlast')
    book.close()
    assert.equal(onDisk('12D3KooWlast')?.agreements, 2, 'close() writes what changed')
  })
})
