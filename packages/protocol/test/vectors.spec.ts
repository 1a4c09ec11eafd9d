/**
 * Checks the code against protocol-spec/vectors/openbatch-v1.json (spec §9): every vector is
 * re-derived from its inputs in the file, so the file stays a faithful description of the code.
 */

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { generateKeyPairFromSeed, publicKeyFromRaw, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import {
  type AgreementKind,
  type AgreementRule,
  type Assignment,
  adaptiveRate,
  agreeResults,
  agreeTensors,
  assertPreferred,
  banDuration,
  capacityKey,
  type DType,
  decodeFrame,
  deriveJobId,
  deriveTaskId,
  detectionProbability,
  ed25519Verify,
  encodeAssignment,
  encodeTensorCanonical,
  encodeTensorSetCanonical,
  type FailureKind,
  FRAMES,
  FRAUD_TOPIC,
  type FrameName,
  ItemMap,
  type ItemPacking,
  jobsTopic,
  MAX_FRAME_BYTES,
  type MessageCodec,
  modelCid,
  modelOfJobsTopic,
  open,
  packItems,
  peerIdBytes,
  proofOfSamplingFloor,
  reputationScore,
  resolvePolicy,
  STATEMENTS,
  type StatementKind,
  samplingFloor,
  seal,
  selectCapacityRecord,
  sha256,
  splitRows,
  type Tensor,
  tensorSetDigest,
  toHex,
  uvarint,
  validateCapacityEntry,
  validateFraudMessage,
  validateTensor,
  WORKER_RENDEZVOUS_CID,
  workerShard,
  workerShardCid
} from '../src/index.js'
import { VECTORS_PATH } from './generate-vectors.js'
import { type buildVectors, messageToJson, type RuleVector, type TensorVector } from './vectors-data.js'

type Vectors = Awaited<ReturnType<typeof buildVectors>>
const vectors = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as Vectors
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const tensor = (v: TensorVector): Tensor => ({ name: v.name, dtype: v.dtype as DType, dims: v.dims.map(BigInt), data: hex(v.data) })
const rule = (v: RuleVector): AgreementRule => ({
  output: v.output,
  kind: v.kind as AgreementKind,
  atol: v.atol,
  rtol: v.rtol,
  minCosine: v.min_cosine,
  k: v.k,
  tieTolerance: v.tie_tolerance
})
const kinds = STATEMENTS as unknown as Record<string, StatementKind<unknown>>

describe('test vectors (§9)', () => {
  it('keys: seed → public key → peer id', async () => {
    for (const k of vectors.keys) {
      const key = await generateKeyPairFromSeed('Ed25519', hex(k.seed))
      assert.equal(toHex(publicKeyToProtobuf(key.publicKey)), k.public_key_protobuf)
      assert.equal(peerIdFromPrivateKey(key).toString(), k.peer_id)
      assert.equal(toHex(peerIdBytes(peerIdFromPrivateKey(key))), k.peer_id_bytes)
    }
  })

  it('canonical tensor and tensor-set encodings and digests', () => {
    for (const v of vectors.tensors) {
      validateTensor(tensor(v.tensor))
      assert.equal(toHex(encodeTensorCanonical(tensor(v.tensor))), v.canonical)
    }
    for (const v of vectors.tensor_sets) {
      const set = v.tensors.map(tensor)
      assert.equal(toHex(encodeTensorSetCanonical(set)), v.canonical)
      assert.equal(toHex(tensorSetDigest(set)), v.digest)
    }
  })

  it('model CIDs, the rendezvous CID, job ids, task ids and capacity keys', () => {
    for (const v of vectors.model_cids) {
      assert.equal(modelCid(hex(v.bytes)).toString(), v.cid)
    }
    assert.equal(WORKER_RENDEZVOUS_CID.toString(), vectors.worker_rendezvous_cid)
    for (const v of vectors.worker_shards) {
      assert.equal(workerShard(hex(v.peer_id_bytes)), v.shard)
      assert.equal(workerShardCid(v.model, v.shard).toString(), v.shard_cid)
    }
    for (const v of vectors.job_ids) {
      assert.equal(toHex(deriveJobId(hex(v.requester), hex(v.nonce))), v.job_id)
    }
    for (const v of vectors.task_ids) {
      assert.equal(toHex(deriveTaskId(hex(v.job_id), BigInt(v.index), hex(v.model), hex(v.input_digest))), v.task_id)
    }
    for (const v of vectors.capacity_keys) {
      assert.equal(toHex(capacityKey(hex(v.peer_id_bytes))), v.key)
    }
  })

  it('capacity records: the validator at one time, the selector, and what replaces a held record (§4.2)', async () => {
    const c = vectors.capacity_records
    for (const v of c.validator) {
      const verdict = validateCapacityEntry(hex(v.key), hex(v.value), Number(c.now_ms))
      if (v.valid) {
        await verdict
      } else {
        await assert.rejects(verdict, { name: v.error }, v.why)
      }
    }
    const decoded = await Promise.all(
      c.selection.values.map(async (b) => ({ bytes: hex(b), record: (await open(STATEMENTS.capacity, hex(b))).message }))
    )
    assert.equal(selectCapacityRecord(decoded), c.selection.selected)
    assert.equal(selectCapacityRecord([...decoded].reverse()), decoded.length - 1 - c.selection.selected, 'order-independent')
    for (const v of c.replacement) {
      const value = async (b: string) => ({ bytes: hex(b), record: (await open(STATEMENTS.capacity, hex(b))).message })
      const [held, candidate] = [await value(v.held), await value(v.candidate)]
      if (v.replaces) {
        assertPreferred(held, candidate)
      } else {
        assert.throws(() => assertPreferred(held, candidate), { name: 'StaleRecordError' }, v.why)
      }
    }
  })

  it('fraud proofs: the gossip verdict of each at its time, and the error of each rejected one (§5.2, §7.5)', async () => {
    const verdicts = new Set<string>()
    for (const v of vectors.fraud_proofs.cases) {
      const now = Number('now_ms' in v && v.now_ms != null ? v.now_ms : vectors.fraud_proofs.now_ms)
      const verdict = await validateFraudMessage(hex(v.proof), now)
      assert.equal(verdict.action, v.verdict, v.why)
      assert.equal(verdict.errorName, 'error' in v ? v.error : undefined, v.why)
      verdicts.add(v.verdict)
    }
    assert.deepEqual([...verdicts].sort(), ['accept', 'ignore', 'reject'])
  })

  it('stream frames: each decodes to its fields and encodes back to its bytes; refused ones fail with their error (§6)', () => {
    for (const v of vectors.frames.valid) {
      const name = v.frame as FrameName
      const bytes = hex(v.encoded)
      const decoded = decodeFrame(name, bytes)
      assert.deepEqual(messageToJson(decoded), v.message, name)
      assert.equal(toHex((FRAMES[name].codec as unknown as MessageCodec<unknown>).encode(decoded as never)), v.encoded, name)
      assert.equal(v.framed, toHex(uvarint(bytes.byteLength)) + v.encoded)
      if (name === 'Assignment') {
        assert.equal(toHex(encodeAssignment(decoded as Assignment).subarray()), v.encoded, 'the zero-copy encoder writes the same bytes')
      }
    }
    for (const v of vectors.frames.invalid) {
      assert.throws(() => decodeFrame(v.frame as FrameName, hex(v.encoded)), { name: v.error }, v.why)
    }
  })

  it('receipts name the SHA-256 of the exact result envelope they acknowledge (§1.4, §3.6)', async () => {
    assert.ok(vectors.receipt_bindings.length >= 2)
    for (const v of vectors.receipt_bindings) {
      assert.equal(toHex(sha256(hex(v.result))), v.result_digest)
      assert.equal(toHex((await open(STATEMENTS.receipt, hex(v.receipt))).message.resultDigest), v.result_digest)
      assert.notEqual(v.result_digest, '00'.repeat(32))
    }
  })

  it('topic strings (§5)', () => {
    assert.equal(FRAUD_TOPIC, vectors.topics.fraud)
    for (const v of vectors.topics.jobs) {
      assert.equal(jobsTopic(CID.parse(v.model)), v.topic)
      assert.equal(modelOfJobsTopic(v.topic)?.toString(), v.model)
    }
  })

  it('envelopes: open to their payload and re-sealing reproduces them byte for byte', async () => {
    assert.equal(vectors.envelopes.length, 8)
    for (const v of vectors.envelopes) {
      const kind = kinds[v.kind] as StatementKind<unknown>
      assert.equal(kind.domain, v.domain)
      assert.equal(toHex(kind.payloadType), v.payload_type)
      const opened = await open(kind, hex(v.envelope))
      assert.equal(toHex(kind.codec.encode(opened.message as never)), v.payload)
      const key = await generateKeyPairFromSeed('Ed25519', hex(v.signer_seed))
      assert.equal(toHex(await seal(kind, kind.codec.decode(hex(v.payload)), key)), v.envelope)
    }
  })

  it('invalid envelopes fail with the listed error', async () => {
    for (const v of vectors.invalid_envelopes) {
      await assert.rejects(open(kinds[v.kind] as StatementKind<unknown>, hex(v.envelope)), { name: v.error }, v.why)
    }
  })

  it('Ed25519 edge cases verify or fail as §1.1 says', () => {
    assert.ok(vectors.ed25519.some((v) => v.valid) && vectors.ed25519.some((v) => !v.valid))
    for (const v of vectors.ed25519) {
      assert.equal(ed25519Verify(publicKeyFromRaw(hex(v.public_key)), hex(v.message), hex(v.signature)), v.valid, v.why)
    }
  })

  it('agreement cases', () => {
    for (const v of vectors.agreement) {
      assert.equal(agreeTensors(tensor(v.a), tensor(v.b), rule(v.rule)).agree, v.agree, JSON.stringify(v))
      assert.equal(agreeTensors(tensor(v.b), tensor(v.a), rule(v.rule)).agree, v.agree, 'symmetric')
    }
    assert.ok(vectors.agreement.some((v) => v.agree) && vectors.agreement.some((v) => !v.agree))
  })

  it('result agreement: failures and outputs (§6.6, §7.1)', () => {
    const toResult = (r: (typeof vectors.result_agreement)[number]['a']) => ({
      outputs: r.outputs.map(tensor),
      failure: 'failure' in r && r.failure != null ? (r.failure as { kind: FailureKind; message: string }) : undefined,
      outputDigest: 'output_digest' in r && r.output_digest != null ? hex(r.output_digest as string) : undefined
    })
    for (const v of vectors.result_agreement) {
      const rules = [rule(v.rule)]
      assert.equal(agreeResults(toResult(v.a), toResult(v.b), rules).agree, v.agree, JSON.stringify(v))
      assert.equal(agreeResults(toResult(v.b), toResult(v.a), rules).agree, v.agree, 'symmetric')
    }
    assert.ok(vectors.result_agreement.some((v) => v.agree) && vectors.result_agreement.some((v) => !v.agree))
  })

  it('verification math', () => {
    for (const v of vectors.detection) {
      const p = detectionProbability({
        cheatFraction: v.cheat_fraction,
        sampleRate: v.sample_rate,
        canaryRate: v.canary_rate,
        tasks: v.tasks
      })
      assert.ok(Math.abs(p - v.probability) < 1e-12)
    }
    for (const v of vectors.pos_floor) {
      const [reward, penalty, cost] = [BigInt(v.reward), BigInt(v.penalty), BigInt(v.cost)]
      assert.equal(proofOfSamplingFloor({ reward, penalty, cost, margin: v.margin }), v.pos_floor)
      const policy = resolvePolicy({ initialRate: 0, minRate: v.min_rate, trustHorizon: 0, canaryRate: 0, penalty, cost, agreement: [] })
      assert.equal(samplingFloor(policy, reward), v.floor, JSON.stringify(v))
    }
    for (const v of vectors.reputation) {
      assert.ok(Math.abs(reputationScore(v) - v.score) < 1e-15, JSON.stringify(v))
    }
    assert.deepEqual(
      vectors.bans.map((v) => banDuration(v.offences)),
      vectors.bans.map((v) => v.ms ?? Number.POSITIVE_INFINITY)
    )
    for (const v of vectors.adaptive_rate) {
      const policy = { ...resolvePolicy(undefined), initialRate: v.initial_rate, trustHorizon: v.trust_horizon }
      assert.ok(Math.abs(adaptiveRate(v.consecutive_agreements, policy, v.floor) - v.rate) < 1e-12)
    }
  })

  it("multi-item tasks: items packed into tasks, each task's inputs and digest, and split back (§6.8)", async () => {
    const v = vectors.multi_item_tasks
    const items = v.items.map((item) => item.map(tensor))
    const packing: ItemPacking = { itemsPerTask: 1, itemCount: 0, short: [] }
    const tasks: Tensor[][] = []
    for await (const t of packItems(items, v.items_per_task, MAX_FRAME_BYTES, packing)) {
      tasks.push(t)
    }
    assert.equal(tasks.length, v.tasks.length)
    const map = new ItemMap(tasks.length, packing)
    for (const [i, t] of v.tasks.entries()) {
      assert.deepEqual(map.itemsOf(i), { start: t.start, count: t.count })
      assert.equal(toHex(tensorSetDigest(tasks[i] as Tensor[])), t.digest)
      assert.equal(toHex(tensorSetDigest(t.inputs.map(tensor))), t.digest)
      // A worker that echoes its inputs: splitting gives the items back.
      assert.deepEqual(splitRows(t.inputs.map(tensor), t.count), items.slice(t.start, t.start + t.count))
    }
  })
})
