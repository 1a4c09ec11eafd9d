/**
 * Fuzzing every decoder and envelope opener (issue #2): 100,000 random and mutated byte strings.
 * The only outcome besides success is one of the package's named errors, and memory stays
 * bounded: a declared length of 2^31 is never allocated.
 */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as errors from '../src/errors.js'
import {
  Assignment,
  CapacityRecord,
  decodeBounded,
  decodeFrame,
  ErrorCode,
  FRAMES,
  type FrameName,
  FraudProof,
  InputRequest,
  InputResponse,
  JobAnnouncement,
  MAX_FRAME_BYTES,
  MAX_INPUT_REQUEST_BYTES,
  type MessageCodec,
  ModelChunk,
  open,
  parseModelCid,
  parsePeerId,
  Receipt,
  ResultAck,
  STATEMENTS,
  type StatementKind,
  seal,
  TaskClaim,
  TaskResult,
  Tensor
} from '../src/index.js'
import { capacityRecord, INPUTS, identity, jobAnnouncement, probs, receipt, rng, T0, taskResult } from './fixtures.js'

const NAMED = new Set(Object.keys(errors))
const FUZZ_INPUTS = 100_000

/** A varint of 2^31: the length prefix that must never be honoured by allocating it. */
const HUGE_LENGTH = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x08])

function mutate(seed: Uint8Array, random: () => number, seeds: Uint8Array[]): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n)
  const b = Uint8Array.from(seed)
  switch (pick(6)) {
    case 0: {
      for (let i = 0, n = 1 + pick(4); i < n && b.length > 0; i++) {
        const at = pick(b.length)
        b[at] = (b[at] as number) ^ (1 << pick(8))
      }
      return b
    }
    case 1:
      return b.subarray(0, pick(b.length + 1))
    case 2: {
      const at = pick(b.length + 1)
      const ins = Uint8Array.from({ length: 1 + pick(8) }, () => pick(256))
      return Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)])
    }
    case 3: {
      const at = pick(b.length + 1)
      return Uint8Array.from([...b.subarray(0, at), ...HUGE_LENGTH, ...b.subarray(at + pick(6))])
    }
    case 4:
      return Uint8Array.from([...b, ...(seeds[pick(seeds.length)] as Uint8Array)])
    default: {
      const at = pick(b.length + 1)
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + pick(16)))])
    }
  }
}

function expectNamed(err: unknown, what: string): void {
  assert.ok(err instanceof Error, `${what} threw a non-Error: ${String(err)}`)
  assert.ok(NAMED.has(err.name), `${what} threw ${err.name}: ${err.message}`)
}

describe('fuzzing decoders and openers', async () => {
  const requester = await identity(1)
  const worker = await identity(2)
  const job = jobAnnouncement(requester)
  const result = taskResult(worker, job, probs(0.9, 0.1))
  const envelopes = [
    await seal(STATEMENTS.capacity, capacityRecord(worker), worker.key),
    await seal(STATEMENTS.job, job, requester.key),
    await seal(STATEMENTS.result, result, worker.key),
    await seal(STATEMENTS.receipt, receipt(requester, worker, result, new Uint8Array(32)), requester.key)
  ]
  const payloads = [
    CapacityRecord.encode(capacityRecord(worker)),
    JobAnnouncement.encode(job),
    TaskResult.encode(result),
    Tensor.encode(INPUTS[0] as Tensor),
    TaskClaim.encode({ jobId: job.jobId, maxTasks: 8 }),
    Assignment.encode({
      code: 'OK' as never,
      jobId: job.jobId,
      model: job.model,
      tasks: [{ taskId: result.taskId, index: 3n, inputs: INPUTS }],
      leaseExpiresAtMs: BigInt(T0),
      message: ''
    }),
    ResultAck.encode({ statuses: [{ code: 'OK' as never, receipt: envelopes[3] as Uint8Array<ArrayBuffer>, message: '' }] }),
    ModelChunk.encode({ code: 'OK' as never, totalSize: 10n, offset: 0n, data: new Uint8Array(10) }),
    FraudProof.encode({
      announcement: envelopes[1] as Uint8Array<ArrayBuffer>,
      accused: envelopes[2] as Uint8Array<ArrayBuffer>,
      agreeing: [],
      inputs: INPUTS,
      reporter: requester.id,
      issuedAtMs: 0n
    })
  ]
  const seeds = [...envelopes, ...payloads]
  const statementKinds = Object.values(STATEMENTS) as unknown as StatementKind<unknown>[]
  const payloadCodecs = [CapacityRecord, JobAnnouncement, TaskResult, Receipt, FraudProof, Tensor] as unknown as MessageCodec<unknown>[]

  it(`${FUZZ_INPUTS} random and mutated inputs: every failure is a named error, memory stays bounded`, async () => {
    const random = rng(0x0b47c4)
    const rssBefore = process.memoryUsage().rss
    let decoded = 0
    for (let i = 0; i < FUZZ_INPUTS; i++) {
      const input =
        i % 4 === 0
          ? Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256))
          : mutate(seeds[Math.floor(random() * seeds.length)] as Uint8Array, random, seeds)
      for (const name of Object.keys(FRAMES) as FrameName[]) {
        try {
          decodeFrame(name, input)
          decoded++
        } catch (err) {
          expectNamed(err, `decodeFrame(${name})`)
        }
      }
      for (const codec of payloadCodecs) {
        try {
          decodeBounded(codec, input, MAX_FRAME_BYTES, 'fuzz')
          decoded++
        } catch (err) {
          expectNamed(err, 'decodeBounded')
        }
      }
      for (const kind of statementKinds) {
        try {
          await open(kind, input)
        } catch (err) {
          expectNamed(err, `open(${kind.name})`)
        }
      }
      for (const parse of [parseModelCid, parsePeerId]) {
        try {
          parse(input)
        } catch (err) {
          expectNamed(err, parse.name)
        }
      }
    }
    const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20
    assert.ok(grownMiB < 256, `rss grew ${grownMiB.toFixed(0)} MiB`)
    // sanity: the corpus is not all garbage — some mutations still decode
    assert.ok(decoded > 0)
  })

  it('a bytes field declaring 2^31 bytes is refused without allocating it', () => {
    const input = Uint8Array.from([0x22, ...HUGE_LENGTH, 1, 2, 3]) // Tensor.data (field 4, wire type 2)
    const before = process.memoryUsage().arrayBuffers
    assert.throws(() => decodeBounded(Tensor, input, MAX_FRAME_BYTES, 'Tensor'), { name: 'MalformedMessageError' })
    assert.ok(process.memoryUsage().arrayBuffers - before < 2 ** 20)
  })

  it('a repeated field over its limit is LimitExceededError, not a partial message', () => {
    const dims = Array.from({ length: 9 }, () => [0x18, 0x01]).flat() // 9 × dims = 1, the limit is 8
    assert.throws(() => decodeBounded(Tensor, Uint8Array.from(dims), MAX_FRAME_BYTES, 'Tensor'), { name: 'LimitExceededError' })
    const results = Array.from({ length: 257 }, () => [0x0a, 0x00]).flat()
    assert.throws(() => decodeFrame('ResultSubmission', Uint8Array.from(results)), { name: 'LimitExceededError' })
  })

  it('§6.9 input frames: a request names a 32-byte job id; a refusal carries no inputs; inputs are a valid tensor set', () => {
    const jobId = new Uint8Array(32).fill(7)
    assert.equal(decodeFrame('InputRequest', InputRequest.encode({ jobId, index: 3n })).index, 3n)
    assert.throws(() => decodeFrame('InputRequest', InputRequest.encode({ jobId: jobId.subarray(1), index: 3n })), {
      name: 'InvalidFieldError',
      message: /job_id/
    })
    assert.throws(() => decodeFrame('InputRequest', new Uint8Array(MAX_INPUT_REQUEST_BYTES + 1)), { name: 'TooLargeError' })
    const inputs = INPUTS
    assert.deepEqual(decodeFrame('InputResponse', InputResponse.encode({ code: ErrorCode.OK, inputs, message: '' })).inputs, inputs)
    assert.throws(() => decodeFrame('InputResponse', InputResponse.encode({ code: ErrorCode.NOT_ASSIGNED, inputs, message: 'no' })), {
      name: 'InvalidFieldError',
      message: /inputs/
    })
    const twice = [...inputs, ...inputs]
    assert.throws(() => decodeFrame('InputResponse', InputResponse.encode({ code: ErrorCode.OK, inputs: twice, message: '' })))
  })
})
