/**
 * The live engine: a scenario's peers as real openbatch peers (`createOpenbatchPeer` of @openbatch/node) —
 * real Noise, yamux, kad-dht, gossipsub, the work protocol, verification and fraud proofs, in real
 * time — on libp2p's memory transport in one process, or on TCP loopback, the workers optionally
 * spread over child processes (`processes`). Workers run a simulated backend (live-workers.ts): it
 * reads each task's input, computes a fixed function of it after a service time drawn around the
 * group's, and lets the group's behaviour (the adversary library) decide what is sent.
 *
 * What the report measures here is what the real peers did: verdicts and fraud proofs from the
 * requesters, receipts from the workers (double credits), announcement delivery delays as the
 * workers' gossipsub delivered them, and DHT hops of lookups made by real peers. Timings are wall
 * clock, so a live report is not byte-identical run to run; the simulator's is.
 */

import { type ChildProcess, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { peerIdFromString } from '@libp2p/peer-id'
import { seededRandom } from '@openbatch/core'
import {
  announcedAddresses,
  findWorkers,
  JobAnnouncer,
  type OpenbatchPeer,
  RequesterService,
  SqliteJobStore,
  sleep,
  WorkServer
} from '@openbatch/node'
import { createJobAnnouncement, deriveJobId, peerIdBytes, STATEMENTS, seal, sha256, type Tensor, toHex } from '@openbatch/protocol'
import type { DhtReport } from './dht.js'
import type { FromChild, ToChild } from './live-child.js'
import { createLiveNode, MODEL, MODEL_BYTES, taskInput, WorkerHost, type WorkerSink } from './live-workers.js'
import { type GroupSpec, type JobSpec, jobPolicy, type Scenario } from './scenario.js'
import { type GroupReport, type Report, steadyState } from './simulate.js'

/** Width of the throughput buckets in the report (ms). */
const BUCKET_MS = 10_000
/** Peers started at once. */
const START_BATCH = 10

export interface LiveOptions {
  seed?: number
  /**
   * Scale the scenario to about this many peers: every group's count is scaled in proportion (at
   * least one each); requesters stay as they are.
   */
  peers?: number
  /** Called about once a second with what is settled so far. */
  onProgress?: (p: { settled: number; tasks: number; elapsedS: number; peers: number }) => void
  /** Random DHT lookups made by real peers for the hop histogram. @default 50 */
  dhtLookups?: number
  /**
   * How the peers connect: libp2p's in-process `memory` transport, or real `tcp` sockets on
   * 127.0.0.1. @default 'memory' in one process, 'tcp' with `processes` > 1
   */
  transport?: 'memory' | 'tcp'
  /**
   * Where requesters keep jobs, inputs and results: in `memory`, or in `sqlite` files (a temporary
   * directory per requester, removed at the end), as a peer with a `dataDir` does. @default 'memory'
   */
  store?: 'memory' | 'sqlite'
  /**
   * Processes the peers run in: with more than 1, the requesters stay in this one and the workers
   * are shared out among `processes − 1` child processes over TCP loopback (more cores). @default 1
   */
  processes?: number
}

/** A scenario with its groups scaled so that workers + requesters ≈ `peers`. */
export function scaleScenario(scenario: Scenario, peers: number): Scenario {
  const workers = scenario.groups.reduce((n, g) => n + g.count, 0)
  const target = Math.max(scenario.groups.length, peers - scenario.requesters.length)
  const factor = target / workers
  const groups = scenario.groups.map((g) => ({ ...g, count: Math.max(1, Math.round(g.count * factor)) }))
  // The largest group takes the rounding, so the total is the one asked for.
  const diff = target - groups.reduce((n, g) => n + g.count, 0)
  const largest = groups.reduce((a, b) => (b.count > a.count ? b : a))
  largest.count = Math.max(1, largest.count + diff)
  const timeline = scenario.timeline.map((e) => (e.count == null ? e : { ...e, count: Math.max(1, Math.round(e.count * factor)) }))
  return { ...scenario, groups, timeline }
}

function* inputsOf(job: number, tasks: number): Generator<Tensor[]> {
  for (let i = 0; i < tasks; i++) {
    yield taskInput(job, i)
  }
}

/** What happened, kept across every peer of the run: workers report here directly or over IPC. */
class Ledger implements WorkerSink {
  /** `${worker}|${key}` of every faked answer sent. */
  readonly faked = new Set<string>()
  readonly fakedBy = new Set<string>()
  /** Every worker that ran (sybils' later identities included): its group. */
  readonly groupOf = new Map<string, string>()
  readonly results = new Map<string, { results: number; faked: number }>()
  readonly receipts = new Set<string>()
  doubleCredits = 0
  forgedProofs = 0
  /** Every fraud proof any peer accepted: its accused and reporter (judged against `fakedBy` at the end). */
  readonly accepted: { accused: string; reporter: string }[] = []
  readonly announcementDelays: number[] = []
  /** When each receipt (an accepted run) arrived. */
  readonly runTimes: number[] = []

  /** Workers stopped (left, crashed, replaced). */
  readonly stopped = new Set<string>()

  registered(name: string, group: string): void {
    this.groupOf.set(name, group)
  }

  gone(name: string): void {
    this.stopped.add(name)
  }

  result(group: string, worker: string, key: string, faked: boolean): void {
    const counts = this.results.get(group) ?? { results: 0, faked: 0 }
    counts.results++
    if (faked) {
      counts.faked++
      this.faked.add(`${worker}|${key}`)
      this.fakedBy.add(worker)
    }
    this.results.set(group, counts)
  }

  receipt(key: string): void {
    this.runTimes.push(Date.now())
    if (this.receipts.has(key)) {
      this.doubleCredits++
    }
    this.receipts.add(key)
  }

  delay(ms: number): void {
    this.announcementDelays.push(ms)
  }

  proofAccepted(accused: string, reporter: string): void {
    this.accepted.push({ accused, reporter })
  }

  forged(): void {
    this.forgedProofs++
  }

  /** Applies a child process's report. */
  apply(m: FromChild): void {
    if (m.type === 'registered') {
      this.registered(m.name, m.group)
    } else if (m.type === 'gone') {
      this.gone(m.name)
    } else if (m.type === 'result') {
      this.result(m.group, m.worker, m.key, m.faked)
    } else if (m.type === 'receipt') {
      this.receipt(m.key)
    } else if (m.type === 'delay') {
      this.delay(m.ms)
    } else if (m.type === 'proofAccepted') {
      this.proofAccepted(m.accused, m.reporter)
    } else if (m.type === 'forged') {
      this.forged()
    }
  }
}

/** A child process running a share of the workers. */
interface Child {
  process: ChildProcess
  ready: Promise<void>
  stopped: Promise<number>
}

/** Where the child script is: next to this module (not in the release bundle, which runs one process). */
const CHILD_SCRIPT = fileURLToPath(new URL('./live-child.js', import.meta.url))

function startChild(index: number, ledger: Ledger, send: ToChild): Child {
  if (!existsSync(CHILD_SCRIPT)) {
    throw new Error(`processes > 1 needs ${CHILD_SCRIPT} (the release bundle runs the live engine in one process)`)
  }
  const child = fork(CHILD_SCRIPT, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ready = Promise.withResolvers<void>()
  const stopped = Promise.withResolvers<number>()
  child.on('message', (m: FromChild) => {
    if (m.type === 'ready') {
      ready.resolve()
    } else if (m.type === 'stopped') {
      stopped.resolve(m.rssBytes)
    } else if (m.type === 'failed') {
      ready.reject(new Error(`live engine child ${index}: ${m.message}`))
    } else {
      ledger.apply(m)
    }
  })
  child.on('exit', (code) => {
    ready.reject(new Error(`live engine child ${index} exited (${code}) before its workers started`))
    stopped.resolve(0)
  })
  child.send(send)
  return { process: child, ready: ready.promise, stopped: stopped.promise }
}

/** Runs a scenario with real peers and reports what happened. */
export async function runLive(input: Scenario, options: LiveOptions = {}): Promise<Report> {
  const scenario = options.peers == null ? input : scaleScenario(input, options.peers)
  const seed = options.seed ?? scenario.seed
  const processes = options.processes ?? 1
  if (!(Number.isInteger(processes) && processes >= 1)) {
    throw new RangeError(`processes must be an integer ≥ 1, got ${processes}`)
  }
  if (processes > 1 && options.transport === 'memory') {
    throw new RangeError('the memory transport connects peers of one process only; with processes > 1 use tcp')
  }
  const transport = options.transport ?? (processes > 1 ? 'tcp' : 'memory')
  const random = seededRandom(seed)
  const ledger = new Ledger()
  const started = Date.now()
  /** Peers of this process (the DHT hops are measured from them). */
  const nodes: OpenbatchPeer[] = []
  const cleanups: (() => Promise<void>)[] = []
  const timers: ReturnType<typeof setTimeout>[] = []

  const newNode = async (name: string, bootstrap?: string): Promise<OpenbatchPeer> => {
    const node = await createLiveNode(transport, `testnet-${seed}-${name}`, bootstrap)
    nodes.push(node)
    // Every peer checks every proof itself (§7.5): one accepted against a worker that never faked
    // is a false accusation that got through (a forger's, or a flaw).
    node.onFraudProof((proof, reporter) => ledger.proofAccepted(proof.accused.signer.toString(), reporter.toString()))
    return node
  }

  // ── requesters first: the first is everyone's bootstrap peer ─────────────────────────────
  interface LiveRequester {
    id: string
    node: OpenbatchPeer
    service?: RequesterService
    announcer: JobAnnouncer
    store?: SqliteJobStore
  }
  const requesters: LiveRequester[] = []
  const jobs: {
    id: string
    seq: number
    requester: LiveRequester
    spec: JobSpec
    fake: boolean
    startedAt: number
    endedAt?: number
    ended?: string
    verdicts: Map<number, { worker: string; status: string }>
    settledAt: number[]
  }[] = []
  /** The newest served job's signed announcement (forgers cite it). */
  let latestJob: { envelope: Uint8Array; seq: number } | undefined
  const accused: string[] = []
  const fraudByWorker = new Map<string, number>()
  const convictedAt = new Map<string, number>()
  let bootstrap: string | undefined
  let firstJobAt = Number.POSITIVE_INFINITY
  let host: WorkerHost | undefined
  const children: Child[] = []
  /** A convicted sybil comes back under a new identity (in the process that runs it). */
  const convicted = (name: string) => {
    if (scenario.groups.find((g) => g.id === ledger.groupOf.get(name))?.behaviour !== 'sybil') {
      return
    }
    void host?.convicted(name)
    for (const c of children) {
      c.process.send({ type: 'convicted', name } satisfies ToChild)
    }
  }

  /** Each group's shared network, where it has one. */
  const networks = new Map(scenario.groups.flatMap((g) => (g.network == null ? [] : [[g.id, g.network] as const])))
  for (const [i, spec] of scenario.requesters.entries()) {
    const node = await newNode(`r${i}`, bootstrap)
    bootstrap ??= node.addresses[0]
    const r: LiveRequester = { id: spec.id, node, announcer: new JobAnnouncer(node) }
    if (!spec.unresponsive) {
      let store: SqliteJobStore | undefined
      if (options.store === 'sqlite') {
        const dir = await mkdtemp(join(tmpdir(), 'openbatch-testnet-'))
        store = new SqliteJobStore(join(dir, 'jobs.db'))
        r.store = store
        cleanups.push(async () => {
          store?.close()
          await rm(dir, { recursive: true, force: true })
        })
      }
      const service = new RequesterService(node, {
        ...(store == null ? {} : { store }),
        // The scenario's networks (§7.2), as the simulator has them: a group's `network`, else one
        // per worker — every live peer shares 127.0.0.1.
        networkOf: (peer) => {
          const name = peer.toString()
          return networks.get(ledger.groupOf.get(name) ?? '') ?? `net-${name}`
        },
        onVerdict: (v) => {
          const job = jobs.find((j) => j.id === v.jobId)
          if (job == null) {
            return
          }
          if (!job.verdicts.has(v.verdict.task)) {
            job.settledAt.push(Date.now())
          }
          job.verdicts.set(v.verdict.task, { worker: v.verdict.worker, status: v.verdict.status })
        },
        onFraud: (f) => {
          accused.push(f.accused)
          fraudByWorker.set(f.accused, (fraudByWorker.get(f.accused) ?? 0) + 1)
          if (!convictedAt.has(f.accused)) {
            convictedAt.set(f.accused, Date.now())
            convicted(f.accused)
          }
        }
      })
      const server = new WorkServer(node, service)
      await server.start()
      r.service = service
      cleanups.push(async () => {
        await server.stop()
        service.stop()
      })
    }
    requesters.push(r)
  }
  const boot = bootstrap as string

  // ── workers: in this process, or shared out among child processes ──────────────────────────
  if (processes === 1) {
    const h = new WorkerHost({
      seed,
      transport,
      prefix: `testnet-${seed}-w`,
      bootstrap: boot,
      sink: ledger,
      job: () => latestJob,
      onNode: (n) => nodes.push(n)
    })
    host = h
    const pending: GroupSpec[] = scenario.groups.flatMap((g) => Array.from({ length: g.count }, () => g))
    for (let i = 0; i < pending.length; i += START_BATCH) {
      await Promise.all(pending.slice(i, i + START_BATCH).map((g) => h.start(g)))
    }
  } else {
    const k = processes - 1
    for (let c = 0; c < k; c++) {
      // Each group's members are shared out as evenly as they go.
      const groups = scenario.groups.map((g, group) => ({ group, count: share(g.count, c, k) })).filter((g) => g.count > 0)
      children.push(startChild(c, ledger, { type: 'init', index: c, seed, scenario, bootstrap: boot, groups }))
    }
    cleanups.push(async () => {
      for (const c of children) {
        c.process.kill()
      }
    })
    try {
      await Promise.all(children.map((c) => c.ready))
    } catch (err) {
      for (const c of cleanups) {
        await c()
      }
      await Promise.all(requesters.map((r) => r.node.stop(0)))
      throw err
    }
  }
  const startS = (Date.now() - started) / 1000
  const peerCount = () => ledger.groupOf.size + requesters.length

  // ── jobs ────────────────────────────────────────────────────────────────────────────────
  const totalTasks = scenario.requesters.filter((r) => !r.unresponsive).reduce((n, r) => n + r.jobs.reduce((m, j) => m + j.tasks, 0), 0)
  let seq = 0
  const submit = async (r: LiveRequester, spec: JobSpec, fake: boolean) => {
    const jobSeq = ++seq
    // Wait (up to 30 s) until the DHT finds a worker of the model, as the SDK does.
    const search = AbortSignal.timeout(30_000)
    try {
      for await (const _ of findWorkers(r.node, MODEL, { signal: search, limit: 1 })) {
        break
      }
    } catch {
      // none found in time: the job is announced anyway
    }
    const nonce = new Uint8Array(16)
    new DataView(nonce.buffer).setUint32(0, jobSeq)
    new DataView(nonce.buffer).setUint32(4, seed)
    const jobId = toHex(deriveJobId(peerIdBytes(r.node.peerId), nonce))
    const now = Date.now()
    const announcement = createJobAnnouncement({
      requester: peerIdBytes(r.node.peerId),
      model: MODEL_BYTES,
      taskCount: spec.tasks,
      maxBatch: spec.maxBatch,
      rewardPerTask: 1n,
      now,
      durationMs: spec.deadline * 1000,
      verification: jobPolicy(spec),
      nonce,
      addresses: announcedAddresses(r.node)
    })
    const job = {
      id: jobId,
      seq: jobSeq,
      requester: r,
      spec,
      fake,
      startedAt: now,
      verdicts: new Map(),
      settledAt: [] as number[]
    } as (typeof jobs)[number]
    jobs.push(job)
    firstJobAt = Math.min(firstJobAt, now)
    let done: Promise<unknown>
    const envelope = await seal(STATEMENTS.job, announcement, r.node.privateKey)
    if (r.service != null) {
      latestJob = { envelope, seq: jobSeq }
      for (const c of children) {
        c.process.send({ type: 'job', envelope, seq: jobSeq } satisfies ToChild)
      }
      const store = r.store
      if (store != null) {
        // Staged in SQLite as the SDK stages a batch: inputs streamed in, then read back per task.
        await store.stageJob(jobId, inputsOf(jobSeq, spec.tasks), async () => envelope, {
          policy: r.service.jobPolicy({ leaseMs: spec.leaseMs })
        })
      }
      const added = await r.service.addJob({
        announcement: envelope,
        inputs: store == null ? (i) => taskInput(jobSeq, i) : undefined,
        leaseMs: spec.leaseMs
      })
      done = added.done.then(
        () => {
          job.ended = r.service?.summary(jobId)?.closed === true && job.verdicts.size >= spec.tasks ? 'complete' : 'ended'
          job.endedAt = Date.now()
        },
        (err: Error) => {
          job.ended = err.name
          job.endedAt = Date.now()
        }
      )
    } else {
      // An announcement spammer: it never serves the job.
      done = new Promise(() => {})
    }
    await r.announcer.add(announcement, done)
    return done
  }
  const running: Promise<unknown>[] = []
  for (const [i, spec] of scenario.requesters.entries()) {
    const r = requesters[i] as LiveRequester
    for (const job of spec.jobs) {
      running.push(
        new Promise((resolve) => {
          timers.push(setTimeout(() => resolve(submit(r, job, spec.unresponsive)), job.at * 1000))
        })
      )
    }
  }

  // ── timeline ────────────────────────────────────────────────────────────────────────────
  /** Workers cut off from the requesters by a partition, by name. */
  const cut = new Set<string>()
  for (const [index, e] of scenario.timeline.entries()) {
    timers.push(
      setTimeout(() => {
        if (e.event === 'partition') {
          // Cut off from every requester: the connections close and are refused until the heal.
          const members = [...ledger.groupOf].filter(([name, g]) => g === e.group && !cut.has(name)).map(([name]) => name)
          for (const name of members.slice(0, e.count)) {
            cut.add(name)
            for (const r of requesters) {
              for (const conn of r.node.libp2p.getConnections()) {
                if (conn.remotePeer.toString() === name) {
                  void conn.close().catch(() => {})
                }
              }
            }
          }
        } else if (e.event === 'heal') {
          for (const name of [...cut]) {
            if (e.group == null || ledger.groupOf.get(name) === e.group) {
              cut.delete(name)
            }
          }
        } else {
          host?.apply(e, e.count ?? 0, scenario, random, () => Date.now() - started)
          children.forEach((c, i) => {
            c.process.send({ type: 'timeline', event: index, count: share(e.count ?? 0, i, children.length) } satisfies ToChild)
          })
        }
      }, e.at * 1000)
    )
  }
  // The partition's cut: requesters drop the cut workers' connections as they open (a live node's
  // connection gater cannot change).
  for (const r of requesters) {
    r.node.libp2p.addEventListener('connection:open', (evt) => {
      if (cut.has(evt.detail.remotePeer.toString())) {
        void evt.detail.close().catch(() => {})
      }
    })
  }

  // ── wait for the jobs (or the scenario's duration) ─────────────────────────────────────────
  const progress = setInterval(() => {
    options.onProgress?.({
      settled: jobs.reduce((n, j) => n + j.verdicts.size, 0),
      tasks: totalTasks,
      elapsedS: (Date.now() - started) / 1000,
      peers: peerCount()
    })
  }, 1000)
  const served = scenario.requesters.flatMap((r) => r.jobs.map(() => r.unresponsive))
  const realJobs = running.filter((_, n) => !(served[n] ?? false))
  // The duration's timer is cleared when the jobs end first: nothing may keep the process alive.
  const ran = new AbortController()
  await Promise.race([Promise.all(realJobs), sleep(scenario.duration * 1000, ran.signal).catch(() => {})])
  ran.abort()
  clearInterval(progress)
  const endedAt = Date.now()

  // ── DHT hops measured on real peers ─────────────────────────────────────────────────────
  // From the peers of this process, in a keyspace of every peer that is still running.
  const alive = nodes.filter((n) => n.libp2p.status === 'started')
  const hops = await measureHops(
    alive,
    [...new Set([...alive.map((n) => n.peerId.toString()), ...[...ledger.groupOf.keys()].filter((name) => !ledger.stopped.has(name))])],
    options.dhtLookups ?? 50,
    random
  )

  // ── stop the workers (children report their last figures and memory) ──────────────────────
  for (const t of timers) {
    clearTimeout(t)
  }
  for (const r of requesters) {
    r.announcer.stop()
  }
  await host?.close()
  for (const c of children) {
    c.process.send({ type: 'stop' } satisfies ToChild)
  }
  const waiting = new AbortController()
  const childRss = await Promise.all(
    children.map((c) =>
      Promise.race([
        c.stopped,
        sleep(30_000, waiting.signal).then(
          () => 0,
          () => 0
        )
      ])
    )
  )
  waiting.abort()

  // ── the report ──────────────────────────────────────────────────────────────────────────
  const firstBook = requesters.find((r) => r.service != null)?.node.reputation
  const elapsed = endedAt - Math.min(firstJobAt, endedAt)
  const buckets = Math.max(1, Math.ceil(elapsed / BUCKET_MS))
  const throughput = new Array<number>(buckets).fill(0)
  for (const j of jobs) {
    for (const t of j.settledAt) {
      const b = Math.min(buckets - 1, Math.floor((t - firstJobAt) / BUCKET_MS))
      throughput[b] = (throughput[b] as number) + 1
    }
  }
  let queued = 0
  const queueDepth = throughput.map((settled, b) => {
    const at = firstJobAt + (b + 1) * BUCKET_MS
    const announced = jobs.filter((j) => !j.fake && j.startedAt <= at).reduce((n, j) => n + j.spec.tasks, 0)
    queued += settled
    return announced - queued
  })
  const realJobList = jobs.filter((j) => !j.fake)
  const tasks = realJobList.reduce((n, j) => n + j.spec.tasks, 0)
  const settled = realJobList.reduce((n, j) => n + j.verdicts.size, 0)
  const verdicts: Record<string, number> = {}
  let wrongAccepted = 0
  const wrongByGroup = new Map<string, number>()
  for (const j of realJobList) {
    for (const [task, v] of j.verdicts) {
      verdicts[v.status] = (verdicts[v.status] ?? 0) + 1
      if (ledger.faked.has(`${v.worker}|${j.seq}:${task}`)) {
        wrongAccepted++
        const g = ledger.groupOf.get(v.worker) ?? '?'
        wrongByGroup.set(g, (wrongByGroup.get(g) ?? 0) + 1)
      }
    }
  }
  const forgers = new Set(
    [...ledger.groupOf].filter(([, g]) => scenario.groups.find((x) => x.id === g)?.behaviour === 'forger').map(([name]) => name)
  )
  const groups: Record<string, GroupReport> = {}
  for (const g of scenario.groups) {
    const members = [...ledger.groupOf].filter(([, group]) => group === g.id).map(([name]) => name)
    const counts = ledger.results.get(g.id) ?? { results: 0, faked: 0 }
    const convictedMembers = members.filter((name) => convictedAt.has(name))
    const first = Math.min(...convictedMembers.map((name) => convictedAt.get(name) as number))
    const trust = new Array<number>(10).fill(0)
    for (const name of members) {
      const score = firstBook == null ? 0.5 : firstBook.score(name)
      const bin = Math.min(9, Math.floor(score * 10))
      trust[bin] = (trust[bin] as number) + 1
    }
    groups[g.id] = {
      behaviour: g.behaviour,
      workers: members.length,
      results: counts.results,
      faked: counts.faked,
      fraudProofs: members.reduce((n, name) => n + (fraudByWorker.get(name) ?? 0), 0),
      convicted: convictedMembers.length,
      // A sybil's identities are its members; the share convicted counts each identity.
      detected: members.length === 0 ? 0 : convictedMembers.length / members.length,
      firstDetectionS: convictedMembers.length === 0 ? null : round((first - firstJobAt) / 1000),
      wrongAccepted: wrongByGroup.get(g.id) ?? 0,
      fakeShare: counts.results === 0 ? 0 : round(counts.faked / counts.results),
      sampledShare: null,
      trust,
      detection: []
    }
  }
  const delays = [...ledger.announcementDelays].sort((a, b) => a - b)
  const quantile = (q: number) => (delays.length === 0 ? 0 : (delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] as number))
  const report: Report = {
    scenario: scenario.name,
    seed,
    engine: 'live',
    steady: steadyState(
      realJobList.map((j) => j.settledAt),
      firstJobAt,
      endedAt,
      scenario
    ),
    virtualSeconds: round((endedAt - started) / 1000),
    events: 0,
    totals: {
      tasks,
      settled,
      lost: realJobList.filter((j) => j.ended === 'complete').reduce((n, j) => n + (j.spec.tasks - j.verdicts.size), 0),
      doubleCredits: ledger.doubleCredits,
      overhead: tasks === 0 ? 0 : round(ledger.runTimes.length / tasks),
      fraudProofs: accused.length,
      // Judged at the end: a fraud proof naming a worker that never faked anything in the run.
      falseAccusations: accused.filter((a) => !ledger.fakedBy.has(a)).length,
      wrongAccepted,
      verdicts,
      forgedProofs: ledger.forgedProofs,
      falseProofsAccepted: ledger.accepted.filter((a) => !ledger.fakedBy.has(a.accused)).length,
      forgedProofsAccepted: ledger.accepted.filter((a) => forgers.has(a.reporter)).length
    },
    jobs: jobs.map((j) => ({
      id: j.fake ? `${j.requester.id}/${j.seq} (never served)` : `${j.requester.id}/${j.seq}`,
      tasks: j.spec.tasks,
      settled: j.verdicts.size,
      ended: j.ended ?? (j.fake ? 'never served' : 'running'),
      endedS: j.endedAt == null ? null : round((j.endedAt - j.startedAt) / 1000),
      itemsPerSecond: j.endedAt == null ? 0 : round(j.verdicts.size / Math.max(0.001, (j.endedAt - j.startedAt) / 1000))
    })),
    groups,
    throughput,
    runs: ledger.runTimes.reduce((series, t) => {
      const b = Math.max(0, Math.min(buckets - 1, Math.floor((t - firstJobAt) / BUCKET_MS)))
      series[b] = (series[b] as number) + 1
      return series
    }, new Array<number>(buckets).fill(0)),
    queueDepth,
    announcementDelayMs: { p50: quantile(0.5), p99: quantile(0.99), n: delays.length },
    dht: hops,
    live: {
      peers: peerCount(),
      startS: round(startS),
      peakRssBytes: process.memoryUsage().rss + childRss.reduce((a, b) => a + b, 0),
      processes
    }
  }

  // ── stop the requesters ─────────────────────────────────────────────────────────────────
  for (const c of cleanups) {
    await c()
  }
  await Promise.all(requesters.map((r) => r.node.stop(0)))
  return report
}

/** Child `i` of `k`'s share of `count`. */
function share(count: number, i: number, k: number): number {
  return Math.floor((count * (i + 1)) / k) - Math.floor((count * i) / k)
}

const round = (x: number) => Math.round(x * 1000) / 1000

/** Random-key lookups by real peers: the hops to the closest peer found (see the module docs). */
async function measureHops(nodes: OpenbatchPeer[], everyone: string[], lookups: number, random: () => number): Promise<DhtReport> {
  const histogram: number[] = []
  const samples: number[] = []
  const rounds: number[] = []
  let exact = 0
  // kad-dht's keyspace: SHA-256 of a peer id's multihash, and of a lookup's key.
  const ids = everyone.map((id) => ({ id, kad: sha256(peerIdFromString(id).toMultihash().bytes) }))
  const distance = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < a.length; i++) {
      const d = (a[i] as number) ^ (b[i] as number)
      if (d !== 0) {
        return i * 256 + (255 - d)
      }
    }
    return Number.POSITIVE_INFINITY
  }
  for (let i = 0; i < lookups; i++) {
    const node = nodes[Math.floor(random() * nodes.length)] as OpenbatchPeer
    const key = new Uint8Array(32).map(() => Math.floor(random() * 256))
    const depth = new Map<string, number>()
    const finals: string[] = []
    let deepest = 0
    try {
      for await (const event of node.libp2p.services.dht.getClosestPeers(key, { signal: AbortSignal.timeout(20_000) })) {
        if (event.name === 'PEER_RESPONSE') {
          const d = depth.get(event.from.toString()) ?? 1
          depth.set(event.from.toString(), d)
          deepest = Math.max(deepest, d)
          for (const p of event.closer) {
            const known = depth.get(p.id.toString())
            if (known == null || known > d + 1) {
              depth.set(p.id.toString(), d + 1)
            }
          }
        } else if (event.name === 'FINAL_PEER') {
          finals.push(event.peer.id.toString())
        }
      }
    } catch {
      continue
    }
    if (finals.length === 0) {
      continue
    }
    const target = sha256(key)
    const self = node.peerId.toString()
    const nearest = (list: { id: string; kad: Uint8Array }[]) =>
      list.reduce((a, b) => (distance(b.kad, target) < distance(a.kad, target) ? b : a))
    // The hops to the closest peer the lookup found; exact when it is the network's closest.
    const candidates = ids.filter((x) => finals.includes(x.id))
    if (candidates.length === 0) {
      continue
    }
    const found = nearest(candidates)
    exact += nearest(ids.filter((x) => x.id !== self)).id === found.id ? 1 : 0
    const hops = depth.get(found.id) ?? 1
    rounds.push(deepest)
    samples.push(hops)
    histogram[hops] = (histogram[hops] ?? 0) + 1
  }
  samples.sort((a, b) => a - b)
  const at = (q: number) => (samples.length === 0 ? 0 : (samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number))
  rounds.sort((a, b) => a - b)
  const config = nodes[0]?.config.dht
  return {
    nodes: everyone.length,
    k: config?.kBucketSize ?? 20,
    alpha: config?.alpha ?? 3,
    lookups: samples.length,
    histogram: Array.from(histogram, (n) => n ?? 0),
    median: at(0.5),
    p90: at(0.9),
    roundsMedian: rounds[Math.floor(rounds.length / 2)] ?? 0,
    exact,
    log2N: round(Math.log2(Math.max(2, nodes.length)))
  }
}
