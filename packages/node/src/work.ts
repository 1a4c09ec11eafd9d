/**
 * The work stream protocols (spec §6.1–6.3, §6.9): length-prefixed protobuf frames, one request
 * and one answer per stream, every frame under its size limit, every inbound handler under
 * STREAM_TIMEOUT_MS. A malformed or oversized frame closes that stream only.
 */

import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'
import {
  Assignment,
  CLAIM_TIMEOUT_MS,
  decodeFrame,
  ErrorCode,
  encodeAssignment,
  type FrameName,
  INPUTS_PROTOCOL,
  InputRequest,
  InputResponse,
  RESULT_PROTOCOL,
  ResultAck,
  type ResultStatus,
  ResultSubmission,
  STREAM_TIMEOUT_MS,
  TaskClaim,
  type Tensor,
  tensorSetDigest,
  toHex,
  WORK_PROTOCOL
} from '@openbatch/protocol'
import { equals } from 'uint8arrays/equals'
import type { OpenbatchComponents } from './components.js'
import { dialDirect } from './direct.js'
import { InputsRefusedError, ProtocolViolationError } from './errors.js'
import { firstBytes, frameStream, writeFrame } from './framing.js'

/** What work uses of a peer. */
export type WorkComponents = Pick<OpenbatchComponents, 'libp2p'>

/** What a requester does with claims and results; the WorkServer handles the wire. */
export interface WorkHandlers {
  claim(remote: PeerId, claim: TaskClaim, options: AbortOptions): Promise<Assignment>
  results(remote: PeerId, envelopes: Uint8Array[], options: AbortOptions): Promise<ResultStatus[]>
  /** §6.9 A proven task's inputs (served when present). */
  inputs?(remote: PeerId, request: InputRequest, options: AbortOptions): Promise<InputResponse>
}

export interface WorkServerInit {
  /** @default STREAM_TIMEOUT_MS */
  timeoutMs?: number
  /** @default 64 */
  maxInboundStreams?: number
}

async function readFrame<N extends FrameName>(stream: Stream, name: N, options: AbortOptions) {
  const lp = frameStream(stream, name)
  return { lp, frame: decodeFrame(name, await lp.read(options)) }
}

const failure = (code: ErrorCode, message: string): Assignment => ({
  code,
  jobId: new Uint8Array(),
  model: new Uint8Array(),
  tasks: [],
  leaseExpiresAtMs: 0n,
  message
})

/** Serves /openbatch/work/1.0.0 and /openbatch/result/1.0.0 for a requester. */
export class WorkServer {
  private started = false
  private readonly timeoutMs: number
  private readonly maxInboundStreams: number

  constructor(
    private readonly peer: WorkComponents,
    private readonly handlers: WorkHandlers,
    init: WorkServerInit = {}
  ) {
    this.timeoutMs = init.timeoutMs ?? STREAM_TIMEOUT_MS
    this.maxInboundStreams = init.maxInboundStreams ?? 64
  }

  async start(): Promise<void> {
    if (this.started) {
      return
    }
    this.started = true
    const opts = { maxInboundStreams: this.maxInboundStreams }
    await this.peer.libp2p.handle(WORK_PROTOCOL, (stream, connection) => this.serve(stream, connection, 'claim'), opts)
    await this.peer.libp2p.handle(RESULT_PROTOCOL, (stream, connection) => this.serve(stream, connection, 'results'), opts)
    if (this.handlers.inputs != null) {
      await this.peer.libp2p.handle(INPUTS_PROTOCOL, (stream, connection) => this.serveInputs(stream, connection), opts)
    }
  }

  async stop(): Promise<void> {
    if (!this.started) {
      return
    }
    this.started = false
    await this.peer.libp2p.unhandle([WORK_PROTOCOL, RESULT_PROTOCOL, ...(this.handlers.inputs == null ? [] : [INPUTS_PROTOCOL])])
  }

  private async serve(stream: Stream, connection: Connection, kind: 'claim' | 'results'): Promise<void> {
    const signal = AbortSignal.timeout(this.timeoutMs)
    const options = { signal }
    try {
      if (kind === 'claim') {
        let reply: Assignment
        try {
          const read = await readFrame(stream, 'TaskClaim', options)
          reply = await this.handlers.claim(connection.remotePeer, read.frame, options)
        } catch (err) {
          if ((err as Error).name === 'InvalidFieldError' || (err as Error).name === 'MalformedMessageError') {
            await frameStream(stream, 'Assignment').write(
              Assignment.encode(failure(ErrorCode.MALFORMED, (err as Error).message.slice(0, 500))),
              options
            )
            await stream.close(options)
            return
          }
          throw err
        }
        // The tasks' tensor bytes are written from the requester's own buffers, not copied (§6.2),
        // a slice at a time (the stream would encrypt and write all of it in one go).
        await writeFrame(stream, encodeAssignment(reply), options)
      } else {
        const { lp, frame } = await readFrame(stream, 'ResultSubmission', options)
        const statuses = await this.handlers.results(connection.remotePeer, frame.results, options)
        await lp.write(ResultAck.encode({ statuses }), options)
      }
      await stream.close(options)
    } catch (err) {
      // Oversized or undecodable frames, timeouts, handler failures: this stream only.
      stream.abort(err as Error)
    }
  }

  private async serveInputs(stream: Stream, connection: Connection): Promise<void> {
    const options = { signal: AbortSignal.timeout(this.timeoutMs) }
    try {
      const { lp, frame } = await readFrame(stream, 'InputRequest', options)
      const reply = await (this.handlers.inputs as NonNullable<WorkHandlers['inputs']>)(connection.remotePeer, frame, options)
      await lp.write(InputResponse.encode(reply), options)
      await stream.close(options)
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

/**
 * §6.9 The inputs of a proven task, from its requester, checked against `inputDigest` (the
 * proof's results'): InputsRefusedError when the requester says no, ProtocolViolationError when
 * what it sends does not hash to the digest.
 */
export async function fetchInputs(
  peer: WorkComponents,
  requester: PeerId,
  task: { jobId: Uint8Array; index: number | bigint; inputDigest: Uint8Array },
  options: AbortOptions = {}
): Promise<Tensor[]> {
  const stream = await dialDirect(peer.libp2p, requester, INPUTS_PROTOCOL, options)
  let reply: InputResponse
  try {
    const lp = frameStream(stream, 'InputResponse')
    await lp.write(InputRequest.encode({ jobId: task.jobId as Uint8Array<ArrayBuffer>, index: BigInt(task.index) }), options)
    reply = decodeFrame('InputResponse', await lp.read(options))
    await stream.close(options)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
  if (reply.code !== ErrorCode.OK) {
    throw new InputsRefusedError(
      reply.code,
      `the requester refused the inputs of task ${task.index} of job ${toHex(task.jobId)}: ${ErrorCode[reply.code]} ${reply.message}`.trim()
    )
  }
  if (!equals(tensorSetDigest(reply.inputs), task.inputDigest)) {
    throw new ProtocolViolationError(`the inputs sent for task ${task.index} of job ${toHex(task.jobId)} do not hash to its input digest`)
  }
  return reply.inputs
}

export interface ClaimOptions extends AbortOptions {
  /**
   * How long the requester has to be dialled and begin its answer (§6.2); then the claim fails
   * with AnswerTimeoutError. The rest of the answer — up to a frame of inputs — may take until
   * `signal`. @default CLAIM_TIMEOUT_MS
   */
  answerTimeoutMs?: number
}

/** Worker side of §6.2: claims up to `maxTasks` tasks of a job from its requester. */
export async function claimTasks(
  peer: WorkComponents,
  requester: PeerId,
  claim: TaskClaim,
  options: ClaimOptions = {}
): Promise<Assignment> {
  const answerTimeoutMs = options.answerTimeoutMs ?? CLAIM_TIMEOUT_MS
  // §4.4: claims and assignments never cross a limited relay; the wait for hole punching does not
  // count against the requester's answer time.
  const stream = await dialDirect(peer.libp2p, requester, WORK_PROTOCOL, { signal: options.signal, dialTimeoutMs: answerTimeoutMs })
  try {
    const lp = frameStream(stream, 'Assignment')
    const answered = firstBytes(stream, answerTimeoutMs, options)
    answered.catch(() => {})
    await lp.write(TaskClaim.encode(claim), options)
    await answered
    const assignment = decodeFrame('Assignment', await lp.read(options))
    await stream.close(options)
    return assignment
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

/** Worker side of §6.3: submits signed results, returns one status per result, in order. */
export async function submitResults(
  peer: WorkComponents,
  requester: PeerId,
  envelopes: Uint8Array[],
  options: AbortOptions = {}
): Promise<ResultStatus[]> {
  const stream = await dialDirect(peer.libp2p, requester, RESULT_PROTOCOL, options)
  try {
    const lp = frameStream(stream, 'ResultAck')
    await lp.write(ResultSubmission.encode({ results: envelopes as Uint8Array<ArrayBuffer>[] }), options)
    const ack = decodeFrame('ResultAck', await lp.read(options))
    await stream.close(options)
    if (ack.statuses.length !== envelopes.length) {
      throw new ProtocolViolationError(`requester answered ${ack.statuses.length} statuses for ${envelopes.length} results`)
    }
    return ack.statuses
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
