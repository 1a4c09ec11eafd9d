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
  type JobAnnouncement,
  type Opened,
  open,
  parseModelCid,
  peerIdBytes,
  STATEMENTS,
  seal,
  type TaskResult,
  tensorSetDigest,
  toHex
} from '@openbatch/protocol'
import { JobBoard } from './jobs.js'
import type { OpenbatchPeer } from './peer.js'
import type { ReceiptStore } from './receipts.js'
import { claimTasks, submitResults } from './work.js'

export interface WorkerServiceInit {
  backend: InferenceBackend
  /** Model CIDs (strings) this worker serves. */
  models: string[]
  /** Tasks held at once (queued and running). @default 32 */
  capacity?: number
  /** First wait after a claim found no tasks; doubles up to `maxBackoffMs`. @default 250 */
  backoffMs?: number
  /** @default 4000 */
  maxBackoffMs?: number
  /** Called for every receipt received. */
  onReceipt?: (receipt: Uint8Array) => void
  /** Keeps every receipt durably (the worker's provable earnings, §3.6). */
  receiptStore?: ReceiptStore
  /** Called after each task ran, with the model and the inference time. */
  onRun?: (run: { model: string; durationUs: number }) => void
  /** Called when a task could not run or a submission failed. */
  onError?: (err: Error) => void
  /**
   * Makes sure the model's bytes are present before its tasks run — e.g. fetch it by CID from a
   * provider (`fetchModel`) into the backend's model store. Called once per model; a failure
   * leaves the tasks unrun (their leases expire and they go elsewhere).
   */
  ensureModel?: (model: string) => Promise<void>
}

export class WorkerService {
  readonly agent: WorkerAgent
  private readonly board: JobBoard
  private readonly jobs = new Map<string, Opened<JobAnnouncement>>()
  private readonly inflight = new Set<Promise<void>>()
  private readonly ready = new Map<string, Promise<void>>()
  private timer?: ReturnType<typeof setTimeout>
  private running = false
  /** Aborts claims in flight when the service stops (results in flight are still submitted). */
  private stopping = new AbortController()
  /** Receipts received, in order: the worker's verifiable record of accepted work. */
  readonly receipts: Uint8Array[] = []

  constructor(
    private readonly peer: OpenbatchPeer,
    private readonly init: WorkerServiceInit
  ) {
    for (const m of init.models) {
      parseModelCid(m)
    }
    // Idle workers ask again soon: re-runs of sampled tasks appear as other workers' results
    // come in, and a claim is one small stream.
    this.agent = new WorkerAgent({
      capacity: init.capacity ?? 32,
      backoffMs: init.backoffMs ?? 250,
      maxBackoffMs: init.maxBackoffMs ?? 4000
    })
    this.board = new JobBoard(peer, { models: init.models, onJob: (job) => this.onJob(job) })
  }

  start(): void {
    if (this.running) {
      return
    }
    this.running = true
    this.stopping = new AbortController()
    this.board.start()
  }

  /**
   * Stops claiming (claims in flight are abandoned) and waits for tasks in flight to run and be
   * submitted, so no leased work is lost; tasks a requester leased but this worker never received
   * go back to that requester's queue when the lease expires or the connection closes.
   */
  async stop(): Promise<void> {
    this.running = false
    this.board.stop()
    clearTimeout(this.timer)
    this.stopping.abort()
    await Promise.allSettled([...this.inflight])
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
    this.jobs.set(id, job)
    this.apply(
      this.agent.announce(Date.now(), {
        id,
        requester: job.signer.toString(),
        model: parseModelCid(a.model).toString(),
        deadline: Number(a.deadlineMs),
        maxBatch: a.maxBatch
      })
    )
  }

  private apply(actions: AgentAction[]): void {
    for (const action of actions) {
      if (action.type === 'claim') {
        this.track(this.claim(action.job, action.maxTasks))
      } else if (action.type === 'drop') {
        this.jobs.delete(action.job)
      } else if (action.type === 'timer') {
        clearTimeout(this.timer)
        if (action.at !== undefined && this.running) {
          this.timer = setTimeout(() => this.apply(this.agent.tick(Date.now())), Math.max(0, action.at - Date.now()))
          this.timer.unref()
        }
      }
    }
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p)
    void p.finally(() => this.inflight.delete(p))
  }

  private async claim(jobId: string, maxTasks: number): Promise<void> {
    const job = this.jobs.get(jobId)
    if (job == null) {
      this.apply(this.agent.claimed(Date.now(), jobId, 'JOB_CLOSED'))
      return
    }
    let assignment: Assignment
    try {
      const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(30_000)])
      assignment = await claimTasks(this.peer, job.signer, { jobId: job.message.jobId, maxTasks }, { signal })
    } catch (err) {
      this.init.onError?.(err as Error)
      this.apply(this.agent.claimed(Date.now(), jobId, 'FAILED'))
      return
    }
    const answer = (assignment.code === ErrorCode.OK ? 'OK' : assignment.code) as ClaimAnswer
    this.apply(this.agent.claimed(Date.now(), jobId, answer, assignment.tasks.length))
    if (assignment.tasks.length > 0 && this.running) {
      await this.run(job.signer, assignment)
    }
  }

  /** Runs an assignment's tasks (the backend batches them) and submits the signed results. */
  private async run(requester: PeerId, a: Assignment): Promise<void> {
    const model = parseModelCid(a.model).toString()
    const worker = peerIdBytes(this.peer.peerId)
    if (this.init.ensureModel != null) {
      let ready = this.ready.get(model)
      if (ready == null) {
        ready = this.init.ensureModel(model)
        this.ready.set(model, ready)
        ready.catch(() => this.ready.delete(model)) // try again with the next assignment
      }
      try {
        await ready
      } catch (err) {
        this.init.onError?.(err as Error)
        this.apply(this.agent.finished(Date.now(), a.tasks.length))
        return
      }
    }
    const results = await Promise.all(
      a.tasks.map(async (task) => {
        const startedAtMs = BigInt(Date.now())
        try {
          const { outputs, profile, durationUs } = await this.init.backend.run(model, task.inputs)
          this.init.onRun?.({ model, durationUs })
          const result: TaskResult = {
            taskId: task.taskId,
            jobId: a.jobId,
            index: task.index,
            model: a.model,
            inputDigest: assignedInputDigest(task), // hashed once, when the assignment was checked
            outputDigest: tensorSetDigest(outputs),
            outputs,
            worker,
            startedAtMs,
            durationUs: BigInt(Math.round(durationUs)),
            profile
          }
          return await seal(STATEMENTS.result, result, this.peer.privateKey)
        } catch (err) {
          // A task that cannot run is not submitted; its lease expires and it goes elsewhere.
          this.init.onError?.(err as Error)
          return undefined
        }
      })
    )
    const envelopes = results.filter((r): r is Uint8Array<ArrayBuffer> => r != null)
    try {
      if (envelopes.length > 0) {
        const statuses = await submitResults(this.peer, requester, envelopes, { signal: AbortSignal.timeout(30_000) })
        for (const s of statuses) {
          if (s.code === ErrorCode.OK || s.code === ErrorCode.DUPLICATE) {
            // Only receipts that verify are kept (the store checks them; without one, check here).
            if (this.init.receiptStore != null) {
              await this.init.receiptStore.add(s.receipt, this.peer.peerId)
            } else {
              await open(STATEMENTS.receipt, s.receipt)
            }
            this.receipts.push(s.receipt)
            this.init.onReceipt?.(s.receipt)
          }
        }
      }
    } catch (err) {
      this.init.onError?.(err as Error)
    } finally {
      this.apply(this.agent.finished(Date.now(), a.tasks.length))
    }
  }
}
