/**
 * The worker's service: announcements from the JobBoard feed the sans-IO WorkerAgent, whose claim
 * actions are carried out over the work protocol (spec §6.2); assigned tasks run through any
 * InferenceBackend, results go back signed with their execution profile (spec §6.3), and the
 * receipts — the worker's provable earnings — are kept.
 */

import type { PeerId } from '@libp2p/interface'
import { type AgentAction, type ClaimAnswer, WorkerAgent } from '@openbatch/core'
import type { InferenceBackend } from '@openbatch/inference'
import {
  type Assignment,
  assignedInputDigest,
  ErrorCode,
  FailureKind,
  type JobAnnouncement,
  MAX_FRAME_BYTES,
  MAX_TEXT_BYTES,
  type Opened,
  open,
  parseModelCid,
  peerIdBytes,
  rewardCovers,
  STATEMENTS,
  STREAM_TIMEOUT_MS,
  seal,
  type TaskFailure,
  type TaskResult,
  tensorSetDigest,
  toHex
} from '@openbatch/protocol'
import { equals } from 'uint8arrays/equals'
import type { OpenbatchComponents } from './components.js'
import { asError, ProtocolViolationError } from './errors.js'
import { JobBoard, learnRequesterAddresses } from './jobs.js'
import { type Acknowledged, checkReceipt, type ReceiptStore } from './receipts.js'
import { claimTasks, submitResults } from './work.js'

/** What worker uses of a peer. */
export type WorkerComponents = Pick<OpenbatchComponents, 'libp2p' | 'peerId' | 'privateKey' | 'reputation' | 'jobs'>

/**
 * §6.6 The failure a backend error stands for: inputs that do not fit the model, a model that
 * fails on them or cannot run at all are deterministic (another correct worker fails the same
 * way); memory, a lost device or thread, an unobtainable model or a stopping worker are transient.
 */
export function classifyFailure(err: Error): TaskFailure {
  const message = truncate(err.message)
  switch (err.name) {
    case 'InvalidInputError':
      return { kind: FailureKind.INPUT_REJECTED, message }
    case 'ModelLoadError':
      return { kind: FailureKind.UNSUPPORTED_MODEL, message }
    case 'InferenceFailedError':
      return /alloc|out of memory|\boom\b|memory limit/i.test(err.message)
        ? { kind: FailureKind.RESOURCE_EXHAUSTED, message }
        : { kind: FailureKind.INFERENCE_FAILED, message }
    case 'WorkerCrashedError':
    case 'DeviceLostError':
      return { kind: FailureKind.DEVICE_LOST, message }
    case 'BackendStoppedError':
    case 'AbortError':
      return { kind: FailureKind.WORKER_STOPPING, message }
    case 'ModelNotFoundError':
    case 'CorruptModelError':
    case 'ModelFetchError':
      return { kind: FailureKind.MODEL_UNAVAILABLE, message }
    default:
      return /alloc|out of memory/i.test(err.message)
        ? { kind: FailureKind.RESOURCE_EXHAUSTED, message }
        : { kind: FailureKind.DEVICE_LOST, message: truncate(`${err.name}: ${err.message}`) }
  }
}

function truncate(text: string): string {
  const bytes = new TextEncoder().encode(text)
  if (bytes.byteLength <= MAX_TEXT_BYTES) {
    return text
  }
  return `${new TextDecoder().decode(bytes.subarray(0, MAX_TEXT_BYTES - 3)).replace(/\uFFFD$/, '')}…`
}

/** A job a worker got its first tasks of (`joined`), is done with (`left`), or passed by for its pay (`declined`). */
export interface WorkerJobEvent {
  event: 'joined' | 'left' | 'declined'
  jobId: string
  /** The requester's peer id. */
  requester: string
  /** The model's CID. */
  model: string
  /** Why it left (the job closed, its deadline passed, its requester stopped answering, …) or declined. */
  reason?: string
}

export interface WorkerServiceInit {
  backend: InferenceBackend
  /** Model CIDs (strings) this worker serves. */
  models: string[]
  /** Tasks held at once (queued and running). @default DEFAULT_WORKER_CAPACITY (core) */
  capacity?: number
  /** First wait after a claim found no tasks; doubles up to `maxBackoffMs`. @default 250 (WorkerAgent's) */
  backoffMs?: number
  /** @default 4000 (WorkerAgent's) */
  maxBackoffMs?: number
  /** Called for every receipt received. */
  onReceipt?: (receipt: Uint8Array) => void
  /** Keeps every receipt durably (the worker's provable earnings, §3.6). */
  receiptStore?: ReceiptStore
  /** Called after each task ran, with the model, the job, the inference time and the items (rows) it carried. */
  onRun?: (run: { model: string; jobId: string; durationUs: number; items: number }) => void
  /** Called when a task could not run or a submission failed. */
  onError?: (err: Error) => void
  /** Called when a requester stopped answering claims and its jobs were dropped (it is scored, §7.6). */
  onUnresponsive?: (requester: string, failures: number) => void
  /**
   * Called when this worker first got tasks of a job (`joined`), when it dropped a job it had
   * joined (`left`, and why), and when it passed a job by because it pays less than its price
   * (`declined`, once per job).
   */
  onJob?: (event: WorkerJobEvent) => void
  /** Its price per item by model CID, as its capacity record offers it (§3.2); jobs paying less are not claimed (§6.2). */
  prices?: Record<string, bigint>
  /** How long a requester has to begin answering a claim (§6.2). @default CLAIM_TIMEOUT_MS */
  claimTimeoutMs?: number
  /**
   * Makes sure the model's bytes are present before its tasks run — e.g. fetch it by CID from a
   * provider (`fetchModel`) into the backend's model store; `requester` is the requester of the
   * assignment that needs it, which holds it (§6.4). Called once per model (again after a
   * failure); a failure returns the tasks as MODEL_UNAVAILABLE failures, so they go elsewhere at
   * once (§6.6).
   */
  ensureModel?: (model: string, requester: PeerId) => Promise<void>
}

export class WorkerService {
  readonly agent: WorkerAgent
  private readonly board: JobBoard
  private readonly jobs = new Map<string, Opened<JobAnnouncement>>()
  /** Jobs this worker got tasks of (for onJob). */
  private readonly joined = new Set<string>()
  /** Jobs passed by for paying less than the price (told once). */
  private readonly declined = new Set<string>()
  private readonly inflight = new Set<Promise<void>>()
  private readonly ready = new Map<string, Promise<void>>()
  private timer?: ReturnType<typeof setTimeout>
  private running = false
  /** Aborts claims in flight when the service stops (results in flight are still submitted). */
  private stopping = new AbortController()
  /** Aborts submissions still in flight when the stop's grace period is over. */
  private halting = new AbortController()
  /** Receipts received, in order: the worker's verifiable record of accepted work. */
  readonly receipts: Uint8Array[] = []

  constructor(
    private readonly peer: WorkerComponents,
    private readonly init: WorkerServiceInit
  ) {
    for (const m of init.models) {
      parseModelCid(m)
    }
    // The core's defaults (capacity 32, backoff 250 ms doubling to 4 s) unless told otherwise.
    this.agent = new WorkerAgent({ capacity: init.capacity, backoffMs: init.backoffMs, maxBackoffMs: init.maxBackoffMs })
    this.board = new JobBoard(peer, { models: init.models, onJob: (job) => this.onJob(job) })
  }

  /** The job discovery board (gossip and queries, §5.1, §6.7). */
  get jobBoard(): JobBoard {
    return this.board
  }

  start(): void {
    if (this.running) {
      return
    }
    this.running = true
    this.stopping = new AbortController()
    this.halting = new AbortController()
    this.board.start()
  }

  /**
   * Stops claiming (claims in flight are abandoned) and gives tasks in flight `graceMs` to run
   * and be submitted, so no leased work is lost; submissions still waiting then (a requester
   * that does not answer) are abandoned, so a stop is bounded. Tasks a requester leased but
   * never got back return to its queue when the lease expires or the connection closes.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.running = false
    this.board.stop()
    clearTimeout(this.timer)
    this.stopping.abort()
    let timer: ReturnType<typeof setTimeout> | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs)
    })
    await Promise.race([Promise.allSettled([...this.inflight]), grace])
    clearTimeout(timer)
    this.halting.abort()
  }

  /** Takes a job learnt some other way (e.g. from the requester directly). */
  addJob(announcement: Opened<JobAnnouncement>): void {
    this.onJob(announcement)
  }

  private onJob(job: Opened<JobAnnouncement>): void {
    if (!this.running) {
      return
    }
    const a = job.message
    const id = toHex(a.jobId)
    const model = parseModelCid(a.model).toString()
    // §6.2: a job paying less than this worker's price per item (times the items a task carries) is not claimed.
    const price = this.init.prices?.[model] ?? 0n
    if (!rewardCovers(a, price)) {
      if (!this.declined.has(id)) {
        this.declined.add(id)
        const reason = `it pays ${a.rewardPerTask} per task of up to ${a.itemsPerTask ?? 1} item(s), below the price of ${price} per item`
        this.init.onJob?.({ event: 'declined', jobId: id, requester: job.signer.toString(), model, reason })
      }
      return
    }
    this.jobs.set(id, job)
    void learnRequesterAddresses(this.peer, job).finally(() =>
      this.apply(
        this.agent.announce(Date.now(), {
          id,
          requester: job.signer.toString(),
          model,
          deadline: Number(a.deadlineMs),
          maxBatch: a.maxBatch,
          issuedAt: Number(a.issuedAtMs)
        })
      )
    )
  }

  private apply(actions: AgentAction[]): void {
    for (const action of actions) {
      if (action.type === 'claim') {
        this.track(this.claim(action.job, action.maxTasks))
      } else if (action.type === 'drop') {
        this.jobEvent('left', action.job, action.reason)
        this.jobs.delete(action.job)
        if (action.reason === 'JOB_CLOSED' || action.reason === 'deadline passed') {
          this.peer.jobs.forget(action.job) // over: not passed on to others (§6.7)
        }
      } else if (action.type === 'unresponsive') {
        // §6.2, §7.6: a requester that does not answer claims is scored like a lease timeout; the
        // score feeds gossipsub's, so its announcements weigh less with every peer that saw it.
        this.peer.reputation.unresponsive(action.requester, action.failures)
        this.init.onUnresponsive?.(action.requester, action.failures)
      } else if (action.type === 'timer') {
        clearTimeout(this.timer)
        if (action.at !== undefined && this.running) {
          this.timer = setTimeout(() => this.apply(this.agent.tick(Date.now())), Math.max(0, action.at - Date.now()))
          this.timer.unref()
        }
      }
    }
  }

  /** Tells onJob that this worker joined a job (the first time only), or left one it had joined. */
  private jobEvent(event: WorkerJobEvent['event'], jobId: string, reason?: string): void {
    const job = this.jobs.get(jobId)
    if (job == null || (event === 'joined') === this.joined.has(jobId)) {
      return
    }
    if (event === 'joined') {
      this.joined.add(jobId)
    } else {
      this.joined.delete(jobId)
    }
    const model = parseModelCid(job.message.model).toString()
    this.init.onJob?.({ event, jobId, requester: job.signer.toString(), model, ...(reason == null ? {} : { reason }) })
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p)
    // No failure of a remote peer may surface as an unhandled rejection (it would end the process).
    p.catch((err: Error) => this.init.onError?.(err)).finally(() => this.inflight.delete(p))
  }

  private async claim(jobId: string, maxTasks: number): Promise<void> {
    const job = this.jobs.get(jobId)
    if (job == null) {
      this.apply(this.agent.claimed(Date.now(), jobId, 'JOB_CLOSED'))
      return
    }
    let assignment: Assignment
    try {
      // §6.2: the requester begins its answer within the claim timeout; a frame of inputs may
      // then take up to the stream timeout to arrive.
      const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(STREAM_TIMEOUT_MS)])
      assignment = await claimTasks(
        this.peer,
        job.signer,
        { jobId: job.message.jobId, maxTasks },
        { signal, answerTimeoutMs: this.init.claimTimeoutMs }
      )
    } catch (err) {
      const e = asError(err)
      if (!this.running) {
        return // stopping: the abort is ours, not the requester's failure
      }
      this.init.onError?.(e)
      const timedOut = e.name === 'AnswerTimeoutError' || e.name === 'TimeoutError' || e.name === 'AbortError'
      this.apply(this.agent.claimed(Date.now(), jobId, timedOut ? 'TIMEOUT' : 'FAILED'))
      return
    }
    if (
      assignment.code === ErrorCode.OK &&
      assignment.tasks.length > 0 &&
      (!equals(assignment.jobId, job.message.jobId) || !equals(assignment.model, job.message.model))
    ) {
      // §3.4: an assignment is for the job claimed and its announced model; anything else is the
      // requester's failure, and none of it runs.
      this.init.onError?.(
        new ProtocolViolationError(`${job.signer.toString()} assigned tasks of another job or model than the one claimed (§3.4)`)
      )
      this.apply(this.agent.claimed(Date.now(), jobId, 'FAILED'))
      return
    }
    const answer = (assignment.code === ErrorCode.OK ? 'OK' : assignment.code) as ClaimAnswer
    this.apply(this.agent.claimed(Date.now(), jobId, answer, assignment.tasks.length))
    if (assignment.tasks.length > 0) {
      this.jobEvent('joined', jobId)
    }
    if (assignment.tasks.length > 0 && this.running) {
      await this.run(job.signer, assignment)
    }
  }

  /**
   * Submits signed results, trying again (0.5 s, doubling to 8 s) while the requester cannot be
   * reached — it may be restarting, and will take results of leases it kept (§6.5) — until the
   * lease ends or the service stops.
   */
  private async submit(requester: PeerId, envelopes: Uint8Array[], leaseEnd: number) {
    for (let delay = 500; ; delay = Math.min(8000, delay * 2)) {
      try {
        return await submitResults(this.peer, requester, envelopes, {
          signal: AbortSignal.any([this.halting.signal, AbortSignal.timeout(STREAM_TIMEOUT_MS)])
        })
      } catch (err) {
        if (this.halting.signal.aborted || Date.now() + delay >= leaseEnd) {
          throw err
        }
        this.init.onError?.(err as Error)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay)
          this.halting.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer)
              resolve()
            },
            { once: true }
          )
        })
      }
    }
  }

  /**
   * Keeps the receipts of one acknowledgement (§3.6): only those that verify, in one store
   * transaction; each one that does not is reported and the others are kept all the same.
   */
  private async keepReceipts(acknowledged: Acknowledged[]): Promise<void> {
    const receipts = acknowledged.map((a) => a.receipt)
    let valid: Uint8Array[] = receipts
    if (this.init.receiptStore != null) {
      const { rejected } = await this.init.receiptStore.addAll(receipts, this.peer.peerId, acknowledged)
      const rejectedSet = new Set(rejected.map((r) => r.envelope))
      valid = receipts.filter((r) => !rejectedSet.has(r))
      for (const r of rejected) {
        this.init.onError?.(r.error)
      }
    } else {
      valid = []
      for (const a of acknowledged) {
        try {
          checkReceipt((await open(STATEMENTS.receipt, a.receipt)).message, this.peer.peerId, a)
          valid.push(a.receipt)
        } catch (err) {
          this.init.onError?.(err as Error)
        }
      }
    }
    for (const receipt of valid) {
      this.receipts.push(receipt)
      this.init.onReceipt?.(receipt)
    }
  }

  /**
   * Runs an assignment's tasks (the backend batches them) and submits the signed results — or,
   * for a task that could not run, a signed failure saying why (§6.6) — in submissions that each
   * fit one frame.
   */
  private async run(requester: PeerId, a: Assignment): Promise<void> {
    const model = parseModelCid(a.model).toString()
    const worker = peerIdBytes(this.peer.peerId)
    let unavailable: TaskFailure | undefined
    if (this.init.ensureModel != null) {
      let ready = this.ready.get(model)
      if (ready == null) {
        ready = this.init.ensureModel(model, requester)
        this.ready.set(model, ready)
        ready.catch(() => this.ready.delete(model)) // try again with the next assignment
      }
      try {
        await ready
      } catch (err) {
        this.init.onError?.(err as Error)
        // §6.6: the model could not be had here: the tasks go to other workers at once.
        unavailable = { kind: FailureKind.MODEL_UNAVAILABLE, message: truncate((err as Error).message) }
      }
    }
    const failures = new Map<Uint8Array, boolean>()
    const results = await Promise.all(
      a.tasks.map(async (task) => {
        const startedAtMs = BigInt(Date.now())
        const base = {
          taskId: task.taskId,
          jobId: a.jobId,
          index: task.index,
          model: a.model,
          inputDigest: assignedInputDigest(task), // hashed once, when the assignment was checked
          worker,
          startedAtMs
        }
        let result: TaskResult
        if (unavailable != null) {
          result = { ...base, outputDigest: tensorSetDigest([]), outputs: [], durationUs: 0n, failure: unavailable }
        } else {
          try {
            const { outputs, profile, durationUs } = await this.init.backend.run(model, task.inputs)
            // Rows of the task's first input: the items it carries (§6.8).
            this.init.onRun?.({ model, jobId: toHex(a.jobId), durationUs, items: Number(task.inputs[0]?.dims[0] ?? 1n) })
            result = {
              ...base,
              outputDigest: tensorSetDigest(outputs),
              outputs,
              durationUs: BigInt(Math.round(durationUs)),
              profile
            }
          } catch (err) {
            this.init.onError?.(err as Error)
            result = {
              ...base,
              outputDigest: tensorSetDigest([]),
              outputs: [],
              durationUs: BigInt((Date.now() - Number(startedAtMs)) * 1000),
              failure: classifyFailure(err as Error)
            }
          }
        }
        try {
          const envelope = await seal(STATEMENTS.result, result, this.peer.privateKey)
          failures.set(envelope, result.failure != null)
          return envelope
        } catch (err) {
          this.init.onError?.(err as Error)
          return undefined // e.g. outputs over a limit: the lease expires and the task goes elsewhere
        }
      })
    )
    const envelopes = results.filter((r): r is Uint8Array<ArrayBuffer> => r != null)
    // §3.6: a receipt acknowledges the exact result envelope it answers, for the job's reward (0
    // for a failure).
    const reward = this.jobs.get(toHex(a.jobId))?.message.rewardPerTask
    try {
      for (const part of submissions(envelopes)) {
        const statuses = await this.submit(requester, part, Number(a.leaseExpiresAtMs))
        const acknowledged = statuses.flatMap((s, i) =>
          s.code === ErrorCode.OK || s.code === ErrorCode.DUPLICATE
            ? [
                {
                  receipt: s.receipt,
                  // A DUPLICATE carries the original receipt, for the envelope first accepted.
                  result: s.code === ErrorCode.OK ? (part[i] as Uint8Array) : undefined,
                  reward: failures.get(part[i] as Uint8Array) === true ? 0n : reward
                }
              ]
            : []
        )
        await this.keepReceipts(acknowledged)
      }
    } catch (err) {
      this.init.onError?.(err as Error)
    } finally {
      this.apply(this.agent.finished(Date.now(), a.tasks.length))
    }
  }
}

/** Bytes of a ResultSubmission besides its results. */
const SUBMISSION_OVERHEAD_BYTES = 1024

/** Splits signed results into submissions that each fit one frame (§6.3). */
export function submissions(envelopes: Uint8Array[], maxBytes = MAX_FRAME_BYTES): Uint8Array[][] {
  const out: Uint8Array[][] = []
  let current: Uint8Array[] = []
  let size = SUBMISSION_OVERHEAD_BYTES
  for (const e of envelopes) {
    const bytes = e.byteLength + 6
    if (current.length > 0 && (size + bytes > maxBytes || current.length >= 256)) {
      out.push(current)
      current = []
      size = SUBMISSION_OVERHEAD_BYTES
    }
    current.push(e)
    size += bytes
  }
  if (current.length > 0) {
    out.push(current)
  }
  return out
}
