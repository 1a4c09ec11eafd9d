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
import type { InferenceBackend, TensorSpec } from '@openbatch/inference'
import {
  announcedAddresses,
  CapacityPublisher,
  createPeer as createNodePeer,
  deadline,
  type FraudEvent,
  fetchModel,
  findWorkers,
  JobAnnouncer,
  ModelServer,
  type OpenbatchPeer,
  type PeerComponents,
  ReceiptStore,
  type Reputation,
  RequesterService,
  SqliteJobStore,
  type TransportName,
  WorkerService,
  WorkServer,
  withDeadline
} from '@openbatch/node'
import {
  createJobAnnouncement,
  DEFAULT_LEASE_MS,
  deriveJobId,
  dtypeInfo,
  jobsTopic,
  MAX_FRAME_BYTES,
  open,
  parseModelCid,
  peerIdBytes,
  STATEMENTS,
  seal,
  type Tensor,
  toHex,
  type VerificationPolicy
} from '@openbatch/protocol'
import {
  capacityDevices,
  createOnnxBackend,
  detectDevices,
  type ExecutionProvider,
  ModelStore,
  measureCapacity,
  type OnnxBackend,
  type ProviderChoice,
  toModelCapacity
} from '@openbatch/runtime-onnx'
import { TypedEventEmitter } from 'main-event'
import { BootstrapError, InvalidInputsError, JobNotFoundError, ModelFileError, NoWorkersError } from './errors.js'
import { type BatchInputs, normalise } from './inputs.js'
import { BatchJob } from './job.js'

/** Batch sizes a GPU worker measures at start; it keeps the one with the most items/s. */
const GPU_BATCH_SIZES = [1, 8, 32, 128]

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
  /** Tasks held at once. @default 32 */
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
  /** Run tasks with this backend instead of onnxruntime (tests, custom runtimes). */
  backend?: InferenceBackend
}

export interface PeerOptions {
  /** Keeps identity, jobs, results, reputation, models and receipts. Omit for an in-memory peer. */
  dataDir?: string
  /** @default ['/ip4/0.0.0.0/tcp/0'] */
  listen?: string[]
  /** Peers to join through (multiaddrs ending in /p2p/<id>). */
  bootstrap?: string[]
  /** @default ['tcp'] */
  transports?: TransportName[]
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
}

export interface SubmitBatchOptions {
  /** The model: a path to an .onnx file, its bytes, or its CID (when workers already hold it). */
  model: string | Uint8Array
  /** Items: an array, iterable or async iterable (streamed: never all in memory). */
  inputs: BatchInputs
  /** Sampling and agreement (spec §7); defaults from the spec. */
  verification?: VerificationPolicy
  /** Reward per task, in the network's unit. @default 0n */
  reward?: bigint
  /** Absolute deadline (ms since the epoch). @default one hour from now */
  deadline?: number
  /** Most tasks one claim receives. @default 32 */
  maxBatch?: number
  /** @default DEFAULT_LEASE_MS */
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
  /** This worker ran a task. */
  run: CustomEvent<{ model: string; durationUs: number }>
  /**
   * Once per model and event, one line about the device: nodes onnxruntime runs on the CPU because
   * WebGPU lacks them, or a lost GPU and the switch to CPU. Those told during start are in `peer.notices`.
   */
  notice: CustomEvent<string>
}

/** A running openbatch peer. Create it with {@link createPeer}. */
export class Peer extends TypedEventEmitter<PeerEvents> {
  private readonly handles = new Map<string, BatchJob>()
  private readonly announcer: JobAnnouncer
  private worker?: { service: WorkerService; backend: InferenceBackend & { stop?: () => Promise<void> }; capacity?: CapacityPublisher }
  private onnx?: OnnxBackend
  /** Every device notice so far (see the `notice` event), start-up included. */
  readonly notices: string[] = []
  private readonly workServer: WorkServer
  private readonly modelServer: ModelServer
  readonly requester: RequesterService
  /** The worker's receipts (its provable earnings), when it serves models. */
  receipts?: ReceiptStore

  /** @internal */
  constructor(
    readonly node: OpenbatchPeer,
    readonly store: SqliteJobStore,
    readonly models: ModelStore,
    private readonly cleanup: () => Promise<void>
  ) {
    super()
    this.requester = new RequesterService(node, {
      store,
      onProgress: (p) => this.handles.get(p.jobId)?.notify(),
      onVerdict: (v) => this.handles.get(v.jobId)?.notify(v.verdict.revised !== true),
      onFraud: (f) => this.safeDispatchEvent('fraud', { detail: f }),
      onError: (err) => this.safeDispatchEvent('error', { detail: err })
    })
    this.workServer = new WorkServer(node, this.requester)
    this.announcer = new JobAnnouncer(node, { onError: (err) => this.safeDispatchEvent('error', { detail: err }) })
    this.modelServer = new ModelServer(node, { get: async (m) => ((await models.has(m)) ? models.get(m) : undefined) })
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  /** Listening addresses, each ending in /p2p/<peer id>. */
  get addresses(): string[] {
    return this.node.addresses
  }

  /** Per-peer trust this peer keeps (spec §7.6). */
  get reputation(): Reputation {
    return this.node.reputation
  }

  /** @internal */
  async start(options: PeerOptions): Promise<void> {
    // §6.5: stored jobs are resumed before claims are served, so no worker is told UNKNOWN_JOB
    // for a job this peer holds; each is announced again so that workers come back to it.
    const resume = options.resume ?? true
    if (resume !== false) {
      for (const job of await this.requester.resume(this.store, { jobs: resume === true ? undefined : resume })) {
        this.track(job.jobId, job.done)
        const stored = this.store.getJob(job.jobId)
        if (stored != null) {
          await this.announcer.add((await open(STATEMENTS.job, stored.announcement)).message, job.done)
        }
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
    const served = (await this.models.list()).map((m) => m.model)
    // A backend of the caller's own runs where it runs: no probing (nvidia-smi, Dawn) on its behalf.
    const devices = await detectDevices(options.backend != null ? { gpus: false, webgpu: false } : { webgpu: options.device !== 'cpu' })
    let backend: InferenceBackend & { stop?: () => Promise<void> }
    if (options.backend != null) {
      backend = options.backend
    } else {
      let gpuMemoryLimitBytes: number | undefined
      if (options.gpuMemoryShare != null) {
        const gpu = devices.gpus[0]
        gpuMemoryLimitBytes = gpu == null ? undefined : Math.floor(gpu.memoryBytes * options.gpuMemoryShare) // shared among the threads
      }
      const onnx = createOnnxBackend({
        store: this.models,
        devices,
        executionProvider: options.device ?? 'auto',
        onNotice: (message) => {
          this.notices.push(message)
          this.safeDispatchEvent('notice', { detail: message })
        },
        threads: options.threads,
        intraOpThreads: options.intraOpThreads,
        sessionBudgetBytes: options.sessionBudgetBytes,
        memoryBudgetBytes: options.memoryBudgetBytes,
        gpuMemoryLimitBytes,
        // A peer's cores also carry its networking and protocol work: onnxruntime threads that
        // spin between batches take that CPU (measured with `pnpm bench overlay`: it doubled the
        // worker's per-task overhead on 2 cores).
        allowSpinning: false
      })
      await onnx.start()
      this.onnx = onnx
      backend = onnx
    }
    this.receipts = new ReceiptStore(dataDir == null ? ':memory:' : join(dataDir, 'receipts.db'))
    const service = new WorkerService(this.node, {
      backend,
      models: served,
      capacity: options.capacity,
      receiptStore: this.receipts,
      onRun: (run) => this.safeDispatchEvent('run', { detail: run }),
      onError: (err) => this.safeDispatchEvent('error', { detail: err }),
      ensureModel: async (model) => {
        if (!(await this.models.has(model))) {
          await this.models.add(await withDeadline(120_000, (signal) => fetchModel(this.node, model, { signal })))
        }
      }
    })
    service.start()
    this.worker = { service, backend }
    const offers = []
    const gpu = this.onnx != null && this.onnx.provider.provider !== 'cpu'
    const engineBatch = this.onnx?.maxBatch ?? 32
    let bestBatch = 0
    for (const model of served) {
      if (options.benchmark !== false && this.onnx != null) {
        const described = await backend.describe(model)
        // A GPU's batch is sized by measurement: the largest tried that still raises items/s
        // (the search ends at a batch the device cannot hold).
        if (gpu) {
          this.onnx.maxBatch = GPU_BATCH_SIZES[GPU_BATCH_SIZES.length - 1] as number
        }
        const report = await measureCapacity(backend, model, () => sampleInputs(described.inputs), {
          batchSizes: gpu ? GPU_BATCH_SIZES : [1, 8],
          minDurationMs: 300
        })
        bestBatch = Math.max(bestBatch, report.maxBatch)
        offers.push(toModelCapacity(report, options.pricePerItem ?? 0n))
        continue
      }
      offers.push({ model: parseModelCid(model).bytes, itemsPerSecond: 1, maxBatch: 32, pricePerItem: options.pricePerItem ?? 0n })
    }
    if (this.onnx != null) {
      this.onnx.maxBatch = gpu && bestBatch > 0 ? bestBatch : engineBatch
    }
    if (offers.length > 0) {
      const advertised = capacityDevices(devices, this.onnx?.provider)
      this.worker.capacity = new CapacityPublisher(this.node, { devices: advertised, models: offers }, (err) =>
        this.safeDispatchEvent('error', { detail: err })
      )
      await this.worker.capacity.start().catch((err: Error) => this.safeDispatchEvent('error', { detail: err }))
    }
  }

  /**
   * Where this worker runs inference, and why (e.g. "WebGPU on NVIDIA GeForce RTX 3060 [nvidia/ampere]");
   * undefined for a peer that is not a worker or runs a backend of its own.
   */
  get device(): ProviderChoice | undefined {
    return this.onnx?.provider
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
    const reward = options.reward ?? 0n
    if (typeof reward !== 'bigint' || reward < 0n || reward >= 1n << 64n) {
      throw new RangeError(`reward must be a bigint in 0..2^64−1, got ${String(reward)}`)
    }
    const model = await this.resolveModel(options.model)
    const discoveryTimeoutMs = options.discoveryTimeoutMs ?? 30_000
    if (discoveryTimeoutMs > 0) {
      await this.discover(model, discoveryTimeoutMs, options.minWorkers ?? 1, options.signal)
    }
    const nonce = randomBytes(16)
    const jobIdBytes = deriveJobId(peerIdBytes(this.node.peerId), nonce)
    const jobId = toHex(jobIdBytes)
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    const now = Date.now()
    const deadline = options.deadline ?? now + 3_600_000
    if (!(deadline > now)) {
      throw new RangeError(`deadline ${new Date(deadline).toISOString()} has passed`)
    }
    if (options.checkWaitMs !== undefined && !(Number.isFinite(options.checkWaitMs) && options.checkWaitMs >= 0)) {
      throw new RangeError(`checkWaitMs must be a number of ms ≥ 0, got ${options.checkWaitMs}`)
    }
    const announcement = await this.store.stageJob(
      jobId,
      leaseMs,
      checkFrames(normalise(options.inputs)),
      async (taskCount) => {
        if (taskCount === 0) {
          throw new InvalidInputsError('a batch needs at least one input')
        }
        const job = createJobAnnouncement({
          requester: peerIdBytes(this.node.peerId),
          model: parseModelCid(model).bytes,
          taskCount,
          maxBatch: options.maxBatch ?? 32,
          rewardPerTask: reward,
          now,
          durationMs: deadline - now,
          verification: options.verification,
          nonce,
          addresses: announcedAddresses(this.node)
        })
        return seal(STATEMENTS.job, job, this.node.privateKey)
      },
      1024,
      options.checkWaitMs
    )
    const { done } = await this.requester.addJob({
      announcement,
      inputs: (i) => this.store.inputs(jobId, i),
      leaseMs,
      checkWaitMs: options.checkWaitMs
    })
    const handle = this.track(jobId, done)
    await this.announce(announcement, done, options.minWorkers ?? 1)
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
    const stored = this.store.getJob(jobId)
    if (stored == null) {
      throw new JobNotFoundError(jobId)
    }
    const [job] = await this.requester.resume(this.store, { jobs: [jobId] })
    if (job == null) {
      throw new JobNotFoundError(jobId)
    }
    const handle = this.track(jobId, job.done)
    await this.announcer.add((await open(STATEMENTS.job, stored.announcement)).message, job.done)
    return handle
  }

  /** The handle of a job stored here (e.g. after a restart): its results and progress. */
  job(jobId: string): BatchJob {
    const handle = this.handles.get(jobId)
    if (handle == null) {
      throw new JobNotFoundError(jobId)
    }
    return handle
  }

  /** Jobs stored here, newest last. */
  jobs(): { jobId: string; taskCount: number; settled: number; summary?: VerifiedJobSummary }[] {
    return [...this.handles.values()].map((h) => ({
      jobId: h.id,
      taskCount: h.taskCount,
      settled: this.store.settledCount(h.id),
      summary: this.requester.summary(h.id)
    }))
  }

  /**
   * Stops the peer within a few seconds: stops claiming new work, gives tasks in flight 2 s to
   * finish and be submitted, then closes the network (connections get 2 s to close gracefully)
   * and the stores. Leases of tasks not submitted are released by the requester when this peer
   * disconnects or the lease expires (spec §6.5).
   */
  async stop(): Promise<void> {
    this.announcer.stop()
    if (this.worker != null) {
      this.worker.capacity?.stop()
      // Tasks in flight get 2 s to be submitted; a requester that does not answer cannot hold
      // the stop longer (its leases expire and the tasks go to others).
      await this.worker.service.stop(2000)
      await this.worker.backend.stop?.()
    }
    await this.workServer.stop()
    this.requester.stop()
    await this.modelServer.stop()
    await this.node.stop(2000)
    this.store.close()
    this.receipts?.close()
    await this.cleanup()
  }

  private track(jobId: string, done: Promise<void>): BatchJob {
    // Called right after RequesterService.addJob, so the job is known there.
    const handle = new BatchJob({
      jobId,
      taskCount: this.requester.summary(jobId)?.taskCount ?? 0,
      store: this.store,
      summary: () => this.requester.summary(jobId),
      cancel: () => this.requester.cancel(jobId),
      done
    })
    this.handles.set(jobId, handle)
    return handle
  }

  /**
   * Announces the job (spec §5.1) once gossip knows `subscribers` subscribers of the model's
   * topic (at most 5 s of waiting), and again every REANNOUNCE_INTERVAL_MS with a fresh issue
   * time while it runs; workers that join in between ask their peers for open jobs (§6.7).
   */
  private async announce(announcement: Uint8Array, done: Promise<void>, subscribers: number): Promise<void> {
    const { message } = await open(STATEMENTS.job, announcement)
    const topic = jobsTopic(message.model)
    const pubsub = this.node.libp2p.services.pubsub
    for (const deadline = Date.now() + 5000; pubsub.getSubscribers(topic).length < subscribers && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await this.announcer.add(message, done)
  }

  private async resolveModel(model: string | Uint8Array): Promise<string> {
    if (model instanceof Uint8Array) {
      return this.models.add(model)
    }
    if (typeof model !== 'string' || model === '') {
      throw new ModelFileError('model must be a path to an .onnx file, its bytes, or its CID')
    }
    try {
      return parseModelCid(model).toString()
    } catch {
      // not a CID: a path
    }
    const cid = await this.models.add(await readModelFile(model))
    // Let workers that lack it fetch it from this peer (spec §6.4).
    await withDeadline(10_000, (signal) => this.node.libp2p.contentRouting.provide(parseModelCid(cid), { signal })).catch(() => {})
    return cid
  }

  /** Looks in the DHT until `minWorkers` workers of the model are found (NoWorkersError after the timeout). */
  private async discover(model: string, timeoutMs: number, minWorkers: number, signal?: AbortSignal): Promise<void> {
    const started = Date.now()
    // Cleared when the search ends: a deadline firing later must not reach the DHT's queries.
    const search = deadline(timeoutMs, signal)
    const found = new Set<string>()
    try {
      while (!search.signal.aborted) {
        try {
          // Workers found by an earlier round are not looked up again.
          for await (const w of findWorkers(this.node, model, { signal: search.signal, skip: found })) {
            found.add(w.peerId.toString())
            if (found.size >= minWorkers) {
              return
            }
          }
        } catch {
          // a lookup cut short by the timeout, or no DHT peers yet
        }
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    } finally {
      search.clear()
    }
    signal?.throwIfAborted()
    throw new NoWorkersError(model, Date.now() - started, found.size, minWorkers)
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

/** Bytes of one task in an assignment besides its tensors' data (ids, names, dims, framing). */
const TASK_OVERHEAD_BYTES = 4096

/**
 * §6.2 Every task must fit one assignment frame: an item too large is refused at submit time,
 * naming the limit, instead of never running.
 */
async function* checkFrames(items: AsyncIterable<Tensor[]>): AsyncGenerator<Tensor[]> {
  let index = 0
  for await (const tensors of items) {
    const bytes = tensors.reduce((n, t) => n + t.data.byteLength + t.name.length * 4 + t.dims.length * 11 + 32, 0)
    if (bytes + TASK_OVERHEAD_BYTES > MAX_FRAME_BYTES) {
      throw new InvalidInputsError(
        `its tensors take ${bytes} bytes; one task must fit a ${MAX_FRAME_BYTES}-byte frame (MAX_FRAME_BYTES, spec §3.1)`,
        index
      )
    }
    index++
    yield tensors
  }
}

/** Zero inputs of the model's declared shape (symbolic dims as 1), for the capacity benchmark. */
function sampleInputs(inputs: TensorSpec[]): Tensor[] {
  return inputs.map((i) => {
    const dims = i.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1))
    const count = dims.reduce((a, b) => a * b, 1)
    return { name: i.name, dtype: i.dtype, dims: dims.map(BigInt), data: new Uint8Array(count * dtypeInfo(i.dtype).size) }
  })
}

/**
 * Starts a peer: joins the network (failing with BootstrapError when no bootstrap peer answers),
 * resumes stored jobs, and serves models when `worker` is given.
 */
export async function createPeer(options: PeerOptions = {}): Promise<Peer> {
  const node = await createNodePeer(
    {
      dataDir: options.dataDir,
      listen: options.listen,
      bootstrap: options.bootstrap,
      transports: options.transports,
      local: options.local,
      mdns: options.mdns
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
