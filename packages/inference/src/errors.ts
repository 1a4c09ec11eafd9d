/** One error class per condition; callers and tests check `err.name`. */

/** An input tensor does not fit the model: `input` names it, the message says what was expected. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError'
  constructor(
    readonly input: string,
    message: string
  ) {
    super(message)
  }
}

/** The model is not in the store. */
export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError'
}

/** Stored bytes do not hash to their CID; the file was quarantined and never run. */
export class CorruptModelError extends Error {
  override readonly name = 'CorruptModelError'
}

/** The inference engine could not load the model (not ONNX, unsupported operator, …). */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError'
}

/** The engine failed while running a model on valid inputs. */
export class InferenceFailedError extends Error {
  override readonly name = 'InferenceFailedError'
}

/** The thread running the task died; the task did not complete. */
export class WorkerCrashedError extends Error {
  override readonly name = 'WorkerCrashedError'
}

/**
 * The GPU device went away mid-run (driver reset, GPU removed, out of device memory): the task did
 * not complete, and the backend runs later tasks on CPU.
 */
export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError'
}

/** The backend is stopped (or stopping); tasks still queued or running fail with this. */
export class BackendStoppedError extends Error {
  override readonly name = 'BackendStoppedError'
}

/** The caller's AbortSignal fired before the task completed. */
export class AbortError extends Error {
  override readonly name = 'AbortError'
  constructor(message = 'the operation was aborted') {
    super(message)
  }
}
