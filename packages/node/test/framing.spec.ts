/**
 * writeFrame (issue #15): a large frame goes to the stream in slices, so that no single send
 * encrypts and writes megabytes while the event loop waits, and the bytes are those of a
 * length-prefixed frame (§6.1) that lpStream reads back.
 */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { streamPair } from '@libp2p/utils'
import { Assignment, ErrorCode, encodeAssignment, float32Tensor } from '@openbatch/protocol'
import { frameStream, WRITE_SLICE_BYTES, writeFrame } from '../src/framing.js'

function assignment(): Assignment {
  // Two tasks of 700 KB: one frame of about 1.4 MB, several slices.
  const task = (i: number) => ({
    taskId: new Uint8Array(32).fill(i),
    index: BigInt(i),
    inputs: [float32Tensor('x', [1, 175_000], new Float32Array(175_000).fill(i + 0.5))]
  })
  return {
    code: ErrorCode.OK,
    jobId: new Uint8Array(32).fill(9),
    model: new Uint8Array(36).fill(3),
    tasks: [task(1), task(2)],
    leaseExpiresAtMs: 123_456n,
    message: ''
  }
}

describe('writeFrame', () => {
  it('sends a frame in slices of at most WRITE_SLICE_BYTES that read back as the same length-prefixed frame', async () => {
    const [outbound, inbound] = await streamPair()
    const sent: number[] = []
    const send = outbound.send.bind(outbound)
    outbound.send = (data) => {
      sent.push(data.byteLength)
      return send(data)
    }
    const frame = encodeAssignment(assignment())
    const read = frameStream(inbound, 'Assignment').read()
    await writeFrame(outbound, frame)
    const received = (await read).subarray()
    assert.deepEqual(received, Assignment.encode(assignment()), 'the bytes Assignment.encode gives')
    assert.ok(sent.length >= Math.ceil(frame.byteLength / WRITE_SLICE_BYTES), `${sent.length} sends for ${frame.byteLength} bytes`)
    // The first slice carries the varint length prefix (3 bytes for this length) too.
    assert.ok(
      sent.every((n, i) => n <= WRITE_SLICE_BYTES + (i === 0 ? 3 : 0)),
      `slices: ${sent.join(', ')}`
    )
    assert.equal(
      sent.reduce((a, b) => a + b, 0),
      frame.byteLength + 3
    )
  })

  it('stops when its signal aborts, with the signal’s reason', async () => {
    const [outbound] = await streamPair()
    await assert.rejects(
      writeFrame(outbound, encodeAssignment(assignment()), { signal: AbortSignal.abort(new Error('the claim timed out')) }),
      /the claim timed out/
    )
  })
})
