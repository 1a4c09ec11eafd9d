/** Errors the SDK throws: each names what went wrong and what to do about it. */

export { NoWorkersError } from '@openbatch/node'

/** The inputs of a batch are not what the model (or the SDK) accepts; `index` is the bad input's. */
export class InvalidInputsError extends Error {
  override readonly name = 'InvalidInputsError'
  constructor(
    message: string,
    readonly index?: number
  ) {
    super(index === undefined ? message : `input ${index}: ${message}`)
  }
}

/** A model file is missing, unreadable, or not a model. */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError'
}

/** No job with that id is stored in this peer's data directory. */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError'
  constructor(
    readonly jobId: string,
    why = 'no job'
  ) {
    super(`${why} ${jobId} in this data directory; list jobs with \`openbatch jobs\``)
  }
}

/** None of the bootstrap peers could be reached. */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError'
  constructor(
    readonly addresses: string[],
    readonly reasons: string[]
  ) {
    super(`could not reach any bootstrap peer (${addresses.join(', ')}): ${reasons.join('; ')}; check that they are running and reachable`)
  }
}

/** A worker was asked for without a backend of its own, and the optional onnxruntime runtime is not installed. */
export class WorkerRuntimeMissingError extends Error {
  override readonly name = 'WorkerRuntimeMissingError'
  constructor() {
    super(
      'serving models needs @openbatch/runtime-onnx (onnxruntime-node), an optional dependency of @openbatch/sdk: install it (npm install @openbatch/runtime-onnx), or pass worker.backend'
    )
  }
}
