/**
 * @packageDocumentation
 *
 * `@openbatch/runtime-onnx` runs openbatch tasks with onnxruntime-node. It implements
 * `InferenceBackend` from `@openbatch/inference`:
 *
 * - inference runs in a pool of worker threads, so a busy worker peer keeps answering libp2p
 *   streams and gossip heartbeats; a crashed thread is replaced and its tasks fail with
 *   `WorkerCrashedError`;
 * - models live in a {@link ModelStore} on disk, content-addressed by CID, written atomically and
 *   re-hashed on every load (a corrupt file is quarantined, never run);
 * - sessions are cached per thread in an LRU bounded by a memory budget;
 * - tasks for the same model that arrive together are merged along the batch dimension and split
 *   back; inputs are validated against the model first;
 * - WebGPU on a hardware GPU adapter (any vendor: onnxruntime-node bundles the provider; the adapter
 *   is probed through Dawn in a child process), CUDA when an NVIDIA GPU and onnxruntime's CUDA
 *   provider libraries are present, else the CPU — always with a one-line reason; a lost GPU fails
 *   the tasks it held with `DeviceLostError` and later ones run on the CPU; the provider and device
 *   go into every result's execution profile;
 * - {@link detectDevices} and {@link measureCapacity} produce what a capacity record advertises.
 *
 * @example
 *
 * ```ts
 * import { createOnnxBackend, ModelStore } from '@openbatch/runtime-onnx'
 *
 * const store = new ModelStore('./data')
 * const model = await store.addFile('./classifier.onnx')         // CID string
 * const backend = createOnnxBackend({ store })
 * await backend.start()
 * const { outputs, profile } = await backend.run(model, [input]) // input: a protocol Tensor
 * await backend.stop()
 * ```
 */

export { ModelStore, type StoredModel } from '@openbatch/inference'
export { type CapacityOptions, type CapacityPoint, type CapacityReport, measureCapacity, toModelCapacity } from './benchmark.js'
export {
  type CalibrationModel,
  CONV,
  calibrationModels,
  calibrationTasks,
  calibrationValues,
  type Drift,
  ELEMENTWISE,
  MATMUL_SOFTMAX,
  measureDrift,
  REDUCTIONS
} from './calibration.js'
export { dtypeOfOrt, ORT_TYPES } from './convert.js'
export {
  adapterName,
  capacityDevices,
  chooseProvider,
  cudaProviderLibrary,
  type DeviceInfo,
  detectDevices,
  type ExecutionProvider,
  type GpuInfo,
  isSoftwareAdapter,
  type ProviderChoice,
  parseNvidiaSmi,
  parseWebGpuProbe,
  probeWebGpu,
  type WebGpuAdapter
} from './device.js'
export { createOnnxBackend, DEFAULT_MAX_ROWS, OnnxBackend, type OnnxBackendInit } from './engine.js'
export { buildOnnxModel, type GraphSpec, type InitializerSpec, type NodeSpec, type ValueSpec } from './onnx-builder.js'
export type { CpuPlacement, GraphOptimizationLevel } from './protocol.js'
export { createWorkerRuntime, type WorkerRuntime, type WorkerRuntimeInit } from './worker-runtime.js'
