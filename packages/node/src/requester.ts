/**
 * The requester's service: runs each job's sans-IO VerifiedJob against the work protocols
 * (spec §6.2, §6.3) and verification (§7). It answers claims with inputs under a lease (refusing
 * banned and ill-reputed workers), checks every result (`checkResult`, §6.3), and carries out the
 * core's actions in one executor: an accepted result is stored through a JobStore before the core
 * counts it and before its signed receipt goes out; sampled tasks and canaries go to independent
 * workers; a majority against a worker becomes a published fraud proof. The wall clock, the random
 * source and the lease timer live here, at the edge; all decisions are VerifiedJob's.
 */

import { randomBytes } from 'node:crypto'
import { setImmediate } from 'node:timers/promises'

import type { AbortOptions, PeerId } from '@libp2p/interface'
import {
  DEFAULT_MIN_REPUTATION,
  resolveJobPolicy,
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
  deriveTaskId,
  ErrorCode,
  type InputRequest,
  type InputResponse,
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
import type { OpenbatchComponents } from './components.js'
import { FraudProofError, InvalidJobError, JobCancelledError, JobDeadlineError } from './errors.js'
import { publishFraudProof } from './fraud.js'
import { type JobStore, MemoryJobStore, type StoredPolicy } from './job-store.js'
import { checkResult, PROVABLY_BAD } from './result-checks.js'
import { loopTurn } from './signals.js'
import type { WorkHandlers } from './work.js'

/**
 * Bytes an assignment carries at most unless one task alone is larger (§6.2 allows up to
 * MAX_FRAME_BYTES): a frame is encrypted and written in one go, so a smaller one keeps the
 * requester answering other claims and results meanwhile.
 */
export const DEFAULT_ASSIGNMENT_BYTES = 8 * 1024 * 1024

/** Input bytes a claim reads from the store before it lets other work run. */
const YIELD_EVERY_BYTES = 4 * 1024 * 1024

/** Bytes of an Assignment besides its tasks: code, ids, model, lease, framing. */
export const ASSIGNMENT_OVERHEAD_BYTES = 1024

/** An upper bound of one task's encoded size in an Assignment (§6.2). */
export function taskBytes(inputs: readonly Tensor[]): number {
  let n = 64 // task id, index, framing
  for (const t of inputs) {
    n += t.data.byteLength + t.name.length * 4 + t.dims.length * 11 + 32
  }
  return n
}

/** What the requester service uses of a peer. */
export type RequesterComponents = Pick<OpenbatchComponents, 'libp2p' | 'peerId' | 'privateKey' | 'reputation'>

export interface AddJobInit {
  /** The job's signed announcement (signed by this peer). */
  announcement: Uint8Array
  /** Inputs of task `index`. @default the store's (`store.inputs`, with the digests it staged) */
  inputs?: (index: number) => Tensor[] | Promise<Tensor[]>
  /** With `inputs`: the §2.3 digest of task `index`'s inputs, when known (else computed from them). */
  inputDigest?: (index: number) => Uint8Array
  /** How long a worker holds claimed tasks. @default DEFAULT_LEASE_MS (core's resolveJobPolicy) */
  leaseMs?: number
  /**
   * How long a sampled task waits for an independent worker before its result stands unsampled.
   * @default leaseMs
   */
  checkWaitMs?: number
  /** The job's whole policy (a resumed job's, as stored); `leaseMs`/`checkWaitMs` above override it. */
  policy?: Partial<StoredPolicy>
  /** Persisted task states, when resuming after a restart (see `resume`). */
  restore?: import('./job-store.js').StoredJob['tasks']
  /** With `restore`: the job's counts before the restart (its summary covers the whole job). */
  restoredCounts?: Partial<VerificationCounts>
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
  inputs: (index: number) => Tensor[] | Promise<Tensor[]>
  /** The input digest staged with task `index` (§2.3), when the inputs are a store's. */
  inputDigest?: (index: number) => Uint8Array
  groupsNotedAt: number
  /** Input digests of leased tasks, to check results against. */
  digests: Map<number, Uint8Array>
  /** Tasks named in a fraud proof this requester published: their inputs are served (§6.9). */
  proven: Set<number>
  timer?: ReturnType<typeof setTimeout>
  complete: PromiseWithResolvers<void>
}

export interface RequesterServiceInit {
  /** @default a MemoryJobStore */
  store?: JobStore
  /** Called after each result is stored (its task counted done). */
  onProgress?: (progress: JobProgress) => void
  /** Called for each rejected result with the sender and the code (feeds reputation, spec §7.6). */
  onRejected?: (worker: PeerId, code: ErrorCode) => void
  /** Called once per task when it settles (its verification status and final result), after the verdict is stored. */
  onVerdict?: (event: VerdictEvent) => void
  /** Called for each fraud proof published. */
  onFraud?: (event: FraudEvent) => void
  /** Called when a fraud proof could not be built or published, or a store write failed. */
  onError?: (err: Error) => void
  /** Workers scoring below this get no tasks (§7.6). @default DEFAULT_MIN_REPUTATION (core) */
  minReputation?: number
  /** Uniform in [0, 1). @default a CSPRNG (node:crypto) */
  random?: () => number
  /**
   * The network a worker is in (§7.2: workers of one network are not picked to check each other).
   * @default its connection's /24 (IPv4) or /48 (IPv6); none on other transports
   */
  networkOf?: (peer: PeerId, address: string | undefined) => string | undefined
  /**
   * Bytes one assignment carries at most, unless one task alone is larger (at most MAX_FRAME_BYTES).
   * @default DEFAULT_ASSIGNMENT_BYTES
   */
  assignmentBytes?: number
}

type AcceptAction = Extract<VerifiedJobAction, { type: 'accept' }>

/** What carrying out one step's actions produced for the caller that answers the worker. */
interface Executed {
  /** The step accepted a result: to be stored, then `rest` carried out. */
  accepted?: { action: AcceptAction; rest: VerifiedJobAction[] }
}

/** A result accepted by the core, waiting to be stored with the rest of its submission. */
interface Accepted {
  jobId: string
  entry: Entry
  action: AcceptAction
  /** The step's actions after the accept. */
  rest: VerifiedJobAction[]
  /** Its signed receipt, sent once it is stored. */
  receipt: Uint8Array
  /** Its place in the submission's statuses. */
  position: number
}

/** An accepted result's status until it is stored: if it never is, the worker sends it again. */
const REJECTED_INTERNAL: ResultStatus = {
  code: ErrorCode.INTERNAL,
  receipt: new Uint8Array(),
  message: 'the requester could not store the result; it was not accepted, send it again later'
}

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
  /** Where jobs, leases, results and verdicts are kept. */
  readonly store: JobStore
  private stopped = false

  private readonly assignmentBytes: number

  constructor(
    private readonly components: RequesterComponents,
    private readonly init: RequesterServiceInit = {}
  ) {
    this.store = init.store ?? new MemoryJobStore()
    this.assignmentBytes = Math.min(MAX_FRAME_BYTES, init.assignmentBytes ?? DEFAULT_ASSIGNMENT_BYTES)
    components.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** A worker that disconnects has its leased tasks re-queued at once (spec §6.5). */
  private readonly onDisconnect = (evt: CustomEvent<PeerId>) => {
    const worker = evt.detail.toString()
    for (const [jobId, entry] of this.jobs) {
      this.safely(() => this.execute(jobId, entry, entry.job.workerGone(Date.now(), worker)))
    }
  }

  /** Runs a step of a job from a timer or an event: after stop() it does nothing, and its failures are reported, never thrown. */
  private safely(step: () => Promise<unknown>): void {
    if (this.stopped) {
      return
    }
    try {
      step().catch((err: Error) => this.init.onError?.(err))
    } catch (err) {
      this.init.onError?.(err as Error)
    }
  }

  /**
   * Starts serving a job whose announcement (and, unless `inputs` is given, inputs) the store
   * holds; resolves its `done` promise when every task has settled.
   */
  async addJob(init: AddJobInit): Promise<{ jobId: string; done: Promise<void> }> {
    const announcement = await open(STATEMENTS.job, init.announcement)
    if (!announcement.signer.equals(this.components.peerId)) {
      throw new InvalidJobError('the announcement is signed by another peer; a requester serves only its own jobs')
    }
    const a = announcement.message
    const jobId = toHex(a.jobId)
    const stored = init.policy ?? {}
    const policy = this.jobPolicy({
      ...stored,
      leaseMs: init.leaseMs ?? stored.leaseMs,
      checkWaitMs: init.checkWaitMs ?? stored.checkWaitMs
    })
    const job = new VerifiedJob({
      taskCount: Number(a.taskCount),
      maxBatch: a.maxBatch,
      deadline: Number(a.deadlineMs),
      ...policy,
      policy: resolvePolicy(a.verification),
      reward: a.rewardPerTask,
      random: this.init.random ?? secureRandom,
      trust: this.components.reputation,
      restore: init.restore,
      restoredCounts: init.restoredCounts
    })
    const entry: Entry = {
      announcement,
      envelope: init.announcement as Uint8Array<ArrayBuffer>,
      job,
      inputs: init.inputs ?? ((i) => this.store.inputs(jobId, i)),
      inputDigest: init.inputs == null ? (i) => this.store.inputDigest(jobId, i) : init.inputDigest,
      groupsNotedAt: 0,
      digests: new Map(),
      proven: new Set(),
      complete: Promise.withResolvers()
    }
    entry.complete.promise.catch(() => {}) // callers that never await `done` must not see an unhandled rejection
    this.jobs.set(jobId, entry)
    if (job.summary().closed) {
      entry.complete.resolve()
    } else {
      await this.execute(jobId, entry, job.tick(Date.now()))
    }
    return { jobId, done: entry.complete.promise }
  }

  /**
   * Resumes the unfinished jobs of a store after a restart (all of them, or those named in `jobs`):
   * accepted results stay accepted, live leases are honoured until they expire, everything else is
   * handed out again, and each job keeps its whole stored policy (§6.5).
   */
  async resume(
    store: JobStore = this.store,
    options: { jobs?: readonly string[] } = {}
  ): Promise<{ jobId: string; done: Promise<void> }[]> {
    const resumed = []
    for (const job of store.jobs(options.jobs)) {
      // §6.5: a cancelled job is not resumed; its results stay readable.
      if (this.jobs.has(job.jobId) || job.cancelledAt != null) {
        continue
      }
      store.settleOrphans(job.jobId)
      resumed.push(
        await this.addJob({
          announcement: job.announcement,
          policy: job.policy,
          restore: job.tasks,
          restoredCounts: store.restoredCounts(job.jobId),
          inputs: (i) => store.inputs(job.jobId, i),
          inputDigest: (i) => store.inputDigest(job.jobId, i)
        })
      )
    }
    return resumed
  }

  /** Stops serving every job and clears its timers. */
  stop(): void {
    this.stopped = true
    this.components.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const entry of this.jobs.values()) {
      clearTimeout(entry.timer)
      entry.job.close()
    }
  }

  summary(jobId: string): VerifiedJobSummary | undefined {
    return this.jobs.get(jobId)?.job.summary()
  }

  /**
   * A job's whole policy as this requester runs it — the core's defaults (resolveJobPolicy) and
   * this service's reputation threshold — to stage with the job, so a resumed job runs as before.
   */
  jobPolicy(p: Partial<StoredPolicy> = {}): StoredPolicy {
    return { ...resolveJobPolicy(p), minReputation: p.minReputation ?? this.init.minReputation ?? DEFAULT_MIN_REPUTATION }
  }

  /**
   * Stops handing out a job's tasks (cancelled), and records that in the store so the job is not
   * resumed (§6.5); results already accepted stay stored.
   */
  cancel(jobId: string): void {
    this.store.cancel(jobId, Date.now())
    const entry = this.jobs.get(jobId)
    if (entry != null) {
      entry.job.close()
      clearTimeout(entry.timer)
      entry.complete.reject(new JobCancelledError(jobId))
    }
  }

  async claim(remote: PeerId, claim: TaskClaim, options: AbortOptions = {}): Promise<Assignment> {
    const jobId = toHex(claim.jobId)
    const entry = this.stopped ? undefined : this.jobs.get(jobId)
    const empty = { jobId: claim.jobId, model: new Uint8Array(), tasks: [], leaseExpiresAtMs: 0n }
    if (entry == null) {
      return { ...empty, code: ErrorCode.UNKNOWN_JOB, message: 'no such job here' }
    }
    options.signal?.throwIfAborted()
    const now = Date.now()
    const { libp2p } = this.components
    const groupOf = this.init.networkOf ?? ((_peer: PeerId, address: string | undefined) => networkGroup(address))
    const group = groupOf(remote, libp2p.getConnections(remote)[0]?.remoteAddr.toString())
    if (now - entry.groupsNotedAt >= 1000) {
      // §7.2 "where the requester knows of one": the networks of the job topic's subscribers.
      entry.groupsNotedAt = now
      for (const peer of libp2p.services.pubsub.getSubscribers(jobsTopic(entry.announcement.message.model))) {
        const g = groupOf(peer, libp2p.getConnections(peer)[0]?.remoteAddr.toString())
        entry.job.noteWorker(now, peer.toString(), g)
      }
    }
    const { outcome, actions } = entry.job.claim(now, remote.toString(), claim.maxTasks, group)
    await this.execute(jobId, entry, actions)
    if (outcome.code !== 'OK') {
      return { ...empty, code: ErrorCode[outcome.code], message: '' }
    }
    const a = entry.announcement.message
    // §6.2: an assignment fits one frame. Tasks are added while they fit; the rest go back to
    // the queue at once (a claim never receives more than a frame can carry). So do all of them
    // when the worker's stream is gone (its signal aborted) before the assignment is ready.
    const tasks: Assignment['tasks'] = []
    const returned: number[] = []
    let bytes = ASSIGNMENT_OVERHEAD_BYTES
    let readSinceYield = 0
    for (const index of outcome.tasks) {
      if (returned.length > 0 || options.signal?.aborted === true) {
        returned.push(index)
        continue
      }
      const turn = loopTurn()
      if (readSinceYield >= YIELD_EVERY_BYTES || turn != null) {
        // Reading a frame's worth of inputs takes a while: other claims and results go on between.
        readSinceYield = 0
        await (turn ?? setImmediate())
      }
      const inputs = await entry.inputs(index)
      const size = taskBytes(inputs)
      if (tasks.length > 0 && bytes + size > this.assignmentBytes) {
        returned.push(index)
        continue
      }
      bytes += size
      readSinceYield += size
      const digest = entry.inputDigest?.(index) ?? tensorSetDigest(inputs)
      entry.digests.set(index, digest)
      tasks.push({ taskId: deriveTaskId(a.jobId, index, a.model, digest), index: BigInt(index), inputs })
    }
    if (returned.length > 0) {
      await this.execute(jobId, entry, entry.job.giveBack(Date.now(), remote.toString(), returned))
    }
    options.signal?.throwIfAborted()
    return { code: ErrorCode.OK, jobId: a.jobId, model: a.model, tasks, leaseExpiresAtMs: BigInt(outcome.leaseExpiresAt), message: '' }
  }

  /**
   * A result submission (§6.3): each result checked and decided in order, then the accepted ones
   * stored together — one durable write per job of the submission — and only then counted and
   * receipted. Results not looked at before the stream is gone are not acknowledged: the worker
   * sends them again.
   */
  async results(remote: PeerId, envelopes: Uint8Array[], options: AbortOptions = {}): Promise<ResultStatus[]> {
    const statuses: ResultStatus[] = []
    const accepted = new Map<string, Accepted[]>()
    try {
      for (const envelope of envelopes) {
        // Checking results is CPU work: timers and other streams get a turn between them.
        const turn = loopTurn()
        if (turn != null) {
          await turn
        }
        if (options.signal?.aborted === true) {
          break
        }
        const step = await this.result(remote, envelope)
        if ('code' in step) {
          if (step.code !== ErrorCode.OK && step.code !== ErrorCode.DUPLICATE) {
            if (PROVABLY_BAD.has(step.code)) {
              // §6.3, §7.6: a result that is provably bad (not merely late) counts as a disagreement.
              this.components.reputation.provablyBad(remote.toString())
            }
            this.init.onRejected?.(remote, step.code)
          }
          statuses.push(step)
        } else {
          const group = accepted.get(step.jobId) ?? []
          accepted.set(step.jobId, group)
          group.push({ ...step, position: statuses.length })
          statuses.push(REJECTED_INTERNAL) // until stored
        }
      }
    } finally {
      // Whatever happened to the rest, the accepted results are stored (or handed back) now.
      for (const [jobId, group] of accepted) {
        await this.storeAccepted(jobId, group, statuses)
      }
    }
    options.signal?.throwIfAborted()
    return statuses
  }

  /** Stores one job's accepted results of a submission together, then counts them (or hands them back). */
  private async storeAccepted(jobId: string, group: Accepted[], statuses: ResultStatus[]): Promise<void> {
    const entry = group[0]?.entry as Entry
    try {
      await this.store.accept(
        jobId,
        group.map(({ action: { check, result: r }, receipt }) => ({
          task: r.task,
          worker: r.worker,
          result: r.envelope as Uint8Array,
          receipt,
          check,
          failure: check ? undefined : r.failure?.kind
        }))
      )
    } catch (err) {
      this.init.onError?.(err as Error)
      for (const a of group) {
        await this.execute(jobId, entry, entry.job.storeFailed(Date.now(), a.action))
      }
      return
    }
    for (const a of group) {
      const turn = loopTurn()
      if (turn != null) {
        await turn
      }
      entry.digests.delete(a.action.result.task)
      await this.execute(jobId, entry, entry.job.stored(Date.now(), a.action))
      await this.execute(jobId, entry, a.rest)
      const s = entry.job.summary()
      this.init.onProgress?.({ jobId, done: s.done, settled: s.settled, taskCount: s.taskCount })
      statuses[a.position] = { code: ErrorCode.OK, receipt: a.receipt as Uint8Array<ArrayBuffer>, message: '' }
    }
  }

  /** One result: the §6.3 checks, then the core's decision; an accepted one comes back to be stored. */
  private async result(remote: PeerId, envelope: Uint8Array): Promise<ResultStatus | Omit<Accepted, 'position'>> {
    const reject = (code: ErrorCode, message: string): ResultStatus => ({ code, receipt: new Uint8Array(), message })
    const checked = await checkResult(envelope, remote, (jobId) => {
      const entry = this.jobs.get(jobId)
      return entry == null ? undefined : { model: entry.announcement.message.model, inputDigest: (index) => this.inputDigest(entry, index) }
    })
    if (!checked.ok) {
      return reject(checked.code, checked.message)
    }
    const { jobId, index } = checked
    const entry = this.jobs.get(jobId) as Entry
    const r = checked.result.message
    const observed = {
      task: index,
      worker: remote.toString(),
      outputs: r.outputs,
      failure: r.failure,
      outputDigest: r.outputDigest,
      envelope
    }
    // §6.6: a transient failure sends the task to another worker; a deterministic one is a
    // result like any other (verified by an independent worker).
    const transient = r.failure != null && !isDeterministicFailure(r.failure.kind)
    const { outcome, actions } = transient ? entry.job.failed(Date.now(), observed) : entry.job.result(Date.now(), observed)
    const executed = await this.execute(jobId, entry, actions)
    if (outcome.code !== 'OK' || executed.accepted == null) {
      return reject(outcome.code === 'OK' ? ErrorCode.INTERNAL : ErrorCode[outcome.code], '')
    }
    // The receipt is signed now and sent only once the result is stored (spec §6.3).
    return { jobId, entry, ...executed.accepted, receipt: await this.receipt(entry, r, envelope) }
  }

  /**
   * §6.9 The inputs of a task named in a fraud proof this requester published, for any peer that
   * wants to re-execute it; other tasks' inputs go only to workers that claim them.
   */
  async inputs(_remote: PeerId, request: InputRequest): Promise<InputResponse> {
    const refuse = (code: ErrorCode, message: string): InputResponse => ({ code, inputs: [], message })
    const entry = this.jobs.get(toHex(request.jobId))
    const index = Number(request.index)
    if (entry == null || index >= entry.job.taskCount) {
      return refuse(ErrorCode.UNKNOWN_JOB, 'no such job or task here')
    }
    if (!entry.proven.has(index)) {
      return refuse(ErrorCode.NOT_ASSIGNED, 'no fraud proof of this requester names that task')
    }
    return { code: ErrorCode.OK, inputs: await entry.inputs(index), message: '' }
  }

  /** Makes the store's writes behind durable; a failure is reported, and they stay behind for the next commit. */
  private async flushStore(): Promise<void> {
    try {
      await this.store.flush()
    } catch (err) {
      this.init.onError?.(err as Error)
    }
  }

  /** §6.3: the input digest a result must name, when it can be known now. */
  private async inputDigest(entry: Entry, index: number): Promise<Uint8Array | undefined> {
    const leased = entry.digests.get(index)
    if (leased != null) {
      return leased
    }
    if (index >= 0 && index < entry.job.taskCount && entry.job.taskState(index) === TaskState.PENDING) {
      // A late result for a task that is pending again: its digest was dropped with the lease.
      return entry.inputDigest?.(index) ?? tensorSetDigest(await entry.inputs(index))
    }
    return undefined
  }

  /** §3.6 The signed receipt of an accepted result. */
  private async receipt(entry: Entry, r: TaskResult, envelope: Uint8Array): Promise<Uint8Array> {
    const receipt: Receipt = {
      jobId: r.jobId,
      taskId: r.taskId,
      worker: r.worker,
      requester: peerIdBytes(this.components.peerId),
      resultDigest: sha256(envelope),
      // §3.6, §6.6: a failure earns no reward; its receipt only acknowledges it.
      reward: r.failure == null ? entry.announcement.message.rewardPerTask : 0n,
      issuedAtMs: BigInt(Date.now())
    }
    return seal(STATEMENTS.receipt, receipt, this.components.privateKey)
  }

  /** §7.5: the outvoted result, the agreeing ones and the inputs, signed and published. */
  private async publishFraud(jobId: string, entry: Entry, action: Extract<VerifiedJobAction, { type: 'fraud' }>): Promise<void> {
    try {
      const evidence = [action.accused, ...action.agreeing]
      if (evidence.some((r) => r.envelope == null)) {
        throw new FraudProofError(`task ${action.task}: a result's signed envelope is missing`)
      }
      const init = {
        announcement: entry.envelope,
        accused: action.accused.envelope as Uint8Array<ArrayBuffer>,
        agreeing: action.agreeing.map((r) => r.envelope as Uint8Array<ArrayBuffer>),
        inputs: await entry.inputs(action.task),
        issuedAt: Date.now()
      }
      // §7.5: the inputs go in when the proof stays within MAX_FRAUD_PROOF_BYTES; a larger task's
      // (several items, §6.8) are left out — the signed results alone still prove the disagreement.
      const proof = await createFraudProof(init, this.components.privateKey).catch((err: Error) => {
        if (err.name !== 'TooLargeError') {
          throw err
        }
        return createFraudProof({ ...init, inputs: [] }, this.components.privateKey)
      })
      entry.proven.add(action.task)
      await publishFraudProof(this.components, proof)
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

  /**
   * The one executor of a job's actions, in order: store leases and verdicts, report verdicts,
   * publish fraud proofs, arm the one timer. An `accept` ends the run: the accepted result and the
   * actions after it go back to `results`, which stores the submission's results together, then
   * hands each to the core (`stored`, or `storeFailed` when the write failed: the task is not
   * counted done, the actions after it are not carried out) before any receipt goes out.
   */
  private async execute(jobId: string, entry: Entry, actions: VerifiedJobAction[]): Promise<Executed> {
    for (const [i, action] of actions.entries()) {
      switch (action.type) {
        case 'accept':
          // Stored by the caller with the rest of its submission (`results`); the actions after
          // it assumed it stored, so they wait for that too.
          return { accepted: { action, rest: actions.slice(i + 1) } }
        case 'verdict': {
          await this.store.verdict(jobId, action.verdict)
          const result = action.result?.envelope
          if (result != null) {
            this.init.onVerdict?.({ jobId, verdict: action.verdict, result })
          }
          break
        }
        case 'audit': {
          // §7.5: the convicted worker's unsampled result is compared with an independent re-run.
          const envelope = this.store.firstResult(jobId, action.task)
          await this.store.count(jobId, 'audited')
          if (envelope != null) {
            const opened = await open(STATEMENTS.result, envelope)
            entry.job.audit({
              task: action.task,
              worker: action.worker,
              outputs: opened.message.outputs,
              failure: opened.message.failure,
              outputDigest: opened.message.outputDigest,
              envelope
            })
          }
          break
        }
        case 'fraud':
          await this.store.count(jobId, 'fraudProofs')
          await this.publishFraud(jobId, entry, action)
          break
        case 'canary-passed':
          await this.store.count(jobId, 'canariesPassed')
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
              () => this.safely(() => this.execute(jobId, entry, entry.job.tick(Date.now()))),
              Math.max(0, action.at - Date.now())
            )
            entry.timer.unref()
          }
          break
        case 'complete':
          // A finished job's verdicts are durable before anyone is told it finished (§6.5).
          await this.flushStore()
          this.store.ended?.(jobId)
          entry.complete.resolve()
          break
        case 'deadline':
          await this.flushStore()
          this.store.ended?.(jobId)
          entry.complete.reject(new JobDeadlineError(jobId, action.unfinished))
          break
        case 'check-expired':
          break
      }
    }
    return {}
  }
}
