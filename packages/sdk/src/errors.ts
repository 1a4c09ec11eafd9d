/** Errors the SDK throws: each names what went wrong and what to do about it. */

/** No worker for the job's model was found within the discovery timeout. */
export class NoWorkersError extends Error {
  override readonly name = 'NoWorkersError'
  constructor(
    readonly model: string,
    readonly waitedMs: number,
    readonly found = 0,
    readonly wanted = 1
  ) {
    super(
      found === 0
        ? `no workers serve model ${model} (searched the network for ${Math.round(waitedMs / 1000)} s); start a worker with this model, or check the bootstrap addresses`
        : `found ${found} of the ${wanted} workers wanted for model ${model} in ${Math.round(waitedMs / 1000)} s; start more workers or ask for fewer`
    )
  }
}

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
  constructor(readonly jobId: string) {
    super(`no job ${jobId} in this data directory; list jobs with \`openbatch status\``)
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
