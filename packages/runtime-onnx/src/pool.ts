/**
 * A pool of worker threads running onnxruntime sessions. Jobs wait in one queue and go to the
 * least busy thread, preferring one that already holds the job's model. A thread that dies is replaced; the
 * job it held fails with WorkerCrashedError instead of hanging.
 */

import { Worker } from 'node:worker_threads'
import { BackendStoppedError, DeviceLostError, InferenceFailedError, ModelLoadError, WorkerCrashedError } from '@openbatch/inference'
import { BufferPool, transferable, type WireTensor } from './convert.js'
import type { CpuPlacement, ValueMeta, WorkerInit, WorkerReply, WorkerRequest } from './protocol.js'

export interface PoolOptions extends WorkerInit {
  /** Number of worker threads. */
  size: number
  /**
   * Jobs handed to a thread at once: one running, the rest waiting in its message queue, so the
   * thread starts the next one without waiting for the main thread.
   */
  depth: number
}

export interface PoolStats {
  threads: { busy: boolean; loaded: string[] }[]
  queued: number
}

export type RunReply = { outputs: WireTensor[]; durationUs: number }
export type DescribeReply = { inputs: ValueMeta[]; outputs: ValueMeta[] }

type Job =
  | { op: 'describe'; model: string; resolve: (r: DescribeReply) => void; reject: (e: Error) => void }
  | { op: 'run'; model: string; feeds: WireTensor[]; resolve: (r: RunReply) => void; reject: (e: Error) => void }

interface Thread {
  worker: Worker
  /** Jobs posted to the thread, by request id. */
  jobs: Map<number, Job>
  /** Models whose sessions the thread holds, as it last reported. */
  loaded: Set<string>
  /** Resolves when the thread has exited. */
  exited: Promise<void>
}

const ERRORS: Record<string, new (message: string) => Error> = {
  ModelLoadError,
  InferenceFailedError,
  DeviceLostError
}

/** How long `stop()` lets a thread finish its run in progress before terminating it. */
const STOP_GRACE_MS = 30_000

export class WorkerPool {
  private readonly threads: Thread[] = []
  private readonly queue: Job[] = []
  private running = false
  private nextId = 1

  /** Input buffers handed back by threads, for the next batches. */
  readonly buffers = new BufferPool()

  constructor(
    private readonly options: PoolOptions,
    private readonly loadBytes: (model: string) => Promise<Uint8Array>,
    /** Nodes a thread found placed on the CPU when it loaded a model (WebGPU only). */
    private readonly onPlacement: (placement: CpuPlacement) => void = () => {}
  ) {}

  start(): void {
    if (this.running) {
      return
    }
    this.running = true
    for (let i = 0; i < this.options.size; i++) {
      this.threads.push(this.spawn(i))
    }
  }

  /** Fails queued and running jobs with BackendStoppedError and terminates every thread. */
  async stop(): Promise<void> {
    if (!this.running) {
      return
    }
    this.running = false
    const stopped = new BackendStoppedError('the inference backend was stopped')
    for (const job of this.queue.splice(0)) {
      job.reject(stopped)
    }
    const threads = this.threads.splice(0)
    for (const t of threads) {
      for (const job of t.jobs.values()) {
        job.reject(stopped)
      }
      t.jobs.clear()
    }
    // Each thread ends itself once its run in progress returns: terminating one during a run can
    // abort the process (see worker.ts). One that does not end within STOP_GRACE_MS is terminated.
    await Promise.all(
      threads.map(async (t) => {
        const exited = t.exited
        t.worker.postMessage({ op: 'stop', id: 0 } satisfies WorkerRequest)
        let timer: ReturnType<typeof setTimeout> | undefined
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), STOP_GRACE_MS)
        })
        if ((await Promise.race([exited, late])) === 'late') {
          await t.worker.terminate()
        }
        clearTimeout(timer)
      })
    )
  }

  /** How many more jobs the threads take right now. */
  freeSlots(): number {
    return this.threads.reduce((n, t) => n + this.options.depth - t.jobs.size, 0)
  }

  /** Threads holding no job. */
  idleThreads(): number {
    return this.threads.reduce((n, t) => n + (t.jobs.size === 0 ? 1 : 0), 0)
  }

  get size(): number {
    return this.threads.length
  }

  describe(model: string): Promise<DescribeReply> {
    return new Promise((resolve, reject) => this.enqueue({ op: 'describe', model, resolve, reject }))
  }

  run(model: string, feeds: WireTensor[]): Promise<RunReply> {
    return new Promise((resolve, reject) => this.enqueue({ op: 'run', model, feeds, resolve, reject }))
  }

  /** Per thread: whether it is busy and which models it holds sessions for; and the queue length. */
  stats(): PoolStats {
    return { threads: this.threads.map((t) => ({ busy: t.jobs.size > 0, loaded: [...t.loaded] })), queued: this.queue.length }
  }

  /** Test hook: makes thread `index` exit as a native crash would. */
  crashThread(index: number): void {
    this.threads[index]?.worker.postMessage({ op: 'crash', id: 0 } satisfies WorkerRequest)
  }

  /** Test hook: every thread's next run fails as on a lost WebGPU device. */
  loseDevice(): void {
    for (const t of this.threads) {
      t.worker.postMessage({ op: 'lose-device', id: 0 } satisfies WorkerRequest)
    }
  }

  private enqueue(job: Job): void {
    if (!this.running) {
      job.reject(new BackendStoppedError('the inference backend is not running'))
      return
    }
    this.queue.push(job)
    this.pump()
  }

  /**
   * Hands queued jobs, oldest first, each to the least busy thread with room — among those, one
   * that holds the job's model — so jobs given out together run side by side on idle threads.
   */
  private pump(): void {
    while (this.queue.length > 0) {
      const job = this.queue[0] as Job
      let best: Thread | undefined
      for (const t of this.threads) {
        if (t.jobs.size >= this.options.depth) {
          continue
        }
        if (
          best == null ||
          t.jobs.size < best.jobs.size ||
          (t.jobs.size === best.jobs.size && t.loaded.has(job.model) && !best.loaded.has(job.model))
        ) {
          best = t
        }
      }
      if (best == null) {
        return
      }
      this.queue.shift()
      const id = this.nextId++
      best.jobs.set(id, job)
      void this.dispatch(best, id, job)
    }
  }

  private async dispatch(thread: Thread, id: number, job: Job): Promise<void> {
    let bytes: ArrayBuffer | undefined
    if (!thread.loaded.has(job.model)) {
      try {
        const b = await this.loadBytes(job.model)
        bytes = new ArrayBuffer(b.byteLength)
        new Uint8Array(bytes).set(b)
      } catch (err) {
        this.finish(thread, id, () => job.reject(err as Error))
        return
      }
    }
    if (thread.jobs.get(id) !== job) {
      return // the thread crashed or the pool stopped while the model was read
    }
    const req: WorkerRequest =
      job.op === 'run' ? { op: 'run', id, model: job.model, bytes, feeds: job.feeds } : { op: 'describe', id, model: job.model, bytes }
    const transfer = [...(bytes != null ? [bytes] : []), ...(job.op === 'run' ? transferable(job.feeds.map((f) => f.buffer)) : [])]
    thread.worker.postMessage(req, transfer)
  }

  private finish(thread: Thread, id: number, settle: () => void): void {
    thread.jobs.delete(id)
    settle()
    this.pump()
  }

  private spawn(index: number): Thread {
    const { size: _size, depth: _depth, ...init } = this.options
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init satisfies WorkerInit })
    const thread: Thread = {
      worker,
      jobs: new Map(),
      loaded: new Set(),
      exited: new Promise((resolve) => worker.once('exit', () => resolve()))
    }
    worker.on('message', (reply: WorkerReply) => {
      const job = thread.jobs.get(reply.id)
      thread.loaded = new Set(reply.loaded)
      for (const p of reply.placements ?? []) {
        this.onPlacement(p)
      }
      if (job == null) {
        return
      }
      this.finish(thread, reply.id, () => {
        if (!reply.ok) {
          const E = ERRORS[reply.error.name] ?? InferenceFailedError
          job.reject(new E(reply.error.message))
        } else if ('meta' in reply && job.op === 'describe') {
          job.resolve(reply.meta)
        } else if ('outputs' in reply && job.op === 'run') {
          for (const b of reply.recycled) {
            this.buffers.give(b)
          }
          job.resolve({ outputs: reply.outputs, durationUs: reply.durationUs })
        }
      })
    })
    // 'error' (an uncaught exception in the thread) is always followed by 'exit'.
    worker.on('error', () => {})
    worker.on('exit', (code) => {
      if (!this.running || this.threads[index] !== thread) {
        return
      }
      const jobs = [...thread.jobs.values()]
      thread.jobs.clear()
      this.threads[index] = this.spawn(index)
      for (const job of jobs) {
        job.reject(new WorkerCrashedError(`inference thread exited with code ${code} while running model ${job.model}`))
      }
      this.pump()
    })
    return thread
  }
}
