import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeviceLostError, InferenceFailedError, InvalidInputError, ModelLoadError, WorkerCrashedError } from '@openbatch/inference'
import { FailureKind } from '@openbatch/protocol'
import { classifyFailure } from '../src/index.js'

describe('backend errors as task failures (§6.6)', () => {
  it('a lost GPU or thread is transient (the task goes to another worker); bad inputs and models are deterministic', () => {
    assert.equal(classifyFailure(new DeviceLostError('WebGPU device was lost')).kind, FailureKind.DEVICE_LOST)
    assert.equal(classifyFailure(new WorkerCrashedError('thread exited')).kind, FailureKind.DEVICE_LOST)
    assert.equal(classifyFailure(new InvalidInputError('x', 'wrong shape')).kind, FailureKind.INPUT_REJECTED)
    assert.equal(classifyFailure(new ModelLoadError('bad model')).kind, FailureKind.UNSUPPORTED_MODEL)
    assert.equal(classifyFailure(new InferenceFailedError('Gather: index out of bounds')).kind, FailureKind.INFERENCE_FAILED)
    assert.equal(classifyFailure(new InferenceFailedError('Failed to allocate memory')).kind, FailureKind.RESOURCE_EXHAUSTED)
  })
})
