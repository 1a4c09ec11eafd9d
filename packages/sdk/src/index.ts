/**
 * @packageDocumentation
 *
 * `@openbatch/sdk` is the friendly way into openbatch: batch AI inference on other people's
 * GPUs, with every result signed and a random, adaptive share of them re-run by independent
 * workers, so cheating does not pay.
 *
 * - {@link createClient} joins a network to submit batches; {@link createPeer} can also serve
 *   models as a worker — through onnxruntime when the optional `@openbatch/runtime-onnx` is
 *   installed ({@link loadWorkerRuntime}), or any backend of the caller's own. A requester needs
 *   no onnxruntime.
 * - {@link Peer.submitBatch} streams a batch's inputs into the job store, announces the job and
 *   returns a {@link BatchJob}: progress events, results in input order (or as they settle) each
 *   with its {@link Verification}, a summary, `cancel()`. A peer with a `dataDir` resumes its jobs
 *   after a restart ({@link Peer.job}).
 *
 * @example Submit a batch and read verified results
 *
 * ```ts
 * import { classify, createClient, tensor } from '@openbatch/sdk'
 *
 * const client = await createClient({ bootstrap: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo…'] })
 * const job = await client.submitBatch({
 *   model: './classifier.onnx',
 *   inputs: images.map((pixels) => [tensor('x', pixels, [1, 3, 48, 192])])
 * })
 * for await (const r of job.results()) {
 *   // Each output is a typed array of its dtype with number[] dims; classify() reads a classifier's head.
 *   const [best] = classify(r.outputs['softmax_0.tmp_0'], { labels: ['0°', '180°'] })[0]
 *   console.log(r.index, best.label, best.score, r.verification.status)
 * }
 * console.log(job.summary())
 * await client.stop()
 * ```
 *
 * @example Embed a worker
 *
 * ```ts
 * import { createPeer } from '@openbatch/sdk'
 *
 * const worker = await createPeer({ dataDir: './openbatch', bootstrap, worker: { models: ['./classifier.onnx'] } })
 * process.on('SIGINT', () => worker.stop())
 * ```
 */

export { seededRandom, type VerificationStatus } from '@openbatch/core'
export type { InferenceBackend, TensorSpec } from '@openbatch/inference'
export { ModelStore, type StoredModel } from '@openbatch/inference'
export {
  DEFAULT_STUN,
  type FraudEvent,
  JobCancelledError,
  type NetworkReport,
  NoDirectConnectionError,
  type Reachability,
  StoreCorruptError,
  type StunServer,
  startStunServer,
  type TransportName
} from '@openbatch/node'
export {
  AgreementKind,
  type AgreementRule,
  DType,
  dtypeInfo,
  FailureKind,
  float32Tensor,
  MAX_TASKS_PER_CLAIM,
  type Tensor,
  toFloat64Array,
  type VerificationPolicy
} from '@openbatch/protocol'
export type { DeviceInfo, ExecutionProvider, ProviderChoice } from '@openbatch/runtime-onnx'
export {
  type AssertionResult,
  type Engine,
  listScenarios,
  loadScenario,
  type Report as TestnetReport,
  type RunTestnetOptions,
  reportHtml,
  runTestnet,
  type Scenario
} from '@openbatch/testnet'
export {
  type DataDirStatus,
  identity,
  inspectDataDir,
  type JobState,
  listStoredJobs,
  modelStore,
  openStoredJob,
  receiptTotals,
  type StoredJobHandle,
  type StoredJobInfo,
  sumReceipts
} from './data-dir.js'
export {
  BootstrapError,
  InvalidInputsError,
  JobNotFoundError,
  ModelFileError,
  NoWorkersError,
  WorkerRuntimeMissingError
} from './errors.js'
export { type BatchInput, type BatchInputs, byName, type TensorInit, tensor, verificationPolicy } from './inputs.js'
export {
  BatchJob,
  type BatchJobEvents,
  type BatchProgress,
  type BatchResult,
  type BatchSummary,
  type ResultsOptions,
  type TaskFailureInfo,
  type Verification
} from './job.js'
export {
  argmax,
  classify,
  type DTypeName,
  dtypeName,
  type Output,
  type OutputArray,
  type OutputBase,
  type Prediction,
  rows,
  softmax,
  type TopKOptions,
  toOutput,
  topK
} from './outputs.js'
export {
  CANCEL_POLL_MS,
  chooseItemsPerTask,
  createClient,
  createPeer,
  loadWorkerRuntime,
  MAX_ITEMS_PER_TASK,
  MAX_TASK_INPUT_BYTES,
  MODEL_PROVIDE_INTERVAL_MS,
  Peer,
  type PeerEvents,
  type PeerOptions,
  type SubmitBatchOptions,
  TASK_OVERHEAD_MS,
  type WorkerOptions,
  type WorkerRuntimeModule
} from './peer.js'
