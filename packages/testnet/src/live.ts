/**
 * The live engine: a scenario's peers as real openbatch peers (`createPeer` of @openbatch/node) in
 * one process on libp2p's memory transport — real Noise, yamux, kad-dht, gossipsub, the work
 * protocol, verification and fraud proofs, in real time. Workers run a simulated backend: it
 * reads each task's input, computes a fixed function of it after a service time drawn around the
 * group's, and lets the group's behaviour (the adversary library) decide what is sent.
 *
 * What the report measures here is what the real peers did: verdicts and fraud proofs from the
 * requesters, receipts from the workers (double credits), announcement delivery delays as the
 * workers' gossipsub delivered them, and DHT hops of lookups made by real peers. Timings are wall
 * clock, so a live report is not byte-identical run to run; the simulator's is.
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { seededRandom } from '@openbatch/core'
import type { InferenceBackend, ModelInfo, RunResult } from '@openbatch/inference'
import {
  announcedAddresses,
  CapacityPublisher,
  createPeer,
  findWorkers,
  JobAnnouncer,
  type OpenbatchPeer,
  publishFraudProof,
  RequesterService,
  SqliteJobStore,
  WorkerService,
  WorkServer
} from '@openbatch/node'
import {
  createJobAnnouncement,
  DType,
  deriveJobId,
  deriveTaskId,
  float32Tensor,
  jobsTopic,
  modelCid,
  open,
  peerIdBytes,
  STATEMENTS,
  seal,
  sha256,
  type TaskResult,
  type Tensor,
  tensorSetDigest,
  toHex
} from '@openbatch/protocol'
import { BEHAVIOURS, type Behaviour, unitHash } from './adversaries/index.js'
import type { DhtReport } from './dht.js'
import type { GroupSpec, JobSpec, Scenario } from './scenario.js'
import { type GroupReport, type Report, steadyState } from './simulate.js'

/** Values in each task's output (as in the simulator). */
const OUTPUT_SIZE = 4
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
   * 127.0.0.1 (still one process). @default 'memory'
   */
  transport?: 'memory' | 'tcp'
  /**
   * Where requesters keep jobs, inputs and results: in `memory`, or in `sqlite` files (a temporary
   * directory per requester, removed at the end), as a peer with a `dataDir` does. @default 'memory'
   */
  store?: 'memory' | 'sqlite'
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

/** The model every scenario job uses: a CID of fixed bytes (no worker loads it: the backend is simulated). */
const MODEL_CID = modelCid(new TextEncoder().encode('openbatch testnet model v1'))
const MODEL = MODEL_CID.toString()
const MODEL_BYTES = MODEL_CID.bytes

/** A task's input carries its key: the job's number and the task's index. */
function taskInput(job: number, task: number): Tensor[] {
  return [float32Tensor('x', [1, 4], [job, task, 0, 0])]
}

function* inputsOf(job: number, tasks: number): Generator<Tensor[]> {
  for (let i = 0; i < tasks; i++) {
    yield taskInput(job, i)
  }
}

function honestValues(key: string): number[] {
  return Array.from({ length: OUTPUT_SIZE }, (_, i) => unitHash(`${key}:${i}`) * 2 - 1)
}

const INFO: ModelInfo = {
  model: MODEL,
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: [1, 4] }],
  outputs: [{ name: 'y', dtype: DType.FLOAT32, shape: [1, OUTPUT_SIZE] }],
  batchable: false,
  sizeBytes: 0
}

interface LiveWorker {
  name: string
  group: GroupSpec
  behaviour: Behaviour
  node: OpenbatchPeer
  service: WorkerService
  capacity: CapacityPublisher
  identitiesLeft: number
  stopped: boolean
}

/** What happened, kept across every peer of the run (one process: one ledger). */
class Ledger {
  /** `${worker}|${key}` of every faked answer sent. */
  readonly faked = new Set<string>()
  readonly fakedBy = new Set<string>()
  readonly groupOf = new Map<string, string>()
  readonly results = new Map<string, { results: number; faked: number }>()
  readonly receipts = new Set<string>()
  doubleCredits = 0
  runs = 0
  /** Forged fraud proofs published, and acceptances of a proof against a worker that never faked (by any peer). */
  forgedProofs = 0
  falseProofsAccepted = 0
  readonly announcementDelays: number[] = []
  /** When each receipt (an accepted run) arrived. */
  readonly runTimes: number[] = []
}

/** The simulated inference backend of one live worker: real inputs in, its behaviour's outputs out. */
class SimulatedBackend implements InferenceBackend {
  private chain: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly worker: () => string,
    private readonly group: GroupSpec,
    private readonly behaviour: Behaviour,
    private readonly random: () => number,
    private readonly ledger: Ledger
  ) {}

  async describe(): Promise<ModelInfo> {
    return INFO
  }

  run(_model: string, inputs: Tensor[], options: { signal?: AbortSignal } = {}): Promise<RunResult> {
    // One task after another, as the simulator's workers run them.
    const next = this.chain.then(() => this.runOne(inputs, options.signal))
    this.chain = next.catch(() => {})
    return next
  }

  private async runOne(inputs: Tensor[], signal?: AbortSignal): Promise<RunResult> {
    const input = inputs[0] as Tensor
    const view = new DataView(input.data.buffer, input.data.byteOffset, input.data.byteLength)
    const key = `${view.getFloat32(0, true)}:${view.getFloat32(4, true)}`
    const serviceMs = this.group.serviceMs * (this.behaviour.slowdown ?? 1) * -Math.log(1 - this.random())
    await sleep(serviceMs, signal)
    const answer = this.behaviour.respond(key, honestValues(key), this.random)
    if (answer == null) {
      // A lease hoarder: it holds the task until it is stopped.
      await sleep(Number.POSITIVE_INFINITY, signal)
      throw new Error('unreachable')
    }
    const worker = this.worker()
    const counts = this.ledger.results.get(this.group.id) ?? { results: 0, faked: 0 }
    counts.results++
    if (answer.faked) {
      counts.faked++
      this.ledger.faked.add(`${worker}|${key}`)
      this.ledger.fakedBy.add(worker)
    }
    this.ledger.results.set(this.group.id, counts)
    return {
      outputs: [float32Tensor('y', [1, OUTPUT_SIZE], answer.values)],
      profile: { runtime: 'testnet', provider: 'simulated', device: 'none', intraOpThreads: 1, graphOptimization: 'none', batchSize: 1 },
      durationUs: Math.round(serviceMs * 1000)
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined
    function done() {
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    function abort() {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })
}

/** Runs a scenario with real peers in this process and reports what happened. */
export async function runLive(input: Scenario, options: LiveOptions = {}): Promise<Report> {
  const scenario = options.peers == null ? input : scaleScenario(input, options.peers)
  const seed = options.seed ?? scenario.seed
  const random = seededRandom(seed)
  const ledger = new Ledger()
  const started = Date.now()
  const nodes: OpenbatchPeer[] = []
  const workers: LiveWorker[] = []
  const byPeer = new Map<string, LiveWorker>()
  let names = 0
  const cleanups: (() => Promise<void>)[] = []
  const timers: ReturnType<typeof setTimeout>[] = []

  const newNode = async (bootstrap?: string): Promise<OpenbatchPeer> => {
    const tcp = options.transport === 'tcp'
    const node = await createPeer({
      transports: [tcp ? 'tcp' : 'memory'],
      listen: [tcp ? '/ip4/127.0.0.1/tcp/0' : `/memory/testnet-${seed}-${names++}`],
      mdns: false,
      // A crowd in one process (see PeerConfig): every peer dials from the same host, and an
      // overloaded process fails pings of healthy connections (memory ones cannot die silently,
      // loopback ones die with their process).
      inboundConnectionsPerSecond: 1000,
      connectionMonitor: false
    })
    await node.start()
    if (bootstrap != null) {
      await node.libp2p.dial(multiaddr(bootstrap), { signal: AbortSignal.timeout(30_000) })
    }
    nodes.push(node)
    // Every peer checks every proof itself (§7.5): one it accepts against a worker that never faked
    // is a false accusation that got through (a forger's, or a flaw).
    node.onFraudProof((proof) => {
      if (!ledger.fakedBy.has(proof.accused.signer.toString())) {
        ledger.falseProofsAccepted++
      }
    })
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
    /** The signed announcement (forgers cite it). */
    envelope?: Uint8Array
  }[] = []
  let fraudProofs = 0
  let falseAccusations = 0
  const fraudByWorker = new Map<string, number>()
  const convictedAt = new Map<string, number>()
  let bootstrap: string | undefined
  let firstJobAt = Number.POSITIVE_INFINITY

  for (const spec of scenario.requesters) {
    const node = await newNode(bootstrap)
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
          fraudProofs++
          fraudByWorker.set(f.accused, (fraudByWorker.get(f.accused) ?? 0) + 1)
          if (!ledger.fakedBy.has(f.accused)) {
            falseAccusations++
          }
          if (!convictedAt.has(f.accused)) {
            convictedAt.set(f.accused, Date.now())
            const w = byPeer.get(f.accused)
            if (w != null && w.group.behaviour === 'sybil' && w.identitiesLeft > 0 && !w.stopped) {
              // A convicted sybil comes back under a new identity.
              void respawn(w)
            }
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

  // ── workers ─────────────────────────────────────────────────────────────────────────────
  const startWorker = async (group: GroupSpec, identitiesLeft?: number): Promise<LiveWorker> => {
    const behaviour = (BEHAVIOURS[group.behaviour] as (p: typeof group.params) => Behaviour)(group.params)
    const rnd = seededRandom((seed ^ (unitHash(`${group.id}:${workers.length}`) * 4294967296)) >>> 0)
    const node = await newNode(bootstrap)
    const name = node.peerId.toString()
    const backend = new SimulatedBackend(() => name, group, behaviour, rnd, ledger)
    const service = new WorkerService(node, {
      backend,
      models: [MODEL],
      capacity: group.capacity,
      onReceipt: (receipt) => {
        void open(STATEMENTS.receipt, receipt).then(({ message }) => {
          const key = `${toHex(message.jobId)}|${toHex(message.taskId)}|${name}`
          ledger.runs++
          ledger.runTimes.push(Date.now())
          if (ledger.receipts.has(key)) {
            ledger.doubleCredits++
          }
          ledger.receipts.add(key)
        })
      }
    })
    service.start()
    const capacity = new CapacityPublisher(node, {
      devices: [],
      models: [{ model: MODEL_BYTES, itemsPerSecond: 1000 / group.serviceMs, maxBatch: group.capacity, pricePerItem: 0n }]
    })
    void capacity.start().catch(() => {})
    const topic = jobsTopic(MODEL_BYTES)
    // Announcements as gossip delivered them to this worker: the delay from their issue time.
    node.libp2p.services.pubsub.addEventListener('message', (evt) => {
      if (evt.detail.topic !== topic) {
        return
      }
      void open(STATEMENTS.job, evt.detail.data)
        .then(({ message }) => ledger.announcementDelays.push(Date.now() - Number(message.issuedAtMs)))
        .catch(() => {})
    })
    const w: LiveWorker = {
      name,
      group,
      behaviour,
      node,
      service,
      capacity,
      identitiesLeft: identitiesLeft ?? Number(group.params.identities ?? 5) - 1,
      stopped: false
    }
    if (behaviour.forgeEveryS != null) {
      const every = behaviour.forgeEveryS * 1000
      const forge = () => {
        if (w.stopped) {
          return
        }
        const job = jobs.find((j) => j.envelope != null && !j.fake)
        const victims = workers.filter((v) => v !== w && !v.stopped)
        const victim = victims[Math.floor(rnd() * victims.length)]
        if (job?.envelope != null && victim != null) {
          ledger.forgedProofs++
          void forgeProof(node, job.envelope, job.seq, victim.node.peerId.toMultihash().bytes).catch(() => {})
        }
        timers.push(setTimeout(forge, every))
      }
      timers.push(setTimeout(forge, every))
    }
    ledger.groupOf.set(name, group.id)
    workers.push(w)
    byPeer.set(name, w)
    return w
  }
  const stopWorker = async (w: LiveWorker, graceful: boolean) => {
    if (w.stopped) {
      return
    }
    w.stopped = true
    w.capacity.stop()
    if (graceful) {
      await w.service.stop(2000)
      await w.node.stop(2000)
    } else {
      // A crash: the connections drop, the tasks held are never returned.
      await w.service.stop(0)
      await w.node.stop(0)
    }
  }
  const respawn = async (w: LiveWorker) => {
    await stopWorker(w, false)
    await startWorker(w.group, w.identitiesLeft - 1)
  }

  const pending: GroupSpec[] = scenario.groups.flatMap((g) => Array.from({ length: g.count }, () => g))
  for (let i = 0; i < pending.length; i += START_BATCH) {
    await Promise.all(pending.slice(i, i + START_BATCH).map((g) => startWorker(g)))
  }
  const startS = (Date.now() - started) / 1000

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
      // The spec's zero = default rule (§3.3): what the scenario leaves out is the default.
      verification: {
        initialRate: spec.policy.initialRate ?? 0,
        minRate: spec.policy.minRate ?? 0,
        trustHorizon: spec.policy.trustHorizon ?? 0,
        canaryRate: spec.policy.canaryRate ?? 0,
        penalty: 0n,
        cost: 0n,
        agreement: []
      },
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
    job.envelope = await seal(STATEMENTS.job, announcement, r.node.privateKey)
    if (r.service != null) {
      const store = r.store
      if (store != null) {
        // Staged in SQLite as the SDK stages a batch: inputs streamed in, then read back per task.
        const envelope = job.envelope
        await store.stageJob(jobId, spec.leaseMs, inputsOf(jobSeq, spec.tasks), async () => envelope)
      }
      const added = await r.service.addJob({
        announcement: job.envelope,
        inputs: store == null ? (i) => taskInput(jobSeq, i) : (i) => store.inputs(jobId, i),
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
  const cut = new Set<LiveWorker>()
  for (const e of scenario.timeline) {
    timers.push(
      setTimeout(() => {
        const members = workers.filter((w) => w.group.id === e.group && !w.stopped)
        switch (e.event) {
          case 'join':
            for (let k = 0; k < (e.count ?? 0); k++) {
              const g = scenario.groups.find((x) => x.id === e.group) as GroupSpec
              void startWorker(g)
            }
            break
          case 'leave':
          case 'crash':
            for (const w of members.slice(0, e.count)) {
              void stopWorker(w, e.event === 'leave')
            }
            break
          case 'partition':
            // Cut off from every requester: the connections close and are refused both ways.
            for (const w of members.slice(0, e.count)) {
              cut.add(w)
              for (const r of requesters) {
                void w.node.libp2p.hangUp(r.node.peerId).catch(() => {})
              }
            }
            break
          case 'heal':
            for (const w of [...cut]) {
              if (e.group == null || w.group.id === e.group) {
                cut.delete(w)
              }
            }
            break
          case 'churn': {
            const until = (e.until ?? 0) * 1000
            const churn = (w: LiveWorker) => {
              const session = -Math.log(1 - random()) * (e.sessionS ?? 60) * 1000
              if (Date.now() - started + session > until) {
                return
              }
              timers.push(
                setTimeout(async () => {
                  await stopWorker(w, false)
                  churn(await startWorker(w.group))
                }, session)
              )
            }
            for (const w of members) {
              churn(w)
            }
            break
          }
        }
      }, e.at * 1000)
    )
  }
  // The partition's cut: requesters refuse the cut workers' streams (connection gater of a live
  // node cannot change, so the requesters drop the workers' connections as they open).
  for (const r of requesters) {
    r.node.libp2p.addEventListener('connection:open', (evt) => {
      const w = byPeer.get(evt.detail.remotePeer.toString())
      if (w != null && cut.has(w)) {
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
      peers: nodes.length
    })
  }, 1000)
  const served = scenario.requesters.flatMap((r, i) => r.jobs.map((_, k) => ({ unresponsive: r.unresponsive, i, k })))
  const realJobs = running.filter((_, n) => !(served[n]?.unresponsive ?? false))
  // The duration's timer is cleared when the jobs end first: nothing may keep the process alive.
  const ran = new AbortController()
  await Promise.race([Promise.all(realJobs), sleep(scenario.duration * 1000, ran.signal).catch(() => {})])
  ran.abort()
  clearInterval(progress)
  const endedAt = Date.now()

  // ── DHT hops measured on real peers ─────────────────────────────────────────────────────
  const hops = await measureHops(
    nodes.filter((n) => n.libp2p.status === 'started'),
    options.dhtLookups ?? 50,
    random
  )

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
  const groups: Record<string, GroupReport> = {}
  for (const g of scenario.groups) {
    const members = workers.filter((w) => w.group.id === g.id)
    const counts = ledger.results.get(g.id) ?? { results: 0, faked: 0 }
    const convicted = members.filter((w) => convictedAt.has(w.name))
    const first = Math.min(...convicted.map((w) => convictedAt.get(w.name) as number))
    const trust = new Array<number>(10).fill(0)
    for (const w of members) {
      const score = firstBook == null ? 0.5 : firstBook.score(w.name)
      const bin = Math.min(9, Math.floor(score * 10))
      trust[bin] = (trust[bin] as number) + 1
    }
    groups[g.id] = {
      behaviour: g.behaviour,
      workers: members.length,
      results: counts.results,
      faked: counts.faked,
      fraudProofs: members.reduce((n, w) => n + (fraudByWorker.get(w.name) ?? 0), 0),
      convicted: convicted.length,
      // A sybil's identities are its members; the share convicted counts each identity.
      detected: members.length === 0 ? 0 : convicted.length / members.length,
      firstDetectionS: convicted.length === 0 ? null : round((first - firstJobAt) / 1000),
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
      overhead: tasks === 0 ? 0 : round(ledger.runs / tasks),
      fraudProofs,
      falseAccusations,
      wrongAccepted,
      verdicts,
      forgedProofs: ledger.forgedProofs,
      falseProofsAccepted: ledger.falseProofsAccepted
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
    runs:
      buckets === 0
        ? []
        : ledger.runTimes.reduce((series, t) => {
            const b = Math.max(0, Math.min(buckets - 1, Math.floor((t - firstJobAt) / BUCKET_MS)))
            series[b] = (series[b] as number) + 1
            return series
          }, new Array<number>(buckets).fill(0)),
    queueDepth,
    announcementDelayMs: { p50: quantile(0.5), p99: quantile(0.99), n: delays.length },
    dht: hops,
    live: { peers: nodes.length, startS: round(startS), peakRssBytes: process.memoryUsage().rss }
  }

  // ── stop everything ─────────────────────────────────────────────────────────────────────
  for (const t of timers) {
    clearTimeout(t)
  }
  for (const r of requesters) {
    r.announcer.stop()
  }
  await Promise.all(workers.map((w) => stopWorker(w, false)))
  for (const c of cleanups) {
    await c()
  }
  await Promise.all(requesters.map((r) => r.node.stop(0)))
  return report
}

const round = (x: number) => Math.round(x * 1000) / 1000

/** Random-key lookups by real peers: the hops to the closest peer found (see the module docs). */
async function measureHops(nodes: OpenbatchPeer[], lookups: number, random: () => number): Promise<DhtReport> {
  const histogram: number[] = []
  const samples: number[] = []
  const rounds: number[] = []
  let exact = 0
  // kad-dht's keyspace: SHA-256 of a peer id's multihash, and of a lookup's key.
  const ids = nodes.map((n) => ({ id: n.peerId.toString(), kad: sha256(n.peerId.toMultihash().bytes) }))
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
    const found = nearest(ids.filter((x) => finals.includes(x.id)))
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
    nodes: nodes.length,
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

/**
 * A forged fraud proof (the `forger` behaviour): task 0 of `job`, a made-up wrong result in the
 * victim's name and an honest one in the forger's, both signed by the forger (it has no other key),
 * published on the fraud topic. §7.5 validation must reject it at every peer.
 */
async function forgeProof(forger: OpenbatchPeer, announcement: Uint8Array, jobSeq: number, victim: Uint8Array): Promise<void> {
  const { message: job } = await open(STATEMENTS.job, announcement)
  const inputs = taskInput(jobSeq, 0)
  const inputDigest = tensorSetDigest(inputs)
  const result = (worker: Uint8Array, values: number[]): TaskResult => {
    const outputs = [float32Tensor('y', [1, OUTPUT_SIZE], values)]
    return {
      taskId: deriveTaskId(job.jobId, 0, job.model, inputDigest),
      jobId: job.jobId,
      index: 0n,
      model: job.model,
      inputDigest,
      outputDigest: tensorSetDigest(outputs),
      outputs,
      worker: worker as Uint8Array<ArrayBuffer>,
      startedAtMs: BigInt(Date.now()),
      durationUs: 1000n
    }
  }
  const honest = honestValues(`${jobSeq}:0`)
  const accused = await seal(
    STATEMENTS.result,
    result(
      victim,
      honest.map((x) => -x)
    ),
    forger.privateKey
  )
  const agreeing = await seal(STATEMENTS.result, result(peerIdBytes(forger.peerId), honest), forger.privateKey)
  const proof = await seal(
    STATEMENTS.fraud,
    {
      announcement: announcement as Uint8Array<ArrayBuffer>,
      accused,
      agreeing: [agreeing],
      inputs,
      reporter: peerIdBytes(forger.peerId),
      issuedAtMs: BigInt(Date.now())
    },
    forger.privateKey
  )
  await publishFraudProof(forger, proof)
}
