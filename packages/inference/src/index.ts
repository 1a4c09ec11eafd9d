/**
 * @packageDocumentation
 *
 * `@openbatch/inference` is the seam between openbatch and inference engines: the
 * {@link InferenceBackend} interface a worker runs tasks through, the errors every backend
 * reports, and the input validation they share. It depends on no engine, so the sans-IO core,
 * tests and the simulator can use any backend; `@openbatch/runtime-onnx` is the real one.
 *
 * @example
 *
 * ```ts
 * import type { InferenceBackend } from '@openbatch/inference'
 *
 * async function runTask(backend: InferenceBackend, model: string, inputs: Tensor[], signal: AbortSignal) {
 *   const { outputs, profile } = await backend.run(model, inputs, { signal })
 *   return { outputs, profile } // outputs are canonical protocol tensors, ready to sign
 * }
 * ```
 */

export { writeFileAtomic } from './atomic-file.js'
export * from './backend.js'
export { cpuDevice, hostCpuDevice } from './devices.js'
export * from './errors.js'
export { ModelStore, type StoredModel } from './model-store.js'
export { validateInputs } from './validate.js'
