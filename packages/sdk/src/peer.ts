/**
 * The SDK's peer: one object that joins an openbatch network and can submit batches (requester)
 * and, when asked, serve models as a worker. Everything underneath — libp2p, the DHT, gossip,
 * the work protocols, verification, the job store — comes from @openbatch/node and
 * @openbatch/runtime-onnx; this file only composes them.
 */

import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { VerifiedJobSummary } from '@openbatch/core'
import { hostCpuDevice, type InferenceBackend, ModelStore } from '@openbatch/inference'
import {
  ASSIGNMENT_OVERHEAD_BYTES,
  announcedAddresses,
  asError,
  createOpenbatchPeer,
  createWorker,
  DEFAULT_ASSIGNMENT_BYTES,
  discoverWorkers,
  type FraudEvent,
  JobAnnouncer,
  JobCancelledError,
  ModelServer,
  type NetworkReport,
  type OpenbatchPeer,
  type PeerComponents,
  type PeerConfig,
  type ReceiptStore,
  type ReceiptTotals,
  type Reputation,
  RequesterService,
  SqliteJobStore,
  type TransportName,
  taskBytes,
  type WorkerInfo,
  type WorkerJobEvent,
  type WorkerNode,
  WorkServer,
  withDeadline
} from '@openbatch/node'
import {
  createJobAnnouncement,
  DEFAULT_MAX_BATCH,
  type Device,
  deriveJobId,
  ItemMap,
  type ItemPacking,
  MAX_FRAME_BYTES,
  type ModelCapacity,
  open,
  packItems,
  parseModelCid,
  peerIdBytes,
  STATEMENTS,
  seal,
  type Tensor,
  toHex,
  type VerificationPolicy
} from '@openbatch/protocol'
import type { ExecutionProvider, OnnxBackend, ProviderChoice } from '@openbatch/runtime-onnx'
import { TypedEventEmitter } from 'main-event'
import { BootstrapError, InvalidInputsError, JobNotFoundError, ModelFileError, WorkerRuntimeMissingError } from './errors.js'
import { type BatchInputs, normalise } from './inputs.js'
import { BatchJob } from './job.js'

/** How often a running job's record is read for a cancellation made by another process (`openbatch cancel`). */
export const CANCEL_POLL_MS = 2000
/**
 * A model this peer submitted is announced in the DHT as provided by it (§4.3, §6.4) at most this
 * often; kad-dht's reprovider keeps the record alive in between.
 */
export const MODEL_PROVIDE_INTERVAL_MS = 60_000

export interface WorkerOptions {
  /** .onnx files to serve (added to the model store). */
  models?: string[]
  /** Where models are kept by CID. @default `<dataDir>/models`, or a temporary directory */
  modelsDir?: string
  /**
   * Where inference runs: 'auto' takes WebGPU on a hardware GPU adapter (NVIDIA, AMD, Intel, Apple
   * through Vulkan, D3D12 or Metal), else CUDA when its libraries are installed, else the CPU;
   * `peer.device` says which and why. 'webgpu' by name also takes a software adapter (tests).
   * @default 'auto'
   */
  device?: ExecutionProvider
  /** Inference worker threads. @default on CPU one per core up to 4; with WebGPU 1; with CUDA 1 below 8 cores, else 2 */
  threads?: number
  /** onnxruntime intra-op threads per inference thread. */
  intraOpThreads?: number
  /** Tasks held at once. @default 32 (WorkerService's) */
  capacity?: number
  /** Price per item advertised in the capacity record. @default 0n */
  pricePerItem?: bigint
  /** Measure items/s for the capacity record (a second or two per model at start). @default true */
  benchmark?: boolean
  /** Memory for loaded models per inference thread, in bytes. @default a quarter of RAM / threads */
  sessionBudgetBytes?: number
  /** Memory for loaded models across all inference threads, in bytes (overrides `sessionBudgetBytes`). */
  memoryBudgetBytes?: number
  /** With CUDA: share of the first GPU's memory onnxruntime may use (split across threads). @default no limit */
  gpuMemoryShare?: number
  /**
   * Run tasks with this backend instead of onnxruntime (tests, custom runtimes). Without it the
   * optional dependency `@openbatch/runtime-onnx` must be installed.
   */
  backend?: InferenceBackend
  /**
   * Wraps the backend tasks run through (onnxruntime's, or `backend`), after the capacity
   * benchmark: e.g. an adversary for testnets that fakes some results, or instrumentation.
   */
  wrapBackend?: (backend: InferenceBackend) => InferenceBackend
}

export interface PeerOptions {
  /** Keeps identity, jobs, results, reputation, models and receipts. Omit for an in-memory peer. */
  dataDir?: string
  /** @default one wildcard address per network transport (`/ip4/0.0.0.0/tcp/0`, `/ip4/0.0.0.0/udp/0/quic-v1`) */
  listen?: string[]
  /** Peers to join through (multiaddrs ending in /p2p/<id>). */
  bootstrap?: string[]
  /** `tcp`, `quic`, `websockets`, `webrtc`, `memory`. @default ['tcp', 'quic', 'webrtc'] */
  transports?: TransportName[]
  /** STUN servers WebRTC asks for this peer's NAT mapping (`stun:host:port`). @default DEFAULT_STUN */
  stun?: string[]
  /** Public addresses to announce (a public peer whose operator knows its address). See `PeerConfig.announce`. */
  announce?: string[]
  /**
   * Circuit relay v2 (spec §4.4): serve as a relay (`'limited'`, `'unlimited'`, `false`) and reserve
   * a slot on one (`'auto'`: when behind a NAT, `'always'`, `false`).
   * @default { serve: 'limited', reserve: 'auto' } when listening on a network address
   */
  relay?: PeerConfig['relay']
  /** DCUtR: upgrade relayed connections to direct ones. @default true on a network */
  holePunch?: boolean
  /** AutoNAT v2: learn whether this peer's addresses are reachable. @default true on a network */
  autonat?: boolean
  /** UPnP port mapping on the home router. @default true on a network */
  upnp?: boolean
  /**
   * Dial non-public addresses of any network, not only of this host's own networks. Peers on
   * one host or one LAN find each other without it (bootstrap addresses, mDNS). @default false
   */
  local?: boolean
  /**
   * Find peers on the LAN by multicast DNS (`serviceTag` separates networks on one LAN).
   * @default on with TCP
   */
  mdns?: boolean | { serviceTag?: string; intervalMs?: number }
  /**
   * Resume unfinished jobs stored in `dataDir` at start: all (`true`), none (`false`), or the
   * listed job ids. A resumed job is announced again so workers come back to it (spec §6.5).
   * @default true
   */
  resume?: boolean | string[]
  /** Serve models as a worker. */
  worker?: WorkerOptions
  /** How long to wait for a bootstrap peer. @default 10_000 */
  bootstrapTimeoutMs?: number
  /** libp2p metrics (e.g. `prometheusMetrics()` from @libp2p/prometheus-metrics). */
  libp2pMetrics?: PeerComponents['metrics']
  /**
   * Let V8 count ArrayBuffer memory within its heap's growing limit (a process-wide V8 flag) instead
   * of collecting the whole heap after every 64 MiB of it. See `PeerConfig.paceGc`. @default true
   */
  paceGc?: boolean
}

export interface SubmitBatchOptions {
  /** The model: a path to an .onnx file, its bytes, or its CID (when workers already hold it). */
  model: string | Uint8Array
  /** Items: an array, iterable or async iterable (streamed: never all in memory). */
  inputs: BatchInputs
  /** Sampling and agreement (spec §7); defaults from the spec. */
  verification?: VerificationPolicy
  /** Reward per task, in the network's unit. @default `maxPricePerItem` × the most items a task carries, else 0n */
  reward?: bigint
  /**
   * The most this job pays per item (spec §6.2): only workers asking at most this much in their
   * capacity records count as found (`NoWorkersError` says when all found ask more), and the
   * reward, unless given, is this times the most items a task carries — workers asking more do
   * not claim its tasks. @default no maximum
   */
  maxPricePerItem?: bigint
  /** Absolute deadline (ms since the epoch). @default one hour from now */
  deadline?: number
  /** Most tasks one claim receives (the announcement's `max_batch`, §3.3). @default DEFAULT_MAX_BATCH (32) */
  maxBatch?: number
  /**
   * Items one task carries (spec §6.8): consecutive one-row items of the same shape are stacked
   * along their first dimension into one task, run as one batch, verified as one, and split back
   * into one result per item. `'auto'` chooses from the speed the found workers measured, so
   * that the per-task overhead (TASK_OVERHEAD_MS) is at most 5 % of a task's inference time,
   * within the rows those workers batch; 1 when no worker measured its speed or discovery is
   * skipped. Items of another shape, or of more than one row, travel in tasks of their own.
   * @default 'auto'
   */
  itemsPerTask?: number | 'auto'
  /** How long a worker holds claimed tasks. @default DEFAULT_LEASE_MS */
  leaseMs?: number
  /**
   * How long a sampled task (or a task reported as not runnable) waits for an independent worker
   * to run it again; then its result stands `unsampled` (spec §7.2). With no other worker around
   * it does not wait at all. Kept with the job, so a resumed job keeps it. @default leaseMs
   */
  checkWaitMs?: number
  /** How long to look for a worker of the model before failing with NoWorkersError; 0 skips. @default 30_000 */
  discoveryTimeoutMs?: number
  /** Workers of the model to find (and, for up to 5 s, to see subscribed to its jobs topic) before the job starts. @default 1 */
  minWorkers?: number
  /** Aborting cancels the job. */
  signal?: AbortSignal
}

export interface PeerEvents {
  /** This peer published a fraud proof (it outvoted a worker). */
  fraud: CustomEvent<FraudEvent>
  /** A background failure (a task that could not run, a submission that failed): informational. */
  error: CustomEvent<Error>
  /** This worker ran a task: its model, job, inference time and the items (rows) it carried. */
  run: CustomEvent<{ model: string; jobId: string; durationUs: number; items: number }>
  /** This worker got its first tasks of a job (`joined`), is done with one (`left`, and why), or passed one by for paying less than its price (`declined`). */
  job: CustomEvent<WorkerJobEvent>
  /**
   * Once per model and event, one line about the device: nodes onnxruntime runs on the CPU because
   * WebGPU lacks them, or a lost GPU and the switch to CPU. Those told during start are in `peer.notices`.
   */
  notice: CustomEvent<string>
}

/** How long a resumed job's requester searches for its model's workers in the background (§4.3). */
const RESUME_DISCOVERY_MS = 30_000

/** A running openbatch peer. Create it with {@link createPeer}. */
export class Peer extends TypedEventEmitter<PeerEvents> {
  private readonly handles = new Map<string, BatchJob>()
  private readonly announcer: JobAnnouncer
  private worker?: WorkerNode
  private backend?: InferenceBackend & { stop?: () => Promise<void> }
  private onnx?: OnnxBackend
  /** Every device notice so far (see the `notice` event), start-up included. */
  readonly notices: string[] = []
  private readonly workServer: WorkServer
  private readonly modelServer: ModelServer
  readonly requester: RequesterService
  /** When each model this peer submitted was last provided in the DHT (Date.now()). */
  private readonly provided = new Map<string, number>()

  /** @internal */
  constructor(
    readonly node: OpenbatchPeer,
    readonly store: SqliteJobStore,
    readonly models: ModelStore,
    private readonly cleanup: () => Promise<void>
  ) {
    super()
    // Progress and results reach the job handles as events; the store is read only to replay.
    this.requester = new RequesterService(node, {
      store,
      onProgress: (p) => this.handles.get(p.jobId)?.progress(p),
      onVerdict: (v) => this.handles.get(v.jobId)?.verdict(v),
      onFraud: (f) => this.safeDispatchEvent('fraud', { detail: f }),
      onError: (err) => this.safeDispatchEvent('error', { detail: asError(err) })
    })
    this.workServer = new WorkServer(node, this.requester)
    this.announcer = new JobAnnouncer(node, { onError: (err) => this.safeDispatchEvent('error', { detail: asError(err) }) })
    this.modelServer = new ModelServer(node, { get: async (m) => ((await models.has(m)) ? models.get(m) : undefined) })
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  /** Listening addresses, each ending in /p2p/<peer id>. */
  get addresses(): string[] {
    return this.node.addresses
  }

  /** How peers elsewhere reach this one: reachability, relays in use, observed addresses, connections (spec §4.4). */
  network(): NetworkReport {
    return this.node.network()
  }

  /** Per-peer trust this peer keeps (spec §7.6). */
  get reputation(): Reputation {
    return this.node.reputation
  }

  /** The worker's receipts (its provable earnings), when it serves models. */
  get receipts(): ReceiptStore | undefined {
    return this.worker?.receipts
  }

  /** @internal */
  async start(options: PeerOptions): Promise<void> {
    // §6.5: stored jobs are resumed before claims are served, so no worker is told UNKNOWN_JOB
    // for a job this peer holds; each is announced again so that workers come back to it.
    const resume = options.resume ?? true
    if (resume !== false) {
      for (const job of await this.requester.resume(this.store, { jobs: resume === true ? undefined : resume })) {
        await this.serve(job.jobId, job.done)
      }
    }
    await this.workServer.start()
    await this.modelServer.start()
    if (options.worker != null) {
      await this.startWorker(options.worker, options.dataDir)
    }
  }

  private async startWorker(options: WorkerOptions, dataDir: string | undefined): Promise<void> {
    for (const path of options.models ?? []) {
      await this.models.add(await readModelFile(path))
    }
    let devices: Device[]
    let offers: ModelCapacity[]
    if (options.backend != null) {
      // A backend of the caller's own runs where it runs: no probing (nvidia-smi, Dawn) on its behalf.
      this.backend = options.backend
      devices = [hostCpuDevice()]
      offers = (await this.models.list()).map(({ model }) => ({
        model: parseModelCid(model).bytes,
        itemsPerSecond: 1,
        maxBatch: DEFAULT_MAX_BATCH,
        pricePerItem: options.pricePerItem ?? 0n
      }))
    } else {
      const runtime = await loadWorkerRuntime()
      const started = await runtime.createWorkerRuntime({
        store: this.models,
        device: options.device,
        threads: options.threads,
        intraOpThreads: options.intraOpThreads,
        sessionBudgetBytes: options.sessionBudgetBytes,
        memoryBudgetBytes: options.memoryBudgetBytes,
        gpuMemoryShare: options.gpuMemoryShare,
        benchmark: options.benchmark,
        pricePerItem: options.pricePerItem,
        onNotice: (message) => {
          this.notices.push(message)
          this.safeDispatchEvent('notice', { detail: message })
        }
      })
      this.onnx = started.backend
      this.backend = started.backend
      devices = started.advertised
      offers = started.offers
    }
    this.offers = offers.map((o) => ({
      model: parseModelCid(o.model).toString(),
      itemsPerSecond: o.itemsPerSecond,
      maxBatch: o.maxBatch,
      pricePerItem: o.pricePerItem
    }))
    this.worker = createWorker(this.node, {
      backend: options.wrapBackend == null ? this.backend : options.wrapBackend(this.backend),
      models: this.models,
      capacity: options.capacity,
      receiptsPath: dataDir == null ? ':memory:' : join(dataDir, 'receipts.db'),
      devices,
      offers,
      onRun: (run) => this.safeDispatchEvent('run', { detail: run }),
      onJob: (event) => this.safeDispatchEvent('job', { detail: event }),
      onError: (err) => this.safeDispatchEvent('error', { detail: asError(err) })
    })
    await this.worker.start()
  }

  /**
   * Where this worker runs inference, and why (e.g. "WebGPU on NVIDIA GeForce RTX 3060 [nvidia/ampere]");
   * undefined for a peer that is not a worker or runs a backend of its own.
   */
  get device(): ProviderChoice | undefined {
    return this.onnx?.provider
  }

  /**
   * What this worker advertises per model in its capacity record (§4.3): items/s it measured (1
   * when it did not), the largest batch, and its price per item. Empty for a peer that is not a worker.
   */
  offers: { model: string; itemsPerSecond: number; maxBatch: number; pricePerItem: bigint }[] = []

  /** Verified work this worker was receipted for (§3.6), per requester: receipts and reward. */
  earnings(): ReceiptTotals[] {
    return this.worker?.receipts.totals() ?? []
  }

  /** Model CIDs this peer serves as a worker. */
  async servedModels(): Promise<string[]> {
    return this.worker == null ? [] : (await this.models.list()).map((m) => m.model)
  }

  /**
   * Submits a batch: stores the inputs (streamed), announces the job over gossip and serves its
   * tasks to workers; returns the job handle at once.
   */
  async submitBatch(options: SubmitBatchOptions): Promise<BatchJob> {
    options.signal?.throwIfAborted()
    const uint64 = (name: string, v: unknown) => {
      if (v !== undefined && (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n)) {
        throw new RangeError(`${name} must be a bigint in 0..2^64−1, got ${String(v)}`)
      }
    }
    uint64('reward', options.reward)
    uint64('maxPricePerItem', options.maxPricePerItem)
    const perTaskOption = options.itemsPerTask ?? 'auto'
    if (perTaskOption !== 'auto' && !(Number.isInteger(perTaskOption) && perTaskOption >= 1 && perTaskOption <= MAX_ITEMS_PER_TASK)) {
      throw new RangeError(`itemsPerTask must be 'auto' or a whole number in 1..${MAX_ITEMS_PER_TASK}, got ${String(perTaskOption)}`)
    }
    // Filled in while the inputs stream in, stored with the job: its results unpack by it (§6.8).
    const packing: ItemPacking = { itemsPerTask: 1, itemCount: 0, short: [] }
    const policy = { ...this.requester.jobPolicy({ leaseMs: options.leaseMs, checkWaitMs: options.checkWaitMs }), items: packing }
    const model = await this.resolveModel(options.model)
    const discoveryTimeoutMs = options.discoveryTimeoutMs ?? 30_000
    const minWorkers = options.minWorkers ?? 1
    let workers: WorkerInfo[] = []
    if (discoveryTimeoutMs > 0) {
      workers = await discoverWorkers(this.node, model, {
        minWorkers,
        timeoutMs: discoveryTimeoutMs,
        signal: options.signal,
        maxPricePerItem: options.maxPricePerItem
      })
    }
    const itemsPerTask = perTaskOption === 'auto' ? chooseItemsPerTask(model, workers) : perTaskOption
    const nonce = randomBytes(16)
    const jobIdBytes = deriveJobId(peerIdBytes(this.node.peerId), nonce)
    const jobId = toHex(jobIdBytes)
    const now = Date.now()
    const deadline = options.deadline ?? now + 3_600_000
    if (!(deadline > now)) {
      throw new RangeError(`deadline ${new Date(deadline).toISOString()} has passed`)
    }
    const announcement = await this.store.stageJob(
      jobId,
      packItems(checkFrames(normalise(options.inputs)), itemsPerTask, MAX_TASK_INPUT_BYTES, packing),
      async (taskCount) => {
        if (taskCount === 0) {
          throw new InvalidInputsError('a batch needs at least one input')
        }
        // §3.3, §6.8: the most items one task carries, so workers weigh the reward against their price per item.
        const itemsInATask = packing.itemCount > taskCount ? itemsPerTask : 1
        const reward = options.reward ?? (options.maxPricePerItem ?? 0n) * BigInt(itemsInATask)
        uint64('reward', reward)
        const job = createJobAnnouncement({
          requester: peerIdBytes(this.node.peerId),
          model: parseModelCid(model).bytes,
          taskCount,
          maxBatch: options.maxBatch ?? DEFAULT_MAX_BATCH,
          rewardPerTask: reward,
          itemsPerTask: itemsInATask,
          now,
          durationMs: deadline - now,
          verification: options.verification,
          nonce,
          addresses: announcedAddresses(this.node)
        })
        return seal(STATEMENTS.job, job, this.node.privateKey)
      },
      { policy }
    )
    const { done } = await this.requester.addJob({ announcement, policy })
    const handle = await this.serve(jobId, done, { subscribers: minWorkers, workers })
    options.signal?.addEventListener('abort', () => handle.cancel(), { once: true })
    return handle
  }

  /**
   * Resumes a job stored in `dataDir` that this peer is not serving (it was started with `resume`
   * off, or not listing it): it is served and announced again. Returns its handle.
   */
  async resumeJob(jobId: string): Promise<BatchJob> {
    const existing = this.handles.get(jobId)
    if (existing != null) {
      return existing
    }
    if (this.store.getJob(jobId)?.cancelledAt != null) {
      throw new JobCancelledError(jobId)
    }
    const [job] = await this.requester.resume(this.store, { jobs: [jobId] })
    if (job == null) {
      throw new JobNotFoundError(jobId)
    }
    return this.serve(jobId, job.done)
  }

  /** The handle of a job stored here (e.g. after a restart): its results and progress. */
  job(jobId: string): BatchJob {
    const handle = this.handles.get(jobId)
    if (handle == null) {
      throw new JobNotFoundError(jobId)
    }
    return handle
  }

  /** Jobs this peer serves, oldest first. */
  jobs(): { jobId: string; taskCount: number; settled: number; summary?: VerifiedJobSummary }[] {
    return [...this.handles.values()].map((h) => {
      const summary = this.requester.summary(h.id)
      return { jobId: h.id, taskCount: h.taskCount, settled: summary?.settled ?? this.store.settledCount(h.id), summary }
    })
  }

  /**
   * Stops the peer within a few seconds: stops claiming new work, gives tasks in flight 2 s to
   * finish and be submitted, then closes the network (connections get 2 s to close gracefully)
   * and the stores. Leases of tasks not submitted are released by the requester when this peer
   * disconnects or the lease expires (spec §6.5). Calling it again returns the same stop.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private stopping: Promise<void> | undefined
  /** Aborted when the peer stops: background searches end with it. */
  private readonly stopped = new AbortController()

  private async shutdown(): Promise<void> {
    this.stopped.abort()
    this.announcer.stop()
    // Tasks in flight get 2 s to be submitted; a requester that does not answer cannot hold
    // the stop longer (its leases expire and the tasks go to others).
    await this.worker?.stop(2000)
    await this.backend?.stop?.()
    await this.workServer.stop()
    this.requester.stop()
    await this.modelServer.stop()
    await this.node.stop(2000)
    this.store.close()
    this.worker?.close()
    await this.cleanup()
  }

  /**
   * A handle for a job the requester serves, and its announcement (§5.1): once gossip knows
   * `found.subscribers` subscribers of the model's topic (at most 5 s), then again every
   * REANNOUNCE_INTERVAL_MS while it runs; `found.workers` (those submitBatch found) are dialled
   * again while they do not hear it. A resumed job (no `found`) has its workers searched for in the
   * background.
   */
  private async serve(jobId: string, done: Promise<void>, found?: { subscribers: number; workers: WorkerInfo[] }): Promise<BatchJob> {
    const stored = this.store.getJob(jobId)
    const taskCount = this.requester.summary(jobId)?.taskCount ?? 0
    const handle = new BatchJob({
      jobId,
      taskCount,
      items: new ItemMap(taskCount, stored?.policy.items),
      store: this.store,
      summary: () => this.requester.summary(jobId),
      cancel: () => this.requester.cancel(jobId),
      done
    })
    this.handles.set(jobId, handle)
    this.watchCancellation(jobId, handle, done)
    if (stored != null) {
      // The workers found for it are dialled again while they do not hear it (§4.4, §5.1).
      const announcement = (await open(STATEMENTS.job, stored.announcement)).message
      await this.announcer.add(announcement, done, { subscribers: found?.subscribers, workers: found?.workers.map((w) => w.peerId) })
      if (found == null) {
        // A resumed job: its model's workers are searched for in the background and dialled, for
        // those behind NATs hear a NATed requester only over a direct connection.
        const model = parseModelCid(announcement.model).toString()
        discoverWorkers(this.node, model, { minWorkers: 1, timeoutMs: RESUME_DISCOVERY_MS, signal: this.stopped.signal }).then(
          (workers) =>
            this.announcer.addWorkers(
              jobId,
              workers.map((w) => w.peerId)
            ),
          () => {} // none found in time: the workers that connect still ask for its jobs (§6.7)
        )
      }
    }
    return handle
  }

  /**
   * Cancels the job here when its record says it was cancelled elsewhere (`openbatch cancel`, from
   * another process with the same data directory): checked every CANCEL_POLL_MS while it runs.
   */
  private watchCancellation(jobId: string, handle: BatchJob, done: Promise<void>): void {
    if (this.store.path === ':memory:') {
      return // no other process can reach it
    }
    const timer = setInterval(() => {
      try {
        if (this.store.getJob(jobId)?.cancelledAt != null) {
          clearInterval(timer)
          handle.cancel()
        }
      } catch {
        clearInterval(timer) // the store closed: the peer stopped
      }
    }, CANCEL_POLL_MS)
    timer.unref()
    done.then(
      () => clearInterval(timer),
      () => clearInterval(timer)
    )
  }

  private async resolveModel(model: string | Uint8Array): Promise<string> {
    if (model instanceof Uint8Array) {
      return this.provide(await this.models.add(model))
    }
    if (typeof model !== 'string' || model === '') {
      throw new ModelFileError('model must be a path to an .onnx file, its bytes, or its CID')
    }
    try {
      return parseModelCid(model).toString()
    } catch {
      // not a CID: a path
    }
    return this.provide(await this.models.add(await readModelFile(model)))
  }

  /**
   * Announces this peer in the DHT as a provider of `cid` (§4.3), in the background and at most
   * every MODEL_PROVIDE_INTERVAL_MS: a worker that lacks the model asks the job's requester first
   * (§6.4), so a submission does not wait on a DHT walk; other peers find it by its record.
   */
  private provide(cid: string): string {
    const now = Date.now()
    if (now - (this.provided.get(cid) ?? Number.NEGATIVE_INFINITY) >= MODEL_PROVIDE_INTERVAL_MS) {
      this.provided.set(cid, now)
      void withDeadline(10_000, (signal) => this.node.libp2p.contentRouting.provide(parseModelCid(cid), { signal })).catch(() =>
        this.provided.delete(cid)
      )
    }
    return cid
  }
}

/** `@openbatch/runtime-onnx`'s module. */
export type WorkerRuntimeModule = typeof import('@openbatch/runtime-onnx')

/**
 * The onnxruntime worker runtime, an optional dependency loaded on first use (a requester never
 * loads it); WorkerRuntimeMissingError when it is not installed.
 */
export async function loadWorkerRuntime(): Promise<WorkerRuntimeModule> {
  try {
    return await import('@openbatch/runtime-onnx')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new WorkerRuntimeMissingError()
    }
    throw err
  }
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    const bytes = await readFile(path)
    if (bytes.length === 0) {
      throw new ModelFileError(`model file ${path} is empty`)
    }
    return bytes
  } catch (err) {
    if (err instanceof ModelFileError) {
      throw err
    }
    const code = (err as NodeJS.ErrnoException).code
    throw new ModelFileError(
      code === 'ENOENT' ? `model file ${path} does not exist` : `cannot read model file ${path}: ${(err as Error).message}`
    )
  }
}

/**
 * Protocol CPU one task costs its requester and worker together, ms, beyond its items' (measured on
 * 2 shared cores by `pnpm bench overlay` at one item per task: about 1.8 ms on each side).
 */
export const TASK_OVERHEAD_MS = 4
/** Most items one task carries (§6.8). */
export const MAX_ITEMS_PER_TASK = 256
/**
 * Input bytes a task of several items carries at most: half of what a requester puts in one
 * assignment (DEFAULT_ASSIGNMENT_BYTES), so that a claim carries at least two such tasks.
 */
export const MAX_TASK_INPUT_BYTES = DEFAULT_ASSIGNMENT_BYTES / 2

/**
 * §6.8 Items per task for `model`, from the capacity records of `workers`: enough that the
 * per-task overhead (TASK_OVERHEAD_MS) is at most 5 % of a task's inference time on the fastest
 * of them, and no more than the rows every one of them batches (`max_batch`) or
 * MAX_ITEMS_PER_TASK. 1 when none measured its speed.
 */
export function chooseItemsPerTask(model: string, workers: readonly WorkerInfo[]): number {
  const cid = toHex(parseModelCid(model).bytes)
  const entries = workers.flatMap((w) => w.record.models.filter((m) => toHex(m.model) === cid))
  // A worker that did not measure advertises 1 item/s: its speed says nothing, so it counts as slow.
  const fastest = Math.max(0, ...entries.map((m) => m.itemsPerSecond).filter((v) => Number.isFinite(v)))
  if (fastest <= 1) {
    return 1
  }
  const perItemMs = 1000 / fastest
  const wanted = Math.ceil(TASK_OVERHEAD_MS / (0.05 * perItemMs))
  const rows = Math.min(MAX_ITEMS_PER_TASK, ...entries.map((m) => Math.max(1, m.maxBatch)))
  return Math.max(1, Math.min(wanted, rows))
}

/**
 * §6.2 Every task must fit one assignment frame: an item too large is refused at submit time,
 * naming the limit, instead of never running.
 */
async function* checkFrames(items: AsyncIterable<Tensor[]>): AsyncGenerator<Tensor[]> {
  let index = 0
  for await (const tensors of items) {
    // The requester's own measure of a task in an assignment (RequesterService packs claims by it).
    const bytes = taskBytes(tensors) + ASSIGNMENT_OVERHEAD_BYTES
    if (bytes > MAX_FRAME_BYTES) {
      throw new InvalidInputsError(
        `it takes ${bytes} bytes in an assignment; one task must fit a ${MAX_FRAME_BYTES}-byte frame (MAX_FRAME_BYTES, spec §3.1)`,
        index
      )
    }
    index++
    yield tensors
  }
}

/**
 * Starts a peer: joins the network (failing with BootstrapError when no bootstrap peer answers),
 * resumes stored jobs, and serves models when `worker` is given.
 */
export async function createPeer(options: PeerOptions = {}): Promise<Peer> {
  const node = await createOpenbatchPeer(
    {
      dataDir: options.dataDir,
      listen: options.listen,
      bootstrap: options.bootstrap,
      transports: options.transports,
      announce: options.announce,
      stun: options.stun,
      relay: options.relay,
      holePunch: options.holePunch,
      autonat: options.autonat,
      upnp: options.upnp,
      local: options.local,
      mdns: options.mdns,
      paceGc: options.paceGc
    },
    { metrics: options.libp2pMetrics }
  )
  let tmp: string | undefined
  const cleanup = async () => {
    if (tmp != null) {
      await rm(tmp, { recursive: true, force: true })
    }
  }
  let modelsDir = options.worker?.modelsDir
  if (modelsDir == null) {
    if (options.dataDir != null) {
      modelsDir = join(options.dataDir, 'models')
    } else {
      tmp = await mkdtemp(join(tmpdir(), 'openbatch-models-'))
      modelsDir = tmp
    }
  }
  const store = new SqliteJobStore(options.dataDir == null ? ':memory:' : join(options.dataDir, 'jobs.db'))
  const peer = new Peer(node, store, new ModelStore(modelsDir), cleanup)
  try {
    await node.start()
    await joinNetwork(node, options.bootstrap ?? [], options.bootstrapTimeoutMs ?? 10_000)
    await peer.start(options)
  } catch (err) {
    await peer.stop().catch(() => {})
    throw err
  }
  return peer
}

/** Dials the bootstrap peers; at least one must answer. */
async function joinNetwork(node: OpenbatchPeer, bootstrap: string[], timeoutMs: number): Promise<void> {
  if (bootstrap.length === 0) {
    return
  }
  const { multiaddr } = await import('@multiformats/multiaddr')
  const reasons: string[] = []
  const results = await Promise.allSettled(bootstrap.map((a) => node.libp2p.dial(multiaddr(a), { signal: AbortSignal.timeout(timeoutMs) })))
  for (const r of results) {
    if (r.status === 'fulfilled') {
      return
    }
    reasons.push((r.reason as Error).message)
  }
  throw new BootstrapError(bootstrap, reasons)
}

/** A peer that submits batches and serves no models. */
export async function createClient(options: Omit<PeerOptions, 'worker'> = {}): Promise<Peer> {
  return createPeer({ ...options, worker: undefined })
}
