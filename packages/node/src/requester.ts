/**
 * The requester's service: runs each job's sans-IO VerifiedJob against the work protocols
 * (spec §6.2, §6.3) and verification (§7). It answers claims with inputs under a lease (refusing
 * banned and ill-reputed workers), checks every result (signature, signer = sender, job, model,
 * input digest, assignment), stores accepted results through a JobStore, answers each with a
 * signed receipt, sends sampled tasks and canaries to independent workers, and turns a majority
 * against a worker into a published fraud proof. The wall clock, the random source and the lease
 * timer live here, at the edge; all decisions are VerifiedJob's.
 */

import { randomBytes } from 'node:crypto'

import type { AbortOptions, PeerId } from '@libp2p/interface'
import {
  TaskState,
  type Verdict,
  type VerificationCounts,
  VerifiedJob,
  type VerifiedJobAction,
  type VerifiedJobSummary
} from '@openbatch/core'
import {
  type Assignment,
  createFraudProof,
  DEFAULT_LEASE_MS,
  deriveTaskId,
  ErrorCode,
  type FailureKind,
  isDeterministicFailure,
  type JobAnnouncement,
  jobsTopic,
  MAX_FRAME_BYTES,
  type Opened,
  open,
  peerIdBytes,
  type Receipt,
  type ResultStatus,
  resolvePolicy,
  STATEMENTS,
  seal,
  sha256,
  type TaskClaim,
  type TaskResult,
  type Tensor,
  tensorSetDigest,
  toHex
} from '@openbatch/protocol'

/** Bytes of an Assignment besides its tasks: code, ids, model, lease, framing. */
const ASSIGNMENT_OVERHEAD_BYTES = 1024

/** An upper bound of one task's encoded size in an Assignment (§6.2). */
export function taskBytes(inputs: readonly Tensor[]): number {
  let n = 64 // task id, index, framing
  for (const t of inputs) {
    n += t.data.byteLength + t.name.length * 4 + t.dims.length * 11 + 32
  }
  return n
}

import { equals } from 'uint8arrays/equals'
import { publishFraudProof } from './fraud.js'
import type { OpenbatchPeer } from './peer.js'
import type { SqliteJobStore, StoredJob } from './sqlite-store.js'
import type { WorkHandlers } from './work.js'

/** Where a requester keeps leases and accepted results (the SQLite store implements it). */
export interface JobStore {
  lease(jobId: string, worker: string, tasks: number[], expiresAt: number): void | Promise<void>
  release(jobId: string, tasks: number[]): void | Promise<void>
  /**
   * A task's first result (`failure`: its kind when the result is a failure, §6.6). Must be
   * durable before it returns: the receipt is sent only afterwards.
   */
  accept(jobId: string, task: number, worker: string, result: Uint8Array, receipt: Uint8Array, failure?: FailureKind): void | Promise<void>
  /** A re-run's or canary's result (§7.2, §7.4); durable before it returns, like `accept`. */
  acceptCheck(jobId: string, task: number, worker: string, result: Uint8Array, receipt: Uint8Array): void | Promise<void>
  /** The task's verdict: its result is `verdict.worker`'s (§6.5); a revised verdict replaces the earlier one. */
  verdict(jobId: string, verdict: Verdict): void | Promise<void>
  /** The signed result first accepted for a task (to audit it, §7.5). */
  firstResult(jobId: string, task: number): Uint8Array | undefined | Promise<Uint8Array | undefined>
  /** Counts an event verdicts do not record, so a resumed job's summary covers it (optional). */
  count?(jobId: string, name: 'canariesPassed' | 'fraudProofs' | 'audited'): void | Promise<void>
}

interface MemoryResult {
  worker: string
  result: Uint8Array
  receipt: Uint8Array
  verdict?: Verdict
}

/** Keeps everything in memory (tests, short-lived jobs). */
export class MemoryJobStore implements JobStore {
  /** Per job, per task: the task's result (the majority's, once a verdict says so). */
  readonly results = new Map<string, Map<number, MemoryResult>>()
  private readonly checks = new Map<string, MemoryResult>()
  private readonly firsts = new Map<string, Uint8Array>()
  firstResult(jobId: string, task: number): Uint8Array | undefined {
    return this.firsts.get(`${jobId}/${task}`)
  }
  lease(): void {}
  release(): void {}
  accept(jobId: string, task: number, worker: string, result: Uint8Array, receipt: Uint8Array): void {
    let job = this.results.get(jobId)
    if (job == null) {
      job = new Map()
      this.results.set(jobId, job)
    }
    job.set(task, { worker, result, receipt })
    this.firsts.set(`${jobId}/${task}`, result)
  }
  acceptCheck(jobId: string, task: number, worker: string, result: Uint8Array, receipt: Uint8Array): void {
    this.checks.set(`${jobId}/${task}/${worker}`, { worker, result, receipt })
  }
  verdict(jobId: string, verdict: Verdict): void {
    const job = this.results.get(jobId)
    const first = job?.get(verdict.task)
    if (job == null || first == null) {
      return
    }
    const primary = this.firsts.get(`${jobId}/${verdict.task}`)
    const final =
      first.worker === verdict.worker
        ? first
        : (this.checks.get(`${jobId}/${verdict.task}/${verdict.worker}`) ??
          (primary == null ? first : { ...first, worker: verdict.worker, result: primary }))
    job.set(verdict.task, { ...final, verdict })
  }
}

export interface AddJobInit {
  /** The job's signed announcement (signed by this peer). */
  announcement: Uint8Array
  /** Inputs of task `index`. */
  inputs: (index: number) => Tensor[] | Promise<Tensor[]>
  /** @default DEFAULT_LEASE_MS */
  leaseMs?: number
  /** Persisted task states, when resuming after a restart (see `resume`). */
  restore?: StoredJob['tasks']
  /** With `restore`: the job's counts before the restart (its summary covers the whole job). */
  restoredCounts?: Partial<VerificationCounts>
  /**
   * How long a sampled task waits for an independent worker before its result stands unsampled.
   * @default leaseMs
   */
  checkWaitMs?: number
}

export interface JobProgress {
  jobId: string
  /** Tasks with an accepted result. */
  done: number
  /** Tasks settled (verified or standing on reputation). */
  settled: number
  taskCount: number
}

/** A task's verdict, with the signed result it settled on. */
export interface VerdictEvent {
  jobId: string
  verdict: Verdict
  /** The signed TaskResult envelope the task settled on. */
  result: Uint8Array
}

/** A fraud proof this requester built and published (§7.5). */
export interface FraudEvent {
  jobId: string
  task: number
  accused: string
  agreeing: string[]
  proof: Uint8Array
}

interface Entry {
  announcement: Opened<JobAnnouncement>
  envelope: Uint8Array<ArrayBuffer>
  job: VerifiedJob
  inputs: AddJobInit['inputs']
  /** Signed results of tasks still being verified, by `${task}/${worker}`. */
  envelopes: Map<string, Uint8Array>
  groupsNotedAt: number
  /** Input digests of leased tasks, to check results against. */
  digests: Map<number, Uint8Array>
  timer?: ReturnType<typeof setTimeout>
  complete: PromiseWithResolvers<void>
}

export interface RequesterServiceInit {
  store?: JobStore
  /** Called after each accepted result. */
  onProgress?: (progress: JobProgress) => void
  /** Called for each rejected result with the sender and the code (feeds reputation, spec §7.6). */
  onRejected?: (worker: PeerId, code: ErrorCode) => void
  /** Called once per task when it settles (its verification status and final result). */
  onVerdict?: (event: VerdictEvent) => void
  /** Called for each fraud proof published. */
  onFraud?: (event: FraudEvent) => void
  /** Called when a fraud proof could not be built or published. */
  onError?: (err: Error) => void
  /** Workers scoring below this get no tasks (§7.6). @default 0.1 */
  minReputation?: number
  /** Uniform in [0, 1). @default a CSPRNG (node:crypto) */
  random?: () => number
  /**
   * The network a worker is in (§7.2: workers of one network are not picked to check each other).
   * @default its connection's /24 (IPv4) or /48 (IPv6); none on other transports
   */
  networkOf?: (peer: PeerId, address: string | undefined) => string | undefined
}

const PROVABLY_BAD = new Set([
  ErrorCode.MALFORMED,
  ErrorCode.BAD_SIGNATURE,
  ErrorCode.WRONG_SIGNER,
  ErrorCode.WRONG_MODEL,
  ErrorCode.WRONG_INPUT_DIGEST
])

/** A uniform float in [0, 1) from the OS CSPRNG (§7.2: sampling must be unpredictable to workers). */
export function secureRandom(): number {
  return randomBytes(6).readUIntBE(0, 6) / 2 ** 48
}

/** The network group of an address, for §7.2's "another network": IPv4 /24, IPv6 /48. */
export function networkGroup(addr: string | undefined): string | undefined {
  if (addr == null) {
    return undefined
  }
  const v4 = /\/ip4\/(\d+)\.(\d+)\.(\d+)\.\d+/.exec(addr)
  if (v4 != null) {
    return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`
  }
  const v6 = /\/ip6\/([0-9a-fA-F:]+)/.exec(addr)
  if (v6 != null) {
    return `${(v6[1] as string).split(':').slice(0, 3).join(':')}::/48`
  }
  return undefined
}

export class RequesterService implements WorkHandlers {
  private readonly jobs = new Map<string, Entry>()
  private readonly store: JobStore
  private stopped = false

  constructor(
    private readonly peer: OpenbatchPeer,
    private readonly init: RequesterServiceInit = {}
  ) {
    this.store = init.store ?? new MemoryJobStore()
    peer.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** A worker that disconnects has its leased tasks re-queued at once (spec §6.5). */
  private readonly onDisconnect = (evt: CustomEvent<PeerId>) => {
    const worker = evt.detail.toString()
    for (const [jobId, entry] of this.jobs) {
      this.safely(() => this.apply(jobId, entry, entry.job.workerGone(Date.now(), worker)))
    }
  }

  /** Runs a step of a job from a timer or an event: after stop() it does nothing, and its failures are reported, never thrown. */
  private safely(step: () => Promise<void>): void {
    if (this.stopped) {
      return
    }
    try {
      step().catch((err: Error) => this.init.onError?.(err))
    } catch (err) {
      this.init.onError?.(err as Error)
    }
  }

  /** Starts serving a job; resolves its `done` promise when every task has an accepted result. */
  async addJob(init: AddJobInit): Promise<{ jobId: string; done: Promise<void> }> {
    const announcement = await open(STATEMENTS.job, init.announcement)
    if (!announcement.signer.equals(this.peer.peerId)) {
      throw new Error('the announcement is signed by another peer; a requester serves only its own jobs')
    }
    const a = announcement.message
    const jobId = toHex(a.jobId)
    const params = {
      taskCount: Number(a.taskCount),
      maxBatch: a.maxBatch,
      deadline: Number(a.deadlineMs),
      leaseMs: init.leaseMs ?? DEFAULT_LEASE_MS
    }
    const policy = resolvePolicy(a.verification)
    const job = new VerifiedJob({
      ...params,
      checkWaitMs: init.checkWaitMs,
      policy,
      reward: a.rewardPerTask,
      agreement: policy.agreement,
      random: this.init.random ?? secureRandom,
      trust: this.peer.reputation,
      minReputation: this.init.minReputation,
      restore: init.restore,
      restoredCounts: init.restoredCounts
    })
    const entry: Entry = {
      announcement,
      envelope: init.announcement as Uint8Array<ArrayBuffer>,
      job,
      inputs: init.inputs,
      envelopes: new Map(),
      groupsNotedAt: 0,
      digests: new Map(),
      complete: Promise.withResolvers()
    }
    entry.complete.promise.catch(() => {}) // callers that never await `done` must not see an unhandled rejection
    this.jobs.set(jobId, entry)
    if (job.summary().closed) {
      entry.complete.resolve()
    } else {
      await this.apply(jobId, entry, job.tick(Date.now()))
    }
    return { jobId, done: entry.complete.promise }
  }

  /**
   * Resumes the unfinished jobs of a SQLite store after a restart (all of them, or those named in
   * `jobs`): accepted results stay accepted, live leases are honoured until they expire,
   * everything else is handed out again, and each job keeps its lease and check wait (§6.5).
   */
  async resume(
    store: SqliteJobStore,
    options: Pick<AddJobInit, 'checkWaitMs'> & { jobs?: readonly string[] } = {}
  ): Promise<{ jobId: string; done: Promise<void> }[]> {
    const resumed = []
    for (const job of store.jobs(options.jobs)) {
      if (this.jobs.has(job.jobId)) {
        continue
      }
      store.settleOrphans(job.jobId)
      resumed.push(
        await this.addJob({
          announcement: job.announcement,
          leaseMs: job.leaseMs,
          restore: job.tasks,
          restoredCounts: store.restoredCounts(job.jobId),
          checkWaitMs: job.checkWaitMs ?? options.checkWaitMs,
          inputs: (i) => store.inputs(job.jobId, i)
        })
      )
    }
    return resumed
  }

  /** Stops serving every job and clears its timers. */
  stop(): void {
    this.stopped = true
    this.peer.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const entry of this.jobs.values()) {
      clearTimeout(entry.timer)
      entry.job.close()
    }
  }

  summary(jobId: string): VerifiedJobSummary | undefined {
    return this.jobs.get(jobId)?.job.summary()
  }

  /** Stops handing out a job's tasks (cancelled); results already accepted stay stored. */
  cancel(jobId: string): void {
    const entry = this.jobs.get(jobId)
    if (entry != null) {
      entry.job.close()
      clearTimeout(entry.timer)
      entry.complete.reject(Object.assign(new Error(`job ${jobId} was cancelled`), { name: 'AbortError' }))
    }
  }

  async claim(remote: PeerId, claim: TaskClaim, _options: AbortOptions): Promise<Assignment> {
    const jobId = toHex(claim.jobId)
    const entry = this.stopped ? undefined : this.jobs.get(jobId)
    const empty = { jobId: claim.jobId, model: new Uint8Array(), tasks: [], leaseExpiresAtMs: 0n }
    if (entry == null) {
      return { ...empty, code: ErrorCode.UNKNOWN_JOB, message: 'no such job here' }
    }
    const now = Date.now()
    const groupOf = this.init.networkOf ?? ((_peer: PeerId, address: string | undefined) => networkGroup(address))
    const group = groupOf(remote, this.peer.libp2p.getConnections(remote)[0]?.remoteAddr.toString())
    if (now - entry.groupsNotedAt >= 1000) {
      // §7.2 "where the requester knows of one": the networks of the job topic's subscribers.
      entry.groupsNotedAt = now
      for (const peer of this.peer.libp2p.services.pubsub.getSubscribers(jobsTopic(entry.announcement.message.model))) {
        const g = groupOf(peer, this.peer.libp2p.getConnections(peer)[0]?.remoteAddr.toString())
        entry.job.noteWorker(now, peer.toString(), g)
      }
    }
    const { outcome, actions } = entry.job.claim(now, remote.toString(), claim.maxTasks, group)
    await this.apply(jobId, entry, actions)
    if (outcome.code !== 'OK') {
      return { ...empty, code: ErrorCode[outcome.code], message: '' }
    }
    const a = entry.announcement.message
    // §6.2: an assignment fits one frame. Tasks are added while they fit; the rest go back to
    // the queue at once (a claim never receives more than a frame can carry).
    const tasks: Assignment['tasks'] = []
    const returned: number[] = []
    let bytes = ASSIGNMENT_OVERHEAD_BYTES
    for (const index of outcome.tasks) {
      if (returned.length > 0) {
        returned.push(index)
        continue
      }
      const inputs = await entry.inputs(index)
      const size = taskBytes(inputs)
      if (tasks.length > 0 && bytes + size > MAX_FRAME_BYTES) {
        returned.push(index)
        continue
      }
      bytes += size
      const digest = tensorSetDigest(inputs)
      entry.digests.set(index, digest)
      tasks.push({ taskId: deriveTaskId(a.jobId, index, a.model, digest), index: BigInt(index), inputs })
    }
    if (returned.length > 0) {
      await this.apply(jobId, entry, entry.job.giveBack(Date.now(), remote.toString(), returned))
    }
    return { code: ErrorCode.OK, jobId: a.jobId, model: a.model, tasks, leaseExpiresAtMs: BigInt(outcome.leaseExpiresAt), message: '' }
  }

  async results(remote: PeerId, envelopes: Uint8Array[], _options: AbortOptions): Promise<ResultStatus[]> {
    const statuses: ResultStatus[] = []
    for (const envelope of envelopes) {
      const status = await this.result(remote, envelope)
      if (status.code !== ErrorCode.OK && status.code !== ErrorCode.DUPLICATE) {
        if (PROVABLY_BAD.has(status.code)) {
          // §6.3, §7.6: a result that is provably bad (not merely late) counts as a disagreement.
          const t = this.peer.reputation.get(remote.toString())
          t.disagreements++
          t.streak = 0
          this.peer.reputation.changed(remote.toString())
        }
        this.init.onRejected?.(remote, status.code)
      }
      statuses.push(status)
    }
    return statuses
  }

  /** §6.3 checks, in the spec's order. */
  private async result(remote: PeerId, envelope: Uint8Array): Promise<ResultStatus> {
    const reject = (code: ErrorCode, message: string): ResultStatus => ({ code, receipt: new Uint8Array(), message })
    let opened: Opened<TaskResult>
    try {
      opened = await open(STATEMENTS.result, envelope)
    } catch (err) {
      const name = (err as Error).name
      const code =
        name === 'InvalidSignatureError'
          ? ErrorCode.BAD_SIGNATURE
          : name === 'PeerIdMismatchError'
            ? ErrorCode.WRONG_SIGNER
            : ErrorCode.MALFORMED
      return reject(code, (err as Error).message.slice(0, 500))
    }
    if (!opened.signer.equals(remote)) {
      return reject(ErrorCode.WRONG_SIGNER, 'the result is signed by another peer than the one submitting it')
    }
    const r = opened.message
    const jobId = toHex(r.jobId)
    const entry = this.jobs.get(jobId)
    if (entry == null) {
      return reject(ErrorCode.UNKNOWN_JOB, 'no such job here')
    }
    const a = entry.announcement.message
    if (!equals(r.model, a.model)) {
      return reject(ErrorCode.WRONG_MODEL, "the result names another model than the job's")
    }
    const index = Number(r.index)
    const expected = entry.digests.get(index)
    if (expected != null && !equals(expected, r.inputDigest)) {
      return reject(ErrorCode.WRONG_INPUT_DIGEST, "the result's input digest is not the task's")
    }
    if (expected == null && index >= 0 && index < entry.job.taskCount && entry.job.job.taskState(index) === TaskState.PENDING) {
      // A late result for a task that is pending again: its digest was dropped with the lease.
      if (!equals(tensorSetDigest(await entry.inputs(index)), r.inputDigest)) {
        return reject(ErrorCode.WRONG_INPUT_DIGEST, "the result's input digest is not the task's")
      }
    }
    const worker = remote.toString()
    const observed = { task: index, worker, outputs: r.outputs, failure: r.failure, envelope }
    // §6.6: a transient failure sends the task to another worker; a deterministic one is a
    // result like any other (verified by an independent worker).
    const transient = r.failure != null && !isDeterministicFailure(r.failure.kind)
    const { outcome, actions } = transient ? entry.job.failed(Date.now(), observed) : entry.job.result(Date.now(), observed)
    if (outcome.code !== 'OK') {
      await this.apply(jobId, entry, actions)
      return reject(ErrorCode[outcome.code], '')
    }
    const receipt: Receipt = {
      jobId: r.jobId,
      taskId: r.taskId,
      worker: r.worker,
      requester: peerIdBytes(this.peer.peerId),
      resultDigest: sha256(envelope),
      // §3.6, §6.6: a failure earns no reward; its receipt only acknowledges it.
      reward: r.failure == null ? a.rewardPerTask : 0n,
      issuedAtMs: BigInt(Date.now())
    }
    const receiptEnvelope = await seal(STATEMENTS.receipt, receipt, this.peer.privateKey)
    // The accepted result is stored before the receipt goes out (spec §6.3).
    if (outcome.check) {
      await this.store.acceptCheck(jobId, index, worker, envelope, receiptEnvelope)
    } else {
      await this.store.accept(jobId, index, worker, envelope, receiptEnvelope, r.failure?.kind)
    }
    entry.envelopes.set(`${index}/${worker}`, envelope)
    entry.digests.delete(index)
    await this.apply(jobId, entry, actions)
    const s = entry.job.summary()
    this.init.onProgress?.({ jobId, done: s.done, settled: s.agreed + s.unsampled + s.disputed + s.unresolved, taskCount: s.taskCount })
    return { code: ErrorCode.OK, receipt: receiptEnvelope, message: '' }
  }

  /** §7.5: the outvoted result, the agreeing ones and the inputs, signed and published. */
  private async publishFraud(jobId: string, entry: Entry, action: Extract<VerifiedJobAction, { type: 'fraud' }>): Promise<void> {
    try {
      const evidence = [action.accused, ...action.agreeing]
      if (evidence.some((r) => r.envelope == null)) {
        throw new Error(`task ${action.task}: a result's signed envelope is missing`)
      }
      const proof = await createFraudProof(
        {
          announcement: entry.envelope,
          accused: action.accused.envelope as Uint8Array<ArrayBuffer>,
          agreeing: action.agreeing.map((r) => r.envelope as Uint8Array<ArrayBuffer>),
          inputs: await entry.inputs(action.task),
          issuedAt: Date.now()
        },
        this.peer.privateKey
      )
      await publishFraudProof(this.peer, proof)
      this.init.onFraud?.({
        jobId,
        task: action.task,
        accused: action.accused.worker,
        agreeing: action.agreeing.map((r) => r.worker),
        proof
      })
    } catch (err) {
      this.init.onError?.(err as Error)
    }
  }

  /** Carries out a VerifiedJob's actions: persist, report verdicts, publish fraud proofs, arm the one timer. */
  private async apply(jobId: string, entry: Entry, actions: VerifiedJobAction[]): Promise<void> {
    for (const action of actions) {
      switch (action.type) {
        case 'verdict': {
          const { verdict } = action
          await this.store.verdict(jobId, verdict)
          const result = entry.envelopes.get(`${verdict.task}/${verdict.worker}`)
          for (const key of entry.envelopes.keys()) {
            if (key.startsWith(`${verdict.task}/`)) {
              entry.envelopes.delete(key)
            }
          }
          if (result != null) {
            this.init.onVerdict?.({ jobId, verdict, result })
          }
          break
        }
        case 'audit': {
          // §7.5: the convicted worker's unsampled result is compared with an independent re-run.
          const envelope = await this.store.firstResult(jobId, action.task)
          await this.store.count?.(jobId, 'audited')
          if (envelope != null) {
            const opened = await open(STATEMENTS.result, envelope)
            entry.envelopes.set(`${action.task}/${action.worker}`, envelope)
            entry.job.audit({
              task: action.task,
              worker: action.worker,
              outputs: opened.message.outputs,
              failure: opened.message.failure,
              envelope
            })
          }
          break
        }
        case 'fraud':
          await this.store.count?.(jobId, 'fraudProofs')
          await this.publishFraud(jobId, entry, action)
          entry.envelopes.delete(`${action.task}/${action.accused.worker}`)
          break
        case 'canary-passed':
          await this.store.count?.(jobId, 'canariesPassed')
          entry.envelopes.delete(`${action.task}/${action.worker}`)
          break
        case 'lease':
          await this.store.lease(jobId, action.worker, action.tasks, action.expiresAt)
          break
        case 'release':
          for (const t of action.tasks) {
            entry.digests.delete(t)
          }
          await this.store.release(jobId, action.tasks)
          break
        case 'timer':
          clearTimeout(entry.timer)
          if (action.at !== undefined && !this.stopped) {
            entry.timer = setTimeout(
              () => this.safely(() => this.apply(jobId, entry, entry.job.tick(Date.now()))),
              Math.max(0, action.at - Date.now())
            )
            entry.timer.unref()
          }
          break
        case 'complete':
          entry.complete.resolve()
          break
        case 'deadline':
          entry.complete.reject(new Error(`job ${jobId} passed its deadline with ${action.unfinished} tasks unfinished`))
          break
        default:
          break
      }
    }
  }
}
