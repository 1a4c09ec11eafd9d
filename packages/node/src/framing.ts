/**
 * Length-prefixed frames (spec §6.1) with the read limits of the spec, not libp2p's defaults:
 * `lpStream` buffers at most 4 MiB unless told otherwise, which refused every assignment over
 * 4 MiB (`StreamBufferError`) although frames may carry up to MAX_FRAME_BYTES.
 */

import type { AbortOptions, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { type encodeAssignment, FRAMES, type FrameName, uvarint } from '@openbatch/protocol'
import { loopTurn } from './signals.js'

/** Longest varint length prefix of a frame (a uint32 length). */
const MAX_PREFIX_BYTES = 5

/** An lpStream whose reads accept frames up to `name`'s §3.1 limit and refuse longer ones before reading them. */
export function frameStream(stream: Stream, name: FrameName): ReturnType<typeof lpStream> {
  const maxDataLength = FRAMES[name].maxBytes
  return lpStream(stream, { maxDataLength, maxBufferSize: maxDataLength + MAX_PREFIX_BYTES })
}

/** Names the condition when a remote peer does not begin its answer in time (§6.2). */
export class AnswerTimeoutError extends Error {
  override readonly name = 'AnswerTimeoutError'
}

/**
 * Resolves when the first bytes of the remote's answer arrive on `stream` (or it closes), and
 * rejects with AnswerTimeoutError after `timeoutMs` — so a caller can give a remote a short
 * time to start answering and a longer one to finish sending a large frame. Call it before the
 * request is written.
 */
export function firstBytes(stream: Stream, timeoutMs: number, options: AbortOptions = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer)
      stream.removeEventListener('message', onData)
      stream.removeEventListener('close', onClose)
      options.signal?.removeEventListener('abort', onAbort)
      if (err == null) {
        resolve()
      } else {
        reject(err)
      }
    }
    const onData = () => done()
    const onClose = () => done()
    const onAbort = () => done(options.signal?.reason as Error)
    const timer = setTimeout(() => done(new AnswerTimeoutError(`no answer began within ${timeoutMs} ms`)), timeoutMs)
    stream.addEventListener('message', onData)
    stream.addEventListener('close', onClose)
    options.signal?.addEventListener('abort', onAbort)
  })
}

/**
 * The most bytes of one frame handed to a stream at once by `writeFrame`. A stream encrypts and
 * writes what it is handed in one go for as long as the connection takes it: a 7 MB assignment to
 * a worker on loopback held the requester's event loop for up to 175 ms (issue #15); with 1 MiB
 * slices, sixteen streams resuming after the connection drained still held it for 50–80 ms. 64 KiB
 * slices (a yamux data frame) cost the requester ~12 % more CPU than 256 KiB with one worker on 110 KB
 * items (median of six pairs), for no loop delay measurably lower.
 */
export const WRITE_SLICE_BYTES = 256 * 1024

/**
 * Writes `frame` with its length prefix (§6.1) — the bytes `lpStream(stream).write(frame)` writes —
 * in slices of at most WRITE_SLICE_BYTES: after each, it waits for the stream to drain when it is
 * full, and past LOOP_SLICE_MS of work it gives the event loop a turn (`loopTurn`).
 */
export async function writeFrame(stream: Stream, frame: ReturnType<typeof encodeAssignment>, options: AbortOptions = {}): Promise<void> {
  const length = frame.byteLength
  for (let offset = 0; offset === 0 || offset < length; ) {
    const end = Math.min(length, offset + WRITE_SLICE_BYTES)
    const slice = frame.sublist(offset, end)
    if (offset === 0) {
      slice.prepend(uvarint(length))
    }
    offset = end
    options.signal?.throwIfAborted()
    if (!stream.send(slice)) {
      await drained(stream, options)
    } else if (offset < length) {
      const turn = loopTurn()
      if (turn != null) {
        await turn
      }
    }
  }
}

/** Resolves when `stream` can take more bytes; rejects when it closes or `options.signal` aborts first. */
function drained(stream: Stream, options: AbortOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: unknown) => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      options.signal?.removeEventListener('abort', onAbort)
      if (err === undefined) {
        resolve()
      } else {
        reject(err)
      }
    }
    const onDrain = () => done()
    const onClose = (evt: Event) =>
      done((evt as Event & { error?: Error }).error ?? new Error('the stream closed before the frame was written'))
    const onAbort = () => done(options.signal?.reason)
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    options.signal?.addEventListener('abort', onAbort)
  })
}
