/**
 * Dispatch benchmark (issue #15): how fast one requester feeds a network, side by side with a job
 * queue. One requester — the SDK's peer with its real SQLite store (synchronous=FULL) and the
 * default verification policy — serves N ∈ {1, 4, 16} workers whose backend answers at once; the
 * same tasks go through BullMQ on a local Redis (one producer, N workers, a processor that returns
 * at once). Both carry items of almost no bytes ("empty") and of one 110,592-byte PaddleOCR-shaped
 * item; each worker holds CAPACITY tasks at once (BullMQ: concurrency CAPACITY). BullMQ carries one
 * item per job; openbatch runs twice, with one item per task and with ITEMS_PER_TASK items per
 * task (spec §6.8, the SDK's `itemsPerTask`). Reported: items/s of each from submission to the
 * last result seen by the submitter, the ratios to BullMQ (floors, for the packed runs: ≥ 1.0 on
 * empty items, ≥ 2.0 on 110 KB items) and the requester's event-loop delay p99 while it ran
 * (floor < 20 ms). The openbatch clock starts once the requester has found the n workers (a one-item
 * job runs on them first; how long that took is printed), as BullMQ's starts with its workers
 * connected. For 110 KB items it also prints the transport's ceiling: the packed run's bytes (its
 * re-runs included) over bare libp2p streams to n sink peers, as items/s and as a ratio to BullMQ —
 * what any protocol over libp2p could reach here with those re-runs. The last line is a JSON object
 * with all figures.
 *
 * Redis is Debian's `redis-server` (installed by `.ci/run`, or here when missing and running as
 * root), started by the bench on a free port bound to 127.0.0.1 with persistence off, and stopped
 * by its pid. The workers of each system run in one child process; the requester and the BullMQ
 * producer run in this one.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { createOpenbatchPeer } from '@openbatch/node'
import { createPeer, float32Tensor, type Tensor } from '@openbatch/sdk'
import { Queue, QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import { CAPACITY, QUEUE, SINK_PROTOCOL } from './dispatch-shared.js'
import { ITEM_SIZE, item, MODEL_PATH, within as withinMs } from './inputs.js'

const TASKS = { empty: Number(process.env.BENCH_EMPTY_TASKS ?? 2000), large: Number(process.env.BENCH_LARGE_TASKS ?? 1000) }
const WORKERS = (process.env.BENCH_WORKERS ?? '1,4,16').split(',').map(Number)
const KINDS = (process.env.BENCH_KINDS ?? 'empty,large').split(',') as Kind[]
const FLOORS = { empty: 1.0, large: 2.0 }
const LOOP_P99_FLOOR_MS = 20
/** Items per task of the packed openbatch runs (§6.8); BullMQ carries one item per job. */
const ITEMS_PER_TASK = Number(process.env.BENCH_ITEMS_PER_TASK ?? 32)
/** Longest wait for anything the bench waits on (a child's start, a run's end). */
const WAIT_MS = 300_000

type Kind = keyof typeof TASKS

/** `promise`, or a rejection naming `what` after `ms`. */
const within = <T>(what: string, promise: Promise<T>, ms = WAIT_MS): Promise<T> => withinMs('dispatch', what, promise, ms)

/** Debian's redis-server, installed when missing (as root, from the Debian registry). */
function redisServer(): string {
  const found = () => spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()
  let path = found()
  if (path === '' && process.getuid?.() === 0) {
    console.log('redis-server is missing: installing Debian’s redis-server')
    spawnSync('apt-get', ['install', '-y', '-q', 'redis-server'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    })
    path = found()
  }
  if (path === '') {
    throw new Error('the dispatch bench needs redis-server (Debian: apt-get install redis-server)')
  }
  return path
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A child process's first line, as JSON. */
async function firstLine(child: ChildProcess, what: string): Promise<unknown> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready`)))
  )
  const line = await within(`${what} to start`, Promise.race([lines.next(), exited]))
  return JSON.parse(line.value as string)
}

async function startRedis(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(
    redisServer(),
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'inherit'] }
  )
  // Ready once it answers PING: ioredis queues it and reconnects every 50 ms until then.
  const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 50, maxRetriesPerRequest: null })
  client.on('error', () => {}) // refused connections while it starts
  try {
    await within('redis-server to answer', client.ping(), 10_000)
  } finally {
    client.disconnect()
  }
  return { port, child }
}

function startWorkers(
  system: 'openbatch' | 'bullmq' | 'sink',
  n: number,
  address: string
): { child: ChildProcess; ready: Promise<unknown> } {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./dispatch-workers.js', import.meta.url)), system, String(n), address], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  return { child, ready: firstLine(child, `${n} ${system} workers`) }
}

function inputs(kind: Kind): Tensor[][] {
  return Array.from({ length: TASKS[kind] }, (_, i) => (kind === 'large' ? item(i) : [float32Tensor('x', [1, 1, 1, 1], [i])]))
}

interface Arm {
  tasksPerSecond: number
}

async function openbatch(
  n: number,
  kind: Kind,
  itemsPerTask: number
): Promise<Arm & { loopP99Ms: number; checks: number; startMs: number; discoveryMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-dispatch-'))
  const requester = await createPeer({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], local: true, mdns: false })
  const workers = startWorkers('openbatch', n, requester.addresses[0] as string)
  try {
    await workers.ready
    // Finding the workers (the DHT) is not dispatch: a one-item job first finds all n and sees
    // them subscribed, as BullMQ's workers are connected and waiting before its clock starts.
    const d0 = performance.now()
    const warmUp = await requester.submitBatch({ model: MODEL_PATH, inputs: inputs(kind).slice(0, 1), minWorkers: n })
    await within(`openbatch, ${n} workers: the first job`, warmUp.finished)
    const discoveryMs = performance.now() - d0
    const items = inputs(kind)
    const loop = monitorEventLoopDelay({ resolution: 5 })
    const t0 = performance.now()
    loop.enable()
    const job = await requester.submitBatch({ model: MODEL_PATH, inputs: items, itemsPerTask, discoveryTimeoutMs: 0 })
    const startMs = performance.now() - t0
    let seen = 0
    await within(
      `openbatch, ${n} workers, ${kind} tasks, ${itemsPerTask} per task`,
      (async () => {
        for await (const r of job.results({ order: 'completion' })) {
          if (r.failure != null) {
            throw new Error(`task ${r.index} failed: ${r.failure.message}`)
          }
          seen++
        }
      })()
    )
    const seconds = (performance.now() - t0) / 1000
    loop.disable()
    if (seen !== items.length) {
      throw new Error(`openbatch returned ${seen} of ${items.length} results`)
    }
    const s = job.summary()
    return {
      tasksPerSecond: items.length / seconds,
      loopP99Ms: loop.percentile(99) / 1e6,
      checks: s.agreed + s.disputed,
      startMs,
      discoveryMs
    }
  } finally {
    workers.child.kill()
    await requester.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * The transport ceiling of a packed 110 KB run: the bytes its requester sent — every input once,
 * and those of its re-run tasks (§7.2) again — written over bare libp2p streams (TCP loopback,
 * noise, yamux; no openbatch protocol, no store, no digests) from this process to n sink peers in
 * a child process, one stream each, from one reused buffer. Items/s at that rate is the most any
 * protocol over libp2p could reach here with the same re-runs; staging the inputs durably comes on
 * top.
 */
async function transportCeiling(n: number, items: number, itemBytes: number, itemsPerTask: number, checks: number): Promise<Arm> {
  const tasks = Math.ceil(items / itemsPerTask)
  const total = Math.round(items * itemBytes * (1 + checks / tasks))
  const sinks = startWorkers('sink', n, '')
  const peer = await createOpenbatchPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  try {
    await peer.start()
    const { addresses } = (await sinks.ready) as { addresses: string[] }
    const streams = await Promise.all(addresses.map((a) => peer.libp2p.dialProtocol(multiaddr(a), SINK_PROTOCOL)))
    const chunk = new Uint8Array(1 << 20).fill(7)
    const t0 = performance.now()
    await within(
      `the transport ceiling, ${n} sinks`,
      Promise.all(
        streams.map(async (stream, i) => {
          let left = Math.floor(total / n) + (i < total % n ? 1 : 0)
          while (left > 0) {
            const part = left >= chunk.byteLength ? chunk : chunk.subarray(0, left)
            left -= part.byteLength
            if (!stream.send(part)) {
              await new Promise((resolve) => stream.addEventListener('drain', resolve, { once: true }))
            }
          }
          await stream.close()
          // The sink closes its side once it has read every byte.
          for await (const _ of stream) {
            // it sends nothing
          }
        })
      )
    )
    return { tasksPerSecond: items / ((performance.now() - t0) / 1000) }
  } finally {
    sinks.child.kill()
    await peer.stop()
  }
}

async function bullmq(n: number, kind: Kind, port: number): Promise<Arm> {
  const connection = { host: '127.0.0.1', port }
  const queue = new Queue(QUEUE, { connection })
  const events = new QueueEvents(QUEUE, { connection })
  const workers = startWorkers('bullmq', n, String(port))
  try {
    await queue.obliterate({ force: true })
    await events.waitUntilReady()
    await workers.ready
    // A job queue carries JSON: the tensor's bytes as base64, as a BullMQ user would send them.
    const jobs = inputs(kind).map((tensors, i) => ({
      name: 'task',
      data: { i, x: Buffer.from((tensors[0] as Tensor).data).toString('base64'), dims: (tensors[0] as Tensor).dims.map(Number) },
      opts: { removeOnComplete: true, removeOnFail: true }
    }))
    let completed = 0
    const all = Promise.withResolvers<void>()
    events.on('completed', () => {
      if (++completed === jobs.length) {
        all.resolve()
      }
    })
    const t0 = performance.now()
    for (let i = 0; i < jobs.length; i += 500) {
      await queue.addBulk(jobs.slice(i, i + 500))
    }
    await within(`BullMQ, ${n} workers, ${kind} tasks`, all.promise)
    return { tasksPerSecond: jobs.length / ((performance.now() - t0) / 1000) }
  } finally {
    workers.child.kill()
    await events.close()
    await queue.obliterate({ force: true }).catch(() => {})
    await queue.close()
  }
}

export async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-redis-'))
  const redis = await startRedis(dir)
  const rows: {
    kind: Kind
    workers: number
    /** Items (BullMQ jobs) in the run. */
    tasks: number
    /** BullMQ's jobs/s. */
    bullmq: number
    /** openbatch's items/s at one item per task, and at ITEMS_PER_TASK (§6.8). */
    openbatch: number
    openbatchPacked: number
    ratio: number
    ratioPacked: number
    floor: number
    /** Worst of the two openbatch runs. */
    loopP99Ms: number
    checks: number
    /** Of the packed run: tasks re-run (§7.2). */
    checksPacked: number
    /** 110 KB rows: items/s of the packed run's bytes over bare libp2p streams (transportCeiling), and its ratio to BullMQ. */
    transportCeiling?: number
    ratioCeiling?: number
    /** Of the openbatch run at one item per task: until submitBatch returned (inputs staged, job announced), ms. */
    startMs: number
    /** Before it, not timed: finding the n workers and running a one-item job on them, ms. */
    discoveryMs: number
  }[] = []
  try {
    console.log(
      `one requester (SDK, SQLite store, default verification) vs BullMQ on Redis at 127.0.0.1:${redis.port}; instant workers holding ${CAPACITY} tasks each; ${availableParallelism()} cores`
    )
    for (const kind of KINDS) {
      for (const n of WORKERS) {
        const b = await bullmq(n, kind, redis.port)
        const o = await openbatch(n, kind, 1)
        const p = await openbatch(n, kind, ITEMS_PER_TASK)
        const ceiling = kind === 'large' ? await transportCeiling(n, TASKS[kind], ITEM_SIZE * 4, ITEMS_PER_TASK, p.checks) : undefined
        const row = {
          kind,
          workers: n,
          tasks: TASKS[kind],
          bullmq: b.tasksPerSecond,
          openbatch: o.tasksPerSecond,
          openbatchPacked: p.tasksPerSecond,
          ratio: o.tasksPerSecond / b.tasksPerSecond,
          ratioPacked: p.tasksPerSecond / b.tasksPerSecond,
          floor: FLOORS[kind],
          loopP99Ms: Math.max(o.loopP99Ms, p.loopP99Ms),
          checks: o.checks,
          checksPacked: p.checks,
          ...(ceiling == null ? {} : { transportCeiling: ceiling.tasksPerSecond, ratioCeiling: ceiling.tasksPerSecond / b.tasksPerSecond }),
          startMs: o.startMs,
          discoveryMs: o.discoveryMs
        }
        rows.push(row)
        console.log(
          `${kind === 'large' ? '110 KB' : 'empty'} items, ${String(n).padStart(2)} workers: BullMQ ${b.tasksPerSecond.toFixed(0)} jobs/s; openbatch ` +
            `${o.tasksPerSecond.toFixed(0)} items/s at 1 per task (${row.ratio.toFixed(2)}×, workers found in ${o.discoveryMs.toFixed(0)} ms beforehand, staged and announced in ${o.startMs.toFixed(0)} ms, ${o.checks} tasks re-run, loop p99 ${o.loopP99Ms.toFixed(1)} ms), ` +
            `${p.tasksPerSecond.toFixed(0)} items/s at ${ITEMS_PER_TASK} per task (${row.ratioPacked.toFixed(2)}×, ${p.checks} tasks re-run, loop p99 ${p.loopP99Ms.toFixed(1)} ms); ` +
            (ceiling == null
              ? ''
              : `those bytes over bare libp2p streams: ${ceiling.tasksPerSecond.toFixed(0)} items/s (${(row.ratioCeiling ?? 0).toFixed(2)}×, the transport's ceiling); `) +
            `floor ${FLOORS[kind]}×: ${row.ratioPacked >= FLOORS[kind] ? 'met' : 'NOT met'} packed, ${row.ratio >= FLOORS[kind] ? 'met' : 'NOT met'} at 1 per task`
        )
      }
    }
  } finally {
    redis.child.kill()
    await rm(dir, { recursive: true, force: true })
  }
  const loopP99Ms = Math.max(...rows.map((r) => r.loopP99Ms))
  const floorsMet = rows.every((r) => r.ratioPacked >= r.floor) && loopP99Ms < LOOP_P99_FLOOR_MS
  console.log(
    `requester event-loop p99, worst run: ${loopP99Ms.toFixed(1)} ms (floor < ${LOOP_P99_FLOOR_MS}); floors ${floorsMet ? 'met' : 'NOT met'}`
  )
  console.log(JSON.stringify({ bench: 'dispatch', capacity: CAPACITY, cores: availableParallelism(), rows, loopP99Ms, floorsMet }))
}
