/**
 * @packageDocumentation
 *
 * `@openbatch/protocol` implements the openbatch wire protocol as specified in
 * `protocol-spec/README.md`: the protobuf messages (generated with protons from the spec's
 * `.proto`), signed envelopes per statement kind, content addressing (model CIDs, canonical
 * tensors, job and task ids), the agreement rules that decide whether two results match, and the
 * verification math (detection probability, the Proof-of-Sampling floor, adaptive sampling,
 * reputation). It is pure: no network, no clock, no filesystem — every time rule takes `now`.
 *
 * @example Sign and open a task result
 *
 * ```ts
 * import { generateKeyPair } from '@libp2p/crypto/keys'
 * import { peerIdFromPrivateKey } from '@libp2p/peer-id'
 * import { STATEMENTS, seal, open, peerIdBytes, deriveTaskId, tensorSetDigest, float32Tensor } from '@openbatch/protocol'
 *
 * const key = await generateKeyPair('Ed25519')
 * const outputs = [float32Tensor('probs', [1, 2], [0.9, 0.1])]
 * const result = {
 *   task_id: deriveTaskId(jobId, 0, model.bytes, inputDigest),
 *   job_id: jobId, index: 0n, model: model.bytes, input_digest: inputDigest,
 *   output_digest: tensorSetDigest(outputs), outputs,
 *   worker: peerIdBytes(peerIdFromPrivateKey(key)), started_at_ms: 0n, duration_us: 0n
 * }
 * const bytes = await seal(STATEMENTS.result, result, key)
 * const { message, signer } = await open(STATEMENTS.result, bytes) // throws a named error if anything is off
 * ```
 *
 * @example Decide whether two results agree
 *
 * ```ts
 * import { agreeOutputs, AgreementKind } from '@openbatch/protocol'
 *
 * const verdict = agreeOutputs(a.outputs, b.outputs, [{ output: '', kind: AgreementKind.ARGMAX, atol: 0, rtol: 0, min_cosine: 0, k: 0, tie_tolerance: 1e-4 }])
 * if (!verdict.agree) console.log(verdict.output, verdict.reason)
 * ```
 *
 * @example How much sampling catches a cheater
 *
 * ```ts
 * import { detectionProbability, proofOfSamplingFloor } from '@openbatch/protocol'
 *
 * detectionProbability({ cheatFraction: 0.1, sampleRate: 0.05, tasks: 1000 }) // ≈ 0.993
 * proofOfSamplingFloor({ reward: 100, penalty: 900, cost: 20 })             // 0.04 (margin 2)
 * ```
 */

export * from './agreement.js'
export { compareBytes, concatBytes, fromHex, toHex, uvarint } from './bytes.js'
export * from './constants.js'
export * from './dht.js'
export { acceptablePoint, ed25519Verify } from './ed25519.js'
export * from './envelope.js'
export * from './errors.js'
export * from './fraud.js'
export * from './gossip.js'
export { sha256, sha256Parts } from './hash.js'
export * from './ids.js'
export * from './items.js'
export * from './messages.js'
export * from './pb/openbatch.js'
export { seededRandom } from './random.js'
export * from './sampling.js'
export * from './tensor.js'
export { encodeAssignment, taskEncodingLength } from './wire.js'
