/**
 * Frames encoded without copying their tensor bytes (spec §6.2): an Assignment is the same bytes
 * protobuf encoding gives (fields in number order, as `Assignment.encode` writes them), produced
 * as a list of chunks in which every tensor's `data` is the caller's own view, not a copy. Written
 * to a stream as it is, a 110 KB input is copied once — by the stream's encryption — instead of
 * first into a fresh frame buffer.
 */

import { Uint8ArrayList } from 'uint8arraylist'
import { uvarint } from './bytes.js'
import { Assignment, Task, Tensor } from './pb/openbatch.js'

/** Wire type 2 (length-delimited) tag of field `field`. */
const lengthDelimited = (field: number) => (field << 3) | 2

/** Field `field` of wire type 2 holding `parts`: its tag and length, then the parts themselves. */
function field(field: number, parts: Uint8ArrayList<ArrayBufferLike>): Uint8ArrayList<ArrayBufferLike> {
  return new Uint8ArrayList<ArrayBufferLike>(Uint8Array.of(lengthDelimited(field)), uvarint(parts.byteLength), ...parts)
}

/** A Tensor message whose `data` (field 4) is `tensor.data` itself. */
function tensorParts(tensor: Tensor): Uint8ArrayList<ArrayBufferLike> {
  const parts = new Uint8ArrayList<ArrayBufferLike>(Tensor.encode({ ...tensor, data: new Uint8Array() }))
  if (tensor.data.byteLength > 0) {
    parts.append(Uint8Array.of(lengthDelimited(4)), uvarint(tensor.data.byteLength), tensor.data)
  }
  return parts
}

/** A Task message whose inputs' bytes are the caller's views. */
function taskParts(task: Task): Uint8ArrayList<ArrayBufferLike> {
  const parts = new Uint8ArrayList<ArrayBufferLike>(Task.encode({ ...task, inputs: [] }))
  for (const t of task.inputs) {
    parts.append(field(3, tensorParts(t)))
  }
  return parts
}

/**
 * `Assignment.encode(assignment)` as a list of chunks that refer to the tasks' tensor bytes
 * instead of copying them: byte for byte the same encoding once concatenated.
 */
export function encodeAssignment(assignment: Assignment): Uint8ArrayList<ArrayBufferLike> {
  const { code, jobId, model, tasks, leaseExpiresAtMs, message } = assignment
  const out = new Uint8ArrayList<ArrayBufferLike>(Assignment.encode({ code, jobId, model, tasks: [] }))
  for (const task of tasks) {
    out.append(field(4, taskParts(task)))
  }
  out.append(Assignment.encode({ tasks: [], leaseExpiresAtMs, message }))
  return out
}

/** The byte length of `Task.encode(task)`, computed without copying its tensors' bytes. */
export function taskEncodingLength(task: Task): number {
  return taskParts(task).byteLength
}
