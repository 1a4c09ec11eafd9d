/**
 * Issue #11 "done when", in real processes on TCP loopback: a job of 2,000 items (8 of them do
 * not fit the model) with 4 workers of which 3 join late, the requester killed with SIGKILL and
 * restarted, one worker killed, and an attacker announcing fake jobs it never serves. Every item
 * must settle — with a result or a reasoned failure — none lost, none credited twice.
 */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ReceiptStore, SqliteJobStore } from '@openbatch/node'
import { DType, FailureKind, modelCid, open, STATEMENTS, toHex } from '@openbatch/protocol'
import { buildOnnxModel } from '@openbatch/runtime-onnx'
import { dump } from 'npyjs'
import { type RunningPeer, startPeer, tempDir } from './helpers.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ITEMS = 2000
const BAD_EVERY = 250

/**
 * An embedding lookup (Gather: an id outside 0..9 cannot run) followed by dense layers that give
 * each item a few milliseconds of real work, so the job lasts long enough to disturb.
 */
const WIDTH = 512
const HIDDEN = 8192
const weights = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) / 32)
const EMBEDDING = buildOnnxModel({
  inputs: [{ name: 'ids', dtype: DType.INT64, shape: ['N', 4] }],
  outputs: [{ name: 'vectors', dtype: DType.FLOAT32, shape: ['N', 4, 2] }],
  nodes: [
    { op: 'Gather', inputs: ['table', 'ids'], outputs: ['e'], attrs: { axis: 0 } },
    { op: 'MatMul', inputs: ['e', 'w1'], outputs: ['h1'] },
    { op: 'MatMul', inputs: ['h1', 'w2'], outputs: ['h2'] },
    { op: 'MatMul', inputs: ['h2', 'w3'], outputs: ['vectors'] }
  ],
  initializers: [
    { name: 'table', dims: [10, 2], values: Array.from({ length: 20 }, (_, i) => i / 10) },
    { name: 'w1', dims: [2, WIDTH], values: weights(2 * WIDTH, 1) },
    { name: 'w2', dims: [WIDTH, HIDDEN], values: weights(WIDTH * HIDDEN, 2) },
    { name: 'w3', dims: [HIDDEN, 2], values: weights(HIDDEN * 2, 3) }
  ]
})

interface Proc {
  child: ChildProcess
  lines: Record<string, unknown>[]
  next: (predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>
  exited: Promise<number | null>
}

/** Every process the test started, killed at the end whatever happened. */
const children: ChildProcess[] = []
after(async () => {
  for (const c of children) {
    c.kill('SIGKILL')
    c.stdout?.destroy()
    c.stderr?.destroy()
  }
})

/** A node script of this folder in its own process, its stdout read as JSON lines. */
function script(name: string, args: string[]): Proc {
  const child = spawn(process.execPath, [join(HERE, name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  let stderr = ''
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
  const seen: Record<string, unknown>[] = []
  const waiters = new Set<() => void>()
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      seen.push(JSON.parse(line))
    } catch {
      return
    }
    for (const w of waiters) {
      w()
    }
  })
  const next = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 120_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const hit = seen.find(predicate)
        if (hit != null) {
          waiters.delete(check)
          clearTimeout(timer)
          resolve(hit)
        }
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`${name}: no matching line within ${timeoutMs} ms; stderr:\n${stderr}`))
      }, timeoutMs)
      waiters.add(check)
      void exited.then((code) => {
        if (waiters.has(check)) {
          waiters.delete(check)
          clearTimeout(timer)
          reject(new Error(`${name} exited (${code}); its lines: ${JSON.stringify(seen.slice(-5))}; stderr:\n${stderr}`))
        }
      })
      check()
    })
  return { child, lines: seen, next, exited }
}

const progress = (n: number) => (line: Record<string, unknown>) => typeof line.progress === 'number' && line.progress >= n

describe('issue #11: every job finishes — real processes', () => {
  it('2,000 items, 3 late workers, a requester restart, a killed worker and a fake-job attacker: every item settled, none lost, none credited twice', async () => {
    const dir = await tempDir()
    const model = join(dir, 'embedding.onnx')
    await writeFile(model, EMBEDDING)
    const ids = new BigInt64Array(ITEMS * 4).map((_, i) => BigInt(i % 10))
    const bad = new Set<number>()
    for (let item = BAD_EVERY; item < ITEMS; item += BAD_EVERY) {
      ids[item * 4] = 7592n // outside the vocabulary: this item cannot run
      bad.add(item)
    }
    const inputs = join(dir, 'ids.npy')
    await writeFile(inputs, new Uint8Array(dump(ids, [ITEMS, 4])))
    const cid = modelCid(EMBEDDING).toString()
    const worker = (name: string, bootstrap: string[] = []) =>
      startPeer([
        '--data-dir',
        join(dir, name),
        '--model',
        model,
        '--threads',
        '1',
        '--capacity',
        '4',
        '--no-benchmark',
        ...bootstrap.flatMap((b) => ['--bootstrap', b])
      ])

    const first = await worker('w1')
    children.push(first.child)
    const hub = first.ready.addresses[0] as string
    const attacker = script('attacker-process.js', [cid, hub])
    await attacker.next((l) => l.ready != null, 60_000)

    const requesterArgs = [join(dir, 'requester'), model, inputs, hub]
    let requester = script('requester-process.js', requesterArgs)
    const { submitted: jobId } = (await requester.next((l) => l.submitted != null)) as { submitted: string }
    await requester.next(progress(100))
    // Three workers join after the job was announced; one of them will be killed.
    const late: RunningPeer[] = await Promise.all(['w2', 'w3', 'w4'].map((name) => worker(name, [hub])))
    children.push(...late.map((w) => w.child))
    await requester.next(progress(500))
    const doneBefore = (p: Proc) => p.lines.some((l) => l.done != null)
    assert.ok(!doneBefore(requester), 'the requester is killed mid-job')
    requester.child.kill('SIGKILL')
    await requester.exited
    requester = script('requester-process.js', requesterArgs)
    assert.deepEqual(await requester.next((l) => l.resumed != null), { resumed: jobId })
    await requester.next(progress(1000))
    const killed = late[0] as RunningPeer
    assert.ok(!doneBefore(requester), 'a worker is killed mid-job')
    killed.child.kill('SIGKILL')
    const { done } = (await requester.next((l) => l.done != null, 240_000)) as {
      done: { settled: number; missing: number; failed: number; agreed: number; unsampled: number; disputed: number; unresolved: number }
    }

    // Every item settled — with a result or a reasoned failure — and the counts cover the whole job.
    assert.equal(done.settled, ITEMS)
    assert.equal(done.missing, 0)
    assert.equal(done.failed, bad.size)
    assert.equal(done.agreed + done.unsampled + done.disputed + done.unresolved, ITEMS)
    const store = new SqliteJobStore(join(dir, 'requester', 'jobs.db'))
    const results = store.results(jobId)
    store.close()
    assert.equal(results.length, ITEMS, 'one accepted result per item, none lost')
    assert.deepEqual(
      results.map((r) => r.index),
      Array.from({ length: ITEMS }, (_, i) => i)
    )
    for (const r of results) {
      assert.ok(r.status != null, `item ${r.index} has a verdict`)
      if (bad.has(r.index)) {
        assert.equal(r.failure, FailureKind.INFERENCE_FAILED, `item ${r.index} failed with its reason`)
        assert.match((await open(STATEMENTS.result, r.result)).message.failure?.message ?? '', /7592/)
      } else {
        assert.equal(r.failure, undefined, `item ${r.index} has outputs`)
      }
    }

    // No worker holds two receipts for the same run of a task; the late workers earned some.
    let lateReceipts = 0
    for (const name of ['w1', 'w2', 'w3', 'w4']) {
      const receipts = new ReceiptStore(join(dir, name, 'receipts.db'))
      const tasks = new Set<string>()
      for (const envelope of receipts.envelopes()) {
        const { message } = await open(STATEMENTS.receipt, envelope)
        if (toHex(message.jobId) !== jobId) {
          continue
        }
        const key = toHex(message.taskId)
        assert.ok(!tasks.has(key), `${name} was credited twice for one task`)
        tasks.add(key)
        if (name !== 'w1') {
          lateReceipts++
        }
      }
      receipts.close()
    }
    assert.ok(lateReceipts > 0, 'the workers that joined late got work')

    // The attacker's requests went unanswered and were given up: each worker tried it a few times.
    const claims = Math.max(0, ...attacker.lines.map((l) => (typeof l.claims === 'number' ? l.claims : 0)))
    assert.ok(claims < 100, `the attacker got ${claims} claims`)
    for (const w of [first, ...late.slice(1)]) {
      assert.equal(await w.stop(), 0)
    }
  })
})
