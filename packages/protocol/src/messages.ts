/**
 * Bounded decoding and the field rules of every message (spec §3). Each `validateX` checks what
 * can be checked without a clock or a network; time rules live next to their users (dht.ts,
 * gossip.ts) and take `now` as a parameter.
 */

import type { DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'
import { equals } from 'uint8arrays/equals'
import { fromString as utf8Encode } from 'uint8arrays/from-string'
import {
  DEFAULT_ATOL,
  DEFAULT_CANARY_RATE,
  DEFAULT_INITIAL_RATE,
  DEFAULT_MIN_COSINE,
  DEFAULT_MIN_RATE,
  DEFAULT_RTOL,
  DEFAULT_TIE_TOLERANCE,
  DEFAULT_TRUST_HORIZON,
  FIRST_TRANSIENT_FAILURE,
  MAX_ADDRESS_BYTES,
  MAX_CAPACITY_TTL_MS,
  MAX_FRAME_BYTES,
  MAX_FRAUD_WITNESSES,
  MAX_INPUT_REQUEST_BYTES,
  MAX_JOB_DURATION_MS,
  MAX_JOB_LIST_BYTES,
  MAX_JOB_QUERY_BYTES,
  MAX_MODEL_REQUEST_BYTES,
  MAX_TASK_CLAIM_BYTES,
  MAX_TASKS_PER_CLAIM,
  MAX_TASKS_PER_JOB,
  MAX_TEXT_BYTES,
  MIN_FRAUD_WITNESSES
} from './constants.js'
import { InvalidFieldError, LimitExceededError, MalformedMessageError, TooLargeError } from './errors.js'
import { DIGEST_LENGTH, deriveJobId, deriveTaskId, parseModelCid, parsePeerId } from './ids.js'
import {
  AgreementKind,
  type AgreementRule,
  Assignment,
  type CapacityRecord,
  ErrorCode,
  FailureKind,
  type FraudProof,
  InputRequest,
  InputResponse,
  type JobAnnouncement,
  JobList,
  JobQuery,
  ModelChunk,
  ModelRequest,
  type Receipt,
  ResultAck,
  ResultSubmission,
  TaskClaim,
  type TaskFailure,
  type TaskResult,
  type VerificationPolicy
} from './pb/openbatch.js'
import { tensorSetDigest, validateTensorSet } from './tensor.js'

/** What the generated protons codecs offer (`X.decode`). */
export interface MessageCodec<T> {
  encode(obj: Partial<T>): Uint8Array
  decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<T>): T
}

/**
 * Decodes `bytes` as `codec`, refusing anything over `maxBytes` before parsing (so a declared
 * length of 2^31 is never allocated) and turning every decoder failure into a named error:
 * TooLargeError, LimitExceededError (repeated field over its limit) or MalformedMessageError.
 */
export function decodeBounded<T>(codec: MessageCodec<T>, bytes: Uint8Array | Uint8ArrayList, maxBytes: number, what: string): T {
  if (bytes.byteLength > maxBytes) {
    throw new TooLargeError(`${what} of ${bytes.byteLength} bytes exceeds the limit of ${maxBytes}`, bytes.byteLength, maxBytes)
  }
  try {
    return codec.decode(bytes)
  } catch (err) {
    const e = err as Error
    if (e.name === 'MaxLengthError' || e.name === 'MaxSizeError') {
      throw new LimitExceededError(`${what}: ${e.message}`)
    }
    throw new MalformedMessageError(`${what} does not decode: ${e.message}`)
  }
}

/** Stream frames (§6) with their codecs and limits, for `decodeFrame`. */
export const FRAMES = {
  TaskClaim: { codec: TaskClaim, maxBytes: MAX_TASK_CLAIM_BYTES },
  Assignment: { codec: Assignment, maxBytes: MAX_FRAME_BYTES },
  ResultSubmission: { codec: ResultSubmission, maxBytes: MAX_FRAME_BYTES },
  ResultAck: { codec: ResultAck, maxBytes: MAX_FRAME_BYTES },
  ModelRequest: { codec: ModelRequest, maxBytes: MAX_MODEL_REQUEST_BYTES },
  ModelChunk: { codec: ModelChunk, maxBytes: MAX_FRAME_BYTES },
  JobQuery: { codec: JobQuery, maxBytes: MAX_JOB_QUERY_BYTES },
  JobList: { codec: JobList, maxBytes: MAX_JOB_LIST_BYTES },
  InputRequest: { codec: InputRequest, maxBytes: MAX_INPUT_REQUEST_BYTES },
  InputResponse: { codec: InputResponse, maxBytes: MAX_FRAME_BYTES }
} as const

export type FrameName = keyof typeof FRAMES
type FrameType<N extends FrameName> = ReturnType<(typeof FRAMES)[N]['codec']['decode']>

/** Decodes one stream frame by name under its §3.1 limit, then applies its field rules. */
export function decodeFrame<N extends FrameName>(name: N, bytes: Uint8Array | Uint8ArrayList): FrameType<N> {
  const frame = FRAMES[name]
  const msg = decodeBounded(frame.codec as unknown as MessageCodec<FrameType<N>>, bytes, frame.maxBytes, name)
  if (name === 'TaskClaim') {
    validateTaskClaim(msg as TaskClaim)
  } else if (name === 'Assignment') {
    validateAssignment(msg as Assignment)
  } else if (name === 'InputRequest') {
    digestField('job_id', (msg as InputRequest).jobId)
  } else if (name === 'InputResponse') {
    const r = msg as InputResponse
    if (r.code === ErrorCode.OK) {
      validateTensorSet(r.inputs)
    } else if (r.inputs.length > 0) {
      throw new InvalidFieldError('inputs', `must be empty with code ${r.code}`)
    }
  } else if (name === 'JobQuery') {
    ;(msg as JobQuery).models.forEach((m, i) => {
      cidField(`models[${i}]`, m)
    })
  }
  return msg
}

// --- helpers ---------------------------------------------------------------------------------

function digestField(field: string, bytes: Uint8Array): void {
  if (bytes.byteLength !== DIGEST_LENGTH) {
    throw new InvalidFieldError(field, `must be ${DIGEST_LENGTH} bytes, got ${bytes.byteLength}`)
  }
}

function cidField(field: string, bytes: Uint8Array): void {
  try {
    parseModelCid(bytes)
  } catch (err) {
    throw new InvalidFieldError(field, (err as Error).message)
  }
}

function peerField(field: string, bytes: Uint8Array): void {
  parsePeerId(bytes, field)
}

function textField(field: string, text: string, max = MAX_TEXT_BYTES): void {
  if (utf8Encode(text).byteLength > max) {
    throw new InvalidFieldError(field, `longer than ${max} bytes`)
  }
}

function rateField(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidFieldError(field, `must be a number in [0, 1], got ${value}`)
  }
}

function nonNegativeField(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidFieldError(field, `must be a finite number ≥ 0, got ${value}`)
  }
}

// --- §3.2 capacity record ---------------------------------------------------------------------

export function validateCapacityRecord(record: CapacityRecord): void {
  peerField('worker', record.worker)
  if (record.seq === 0n) {
    throw new InvalidFieldError('seq', 'must be ≥ 1')
  }
  if (record.expiresAtMs <= record.issuedAtMs) {
    throw new InvalidFieldError('expires_at_ms', 'must be after issued_at_ms')
  }
  if (record.expiresAtMs - record.issuedAtMs > BigInt(MAX_CAPACITY_TTL_MS)) {
    throw new InvalidFieldError('expires_at_ms', `lifetime exceeds ${MAX_CAPACITY_TTL_MS} ms`)
  }
  record.devices.forEach((d, i) => {
    if (d.kind === '') {
      throw new InvalidFieldError(`devices[${i}].kind`, 'must not be empty')
    }
    textField(`devices[${i}].kind`, d.kind, 32)
    textField(`devices[${i}].name`, d.name, 256)
  })
  const seen = new Set<string>()
  record.models.forEach((m, i) => {
    cidField(`models[${i}].model`, m.model)
    const key = m.model.join(',')
    if (seen.has(key)) {
      throw new InvalidFieldError(`models[${i}].model`, 'listed twice')
    }
    seen.add(key)
    nonNegativeField(`models[${i}].items_per_second`, m.itemsPerSecond)
    if (m.maxBatch === 0) {
      throw new InvalidFieldError(`models[${i}].max_batch`, 'must be ≥ 1')
    }
  })
}

// --- §3.3, §7 job announcement and verification policy ------------------------------------------

/** A verification policy with every default of §7 filled in (the spec's zero = default rule). */
export interface ResolvedPolicy {
  initialRate: number
  minRate: number
  trustHorizon: number
  canaryRate: number
  penalty: bigint
  cost: bigint
  agreement: AgreementRule[]
}

/** The default agreement rule for outputs no rule names (§7.1). */
export const DEFAULT_AGREEMENT: AgreementRule = {
  output: '',
  kind: AgreementKind.ALLCLOSE,
  atol: DEFAULT_ATOL,
  rtol: DEFAULT_RTOL,
  minCosine: 0,
  k: 0,
  tieTolerance: 0
}

export function validateAgreementRule(rule: AgreementRule, field = 'agreement'): void {
  textField(`${field}.output`, rule.output, 256)
  if (rule.kind === AgreementKind.AGREEMENT_UNSPECIFIED) {
    throw new InvalidFieldError(`${field}.kind`, 'must be set')
  }
  nonNegativeField(`${field}.atol`, rule.atol)
  nonNegativeField(`${field}.rtol`, rule.rtol)
  nonNegativeField(`${field}.tie_tolerance`, rule.tieTolerance)
  if (!Number.isFinite(rule.minCosine) || rule.minCosine < -1 || rule.minCosine > 1) {
    throw new InvalidFieldError(`${field}.min_cosine`, `must be in [-1, 1], got ${rule.minCosine}`)
  }
  if (rule.kind === AgreementKind.TOP_K && rule.k === 0) {
    throw new InvalidFieldError(`${field}.k`, 'must be ≥ 1 for TOP_K')
  }
}

/** Applies §7's defaults to a policy's zero fields. */
export function resolvePolicy(policy: VerificationPolicy | undefined): ResolvedPolicy {
  const p = policy ?? { initialRate: 0, minRate: 0, trustHorizon: 0, canaryRate: 0, penalty: 0n, cost: 0n, agreement: [] }
  return {
    initialRate: p.initialRate === 0 ? DEFAULT_INITIAL_RATE : p.initialRate,
    minRate: p.minRate === 0 ? DEFAULT_MIN_RATE : p.minRate,
    trustHorizon: p.trustHorizon === 0 ? DEFAULT_TRUST_HORIZON : p.trustHorizon,
    canaryRate: p.canaryRate === 0 ? DEFAULT_CANARY_RATE : p.canaryRate,
    penalty: p.penalty,
    cost: p.cost,
    agreement: p.agreement.map((r) => ({
      ...r,
      minCosine: r.kind === AgreementKind.COSINE && r.minCosine === 0 ? DEFAULT_MIN_COSINE : r.minCosine,
      tieTolerance: r.tieTolerance === 0 ? DEFAULT_TIE_TOLERANCE : r.tieTolerance
    }))
  }
}

export function validateVerificationPolicy(policy: VerificationPolicy): void {
  rateField('verification.initial_rate', policy.initialRate)
  rateField('verification.min_rate', policy.minRate)
  rateField('verification.canary_rate', policy.canaryRate)
  if (policy.canaryRate >= 1) {
    throw new InvalidFieldError('verification.canary_rate', 'must be < 1')
  }
  if (policy.initialRate !== 0 && policy.minRate > policy.initialRate) {
    throw new InvalidFieldError('verification.min_rate', 'must not exceed initial_rate')
  }
  const outputs = new Set<string>()
  policy.agreement.forEach((rule, i) => {
    validateAgreementRule(rule, `verification.agreement[${i}]`)
    if (outputs.has(rule.output)) {
      throw new InvalidFieldError(`verification.agreement[${i}].output`, `"${rule.output}" has two rules`)
    }
    outputs.add(rule.output)
  })
}

export function validateJobAnnouncement(job: JobAnnouncement): void {
  peerField('requester', job.requester)
  digestField('job_id', job.jobId)
  if (!equals(deriveJobId(job.requester, job.nonce), job.jobId)) {
    throw new InvalidFieldError('job_id', 'is not derived from requester and nonce (§2.4)')
  }
  cidField('model', job.model)
  if (job.taskCount === 0n || job.taskCount > BigInt(MAX_TASKS_PER_JOB)) {
    throw new InvalidFieldError('task_count', `must be 1..${MAX_TASKS_PER_JOB}, got ${job.taskCount}`)
  }
  if (job.maxBatch === 0 || job.maxBatch > MAX_TASKS_PER_CLAIM) {
    throw new InvalidFieldError('max_batch', `must be 1..${MAX_TASKS_PER_CLAIM}, got ${job.maxBatch}`)
  }
  if (job.verification != null) {
    validateVerificationPolicy(job.verification)
  }
  if (job.deadlineMs <= job.issuedAtMs) {
    throw new InvalidFieldError('deadline_ms', 'must be after issued_at_ms')
  }
  if (job.deadlineMs - job.issuedAtMs > BigInt(MAX_JOB_DURATION_MS)) {
    throw new InvalidFieldError('deadline_ms', `job lasts longer than ${MAX_JOB_DURATION_MS} ms`)
  }
  uint64Field('reward_per_task', job.rewardPerTask)
  uint64Field('task_count', job.taskCount)
  job.addresses.forEach((a, i) => {
    if (a.byteLength === 0 || a.byteLength > MAX_ADDRESS_BYTES) {
      throw new InvalidFieldError(`addresses[${i}]`, `must be 1..${MAX_ADDRESS_BYTES} bytes, got ${a.byteLength}`)
    }
  })
  if (job.itemsPerTask != null && (job.itemsPerTask === 0 || job.itemsPerTask > MAX_TASKS_PER_JOB)) {
    throw new InvalidFieldError('items_per_task', `must be 1..${MAX_TASKS_PER_JOB} when present, got ${job.itemsPerTask}`)
  }
}

/**
 * §6.2: whether a job pays a worker asking `pricePerItem` per item: `reward_per_task` at least the
 * price times the most items a task carries (§3.3 `items_per_task`, one when absent). A price of 0
 * takes every job.
 */
export function rewardCovers(job: Pick<JobAnnouncement, 'rewardPerTask' | 'itemsPerTask'>, pricePerItem: bigint): boolean {
  return job.rewardPerTask >= pricePerItem * BigInt(job.itemsPerTask ?? 1)
}

const UINT64_END = 1n << 64n

/** A uint64 field: protobuf would silently wrap a negative or oversized bigint (§3.1). */
function uint64Field(field: string, value: bigint): void {
  if (typeof value !== 'bigint' || value < 0n || value >= UINT64_END) {
    throw new InvalidFieldError(field, `must be a whole number in 0..2^64−1, got ${String(value)}`)
  }
}

/** The wire codes of FailureKind (the schema's numbers; protons represents the enum by name). */
export const FAILURE_CODES: Readonly<Record<FailureKind, number>> = {
  [FailureKind.FAILURE_UNSPECIFIED]: 0,
  [FailureKind.INPUT_REJECTED]: 1,
  [FailureKind.INFERENCE_FAILED]: 2,
  [FailureKind.UNSUPPORTED_MODEL]: 3,
  [FailureKind.RESOURCE_EXHAUSTED]: 16,
  [FailureKind.DEVICE_LOST]: 17,
  [FailureKind.MODEL_UNAVAILABLE]: 18,
  [FailureKind.WORKER_STOPPING]: 19
}

/** §6.6 Whether a failure kind is deterministic (an independent worker confirms it) or transient. */
export function isDeterministicFailure(kind: FailureKind): boolean {
  const code = FAILURE_CODES[kind]
  return code !== undefined && code > 0 && code < FIRST_TRANSIENT_FAILURE
}

/** §3.5 A failure's kind is a known, non-zero value and its message fits. */
export function validateTaskFailure(failure: TaskFailure, field = 'failure'): void {
  if (failure.kind === FailureKind.FAILURE_UNSPECIFIED || FAILURE_CODES[failure.kind] === undefined) {
    throw new InvalidFieldError(`${field}.kind`, `must be a known FailureKind, got ${failure.kind}`)
  }
  textField(`${field}.message`, failure.message)
}

// --- §3.4 stream frames --------------------------------------------------------------------------

export function validateTaskClaim(claim: TaskClaim): void {
  digestField('job_id', claim.jobId)
  if (claim.maxTasks === 0 || claim.maxTasks > MAX_TASKS_PER_CLAIM) {
    throw new InvalidFieldError('max_tasks', `must be 1..${MAX_TASKS_PER_CLAIM}, got ${claim.maxTasks}`)
  }
}

/** Each validated assigned task's input digest, computed once while checking its task id. */
const assignedDigests = new WeakMap<object, Uint8Array<ArrayBuffer>>()

/**
 * The §2.3 digest of an assigned task's inputs: the one `validateAssignment` computed to check the
 * task id (so a worker hashes its inputs once), or computed now for a task that was not validated.
 */
export function assignedInputDigest(task: Assignment['tasks'][number]): Uint8Array<ArrayBuffer> {
  return assignedDigests.get(task) ?? tensorSetDigest(task.inputs)
}

export function validateAssignment(assignment: Assignment): void {
  textField('message', assignment.message)
  if (assignment.code !== ErrorCode.OK) {
    if (assignment.tasks.length > 0) {
      throw new InvalidFieldError('tasks', `must be empty when code is ${assignment.code}`)
    }
    return
  }
  digestField('job_id', assignment.jobId)
  cidField('model', assignment.model)
  assignment.tasks.forEach((task, i) => {
    digestField(`tasks[${i}].task_id`, task.taskId)
    try {
      validateTensorSet(task.inputs)
    } catch (err) {
      throw new InvalidFieldError(`tasks[${i}].inputs`, (err as Error).message)
    }
    const digest = tensorSetDigest(task.inputs)
    if (!equals(deriveTaskId(assignment.jobId, task.index, assignment.model, digest), task.taskId)) {
      throw new InvalidFieldError(`tasks[${i}].task_id`, 'is not derived from job, index, model and inputs (§2.4)')
    }
    assignedDigests.set(task, digest)
  })
}

// --- §3.5 task result -------------------------------------------------------------------------

export function validateTaskResult(result: TaskResult): void {
  peerField('worker', result.worker)
  digestField('task_id', result.taskId)
  digestField('job_id', result.jobId)
  digestField('input_digest', result.inputDigest)
  digestField('output_digest', result.outputDigest)
  cidField('model', result.model)
  if (!equals(deriveTaskId(result.jobId, result.index, result.model, result.inputDigest), result.taskId)) {
    throw new InvalidFieldError('task_id', 'is not derived from job_id, index, model and input_digest (§2.4)')
  }
  if (result.failure != null) {
    // §3.5: a failure carries no outputs, and its output_digest is that of the empty set.
    validateTaskFailure(result.failure)
    if (result.outputs.length > 0) {
      throw new InvalidFieldError('outputs', 'must be empty when failure is set')
    }
    if (!equals(tensorSetDigest([]), result.outputDigest)) {
      throw new InvalidFieldError('output_digest', 'must be the digest of the empty tensor set when failure is set (§2.3)')
    }
  }
  if (result.outputs.length > 0) {
    try {
      validateTensorSet(result.outputs)
    } catch (err) {
      throw new InvalidFieldError('outputs', (err as Error).message)
    }
    if (!equals(tensorSetDigest(result.outputs), result.outputDigest)) {
      throw new InvalidFieldError('output_digest', 'does not match outputs (§2.3)')
    }
  }
  if (result.profile != null) {
    const p = result.profile
    textField('profile.runtime', p.runtime, 128)
    textField('profile.provider', p.provider, 64)
    textField('profile.device', p.device, 256)
    textField('profile.graph_optimization', p.graphOptimization, 64)
  }
}

// --- §3.6 receipt -----------------------------------------------------------------------------

export function validateReceipt(receipt: Receipt): void {
  peerField('requester', receipt.requester)
  peerField('worker', receipt.worker)
  digestField('job_id', receipt.jobId)
  digestField('task_id', receipt.taskId)
  digestField('result_digest', receipt.resultDigest)
  uint64Field('reward', receipt.reward)
}

// --- §3.7 fraud proof (structure only; §7.5 checks live in fraud.ts) ------------------------------

export function validateFraudProof(proof: FraudProof): void {
  peerField('reporter', proof.reporter)
  if (proof.announcement.byteLength === 0) {
    throw new InvalidFieldError('announcement', 'must not be empty')
  }
  if (proof.accused.byteLength === 0) {
    throw new InvalidFieldError('accused', 'must not be empty')
  }
  if (proof.agreeing.length < MIN_FRAUD_WITNESSES || proof.agreeing.length > MAX_FRAUD_WITNESSES) {
    throw new InvalidFieldError('agreeing', `needs ${MIN_FRAUD_WITNESSES}..${MAX_FRAUD_WITNESSES} results, got ${proof.agreeing.length}`)
  }
  if (proof.inputs.length > 0) {
    try {
      validateTensorSet(proof.inputs)
    } catch (err) {
      throw new InvalidFieldError('inputs', (err as Error).message)
    }
  }
}

/** A job's `max_batch` when its requester names none (an implementation default, not a wire rule, so not in constants.ts). */
export const DEFAULT_MAX_BATCH = 32

export interface JobAnnouncementInit {
  /** The requester's peer id bytes (`peerIdBytes(peerId)`). */
  requester: Uint8Array
  /** Model CID bytes. */
  model: Uint8Array
  taskCount: number | bigint
  /** Most tasks one claim receives. @default DEFAULT_MAX_BATCH */
  maxBatch?: number
  /** Reward per task (R). @default 0n */
  rewardPerTask?: bigint
  /** Issue time, ms. */
  now: number
  /** How long the job runs. @default 1 hour */
  durationMs?: number
  /** @default none (spec defaults) */
  verification?: VerificationPolicy
  /** 16..32 bytes; pass random bytes (`crypto.getRandomValues`), fixed only in tests. */
  nonce: Uint8Array
  /** Multiaddr bytes workers may dial this requester at (§3.3, §5.1). @default none */
  addresses?: Uint8Array[]
  /** The most items one task carries (§6.8); announced only when more than one. @default 1 */
  itemsPerTask?: number
}

/** Builds a valid JobAnnouncement (job id derived per §2.4) ready to `seal`. */
export function createJobAnnouncement(init: JobAnnouncementInit): JobAnnouncement {
  const announcement: JobAnnouncement = {
    jobId: deriveJobId(init.requester, init.nonce),
    requester: init.requester as Uint8Array<ArrayBuffer>,
    nonce: init.nonce as Uint8Array<ArrayBuffer>,
    model: init.model as Uint8Array<ArrayBuffer>,
    taskCount: BigInt(init.taskCount),
    rewardPerTask: init.rewardPerTask ?? 0n,
    issuedAtMs: BigInt(Math.floor(init.now)),
    deadlineMs: BigInt(Math.floor(init.now + (init.durationMs ?? 3_600_000))),
    maxBatch: init.maxBatch ?? DEFAULT_MAX_BATCH,
    verification: init.verification,
    addresses: (init.addresses ?? []) as Uint8Array<ArrayBuffer>[],
    ...(init.itemsPerTask != null && init.itemsPerTask > 1 ? { itemsPerTask: init.itemsPerTask } : {})
  }
  validateJobAnnouncement(announcement)
  return announcement
}
