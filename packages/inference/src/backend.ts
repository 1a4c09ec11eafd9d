/** The seam every inference engine implements (see the package documentation in index.ts). */

import type { DType, ExecutionProfile, Tensor } from '@openbatch/protocol'

export interface AbortOptions {
  signal?: AbortSignal
}

/** Name, element type and shape of one model input or output; a string dim is symbolic. */
export interface TensorSpec {
  name: string
  dtype: DType
  shape: Array<number | string>
}

export interface ModelInfo {
  /** Model CID (string form). */
  model: string
  inputs: TensorSpec[]
  outputs: TensorSpec[]
  /**
   * True when the first dimension of every input and output is symbolic, so tasks can be merged
   * along it and split back.
   */
  batchable: boolean
  /** Size of the model file in bytes. */
  sizeBytes: number
}

export interface RunResult {
  outputs: Tensor[]
  /** How the result was computed: becomes the signed result's execution profile. */
  profile: ExecutionProfile
  /** Wall time of the engine call that computed this task (shared by a merged batch), µs. */
  durationUs: number
}

/** Runs tasks on models identified by their CID. Implementations may batch concurrent calls. */
export interface InferenceBackend {
  /** Loads the model if needed and describes its inputs and outputs. */
  describe(model: string, options?: AbortOptions): Promise<ModelInfo>
  /**
   * Runs one task. Inputs are validated against the model first (InvalidInputError names the
   * input and what was expected). Rejects with AbortError when `signal` fires first.
   */
  run(model: string, inputs: Tensor[], options?: AbortOptions): Promise<RunResult>
}
