/**
 * OnnxBackend: the InferenceBackend a worker peer runs. Tasks are validated against the model,
 * queued per model, and — when a thread is free — merged along the batch dimension into one
 * onnxruntime call whose outputs are split back per task. On CPU with several threads a batch
 * of maxRows rows is shared among them (data parallelism instead of intra-op parallelism), so a
 * task with more rows than a call takes is split and its outputs joined back.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import {
  AbortError,
  type AbortOptions,
  BackendStoppedError,
  type InferenceBackend,
  InvalidInputError,
  type ModelInfo,
  ModelLoadError,
  ModelStore,
  type RunResult,
  type TensorSpec,
  validateInputs
} from '@openbatch/inference'
import { DTYPES, type ExecutionProfile, parseModelCid, type Tensor } from '@openbatch/protocol'
import { joinRows, mergeInputs, type Pending, sliceRows, splitOutputs, takeGroup } from './batching.js'
import { dtypeOfOrt } from './convert.js'
import { chooseProvider, type DeviceInfo, detectDevices, type ExecutionProvider, type ProviderChoice } from './device.js'
import { type DescribeReply, type PoolStats, WorkerPool } from './pool.js'
import type { CpuPlacement, GraphOptimizationLevel } from './protocol.js'

/** Rows in one onnxruntime call unless a worker measures better (a GPU does, §4.2's max_batch). */
export const DEFAULT_MAX_ROWS = 32

export interface OnnxBackendInit {
  /** The model store, or the directory for one. */
  store: ModelStore | string
  /**
   * Worker threads running inference, each with its own sessions.
   *
   * On CPU the default is one thread per core, up to 4: independent single-threaded sessions
   * keep every core busy with no synchronisation between them, where one session's intra-op
   * threads meet at a barrier after every operator and all wait whenever one is descheduled
   * (`pnpm bench runtime`: 2 × 1 ran 1.0–3× the items/s of 1 × 2 on 2 shared cores). With CUDA
   * the GPU does the work: 1 thread below 8 cores, else 2. With WebGPU one session per device:
   * 1 thread (its calls queue on the one GPU queue anyway; a second session would double the
   * device memory the weights take).
   * @default CPU: min(cores, 4); CUDA: 1 below 8 cores, else 2; WebGPU: 1
   */
  threads?: number
  /**
   * onnxruntime intra-op threads per worker thread.
   * @default max(1, floor(cores / threads))
   */
  intraOpThreads?: number
  /**
   * Most rows in one batch: tasks are merged up to this many rows. With CUDA, or one thread, a
   * batch is one onnxruntime call; on CPU with several threads each call takes an equal share
   * (⌈maxRows / threads⌉ rows), as one session's intra-op threads would share the batch.
   * @default 32
   */
  maxRows?: number
  /**
   * Memory budget for cached sessions per worker thread, in bytes (a session is estimated at
   * `sessionCostFactor` × the model file size).
   * @default 1/4 of RAM divided by threads
   */
  sessionBudgetBytes?: number
  /**
   * Memory budget for cached sessions across all threads, in bytes: each thread gets an equal
   * share (overrides `sessionBudgetBytes`). For a caller that knows the memory it may use but
   * not how many threads the provider's default gives.
   */
  memoryBudgetBytes?: number
  /** @default 3 */
  sessionCostFactor?: number
  /** @default 'all' */
  graphOptimizationLevel?: GraphOptimizationLevel
  /**
   * Whether onnxruntime's intra-op threads spin-wait between runs. Spinning is fastest when
   * inference has the CPU to itself; when the same cores also serve the peer's networking and
   * protocol work (a worker that waits for tasks), turning it off leaves them that CPU.
   * @default true
   */
  allowSpinning?: boolean
  /**
   * 'auto' uses WebGPU on a hardware GPU adapter, else CUDA when an NVIDIA GPU and onnxruntime's
   * CUDA provider libraries are present, else the CPU. A software WebGPU adapter (lavapipe,
   * SwiftShader) is used only when 'webgpu' is asked for by name.
   * @default 'auto'
   */
  executionProvider?: ExecutionProvider
  /**
   * Told once per model and event, in one line: nodes onnxruntime placed on the CPU because
   * WebGPU lacks their kernels (outputs are the same, speed may not be), or the device lost and
   * the switch to CPU.
   * @default no report
   */
  onNotice?: (message: string) => void
  /**
   * With CUDA: the most GPU memory onnxruntime's CUDA arenas may take in all, in bytes; each
   * inference thread's arena (its `gpuMemLimit`) gets an equal share. Ignored on CPU.
   * @default no limit
   */
  gpuMemoryLimitBytes?: number
  /**
   * Batches handed to each thread at once (one running, the others queued at the thread), so a
   * thread never idles waiting for the main thread.
   * @default 2
   */
  pipelineDepth?: number
  /** Device detection result, to skip probing (tests). */
  devices?: DeviceInfo
}

/**
 * The backend of this process that runs on WebGPU. onnxruntime's WebGPU sessions share one device
 * per process, and using it from two threads at once aborts or crashes the process (reproduced with
 * two threads, and with two backends), so one backend and one of its threads have it.
 */
let webgpuHolder: OnnxBackend | undefined

export class OnnxBackend implements InferenceBackend {
  readonly store: ModelStore
  /** Worker threads; the provider's default until `start()` has chosen the provider. */
  threads: number
  /** onnxruntime intra-op threads per worker thread (also until `start()`, see `threads`). */
  intraOpThreads: number
  private batch: number
  /** Most rows in one onnxruntime call (see `maxRows`); set by `start()`. */
  callRows: number
  readonly graphOptimizationLevel: GraphOptimizationLevel
  private readonly init: OnnxBackendInit
  private pool?: WorkerPool
  private choice?: ProviderChoice
  private devices?: DeviceInfo
  private runtime = 'onnxruntime-node'
  private readonly infos = new Map<string, Promise<ModelInfo>>()
  private readonly queues = new Map<string, Pending[]>()
  private seq = 0
  private pumpScheduled = false
  private starting?: Promise<void>
  /** Where WebGPU threads write their placement profiles (removed on stop). */
  private profileDir?: string
  /** Per model, the nodes onnxruntime placed on the CPU under WebGPU (operator → count), once loaded. */
  readonly cpuPlacements = new Map<string, Record<string, number>>()

  constructor(init: OnnxBackendInit) {
    this.init = init
    this.store = typeof init.store === 'string' ? new ModelStore(init.store) : init.store
    const plan = threadPlan(init, 'cpu', availableParallelism())
    this.threads = plan.threads
    this.intraOpThreads = plan.intraOpThreads
    this.batch = init.maxRows ?? DEFAULT_MAX_ROWS
    this.callRows = this.batch
    this.graphOptimizationLevel = init.graphOptimizationLevel ?? 'all'
    for (const [name, v] of [
      ['threads', this.threads],
      ['intraOpThreads', this.intraOpThreads],
      ['maxRows', this.maxRows]
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`${name} must be an integer ≥ 1, got ${v}`)
      }
    }
  }

  /** Detects devices, chooses the execution provider and starts the thread pool. Idempotent. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.devices = this.init.devices ?? (await detectDevices({ webgpu: this.init.executionProvider !== 'cpu' }))
      const ort = await import('onnxruntime-node')
      this.runtime = `onnxruntime-node/${ort.env.versions.node ?? 'unknown'}`
      let choice = chooseProvider(this.init.executionProvider ?? 'auto', this.devices)
      if (choice.provider === 'webgpu') {
        if (webgpuHolder != null && webgpuHolder !== this) {
          choice = {
            provider: 'cpu',
            device: this.devices.cpu.model,
            reason: `${choice.reason}, but another inference backend of this process runs on it (onnxruntime's WebGPU device is not safe from two threads); using CPU`
          }
        } else {
          webgpuHolder = this
          if (this.init.threads != null && this.init.threads > 1) {
            choice = {
              ...choice,
              reason: `${choice.reason}; 1 inference thread (onnxruntime's WebGPU device is not safe from two threads), not ${this.init.threads}`
            }
          }
        }
      }
      this.startPool(choice)
    })()
    return this.starting
  }

  private startPool(choice: ProviderChoice): void {
    const devices = this.devices as DeviceInfo
    this.choice = choice
    if (choice.provider !== 'webgpu' && webgpuHolder === this) {
      webgpuHolder = undefined
    }
    const plan = threadPlan(this.init, choice.provider, devices.cpu.cores)
    this.threads = plan.threads
    this.intraOpThreads = plan.intraOpThreads
    this.maxRows = this.batch
    if (choice.provider === 'webgpu') {
      this.profileDir ??= mkdtempSync(join(tmpdir(), 'openbatch-placement-'))
    }
    this.pool = new WorkerPool(
      {
        size: this.threads,
        depth: this.init.pipelineDepth ?? 2,
        intraOpThreads: this.intraOpThreads,
        graphOptimizationLevel: this.graphOptimizationLevel,
        executionProviders:
          choice.provider === 'cuda'
            ? [
                this.init.gpuMemoryLimitBytes == null
                  ? 'cuda'
                  : { name: 'cuda', gpuMemLimit: Math.floor(this.init.gpuMemoryLimitBytes / this.threads) },
                'cpu'
              ]
            : choice.provider === 'webgpu'
              ? ['webgpu', 'cpu']
              : ['cpu'],
        ...(choice.provider === 'webgpu' ? { placementProfileDir: this.profileDir } : {}),
        sessionBudgetBytes:
          this.init.memoryBudgetBytes != null
            ? Math.floor(this.init.memoryBudgetBytes / this.threads)
            : (this.init.sessionBudgetBytes ?? Math.floor(totalmem() / 4 / this.threads)),
        sessionCostFactor: this.init.sessionCostFactor ?? 3,
        allowSpinning: this.init.allowSpinning ?? true
      },
      (model) => this.store.get(model),
      (p) => this.placement(p)
    )
    this.pool.start()
  }

  /** Most rows in one batch (see `OnnxBackendInit.maxRows`); a GPU worker sets it from its capacity benchmark. */
  get maxRows(): number {
    return this.batch
  }

  set maxRows(rows: number) {
    if (!Number.isInteger(rows) || rows < 1) {
      throw new RangeError(`maxRows must be an integer ≥ 1, got ${rows}`)
    }
    this.batch = rows
    this.callRows = this.choice?.provider === 'cpu' ? Math.ceil(rows / this.threads) : rows
  }

  private placement(p: CpuPlacement): void {
    // Told once per model: the map of placements is also the record of what was told.
    if (this.cpuPlacements.has(p.model)) {
      return
    }
    this.cpuPlacements.set(p.model, p.ops)
    const ops = Object.entries(p.ops)
      .sort((a, b) => b[1] - a[1])
      .map(([op, n]) => `${op} ×${n}`)
      .join(', ')
    this.init.onNotice?.(
      `model ${p.model}: WebGPU lacks kernels for ${ops}; onnxruntime runs those nodes on the CPU (same results, data crosses between devices)`
    )
  }

  /**
   * The WebGPU device is gone: later tasks run on CPU threads. Tasks still running on the old
   * threads come back with errors that the caller of \`execute\` queues again.
   */
  private fallBackToCpu(cause: Error): void {
    const old = this.pool
    const devices = this.devices as DeviceInfo
    const from = this.choice?.device ?? 'the GPU'
    this.startPool({
      provider: 'cpu',
      device: devices.cpu.model,
      reason: `WebGPU device lost on ${from} (${cause.message}); using CPU`
    })
    this.init.onNotice?.(this.provider.reason)
    void old?.stop()
  }

  /** Test hook: the next run on every thread fails as on a lost WebGPU device. */
  loseDeviceForTesting(): void {
    this.pool?.loseDevice()
  }

  /** Fails every queued and running task with BackendStoppedError and ends every thread. */
  async stop(): Promise<void> {
    const starting = this.starting
    this.starting = undefined
    if (starting == null) {
      return
    }
    await starting.catch(() => {})
    if (webgpuHolder === this) {
      webgpuHolder = undefined
    }
    const stopped = new BackendStoppedError('the inference backend was stopped')
    for (const queue of this.queues.values()) {
      for (const p of queue.splice(0)) {
        this.settle(p, () => p.reject(stopped))
      }
    }
    this.queues.clear()
    this.infos.clear()
    await this.pool?.stop()
    this.pool = undefined
    if (this.profileDir != null) {
      rmSync(this.profileDir, { recursive: true, force: true })
      this.profileDir = undefined
    }
  }

  /** The execution provider in use and why it was chosen. */
  get provider(): ProviderChoice {
    if (this.choice == null) {
      throw new BackendStoppedError('the inference backend is not started')
    }
    return this.choice
  }

  /** Threads (busy, cached sessions) and tasks waiting, for metrics and status. */
  stats(): PoolStats & { waiting: number } {
    const waiting = [...this.queues.values()].reduce((n, q) => n + q.length, 0)
    return { ...(this.pool?.stats() ?? { threads: [], queued: 0 }), waiting }
  }

  /** Test hook: makes worker thread `index` exit as a native crash would. */
  crashThreadForTesting(index: number): void {
    this.pool?.crashThread(index)
  }

  get deviceInfo(): DeviceInfo | undefined {
    return this.devices
  }

  describe(model: string, options: AbortOptions = {}): Promise<ModelInfo> {
    const pool = this.pool
    if (pool == null) {
      return Promise.reject(new BackendStoppedError('the inference backend is not started'))
    }
    options.signal?.throwIfAborted()
    const key = parseModelCid(model).toString()
    let info = this.infos.get(key)
    if (info == null) {
      info = (async () =>
        toModelInfo(key, await pool.describe(key), (await this.store.list()).find((m) => m.model === key)?.sizeBytes ?? 0))()
      this.infos.set(key, info)
      info.catch(() => this.infos.delete(key))
    }
    return info
  }

  async run(model: string, inputs: Tensor[], options: AbortOptions = {}): Promise<RunResult> {
    const { signal } = options
    if (signal?.aborted) {
      throw new AbortError()
    }
    const info = await this.describe(model, options)
    if (signal?.aborted) {
      throw new AbortError()
    }
    validateInputs(info, inputs)
    const ordered = info.inputs.map((spec) => inputs.find((t) => t.name === spec.name) as Tensor)
    let rows = 1
    let key: string | undefined
    if (info.batchable) {
      const first = Number(ordered[0]?.dims[0] ?? 0n)
      if (first === 0) {
        throw new InvalidInputError(info.inputs[0]?.name ?? '', 'empty batch: the batch dimension is 0')
      }
      if (ordered.every((t) => Number(t.dims[0]) === first)) {
        rows = first
        key = ordered.map((t) => t.dims.slice(1).join('x')).join('|')
      }
    }
    return new Promise<RunResult>((resolve, reject) => {
      if (this.pool == null) {
        reject(new BackendStoppedError('the inference backend is not started'))
        return
      }
      const p: Pending = { info, inputs: ordered, rows, key, seq: this.seq++, resolve, reject, signal, settled: false }
      if (signal != null) {
        p.onAbort = () => {
          const queue = this.queues.get(info.model)
          const at = queue?.indexOf(p) ?? -1
          if (at >= 0) {
            queue?.splice(at, 1)
          }
          this.settle(p, () => reject(new AbortError()))
        }
        signal.addEventListener('abort', p.onAbort, { once: true })
      }
      const queue = this.queues.get(info.model) ?? []
      queue.push(p)
      this.queues.set(info.model, queue)
      this.schedulePump()
    })
  }

  private settle(p: Pending, fn: () => void): void {
    if (p.settled) {
      return
    }
    p.settled = true
    if (p.onAbort != null) {
      p.signal?.removeEventListener('abort', p.onAbort)
    }
    fn()
  }

  /** Deferred to the next turn so tasks submitted together are merged into one batch. */
  private schedulePump(): void {
    if (this.pumpScheduled) {
      return
    }
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private pump(): void {
    const pool = this.pool
    while (pool != null && pool.freeSlots() > 0) {
      let model: string | undefined
      let oldest = Number.POSITIVE_INFINITY
      for (const [m, q] of this.queues) {
        if (q.length > 0 && (q[0] as Pending).seq < oldest) {
          oldest = (q[0] as Pending).seq
          model = m
        }
      }
      if (model == null) {
        return
      }
      const queue = this.queues.get(model) as Pending[]
      const head = queue[0] as Pending
      if (head.parent?.settled === true) {
        queue.shift() // a part of a task that was aborted or failed
        continue
      }
      // Idle threads share what is queued (32 rows and 2 idle threads: 16 each) rather than one
      // taking a full batch while the other waits; a task with more rows than its share is split.
      const idle = pool.idleThreads()
      const share = idle > 1 ? Math.min(this.callRows, Math.ceil(queue.reduce((n, p) => n + p.rows, 0) / idle)) : this.callRows
      if (head.rows > share && head.key !== undefined && head.parent == null) {
        queue.splice(0, 1, ...this.split(head, share))
      }
      const group = takeGroup(queue, share)
      void this.execute(pool, model, group)
    }
  }

  /**
   * Splits a task's rows into parts of at most `share` rows (views, no copy) that run as tasks of
   * their own; the task resolves with their outputs joined back in order, or, when the model's
   * outputs turn out not to follow its rows, runs whole.
   */
  private split(task: Pending, share: number): Pending[] {
    const count = Math.ceil(task.rows / share)
    const results: RunResult[] = []
    let left = count
    const parts: Pending[] = []
    for (let i = 0; i < count; i++) {
      const from = i * share
      const to = Math.min(task.rows, from + share)
      parts.push({
        info: task.info,
        inputs: task.inputs.map((t) => sliceRows(t, task.rows, from, to)),
        rows: to - from,
        key: task.key,
        seq: task.seq,
        settled: false,
        parent: task,
        reject: (err) => this.settle(task, () => task.reject(err)),
        resolve: (r) => {
          results[i] = r
          if (--left > 0 || task.settled) {
            return // more parts to come, or the task already failed or was aborted
          }
          const joined = joinRows(results, parts)
          if (joined != null) {
            this.settle(task, () => task.resolve(joined))
            return
          }
          task.info.batchable = false
          task.key = undefined
          const queue = this.queues.get(task.info.model) ?? []
          queue.unshift(task)
          this.queues.set(task.info.model, queue)
          this.schedulePump()
        }
      })
    }
    return parts
  }

  /** Puts the tasks of a group back at the head of the queue, each to run on its own. */
  private runAlone(model: string, group: Pending[]): void {
    const queue = this.queues.get(model) ?? []
    for (const p of group) {
      p.key = undefined
    }
    queue.unshift(...group)
    this.queues.set(model, queue)
  }

  /** Hands the group to the pool at once (so the pool's idle count is current for the next group). */
  private async execute(pool: WorkerPool, model: string, group: Pending[]): Promise<void> {
    const info = (group[0] as Pending).info
    const names = info.inputs.map((s) => s.name)
    let reply: Awaited<ReturnType<WorkerPool['run']>>
    try {
      reply = await pool.run(model, mergeInputs(names, group, pool.buffers))
    } catch (err) {
      const e = err as Error
      if (e.name === 'DeviceLostError' && pool === this.pool && this.provider.provider === 'webgpu') {
        // The task fails with the named error (the worker reports DEVICE_LOST, a transient failure:
        // the requester gives the task to another worker, §6.6); later tasks run on the CPU.
        this.fallBackToCpu(e)
        for (const p of group) {
          this.settle(p, () => p.reject(e))
        }
      } else if (pool !== this.pool && this.pool != null && e.name !== 'InvalidInputError') {
        // Ran on threads that were replaced (the device was lost): run again on the new ones.
        const queue = this.queues.get(model) ?? []
        queue.unshift(...group)
        this.queues.set(model, queue)
      } else if (group.length > 1 && (e.name === 'InferenceFailedError' || e.name === 'WorkerCrashedError')) {
        // One task's inputs may have failed the merged call (an index outside a vocabulary, say):
        // each runs alone now, so only the tasks that fail on their own fail (spec §6.6).
        this.runAlone(model, group)
      } else {
        for (const p of group) {
          this.settle(p, () => p.reject(e))
        }
      }
      this.pump()
      return
    }
    const rows = group.reduce((n, p) => n + p.rows, 0)
    const profile: ExecutionProfile = {
      runtime: this.runtime,
      provider: this.provider.provider,
      device: this.provider.device,
      intraOpThreads: this.intraOpThreads,
      graphOptimization: this.graphOptimizationLevel,
      batchSize: rows
    }
    const split = splitOutputs(reply.outputs, group)
    if (split == null) {
      // The model's outputs do not follow the batch dimension: run these tasks one by one from now on.
      info.batchable = false
      this.runAlone(model, group)
    } else {
      group.forEach((p, i) => {
        this.settle(p, () => p.resolve({ outputs: split[i] as Tensor[], profile, durationUs: reply.durationUs }))
      })
    }
    this.pump()
  }
}

/** What to do about a type openbatch tensors cannot carry (§2.2), by the type onnxruntime names. */
function workaround(type: string, role: 'input' | 'output'): string {
  if (type === 'non-tensor') {
    // scikit-learn classifiers converted with skl2onnx end in a ZipMap (a sequence of maps).
    return role === 'output'
      ? 'a map or sequence (a ZipMap, as skl2onnx adds to classifiers): convert the model without it — skl2onnx options={id(model): {"zipmap": False}} — so the probabilities come out as a float tensor'
      : 'a map or sequence: give the model tensor inputs'
  }
  if (type === 'string') {
    return role === 'input'
      ? 'strings: tokenise outside the model (or put the tokeniser in front of it) so the model takes integer ids'
      : 'strings: have the model output the integer ids (or indices into its label list) and map them to text after'
  }
  return `${type}: cast it to one of float32, float16, float64, (u)int8/16/32/64 or bool in the model (a Cast node)`
}

function toSpec(model: string, v: DescribeReply['inputs'][number], role: 'input' | 'output'): TensorSpec {
  const dtype = dtypeOfOrt(v.type)
  if (dtype == null || !(dtype in DTYPES)) {
    throw new ModelLoadError(
      `model ${model}: ${role} "${v.name}" is ${workaround(v.type, role)}; openbatch tensors carry numbers only (spec §2.2)`
    )
  }
  return { name: v.name, dtype, shape: v.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) }
}

function toModelInfo(model: string, meta: DescribeReply, sizeBytes: number): ModelInfo {
  const inputs = meta.inputs.map((v) => toSpec(model, v, 'input'))
  const outputs = meta.outputs.map((v) => toSpec(model, v, 'output'))
  const symbolicFirst = (s: TensorSpec) => s.shape.length > 0 && typeof s.shape[0] === 'string'
  return { model, inputs, outputs, batchable: inputs.every(symbolicFirst) && outputs.every(symbolicFirst), sizeBytes }
}

/** Creates an ONNX backend; call `start()` before use and `stop()` when done. */
export function createOnnxBackend(init: OnnxBackendInit): OnnxBackend {
  return new OnnxBackend(init)
}

/** Worker and intra-op threads: the given ones, else the provider's defaults on `cores` cores (see `OnnxBackendInit.threads`). */
function threadPlan(init: OnnxBackendInit, provider: string, cores: number): { threads: number; intraOpThreads: number } {
  // WebGPU: one thread, whatever was asked (see webgpuHolder).
  const threads = provider === 'webgpu' ? 1 : (init.threads ?? (provider === 'cpu' ? Math.max(1, Math.min(cores, 4)) : cores >= 8 ? 2 : 1))
  return { threads, intraOpThreads: init.intraOpThreads ?? Math.max(1, Math.floor(cores / threads)) }
}
