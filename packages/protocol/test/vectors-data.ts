/**
 * Builds protocol-spec/vectors/openbatch-v1.json (spec §9). Everything here is deterministic:
 * keys come from fixed seeds and Ed25519 signatures are deterministic, so another implementation
 * can reproduce every byte.
 */

import { publicKeyFromRaw, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { RecordEnvelope } from '@libp2p/peer-record'
import { ed25519Sign } from '../src/ed25519.js'
import {
  AgreementKind,
  type AgreementRule,
  adaptiveRate,
  agreeResults,
  agreeTensors,
  assertPreferred,
  banDuration,
  CapacityRecord,
  type CapacityValue,
  capacityKey,
  concatBytes,
  DType,
  decodeFrame,
  deriveJobId,
  deriveTaskId,
  detectionProbability,
  ErrorCode,
  encodeTensorCanonical,
  encodeTensorSetCanonical,
  FailureKind,
  FRAMES,
  FRAUD_PROOF_MAX_AGE_MS,
  FRAUD_TOPIC,
  type FrameName,
  FraudProof,
  float32Tensor,
  ItemMap,
  type ItemPacking,
  JobAnnouncement,
  jobsTopic,
  MAX_CLOCK_SKEW_MS,
  MAX_FRAME_BYTES,
  MAX_MODEL_CHUNK_BYTES,
  MAX_MODEL_REQUEST_BYTES,
  MAX_RECEIPT_BYTES,
  MAX_TASK_CLAIM_BYTES,
  MAX_TASKS_PER_CLAIM,
  type MessageCodec,
  modelCid,
  POS_SAFETY_MARGIN,
  packItems,
  peerIdBytes,
  proofOfSamplingFloor,
  Receipt,
  reputationScore,
  resolvePolicy,
  STATEMENTS,
  type StatementKind,
  samplingFloor,
  seal,
  selectCapacityRecord,
  sha256,
  TaskResult,
  type Tensor,
  tensorSetDigest,
  toHex,
  uvarint,
  validateCapacityEntry,
  validateFraudMessage,
  WORKER_RENDEZVOUS_CID,
  workerShard,
  workerShardCid
} from '../src/index.js'
import { Envelope, KeyType } from '../src/pb/envelope.js'
import { ed25519Vectors } from './ed25519-vectors.js'
import {
  capacityRecord,
  fraudCase,
  type Identity,
  INPUTS,
  identity,
  jobAnnouncement,
  MODEL,
  MODEL_BYTES,
  NONCE,
  probs,
  receipt,
  T0,
  taskResult
} from './fixtures.js'

export interface TensorVector {
  name: string
  dtype: string
  dims: string[]
  data: string
}

export const tensorToJson = (t: Tensor): TensorVector => ({ name: t.name, dtype: t.dtype, dims: t.dims.map(String), data: toHex(t.data) })

const rule = (kind: AgreementKind, over: Partial<AgreementRule> = {}): AgreementRule => ({
  output: '',
  kind,
  atol: 1e-4,
  rtol: 1e-3,
  minCosine: 0,
  k: 0,
  tieTolerance: 1e-4,
  ...over
})
/** §9: a rule as JSON — the .proto's field names, the kind by its enum name. */
export interface RuleVector {
  output: string
  kind: string
  atol: number
  rtol: number
  min_cosine: number
  k: number
  tie_tolerance: number
}

const ruleToJson = (r: AgreementRule): RuleVector => ({
  output: r.output,
  kind: r.kind,
  atol: r.atol,
  rtol: r.rtol,
  min_cosine: r.minCosine,
  k: r.k,
  tie_tolerance: r.tieTolerance
})

/** What §7.1 compares of a result: outputs, or a failure (§6.6). */
export interface ComparedResult {
  outputs: Tensor[]
  failure?: { kind: FailureKind; message: string }
  /** Set on results that carry only their outputs' digest (§3.5), and on the results they meet. */
  outputDigest?: Uint8Array
}

/** Signs a result without checking its field rules: for vectors of invalid results. */
async function sealUnchecked(result: TaskResult, key: Parameters<typeof RecordEnvelope.seal>[1]): Promise<Uint8Array> {
  return sealRaw(STATEMENTS.result, TaskResult.encode(result), key)
}

/** Signs payload bytes under a statement's domain, unchecked. */
async function sealRaw(
  statement: { domain: string; payloadType: Uint8Array },
  payload: Uint8Array,
  key: Parameters<typeof RecordEnvelope.seal>[1]
): Promise<Uint8Array> {
  const envelope = await RecordEnvelope.seal(
    { domain: statement.domain, codec: statement.payloadType, marshal: () => payload, equals: () => false },
    key
  )
  return envelope.marshal()
}

/** An envelope with any key and signature bytes (§1.2), for the key and signature cases of §1.1. */
function rawEnvelope(
  statement: { domain: string; payloadType: Uint8Array },
  payload: Uint8Array,
  key: { type: KeyType; data: Uint8Array },
  signature: Uint8Array
): Uint8Array {
  return Envelope.encode({
    publicKey: { type: key.type, data: key.data as Uint8Array<ArrayBuffer> },
    payloadType: statement.payloadType as Uint8Array<ArrayBuffer>,
    payload: payload as Uint8Array<ArrayBuffer>,
    signature: signature as Uint8Array<ArrayBuffer>
  })
}

const resultToJson = (r: ComparedResult) => ({
  outputs: r.outputs.map(tensorToJson),
  ...(r.outputDigest == null ? {} : { output_digest: toHex(r.outputDigest) }),
  ...(r.failure == null ? {} : { failure: { kind: r.failure.kind, message: r.failure.message } })
})

const half = (name: string, dims: number[], bits: number[]): Tensor => ({
  name,
  dtype: DType.FLOAT16,
  dims: dims.map(BigInt),
  data: new Uint8Array(Uint16Array.from(bits).buffer)
})
const double = (name: string, dims: number[], values: number[]): Tensor => ({
  name,
  dtype: DType.FLOAT64,
  dims: dims.map(BigInt),
  data: new Uint8Array(Float64Array.from(values).buffer)
})
const int64 = (name: string, dims: number[], values: bigint[]): Tensor => ({
  name,
  dtype: DType.INT64,
  dims: dims.map(BigInt),
  data: new Uint8Array(BigInt64Array.from(values).buffer)
})

const EMPTY_POLICY = { initialRate: 0, minRate: 0, trustHorizon: 0, canaryRate: 0, penalty: 0n, cost: 0n, agreement: [] }

const le32 = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))

/** §4.2: the validator's verdicts at one time, the selector's choice, and which values replace a held one. */
async function capacityVectors(worker: Identity, other: Identity) {
  const now = T0 + 60_000
  const sealed = async (overrides: Parameters<typeof capacityRecord>[1], signer = worker) =>
    seal(STATEMENTS.capacity, capacityRecord(signer, overrides), signer.key)
  const verdict = async (key: Uint8Array, value: Uint8Array, why: string) => {
    try {
      await validateCapacityEntry(key, value, now)
      return { key: toHex(key), value: toHex(value), valid: true, why }
    } catch (err) {
      return { key: toHex(key), value: toHex(value), valid: false, error: (err as Error).name, why }
    }
  }
  const key = capacityKey(worker.id)
  const live = await sealed({ seq: 7n })
  const value = async (seq: bigint, expiresAtMs: number, itemsPerSecond = 1100): Promise<CapacityValue> => {
    const record = capacityRecord(worker, { seq, expiresAtMs: BigInt(expiresAtMs) })
    const bytes = await seal(STATEMENTS.capacity, { ...record, models: record.models.map((m) => ({ ...m, itemsPerSecond })) }, worker.key)
    return { record, bytes }
  }
  const values = [
    await value(7n, T0 + 3_600_000, 1100),
    await value(9n, T0 + 600_000, 1100),
    await value(9n, T0 + 3_600_000, 1200),
    await value(9n, T0 + 3_600_000, 1300),
    await value(8n, T0 + 7_200_000, 1100)
  ]
  const prefers = (held: CapacityValue, candidate: CapacityValue) => {
    try {
      assertPreferred(held, candidate)
      return true
    } catch {
      return false
    }
  }
  const pairs: [number, number, string][] = [
    [0, 1, 'a higher seq'],
    [1, 0, 'a lower seq'],
    [1, 2, 'an equal seq, a later expiry'],
    [2, 1, 'an equal seq, an earlier expiry'],
    [2, 3, 'an equal seq and expiry: replaces only when its envelope bytes are larger'],
    [3, 2, 'an equal seq and expiry: replaces only when its envelope bytes are larger'],
    [3, 3, 'the same record again']
  ]
  return {
    now_ms: String(now),
    validator: [
      await verdict(key, live, "a live record under its worker's key"),
      await verdict(key, await sealed({ issuedAtMs: BigInt(T0 - 3_600_000), expiresAtMs: BigInt(now) }), 'expires_at_ms = now: expired'),
      await verdict(
        key,
        await sealed({ issuedAtMs: BigInt(now + MAX_CLOCK_SKEW_MS + 1), expiresAtMs: BigInt(now + MAX_CLOCK_SKEW_MS + 1000) }),
        'issued more than MAX_CLOCK_SKEW_MS after now'
      ),
      await verdict(
        key,
        await sealed({ issuedAtMs: BigInt(now + MAX_CLOCK_SKEW_MS), expiresAtMs: BigInt(now + MAX_CLOCK_SKEW_MS + 1000) }),
        'issued exactly MAX_CLOCK_SKEW_MS after now: still valid'
      ),
      await verdict(capacityKey(other.id), live, "stored under another peer's key"),
      await verdict(new TextEncoder().encode('/openbatch-capacity/'), live, 'a key with no peer id'),
      await verdict(key, await sealed({ seq: 7n }, other), "another peer's record under this worker's key")
    ],
    selection: {
      values: values.map((v) => toHex(v.bytes)),
      selected: selectCapacityRecord(values),
      why: 'the highest seq (9), then the later expiry, then the larger envelope bytes'
    },
    replacement: pairs.map(([held, candidate, why]) => ({
      held: toHex((values[held] as CapacityValue).bytes),
      candidate: toHex((values[candidate] as CapacityValue).bytes),
      replaces: prefers(values[held] as CapacityValue, values[candidate] as CapacityValue),
      why
    }))
  }
}

/**
 * §5.2, §7.5: signed fraud proofs and the gossip verdict at one time — a valid one, one breaking each
 * check of §7.5 (the error names it), and the two [IGNORE] cases.
 */
async function fraudVectors(requester: Identity, honest1: Identity, honest2: Identity) {
  const cheater = await identity(4)
  const { job, good1, good2, bad, proof } = await fraudCase(requester, honest1, honest2, cheater)
  const result = (who: Identity, values: Tensor[], over: Partial<TaskResult> = {}) =>
    seal(STATEMENTS.result, taskResult(who, job, values, over), who.key)
  const now = T0 + 10_000
  const tampered = (() => {
    const env = RecordEnvelope.createFromProtobuf(good2)
    const sig = Uint8Array.from(env.signature)
    sig[0] = (sig[0] as number) ^ 0xff
    return new RecordEnvelope({ ...env, signature: sig }).marshal() as Uint8Array<ArrayBuffer>
  })()
  const failure = (who: Identity) =>
    result(who, [], { outputDigest: tensorSetDigest([]), failure: { kind: FailureKind.INPUT_REJECTED, message: '' } })
  const otherModel = jobAnnouncement(requester, { model: modelCid(new Uint8Array([9])).bytes as Uint8Array<ArrayBuffer> })
  const cases: [string, FraudProof][] = [
    ['a valid proof with the inputs', proof()],
    ['a valid proof without the inputs (§6.9: they are fetched by digest)', proof({ inputs: [] })],
    ['check 1: a result in place of the announcement', proof({ announcement: good1 })],
    ['check 2: a witness whose signature was tampered with', proof({ agreeing: [good1, tampered] })],
    ['check 3: a witness for another task', proof({ agreeing: [good1, await result(honest2, probs(0.9, 0.1), { index: 4n })] })],
    [
      "check 3: an accused result for another model than the job's",
      proof({ accused: await seal(STATEMENTS.result, taskResult(cheater, otherModel, probs(0.1, 0.9)), cheater.key) })
    ],
    [
      'check 4: a witness that carries only its digest',
      proof({
        agreeing: [good1, await seal(STATEMENTS.result, { ...taskResult(honest2, job, probs(0.9, 0.1)), outputs: [] }, honest2.key)]
      })
    ],
    ['check 4: two failures outvoting outputs', proof({ accused: good1, agreeing: [await failure(honest2), await failure(cheater)] })],
    ['check 5: one signer twice', proof({ agreeing: [good1, good1] })],
    ['check 5: the accused as its own witness', proof({ agreeing: [good1, bad] })],
    ['check 6: an accused that agrees with the witnesses', proof({ accused: good1, agreeing: [good2, bad] })],
    ["check 7: inputs that are not the task's", proof({ inputs: [{ ...(INPUTS[0] as Tensor), data: new Uint8Array(16) }] })],
    ['[IGNORE] issued after now + MAX_CLOCK_SKEW_MS', proof({ issuedAtMs: BigInt(now + MAX_CLOCK_SKEW_MS + 1) })]
  ]
  const out = []
  for (const [why, p] of cases) {
    const bytes = await sealRaw(STATEMENTS.fraud, FraudProof.encode(p), requester.key)
    const verdict = await validateFraudMessage(bytes, now)
    out.push({ proof: toHex(bytes), verdict: verdict.action, ...(verdict.errorName == null ? {} : { error: verdict.errorName }), why })
  }
  const old = await sealRaw(STATEMENTS.fraud, FraudProof.encode(proof()), requester.key)
  const late = Number(job.deadlineMs) + FRAUD_PROOF_MAX_AGE_MS + 1
  const lateVerdict = await validateFraudMessage(old, late)
  return {
    now_ms: String(now),
    cases: [
      ...out,
      {
        proof: toHex(old),
        now_ms: String(late),
        verdict: lateVerdict.action,
        why: '[IGNORE] the job ended more than FRAUD_PROOF_MAX_AGE_MS before now'
      }
    ]
  }
}

/** A decoded message as JSON: bytes as hex, uint64 as decimal strings, enums by name (§9). */
export function messageToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    return toHex(value)
  }
  if (typeof value === 'bigint') {
    return value.toString()
  }
  if (Array.isArray(value)) {
    return value.map(messageToJson)
  }
  if (value != null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), messageToJson(v)])
    )
  }
  return value
}

/**
 * §6 stream frames: each message's fields, its encoding and the length-prefixed frame; then frames
 * a receiver MUST refuse, with the error (a stream peer resets that stream, §6.1).
 */
async function frameVectors(job: JobAnnouncement, result: Uint8Array, receipt: Uint8Array, announcement: Uint8Array) {
  const task = { taskId: deriveTaskId(job.jobId, 3n, job.model, tensorSetDigest(INPUTS)), index: 3n, inputs: INPUTS }
  const assignment = {
    code: ErrorCode.OK,
    jobId: job.jobId,
    model: job.model,
    tasks: [task],
    leaseExpiresAtMs: BigInt(T0 + 60_000),
    message: ''
  }
  const valid: [FrameName, unknown][] = [
    ['TaskClaim', { jobId: job.jobId, maxTasks: 8 }],
    ['Assignment', assignment],
    ['Assignment', { code: ErrorCode.NO_TASKS, jobId: job.jobId, model: new Uint8Array(), tasks: [], leaseExpiresAtMs: 0n, message: '' }],
    ['ResultSubmission', { results: [result] }],
    ['ResultAck', { statuses: [{ code: ErrorCode.OK, receipt, message: '' }] }],
    ['ModelRequest', { model: job.model, offset: 1048576n, length: MAX_MODEL_CHUNK_BYTES }],
    ['ModelChunk', { code: ErrorCode.OK, totalSize: 1048580n, offset: 1048576n, data: Uint8Array.from([1, 2, 3, 4]) }],
    ['JobQuery', { models: [job.model] }],
    ['JobList', { announcements: [announcement] }],
    ['InputRequest', { jobId: job.jobId, index: 3n }],
    ['InputResponse', { code: ErrorCode.OK, inputs: INPUTS, message: '' }]
  ]
  const encode = (name: FrameName, message: unknown) => (FRAMES[name].codec as unknown as MessageCodec<unknown>).encode(message as never)
  const frames = valid.map(([name, message]) => {
    const bytes = encode(name, message)
    return {
      frame: name,
      message: messageToJson(decodeFrame(name, bytes)),
      encoded: toHex(bytes),
      framed: toHex(concatBytes([uvarint(bytes.byteLength), bytes]))
    }
  })
  const refused = async (name: FrameName, bytes: Uint8Array, why: string) => {
    try {
      decodeFrame(name, bytes)
      throw new Error(`${name} decoded: ${why}`)
    } catch (err) {
      return { frame: name, encoded: toHex(bytes), error: (err as Error).name, why }
    }
  }
  const invalid = [
    await refused('TaskClaim', encode('TaskClaim', { jobId: job.jobId, maxTasks: 0 }), 'max_tasks 0 (§3.4)'),
    await refused(
      'TaskClaim',
      encode('TaskClaim', { jobId: job.jobId, maxTasks: MAX_TASKS_PER_CLAIM + 1 }),
      'max_tasks over MAX_TASKS_PER_CLAIM'
    ),
    await refused('TaskClaim', encode('TaskClaim', { jobId: job.jobId.subarray(0, 31), maxTasks: 1 }), 'a job_id of 31 bytes'),
    await refused('TaskClaim', new Uint8Array(MAX_TASK_CLAIM_BYTES + 1), 'a frame over MAX_TASK_CLAIM_BYTES'),
    await refused('Assignment', encode('Assignment', { ...assignment, code: ErrorCode.NO_TASKS }), 'tasks with a code other than OK'),
    await refused(
      'Assignment',
      encode('Assignment', { ...assignment, tasks: [{ ...task, index: 4n }] }),
      'a task whose task_id is not derived from its index (§2.4)'
    ),
    await refused(
      'ResultSubmission',
      encode('ResultSubmission', { results: Array.from({ length: 257 }, () => new Uint8Array([1])) }),
      'results over the schema limit of 256'
    ),
    await refused('ModelRequest', new Uint8Array(MAX_MODEL_REQUEST_BYTES + 1), 'a frame over MAX_MODEL_REQUEST_BYTES'),
    await refused('JobQuery', encode('JobQuery', { models: [new Uint8Array([1, 2, 3])] }), 'a model that is not a CID (§2.1)'),
    await refused(
      'InputResponse',
      encode('InputResponse', { code: ErrorCode.NOT_ASSIGNED, inputs: INPUTS, message: '' }),
      'inputs with a code other than OK'
    )
  ]
  return { valid: frames, invalid }
}

export async function buildVectors() {
  const requester = await identity(1)
  const worker = await identity(2)
  const other = await identity(3)
  const job = jobAnnouncement(requester)
  const result = taskResult(worker, job, probs(0.9, 0.1))
  const resultEnvelope = await seal(STATEMENTS.result, result, worker.key)

  const tensors: Tensor[] = [
    float32Tensor('probs', [1, 2], [0.75, 0.25]),
    {
      name: 'ids',
      dtype: DType.INT64,
      dims: [2n],
      data: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    },
    { name: 'mask', dtype: DType.BOOL, dims: [], data: Uint8Array.from([1]) },
    { name: 'wide', dtype: DType.UINT8, dims: [300n, 0n], data: new Uint8Array() },
    // §2.2: a dimension of 0 makes any shape empty, whichever position it has.
    { name: 'empty', dtype: DType.FLOAT32, dims: [4294967295n, 4294967295n, 0n], data: new Uint8Array() }
  ]

  // §5.1 a re-announcement: the same job, issued later, with the requester's addresses (§3.3).
  const reannounced = jobAnnouncement(requester, {
    issuedAtMs: job.issuedAtMs + 30_000n,
    addresses: [
      Uint8Array.from([0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1]) as Uint8Array<ArrayBuffer> // /ip4/127.0.0.1/tcp/4001
    ]
  })
  // §3.3, §6.8 a job whose tasks carry up to 8 items, paying 40 per task (5 per item, §6.2).
  const packed = jobAnnouncement(requester, { itemsPerTask: 8, rewardPerTask: 40n })
  // §6.6 a deterministic failure in place of outputs; its receipt carries no reward (§3.6).
  const failed = taskResult(worker, job, [], {
    outputDigest: tensorSetDigest([]),
    failure: { kind: FailureKind.INPUT_REJECTED, message: 'input "x" has shape [1, 3], the model expects [1, 4]' }
  })
  const failedEnvelope = await seal(STATEMENTS.result, failed, worker.key)
  const kinds: [string, StatementKind<never>, unknown, typeof requester][] = [
    ['capacity', STATEMENTS.capacity as unknown as StatementKind<never>, capacityRecord(worker), worker],
    ['job', STATEMENTS.job as unknown as StatementKind<never>, job, requester],
    ['job', STATEMENTS.job as unknown as StatementKind<never>, reannounced, requester],
    ['job', STATEMENTS.job as unknown as StatementKind<never>, packed, requester],
    ['result', STATEMENTS.result as unknown as StatementKind<never>, result, worker],
    ['result', STATEMENTS.result as unknown as StatementKind<never>, failed, worker],
    [
      'receipt',
      STATEMENTS.receipt as unknown as StatementKind<never>,
      receipt(requester, worker, result, sha256(resultEnvelope)),
      requester
    ],
    [
      'receipt',
      STATEMENTS.receipt as unknown as StatementKind<never>,
      { ...receipt(requester, worker, failed, sha256(failedEnvelope)), reward: 0n },
      requester
    ]
  ]
  const envelopes = []
  for (const [name, kind, message, signer] of kinds) {
    const envelope = await seal(kind, message as never, signer.key)
    envelopes.push({
      kind: name,
      domain: kind.domain,
      payload_type: toHex(kind.payloadType),
      signer_seed: toHex(signer.seed),
      payload: toHex(kind.codec.encode(message as never)),
      envelope: toHex(envelope)
    })
  }

  const flipped = Uint8Array.from(resultEnvelope)
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1
  const wrongDomain = await RecordEnvelope.seal(
    {
      domain: STATEMENTS.receipt.domain,
      codec: STATEMENTS.result.payloadType,
      marshal: () => TaskResult.encode(result),
      equals: () => false
    },
    worker.key
  )
  const wrongSigner = await RecordEnvelope.seal(
    {
      domain: STATEMENTS.result.domain,
      codec: STATEMENTS.result.payloadType,
      marshal: () => TaskResult.encode(result),
      equals: () => false
    },
    other.key
  )

  // §1.1 key and signature cases. The identity point as a key: R = B, S = 1 satisfies the
  // cofactorless equation for every message, so a verifier without §1.1's key check accepts it.
  const smallOrderKey = le32(1n)
  const smallOrderWorker = peerIdBytes(peerIdFromPublicKey(publicKeyFromRaw(smallOrderKey)))
  const byNobody = TaskResult.encode({ ...result, worker: smallOrderWorker as Uint8Array<ArrayBuffer> })
  const basePoint = Uint8Array.from(Buffer.from('5866666666666666666666666666666666666666666666666666666666666666', 'hex'))
  const resultSigned = RecordEnvelope.createFromProtobuf(resultEnvelope)
  const signatureS = resultSigned.signature.subarray(32)
  const L = 2n ** 252n + 27742317777372353535851937790883648493n
  const nonCanonicalS = le32(signatureS.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n) + L)
  const secp256k1Generator = Uint8Array.from(Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'))
  const keyCases = [
    {
      envelope: rawEnvelope(
        STATEMENTS.result,
        byNobody,
        { type: KeyType.Ed25519, data: smallOrderKey },
        concatBytes([basePoint, le32(1n)])
      ),
      error: 'UnsupportedKeyError',
      why: 'signed with a small-order Ed25519 key (the identity point), whose signature R = B, S = 1 verifies any message (§1.1)'
    },
    {
      envelope: rawEnvelope(
        STATEMENTS.result,
        resultSigned.payload,
        { type: KeyType.Ed25519, data: resultSigned.publicKey.raw },
        concatBytes([resultSigned.signature.subarray(0, 32), nonCanonicalS])
      ),
      error: 'InvalidSignatureError',
      why: 'a valid signature with S replaced by S + L (non-canonical, §1.1)'
    },
    {
      envelope: rawEnvelope(
        STATEMENTS.result,
        resultSigned.payload,
        { type: KeyType.secp256k1, data: secp256k1Generator },
        resultSigned.signature
      ),
      error: 'UnsupportedKeyError',
      why: 'a secp256k1 key (§1.1: Ed25519 only)'
    },
    {
      envelope: rawEnvelope(
        STATEMENTS.result,
        resultSigned.payload,
        { type: KeyType.Ed25519, data: resultSigned.publicKey.raw.subarray(0, 31) },
        resultSigned.signature
      ),
      error: 'MalformedMessageError',
      why: 'an Ed25519 key of 31 bytes: the envelope does not decode (§1.3 step 2)'
    },
    {
      // 0a 24 (public_key, 36 bytes) 08 01 (type Ed25519): the type byte made 9.
      envelope: Uint8Array.from(resultEnvelope).fill(9, 3, 4),
      error: 'MalformedMessageError',
      why: 'a key type libp2p does not define (9): the envelope does not decode'
    }
  ]

  // §3: one field rule broken per statement, each sealed by the peer it names (§1.3 step 8).
  const fieldCases = []
  for (const [kind, payload, why] of [
    ['job', JobAnnouncement.encode({ ...job, taskCount: 0n }), 'task_count 0 (§3.3)'],
    ['job', JobAnnouncement.encode({ ...job, maxBatch: MAX_TASKS_PER_CLAIM + 1 }), 'max_batch over MAX_TASKS_PER_CLAIM (§3.3)'],
    ['job', JobAnnouncement.encode({ ...job, deadlineMs: job.issuedAtMs }), 'deadline_ms not after issued_at_ms (§3.3)'],
    ['job', JobAnnouncement.encode({ ...job, nonce: NONCE.subarray(0, 15) as Uint8Array<ArrayBuffer> }), 'a nonce of 15 bytes (§2.4)'],
    [
      'job',
      JobAnnouncement.encode({ ...job, verification: { ...(job.verification as NonNullable<typeof job.verification>), minRate: 1.5 } }),
      'min_rate 1.5 (§3.3)'
    ],
    [
      'job',
      JobAnnouncement.encode({
        ...job,
        verification: { ...(job.verification as NonNullable<typeof job.verification>), agreement: [rule(AgreementKind.TOP_K, { k: 0 })] }
      }),
      'a TOP_K rule with k 0 (§3.3)'
    ],
    ['result', TaskResult.encode({ ...result, model: new Uint8Array([1, 2, 3]) }), 'a model that is not a CID (§2.1, §3.5)'],
    ['result', TaskResult.encode({ ...result, index: 4n }), 'a task_id not derived from the index (§2.4, §3.5)'],
    ['result', TaskResult.encode({ ...result, outputDigest: new Uint8Array(32) }), "an output_digest that is not the outputs' (§3.5)"],
    ['capacity', CapacityRecord.encode(capacityRecord(worker, { seq: 0n })), 'seq 0 (§3.2)'],
    [
      'capacity',
      CapacityRecord.encode(capacityRecord(worker, { expiresAtMs: BigInt(T0 + 86_400_001) })),
      'a lifetime over MAX_CAPACITY_TTL_MS (§3.2)'
    ],
    [
      'receipt',
      Receipt.encode({ ...receipt(requester, worker, result, sha256(resultEnvelope)), resultDigest: new Uint8Array(31) }),
      'a result_digest of 31 bytes (§3.6)'
    ]
  ] as [keyof typeof STATEMENTS, Uint8Array, string][]) {
    const signer = kind === 'job' || kind === 'receipt' ? requester : worker
    fieldCases.push({ kind, envelope: toHex(await sealRaw(STATEMENTS[kind], payload, signer.key)), error: 'InvalidFieldError', why })
  }

  const agreement = [
    [probs(0.9, 0.1)[0], probs(0.8, 0.2)[0], rule(AgreementKind.ARGMAX)],
    [probs(0.9, 0.1)[0], probs(0.1, 0.9)[0], rule(AgreementKind.ARGMAX)],
    [probs(0.50001, 0.49999)[0], probs(0.49999, 0.50001)[0], rule(AgreementKind.ARGMAX)],
    [float32Tensor('y', [3], [1, 2, 3]), float32Tensor('y', [3], [1.0005, 2, 3]), rule(AgreementKind.ALLCLOSE)],
    [float32Tensor('y', [3], [1, 2, 3]), float32Tensor('y', [3], [1.01, 2, 3]), rule(AgreementKind.ALLCLOSE)],
    [float32Tensor('y', [3], [Number.NaN, 2, 3]), float32Tensor('y', [3], [Number.NaN, 2, 3]), rule(AgreementKind.ALLCLOSE)],
    [float32Tensor('y', [3], [Number.NaN, 2, 3]), float32Tensor('y', [3], [0, 2, 3]), rule(AgreementKind.ALLCLOSE)],
    [float32Tensor('e', [1, 3], [1, 2, 3]), float32Tensor('e', [1, 3], [2, 4, 6.001]), rule(AgreementKind.COSINE, { minCosine: 0.999 })],
    [float32Tensor('e', [1, 3], [1, 0, 0]), float32Tensor('e', [1, 3], [0, 1, 0]), rule(AgreementKind.COSINE, { minCosine: 0.999 })],
    [float32Tensor('s', [4], [0.4, 0.3, 0.2, 0.1]), float32Tensor('s', [4], [0.3, 0.4, 0.2, 0.1]), rule(AgreementKind.TOP_K, { k: 2 })],
    [float32Tensor('s', [4], [0.4, 0.3, 0.2, 0.1]), float32Tensor('s', [4], [0.4, 0.2, 0.3, 0.1]), rule(AgreementKind.TOP_K, { k: 2 })],
    [
      tensors[1],
      { ...tensors[1], data: Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) },
      rule(AgreementKind.ALLCLOSE, { atol: 10 })
    ],
    // FLOAT16 elements compared as doubles: 1 vs 1.0009765625 (0x3c01) within atol + rtol·max, vs
    // 1.001953125 (0x3c02) not.
    [half('h', [1], [0x3c00]), half('h', [1], [0x3c01]), rule(AgreementKind.ALLCLOSE)],
    [half('h', [1], [0x3c00]), half('h', [1], [0x3c02]), rule(AgreementKind.ALLCLOSE)],
    // FLOAT64 compared at full precision: 2^-40 apart exceeds atol 1e-13 (a float32 comparison would see equal values).
    [double('d', [1], [1]), double('d', [1], [1 + 2 ** -40]), rule(AgreementKind.ALLCLOSE, { atol: 1e-13, rtol: 0 })],
    // ALLCLOSE is inclusive: |1 − 1.5| = 0.5 ≤ atol 0.5.
    [float32Tensor('y', [1], [1]), float32Tensor('y', [1], [1.5]), rule(AgreementKind.ALLCLOSE, { atol: 0.5, rtol: 0 })],
    // COSINE with zero rows: two rows of norm ≤ atol agree; a zero row and a non-zero row do not;
    // with atol 0 only exact zeros count as zero.
    [
      float32Tensor('e', [2, 2], [0, 0, 1, 0]),
      float32Tensor('e', [2, 2], [0.00001, 0, 1, 0]),
      rule(AgreementKind.COSINE, { minCosine: 0.999 })
    ],
    [float32Tensor('e', [1, 2], [0, 0]), float32Tensor('e', [1, 2], [0.5, 0]), rule(AgreementKind.COSINE, { minCosine: 0.999 })],
    [
      float32Tensor('e', [1, 2], [0, 0]),
      float32Tensor('e', [1, 2], [0.00001, 0]),
      rule(AgreementKind.COSINE, { minCosine: 0.999, atol: 0 })
    ],
    // TOP_K with k above the row length compares whole rows (as sets).
    [float32Tensor('s', [3], [0.1, 0.2, 0.3]), float32Tensor('s', [3], [0.3, 0.2, 0.1]), rule(AgreementKind.TOP_K, { k: 5 })],
    // The tie tolerance is inclusive: 0.25 ≥ 0.5 − 0.25; at 0.2499 it is not.
    [float32Tensor('s', [2], [0.5, 0.25]), float32Tensor('s', [2], [0.25, 0.5]), rule(AgreementKind.ARGMAX, { tieTolerance: 0.25 })],
    [float32Tensor('s', [2], [0.5, 0.25]), float32Tensor('s', [2], [0.25, 0.5]), rule(AgreementKind.ARGMAX, { tieTolerance: 0.2499 })],
    // ARGMAX on an integer tensor ranks its values (converted to doubles), not bytes.
    [int64('c', [3], [5n, 9n, 1n]), int64('c', [3], [6n, 9n, 0n]), rule(AgreementKind.ARGMAX)]
  ] as [Tensor, Tensor, AgreementRule][]

  // §7.1, §6.6 results that may be failures instead of outputs.
  const reject = (message: string) => ({ outputs: [], failure: { kind: FailureKind.INPUT_REJECTED, message } })
  const resultAgreement: [ComparedResult, ComparedResult, AgreementRule][] = [
    [reject('shape [1, 3]'), reject('input "x": wrong shape'), rule(AgreementKind.ARGMAX)],
    [reject('shape [1, 3]'), { outputs: [], failure: { kind: FailureKind.INFERENCE_FAILED, message: '' } }, rule(AgreementKind.ARGMAX)],
    [reject('shape [1, 3]'), { outputs: probs(0.9, 0.1) }, rule(AgreementKind.ARGMAX)],
    [
      { outputs: [], failure: { kind: FailureKind.RESOURCE_EXHAUSTED, message: '' } },
      { outputs: [], failure: { kind: FailureKind.RESOURCE_EXHAUSTED, message: '' } },
      rule(AgreementKind.ARGMAX)
    ],
    [{ outputs: probs(0.9, 0.1) }, { outputs: probs(0.8, 0.2) }, rule(AgreementKind.ARGMAX)],
    // §3.5 a result that carries only its digest compares by digest: equal to the digest of the
    // other's outputs, or not — the rule's tolerance cannot apply to a digest.
    [
      { outputs: [], outputDigest: tensorSetDigest(probs(0.9, 0.1)) },
      { outputs: probs(0.9, 0.1), outputDigest: tensorSetDigest(probs(0.9, 0.1)) },
      rule(AgreementKind.ARGMAX)
    ],
    [
      { outputs: [], outputDigest: tensorSetDigest(probs(0.9, 0.1)) },
      { outputs: probs(0.8, 0.2), outputDigest: tensorSetDigest(probs(0.8, 0.2)) },
      rule(AgreementKind.ARGMAX)
    ],
    [
      { outputs: [], outputDigest: tensorSetDigest(probs(0.9, 0.1)) },
      { outputs: [], outputDigest: tensorSetDigest(probs(0.8, 0.2)) },
      rule(AgreementKind.ARGMAX)
    ]
  ]

  const inputDigest = tensorSetDigest(INPUTS)
  const policy = resolvePolicy(undefined)
  return {
    description:
      'openbatch protocol v1 test vectors (protocol-spec/README.md §9). Byte strings are lower-case hex; uint64 values are decimal strings.',
    keys: [requester, worker, other].map((k) => ({
      seed: toHex(k.seed),
      public_key_protobuf: toHex(publicKeyToProtobuf(k.key.publicKey)),
      peer_id: k.peerId.toString(),
      peer_id_bytes: toHex(k.id)
    })),
    tensors: tensors.map((t) => ({ tensor: tensorToJson(t), canonical: toHex(encodeTensorCanonical(t)) })),
    tensor_sets: [
      {
        tensors: tensors.slice(0, 3).map(tensorToJson),
        canonical: toHex(encodeTensorSetCanonical(tensors.slice(0, 3))),
        digest: toHex(tensorSetDigest(tensors.slice(0, 3)))
      },
      { tensors: INPUTS.map(tensorToJson), canonical: toHex(encodeTensorSetCanonical(INPUTS)), digest: toHex(inputDigest) }
    ],
    model_cids: [
      { bytes: toHex(MODEL_BYTES), cid: modelCid(MODEL_BYTES).toString() },
      { bytes: '', cid: modelCid(new Uint8Array()).toString() }
    ],
    worker_rendezvous_cid: WORKER_RENDEZVOUS_CID.toString(),
    worker_shards: [requester, worker, other].map((k) => ({
      peer_id_bytes: toHex(k.id),
      shard: workerShard(k.id),
      model: MODEL.toString(),
      shard_cid: workerShardCid(MODEL, workerShard(k.id)).toString()
    })),
    job_ids: [{ requester: toHex(requester.id), nonce: toHex(NONCE), job_id: toHex(deriveJobId(requester.id, NONCE)) }],
    task_ids: [0n, 3n, 2n ** 64n - 1n].map((index) => ({
      job_id: toHex(job.jobId),
      index: index.toString(),
      model: toHex(job.model),
      input_digest: toHex(inputDigest),
      task_id: toHex(deriveTaskId(job.jobId, index, job.model, inputDigest))
    })),
    capacity_keys: [{ peer_id_bytes: toHex(worker.id), key: toHex(capacityKey(worker.id)) }],
    capacity_records: await capacityVectors(worker, other),
    topics: { fraud: FRAUD_TOPIC, jobs: [{ model: MODEL.toString(), topic: jobsTopic(MODEL) }] },
    // §3.6: each receipt of the envelopes above names the SHA-256 of the result envelope it answers.
    receipt_bindings: await Promise.all(
      [
        [resultEnvelope, receipt(requester, worker, result, sha256(resultEnvelope))],
        [failedEnvelope, { ...receipt(requester, worker, failed, sha256(failedEnvelope)), reward: 0n }]
      ].map(async ([envelope, r]) => ({
        result: toHex(envelope as Uint8Array),
        receipt: toHex(await seal(STATEMENTS.receipt, r as Parameters<typeof seal>[1] as never, requester.key)),
        result_digest: toHex(sha256(envelope as Uint8Array))
      }))
    ),
    fraud_proofs: await fraudVectors(requester, worker, other),
    frames: await frameVectors(
      job,
      resultEnvelope,
      await seal(STATEMENTS.receipt, receipt(requester, worker, result, sha256(resultEnvelope)), requester.key),
      await seal(STATEMENTS.job, job, requester.key)
    ),
    envelopes,
    invalid_envelopes: [
      { kind: 'result', envelope: toHex(flipped), error: 'InvalidSignatureError', why: 'last signature bit flipped' },
      { kind: 'receipt', envelope: toHex(resultEnvelope), error: 'WrongPayloadTypeError', why: 'a task result opened as a receipt' },
      { kind: 'result', envelope: toHex(wrongDomain.marshal()), error: 'InvalidSignatureError', why: 'signed under the receipt domain' },
      {
        kind: 'result',
        envelope: toHex(wrongSigner.marshal()),
        error: 'PeerIdMismatchError',
        why: "signed by a peer other than the result's worker"
      },
      { kind: 'result', envelope: toHex(resultEnvelope.subarray(0, 40)), error: 'MalformedMessageError', why: 'truncated' },
      {
        kind: 'result',
        envelope: toHex(await sealUnchecked({ ...failed, outputs: result.outputs }, worker.key)),
        error: 'InvalidFieldError',
        why: 'a failure that also carries outputs (§3.5)'
      },
      {
        kind: 'result',
        envelope: toHex(await sealUnchecked({ ...failed, outputDigest: result.outputDigest }, worker.key)),
        error: 'InvalidFieldError',
        why: "a failure whose output_digest is not the empty set's (§3.5)"
      },
      {
        kind: 'result',
        envelope: toHex(await sealUnchecked({ ...failed, failure: { kind: FailureKind.FAILURE_UNSPECIFIED, message: '' } }, worker.key)),
        error: 'InvalidFieldError',
        why: 'a failure of kind FAILURE_UNSPECIFIED (§3.5)'
      },
      {
        kind: 'job',
        envelope: toHex(await sealRaw(STATEMENTS.job, JobAnnouncement.encode({ ...packed, itemsPerTask: 0 }), requester.key)),
        error: 'InvalidFieldError',
        why: 'items_per_task present and 0 (§3.3)'
      },
      ...keyCases.map((c) => ({ kind: 'result', envelope: toHex(c.envelope), error: c.error, why: c.why })),
      {
        kind: 'receipt',
        envelope: toHex(new Uint8Array(MAX_RECEIPT_BYTES + 1)),
        error: 'TooLargeError',
        why: 'over MAX_RECEIPT_BYTES (checked before decoding)'
      },
      {
        kind: 'result',
        envelope: toHex(
          await sealRaw(
            STATEMENTS.result,
            TaskResult.encode({ ...result, outputs: Array.from({ length: 17 }, (_, i) => float32Tensor(`y${i}`, [1], [0])) }),
            worker.key
          )
        ),
        error: 'LimitExceededError',
        why: '17 outputs: over the schema limit of 16 (checked while decoding, §3.1)'
      },
      ...fieldCases,
      {
        kind: 'result',
        // outputs (field 7) holding the tensor x: FLOAT32 [1, 4] with dims packed (1a 02 01 04).
        envelope: toHex(
          await sealRaw(
            STATEMENTS.result,
            concatBytes([
              TaskResult.encode({ ...result, outputs: [] }),
              Uint8Array.from([0x3a, 27, 0x0a, 1, 0x78, 0x10, 1, 0x1a, 2, 1, 4, 0x22, 16, ...new Array<number>(16).fill(0)])
            ]),
            worker.key
          )
        ),
        error: 'MalformedMessageError',
        why: 'an output tensor whose dims are packed (§3.1: dims MUST be unpacked)'
      }
    ],
    ed25519: ed25519Vectors(worker, (m) => ed25519Sign(worker.key, m)),
    agreement: agreement.map(([a, b, r]) => ({
      a: tensorToJson(a),
      b: tensorToJson(b),
      rule: ruleToJson(r),
      agree: agreeTensors(a, b, r).agree
    })),
    result_agreement: resultAgreement.map(([a, b, r]) => ({
      a: resultToJson(a),
      b: resultToJson(b),
      rule: ruleToJson(r),
      agree: agreeResults(a, b, [r]).agree
    })),
    detection: [
      { cheat_fraction: 0.1, sample_rate: 0.05, canary_rate: 0, tasks: 1000 },
      { cheat_fraction: 0.01, sample_rate: 0.1, canary_rate: 0.01, tasks: 5000 },
      { cheat_fraction: 0.5, sample_rate: 0.05, canary_rate: 0.01, tasks: 100 }
    ].map((d) => ({
      ...d,
      probability: detectionProbability({
        cheatFraction: d.cheat_fraction,
        sampleRate: d.sample_rate,
        canaryRate: d.canary_rate,
        tasks: d.tasks
      })
    })),
    // §7.3: R, S and C are uint64 (decimal strings); pos_floor is the Proof-of-Sampling term,
    // floor = max(min_rate, pos_floor) with min_rate as resolved (0 means DEFAULT_MIN_RATE).
    pos_floor: [
      { reward: 100n, penalty: 900n, cost: 20n, min_rate: 0 },
      { reward: 100n, penalty: 900n, cost: 20n, min_rate: 0.01 },
      { reward: 10n, penalty: 0n, cost: 10n, min_rate: 0 },
      { reward: 0n, penalty: 0n, cost: 1n, min_rate: 0 },
      { reward: 0n, penalty: 0n, cost: 0n, min_rate: 0.2 },
      { reward: 2n ** 64n - 1n, penalty: 2n ** 64n - 1n, cost: 2n ** 63n + 1n, min_rate: 0 },
      { reward: 3n, penalty: 0n, cost: 1n, min_rate: 0 }
    ].map((p) => {
      const policy = { ...resolvePolicy({ ...EMPTY_POLICY, minRate: p.min_rate, penalty: p.penalty, cost: p.cost }) }
      return {
        reward: String(p.reward),
        penalty: String(p.penalty),
        cost: String(p.cost),
        margin: POS_SAFETY_MARGIN,
        min_rate: p.min_rate,
        pos_floor: proofOfSamplingFloor(p),
        floor: samplingFloor(policy, p.reward)
      }
    }),
    // §7.6: the score of counts, and the ban after the n-th proof (null: permanent).
    reputation: [
      [0, 0, 0],
      [10, 0, 0],
      [10, 1, 0],
      [0, 0, 4],
      [100, 2, 3]
    ].map(([agreements = 0, disagreements = 0, timeouts = 0]) => ({
      agreements,
      disagreements,
      timeouts,
      score: reputationScore({ agreements, disagreements, timeouts })
    })),
    bans: [0, 1, 2, 3, 4].map((offences) => {
      const ms = banDuration(offences)
      return { offences, ms: Number.isFinite(ms) ? ms : null }
    }),
    adaptive_rate: [0, 1, 20, 100, 1000].map((k) => ({
      consecutive_agreements: k,
      initial_rate: 1,
      trust_horizon: 20,
      floor: 0.05,
      rate: adaptiveRate(k, { ...policy, trustHorizon: 20 }, 0.05)
    })),
    // §6.8: items packed 3 to a task — a one-row run, an item of another shape, an item of two
    // rows — with each task's inputs (and digest) and where its items went.
    multi_item_tasks: await (async () => {
      const row = (name: string, values: number[]) => float32Tensor(name, [1, values.length], values)
      const items: Tensor[][] = [
        [row('x', [1, 2]), row('m', [1])],
        [row('x', [3, 4]), row('m', [0])],
        [row('x', [5, 6, 7]), row('m', [1])],
        [row('x', [8, 9]), row('m', [1])],
        [float32Tensor('x', [2, 2], [10, 11, 12, 13]), float32Tensor('m', [2, 1], [1, 1])],
        [row('x', [14, 15]), row('m', [0])]
      ]
      const packing: ItemPacking = { itemsPerTask: 3, itemCount: 0, short: [] }
      const tasks: Tensor[][] = []
      for await (const t of packItems(items, 3, MAX_FRAME_BYTES, packing)) {
        tasks.push(t)
      }
      const map = new ItemMap(tasks.length, packing)
      return {
        items_per_task: 3,
        items: items.map((item) => item.map(tensorToJson)),
        tasks: tasks.map((t, i) => ({ ...map.itemsOf(i), inputs: t.map(tensorToJson), digest: toHex(tensorSetDigest(t)) }))
      }
    })()
  }
}
