/**
 * Length-prefixed frames (spec §6.1) with the read limits of the spec, not libp2p's defaults:
 * `lpStream` buffers at most 4 MiB unless told otherwise, which refused every assignment over
 * 4 MiB (`StreamBufferError`) although frames may carry up to MAX_FRAME_BYTES.
 */

import type { AbortOptions, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { FRAMES, type FrameName } from '@openbatch/protocol'

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
