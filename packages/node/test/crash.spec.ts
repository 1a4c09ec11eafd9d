import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  ErrorCode,
  float32Tensor,
  fromHex,
  open,
  peerIdBytes,
  STATEMENTS,
  seal,
  type Tensor,
  tensorSetDigest,
  toFloat64Array,
  toHex
} from '@openbatch/protocol'
import { claimTasks, createOpenbatchPeer, SqliteJobStore, submitResults } from '../src/index.js'
import { tempDir } from './helpers.js'

const SCRIPT = fileURLToPath(new URL('./requester-process.js', import.meta.url))
const TASKS = 16

interface Line {
  ready?: boolean
  done?: boolean
  peerId?: string
  addr?: string
  jobId?: string
  results?: number
}

/** Starts the requester process and resolves with its first line; `lines` yields the rest. */
function startRequester(dataDir: string): Promise<{ child: ChildProcess; ready: Line; next: () => Promise<Line> }> {
  const child = spawn(process.execPath, [SCRIPT, dataDir, String(TASKS)], { stdio: ['ignore', 'pipe', 'inherit'] })
  after(() => child.kill('SIGKILL'))
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  const next = async (): Promise<Line> => {
    const timeout = AbortSignal.timeout(30_000)
    const line = await Promise.race([
      lines.next(),
      new Promise<never>((_, reject) =>
        timeout.addEventListener('abort', () => reject(new Error('requester process said nothing for 30 s')))
      )
    ])
    if (line.done === true) {
      throw new Error('requester process exited')
    }
    return JSON.parse(line.value) as Line
  }
  return next().then((ready) => ({ child, ready, next }))
}

describe('a requester killed with SIGKILL mid-job (spec §6.5)', () => {
  it('resumes on restart with every accepted result intact and no accepted task handed out again', async () => {
    const dataDir = await tempDir()
    const worker = await createOpenbatchPeer({ transports: ['tcp'], listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    await worker.start()
    after(() => worker.stop())

    const work = async (ready: Line, rounds: number, seen: Set<number>) => {
      const requester = peerIdFromString(ready.peerId as string)
      await worker.libp2p.dial(multiaddr(ready.addr as string))
      const receipts = new Map<number, string>()
      for (let r = 0; r < rounds; r++) {
        const a = await claimTasks(worker, requester, { jobId: fromHex(ready.jobId as string), maxTasks: 4 })
        if (a.code !== ErrorCode.OK) {
          break
        }
        const envelopes = await Promise.all(
          a.tasks.map((t) => {
            seen.add(Number(t.index))
            const [x0, x1] = Array.from(toFloat64Array(t.inputs[0] as Tensor))
            const outputs = [float32Tensor('y', [1, 1], [(x0 as number) + (x1 as number)])]
            return seal(
              STATEMENTS.result,
              {
                taskId: t.taskId,
                jobId: a.jobId,
                index: t.index,
                model: a.model,
                inputDigest: tensorSetDigest(t.inputs),
                outputDigest: tensorSetDigest(outputs),
                outputs,
                worker: peerIdBytes(worker.peerId),
                startedAtMs: 0n,
                durationUs: 0n
              },
              worker.privateKey
            )
          })
        )
        const statuses = await submitResults(worker, requester, envelopes)
        statuses.forEach((s, i) => {
          assert.equal(s.code, ErrorCode.OK)
          receipts.set(Number(a.tasks[i]?.index), toHex(s.receipt))
        })
      }
      return receipts
    }

    const first = await startRequester(dataDir)
    const before = await work(first.ready, 2, new Set())
    assert.equal(before.size, 8, 'two rounds of four accepted before the crash')
    first.child.kill('SIGKILL')
    await new Promise((resolve) => first.child.once('exit', resolve))

    const second = await startRequester(dataDir)
    assert.equal(second.ready.peerId, first.ready.peerId, 'same identity after the restart')
    assert.equal(second.ready.jobId, first.ready.jobId, 'the job was resumed, not created again')
    const assignedAfter = new Set<number>()
    const afterCrash = await work(second.ready, 10, assignedAfter)
    for (const index of before.keys()) {
      assert.ok(!assignedAfter.has(index), `task ${index} was accepted before the crash and handed out again`)
    }
    assert.equal(before.size + afterCrash.size, TASKS)
    assert.deepEqual(await second.next(), { done: true, results: TASKS })
    second.child.kill('SIGKILL')
    await new Promise((resolve) => second.child.once('exit', resolve))

    // Every receipt the worker holds is backed by the stored, signed result.
    const store = new SqliteJobStore(join(dataDir, 'jobs.db'))
    const stored = store.results(first.ready.jobId as string)
    assert.equal(stored.length, TASKS)
    for (const r of stored) {
      assert.equal(toHex(r.receipt), before.get(r.index) ?? afterCrash.get(r.index))
      assert.equal(Number((await open(STATEMENTS.result, r.result)).message.index), r.index)
    }
    store.close()
  })
})
