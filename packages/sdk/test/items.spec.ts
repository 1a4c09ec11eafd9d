/**
 * Multi-item tasks in the SDK (spec §6.8): submitBatch packs items into tasks, the worker runs each
 * task as one batch, and results come back one per item — in input order, after a restart too —
 * with the task that carried each. `'auto'` chooses the items per task from the workers' measured
 * speed. A worker with a backend of its own (rows in, rows out) on the memory transport.
 */

import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { modelCid, open, STATEMENTS } from '@openbatch/protocol'
import {
  type BatchResult,
  chooseItemsPerTask,
  createClient,
  createPeer,
  DType,
  float32Tensor,
  type InferenceBackend,
  NoWorkersError,
  type Output,
  type Peer,
  rows,
  type Tensor,
  tensor,
  toFloat64Array
} from '../src/index.js'
import { tempDir, within } from './helpers.js'

let n = 0
const addr = () => `/memory/openbatch-items-${process.pid}-${n++}`
const MODEL = new TextEncoder().encode('a model the test backend stands for')

/** Rows in, rows out: y = 2x per row; with `flat` set, one number whatever the rows (no batch dimension). */
const state = { flat: false, rowsSeen: [] as number[] }
const backend: InferenceBackend = {
  describe: async (model) => ({
    model,
    inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 'W'] }],
    outputs: [{ name: 'y', dtype: DType.FLOAT32, shape: ['N', 'W'] }],
    batchable: true,
    sizeBytes: 0
  }),
  run: async (_model, inputs) => {
    const x = inputs[0] as Tensor
    state.rowsSeen.push(Number(x.dims[0]))
    const y = state.flat
      ? float32Tensor('y', [1], [0])
      : float32Tensor(
          'y',
          x.dims.map(Number),
          Array.from(toFloat64Array(x), (v) => 2 * v)
        )
    return {
      outputs: [y],
      profile: { runtime: 'test', provider: 'cpu', device: 'test', intraOpThreads: 1, graphOptimization: 'all', batchSize: 1 },
      durationUs: 1
    }
  }
}

/** Items 0–3 and 5–9 are [1,2]; item 4 is [1,3] (another shape) and item 10 has two rows. */
const items = () =>
  Array.from({ length: 11 }, (_, i) =>
    i === 4
      ? [tensor('x', Float32Array.of(40, 41, 42), [1, 3])]
      : i === 10
        ? [tensor('x', Float32Array.of(100, 101, 102, 103), [2, 2])]
        : [tensor('x', Float32Array.of(i, -i), [1, 2])]
  )

async function all(results: AsyncIterable<BatchResult>): Promise<BatchResult[]> {
  const out = []
  for await (const r of results) {
    out.push(r)
  }
  return out
}

describe('multi-item tasks (spec §6.8) — SDK', () => {
  let worker: Peer
  let model: string

  before(async () => {
    const dir = await tempDir('openbatch-items-')
    const path = join(dir, 'model.onnx')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(path, MODEL)
    model = path
    worker = await createPeer({ transports: ['memory'], listen: [addr()], local: true, worker: { models: [path], backend } })
  })

  after(() => worker.stop())

  it('packs items into tasks, runs each as one batch and yields one result per item, in input order, across a restart', async () => {
    const dataDir = await tempDir('openbatch-items-')
    const bootstrap = [worker.addresses[0] as string]
    const client = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap })
    state.rowsSeen = []
    const job = await client.submitBatch({ model, inputs: items(), itemsPerTask: 3, checkWaitMs: 0 })
    // [0,1,2] [3] (item 4 has another shape) [4] [5,6,7] [8,9] [10] (two rows: alone)
    assert.equal(job.itemCount, 11)
    assert.equal(job.taskCount, 6)
    const results = await within('the results', all(job.results()))
    assert.deepEqual(
      results.map((r) => [r.index, r.task]),
      [
        [0, 0],
        [1, 0],
        [2, 0],
        [3, 1],
        [4, 2],
        [5, 3],
        [6, 3],
        [7, 3],
        [8, 4],
        [9, 4],
        [10, 5]
      ]
    )
    const expected = items().map((item) => Array.from(toFloat64Array(item[0] as Tensor), (v) => 2 * v))
    for (const r of results) {
      const y = (r.outputs.y as Output).tensor
      assert.deepEqual(Array.from(toFloat64Array(y)), expected[r.index], `item ${r.index} gets its own rows`)
      assert.equal(y.dims[0], r.index === 10 ? 2n : 1n)
    }
    assert.deepEqual(
      state.rowsSeen.sort((a, b) => a - b),
      [1, 1, 2, 2, 3, 3],
      'the worker ran whole tasks, not items'
    )
    const summary = await within('the job to finish', job.finished)
    assert.equal(summary.itemCount, 11)
    assert.equal(summary.settled, 6)
    await client.stop()

    // After a restart the stored packing unpacks the same results.
    const again = await createClient({ dataDir, transports: ['memory'], listen: [addr()], local: true, bootstrap })
    const resumed = again.job(job.id)
    assert.equal(resumed.itemCount, 11)
    const replayed = await all(resumed.results())
    assert.deepEqual(
      replayed.map((r) => [r.index, rows(r.outputs.y as Output).flatMap((row) => Array.from(row))]),
      results.map((r) => [r.index, rows(r.outputs.y as Output).flatMap((row) => Array.from(row))])
    )
    await again.stop()
  })

  it('a model whose outputs have no row per item: every item of a packed task says so, and how to submit it', async () => {
    const client = await createClient({ transports: ['memory'], listen: [addr()], local: true, bootstrap: [worker.addresses[0] as string] })
    state.flat = true
    try {
      const job = await client.submitBatch({ model, inputs: items().slice(0, 3), itemsPerTask: 3, checkWaitMs: 0 })
      const results = await within('the results', all(job.results()))
      assert.equal(results.length, 3)
      for (const r of results) {
        assert.equal(r.failure?.transient, false)
        assert.match(r.failure?.message ?? '', /output "y" has shape \[1\]: a task of 3 items needs 3 rows.*itemsPerTask: 1/)
      }
      await assert.rejects(
        client.submitBatch({ model, inputs: items(), itemsPerTask: 0 }),
        /itemsPerTask must be 'auto' or a whole number in 1\.\.256, got 0/
      )
    } finally {
      state.flat = false
      await client.stop()
    }
  })

  it('maxPricePerItem: only workers asking at most that count, and the reward pays it per item of a task (§6.2, issue #16)', async () => {
    // A network of its own: one worker asking 5 per item.
    const pricey = await createPeer({
      transports: ['memory'],
      listen: [addr()],
      local: true,
      worker: { models: [model], backend, pricePerItem: 5n }
    })
    const client = await createClient({ transports: ['memory'], listen: [addr()], local: true, bootstrap: [pricey.addresses[0] as string] })
    try {
      await assert.rejects(
        client.submitBatch({ model, inputs: items().slice(0, 4), maxPricePerItem: 4n, discoveryTimeoutMs: 1500 }),
        (err: Error) => err instanceof NoWorkersError && /at your maximum price of 4 per item: 1 found ask more/.test(err.message)
      )
      const job = await client.submitBatch({ model, inputs: items().slice(0, 4), maxPricePerItem: 5n, itemsPerTask: 2, checkWaitMs: 0 })
      await within('the job to finish', job.finished)
      const { message } = await open(STATEMENTS.job, client.store.getJob(job.id)?.announcement as Uint8Array)
      assert.deepEqual([message.rewardPerTask, message.itemsPerTask], [10n, 2], '5 per item, two items a task')
      await assert.rejects(
        client.submitBatch({ model, inputs: items(), maxPricePerItem: -1n }),
        /maxPricePerItem must be a bigint in 0\.\.2\^64−1/
      )
    } finally {
      await client.stop()
      await pricey.stop()
    }
  })

  it("'auto': enough items per task that the per-task overhead is ≤ 5 % of its inference time, within the rows workers batch", () => {
    const cid = modelCid(MODEL).toString()
    const info = (itemsPerSecond: number, maxBatch: number) => ({
      peerId: peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'),
      record: {
        worker: new Uint8Array(),
        seq: 1n,
        issuedAtMs: 0n,
        expiresAtMs: 0n,
        devices: [],
        models: [{ model: modelCid(MODEL).bytes, itemsPerSecond, maxBatch, pricePerItem: 0n }]
      }
    })
    assert.equal(chooseItemsPerTask(cid, []), 1, 'no worker found: one item per task')
    assert.equal(chooseItemsPerTask(cid, [info(1, 32)]), 1, 'a worker that did not measure its speed')
    // 20 items/s: 50 ms per item; TASK_OVERHEAD_MS 4 ≤ 5 % of 2 items' 100 ms.
    assert.equal(chooseItemsPerTask(cid, [info(20, 32)]), 2)
    // 1000 items/s: 1 ms per item → 80 items, bounded by the 32 rows the workers batch.
    assert.equal(chooseItemsPerTask(cid, [info(1000, 32), info(500, 64)]), 32)
    assert.equal(chooseItemsPerTask(cid, [info(1e6, 4096)]), 256, 'at most MAX_ITEMS_PER_TASK')
  })
})
