/** Deterministic keys and valid messages shared by the tests and the test-vector generator. */

import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  AgreementKind,
  type CapacityRecord,
  DType,
  deriveJobId,
  deriveTaskId,
  type FraudProof,
  float32Tensor,
  type JobAnnouncement,
  modelCid,
  peerIdBytes,
  type Receipt,
  STATEMENTS,
  seal,
  seededRandom,
  type TaskResult,
  type Tensor,
  tensorSetDigest
} from '../src/index.js'

export interface Identity {
  seed: Uint8Array
  key: PrivateKey
  peerId: PeerId
  id: Uint8Array<ArrayBuffer>
}

/** An Ed25519 identity from a 32-byte seed filled with `fill`. */
export async function identity(fill: number): Promise<Identity> {
  const seed = new Uint8Array(32).fill(fill)
  const key = await generateKeyPairFromSeed('Ed25519', seed)
  const peerId = peerIdFromPrivateKey(key)
  return { seed, key, peerId, id: peerIdBytes(peerId) }
}

/** Fixed stand-in for model bytes (a model is content-addressed; its contents don't matter here). */
export const MODEL_BYTES = new TextEncoder().encode('openbatch test model v1')
export const MODEL = modelCid(MODEL_BYTES)
export const NONCE = new Uint8Array(16).map((_, i) => i)
export const T0 = 1_700_000_000_000

export const INPUTS: Tensor[] = [float32Tensor('x', [1, 4], [0.5, -1.25, 3, 0])]

export function jobAnnouncement(requester: Identity, overrides: Partial<JobAnnouncement> = {}): JobAnnouncement {
  return {
    jobId: deriveJobId(requester.id, NONCE),
    requester: requester.id,
    nonce: NONCE,
    model: MODEL.bytes as Uint8Array<ArrayBuffer>,
    taskCount: 10n,
    verification: {
      initialRate: 1,
      minRate: 0.05,
      trustHorizon: 20,
      canaryRate: 0.01,
      penalty: 1000n,
      cost: 10n,
      agreement: [{ output: '', kind: AgreementKind.ARGMAX, atol: 0, rtol: 0, minCosine: 0, k: 0, tieTolerance: 1e-4 }]
    },
    rewardPerTask: 100n,
    issuedAtMs: BigInt(T0),
    deadlineMs: BigInt(T0 + 3_600_000),
    maxBatch: 32,
    addresses: [],
    ...overrides
  }
}

export function taskResult(worker: Identity, job: JobAnnouncement, outputs: Tensor[], overrides: Partial<TaskResult> = {}): TaskResult {
  const index = overrides.index ?? 3n
  const inputDigest = tensorSetDigest(INPUTS)
  return {
    taskId: deriveTaskId(job.jobId, index, job.model, inputDigest),
    jobId: job.jobId,
    index,
    model: job.model,
    inputDigest,
    outputDigest: tensorSetDigest(outputs),
    outputs,
    worker: worker.id,
    startedAtMs: BigInt(T0 + 1000),
    durationUs: 1234n,
    profile: {
      runtime: 'onnxruntime-node/1.23.0',
      provider: 'cpu',
      device: 'test',
      intraOpThreads: 1,
      graphOptimization: 'all',
      batchSize: 1
    },
    ...overrides
  }
}

export function capacityRecord(worker: Identity, overrides: Partial<CapacityRecord> = {}): CapacityRecord {
  return {
    worker: worker.id,
    seq: 1n,
    issuedAtMs: BigInt(T0),
    expiresAtMs: BigInt(T0 + 3_600_000),
    devices: [{ kind: 'cuda', name: 'NVIDIA GeForce RTX 3060', memoryBytes: 12n * 1024n ** 3n }],
    models: [{ model: MODEL.bytes as Uint8Array<ArrayBuffer>, itemsPerSecond: 1100, maxBatch: 32, pricePerItem: 5n }],
    ...overrides
  }
}

export function receipt(requester: Identity, worker: Identity, result: TaskResult, resultDigest: Uint8Array<ArrayBuffer>): Receipt {
  return {
    jobId: result.jobId,
    taskId: result.taskId,
    worker: worker.id,
    requester: requester.id,
    resultDigest,
    reward: 100n,
    issuedAtMs: BigInt(T0 + 2000)
  }
}

/** Small seeded PRNG (mulberry32, `seededRandom`): reproducible fuzzing and Monte Carlo runs. */
export const rng = seededRandom

/** Classifier-style outputs: probabilities over 2 classes. */
export const probs = (a: number, b: number): Tensor[] => [float32Tensor('probs', [1, 2], [a, b])]

/**
 * §7.5: task 3 of a job, on which two honest workers agree and a cheater does not, and a builder of
 * fraud proofs about it (valid unless `over` breaks it).
 */
export async function fraudCase(requester: Identity, honest1: Identity, honest2: Identity, cheater: Identity) {
  const job = jobAnnouncement(requester)
  const announcement = await seal(STATEMENTS.job, job, requester.key)
  const good1 = await seal(STATEMENTS.result, taskResult(honest1, job, probs(0.9, 0.1)), honest1.key)
  const good2 = await seal(STATEMENTS.result, taskResult(honest2, job, probs(0.89, 0.11)), honest2.key)
  const bad = await seal(STATEMENTS.result, taskResult(cheater, job, probs(0.1, 0.9)), cheater.key)
  const proof = (over: Partial<FraudProof> = {}): FraudProof => ({
    announcement,
    accused: bad,
    agreeing: [good1, good2],
    inputs: INPUTS,
    reporter: requester.id,
    issuedAtMs: BigInt(T0 + 5000),
    ...over
  })
  return { job, announcement, good1, good2, bad, proof }
}

export { DType }
