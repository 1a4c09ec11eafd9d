import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  Assignment,
  CapacityRecord,
  ErrorCode,
  encodeAssignment,
  ResultAck,
  Task,
  TaskResult,
  Tensor,
  taskEncodingLength,
  toHex,
  uvarint
} from '../src/index.js'
import { arbTensor } from './arbitraries.js'

const bytes = (min = 0, max = 40) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Uint8Array.from(b))
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 })
const text = fc.string({ maxLength: 20 })
// proto3 does not write a double equal to its default 0, and -0 === 0, so -0 decodes as +0.
const positiveZero = (x: number) => (Object.is(x, -0) ? 0 : x)
// protons decodes into plain objects; fast-check records default to null prototypes
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(model, { noNullPrototype: true })

describe('protobuf round trips (property)', () => {
  it('Tensor', () => {
    fc.assert(fc.property(arbTensor(text), (t) => assert.deepEqual(Tensor.decode(Tensor.encode(t)), t)))
  })

  it('CapacityRecord', () => {
    const arb = rec({
      worker: bytes(),
      seq: u64,
      issuedAtMs: u64,
      expiresAtMs: u64,
      devices: fc.array(rec({ kind: text, name: text, memoryBytes: u64 }), { maxLength: 16 }),
      models: fc.array(
        rec({ model: bytes(), itemsPerSecond: fc.double({ noNaN: true }).map(positiveZero), maxBatch: u32, pricePerItem: u64 }),
        {
          maxLength: 64
        }
      )
    })
    fc.assert(fc.property(arb, (r) => assert.deepEqual(CapacityRecord.decode(CapacityRecord.encode(r)), r)))
  })

  it('TaskResult', () => {
    const arb = rec({
      taskId: bytes(32, 32),
      jobId: bytes(32, 32),
      index: u64,
      model: bytes(),
      inputDigest: bytes(32, 32),
      outputDigest: bytes(32, 32),
      outputs: fc.array(arbTensor(text), { maxLength: 4 }),
      worker: bytes(),
      startedAtMs: u64,
      durationUs: u64,
      profile: rec({ runtime: text, provider: text, device: text, intraOpThreads: u32, graphOptimization: text, batchSize: u32 })
    })
    fc.assert(fc.property(arb, (r) => assert.deepEqual(TaskResult.decode(TaskResult.encode(r)), r)))
  })

  it('Assignment and ResultAck', () => {
    const code = fc.constantFrom(...Object.values(ErrorCode).filter((v) => typeof v === 'string')) as fc.Arbitrary<ErrorCode>
    const assignment = rec({
      code,
      jobId: bytes(),
      model: bytes(),
      tasks: fc.array(rec({ taskId: bytes(), index: u64, inputs: fc.array(arbTensor(text), { maxLength: 3 }) }), { maxLength: 5 }),
      leaseExpiresAtMs: u64,
      message: text
    })
    fc.assert(fc.property(assignment, (a) => assert.deepEqual(Assignment.decode(Assignment.encode(a)), a)))
    // §6.2 frames written without copying tensor bytes: the same encoding, the data by reference.
    fc.assert(
      fc.property(assignment, (a) => {
        const chunks = encodeAssignment(a)
        assert.deepEqual(chunks.subarray(), Assignment.encode(a))
        const views = new Set(chunks)
        for (const t of a.tasks.flatMap((task) => task.inputs)) {
          assert.ok(t.data.byteLength === 0 || views.has(t.data), 'a tensor is written from its own bytes')
        }
        // the size staging checks a task by (no encoding made) is the encoding's
        for (const task of a.tasks) {
          assert.equal(taskEncodingLength(task), Task.encode(task).byteLength)
        }
      })
    )
    const ack = rec({ statuses: fc.array(rec({ code, receipt: bytes(), message: text }), { maxLength: 8 }) })
    fc.assert(fc.property(ack, (a) => assert.deepEqual(ResultAck.decode(ResultAck.encode(a)), a)))
  })
})

describe('byte helpers (property)', () => {
  it('uvarint of a number is the uvarint of the same bigint; toHex is two lower-case digits a byte', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        assert.deepEqual(uvarint(n), uvarint(BigInt(n)))
        assert.deepEqual(Task.decode(Task.encode({ taskId: new Uint8Array(), index: BigInt(n), inputs: [] })).index, BigInt(n))
      })
    )
    for (const n of [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x7fffffff, 0x80000000, 2 ** 32]) {
      assert.deepEqual(uvarint(n), uvarint(BigInt(n)), `uvarint(${n})`)
    }
    assert.deepEqual(uvarint(300), Uint8Array.of(0xac, 0x02))
    assert.throws(() => uvarint(-1), /-1 is not a uint64/)
    assert.throws(() => uvarint(1.5), RangeError)
    fc.assert(fc.property(bytes(0, 64), (b) => assert.equal(toHex(b), Buffer.from(b).toString('hex'))))
  })
})
