/**
 * Model transfer (spec §6.4): a provider serves a model's bytes in chunks over
 * /openbatch/model/1.0.0; a peer that lacks a model fetches it chunk by chunk from one provider
 * after another, refusing oversized or inconsistent answers, and keeps the bytes only if they hash
 * to the model's CID.
 */

import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import {
  concatBytes,
  decodeFrame,
  ErrorCode,
  MAX_MODEL_BYTES,
  MAX_MODEL_CHUNK_BYTES,
  MODEL_PROTOCOL,
  ModelChunk,
  ModelRequest,
  modelMatchesCid,
  parseModelCid,
  STREAM_TIMEOUT_MS
} from '@openbatch/protocol'
import { equals } from 'uint8arrays/equals'
import type { OpenbatchComponents } from './components.js'
import { dialDirect } from './direct.js'
import { ProtocolViolationError } from './errors.js'
import { frameStream } from './framing.js'

/** What models uses of a peer. */
export type ModelComponents = Pick<OpenbatchComponents, 'libp2p' | 'peerId'>

/** Where a provider's model bytes come from (e.g. a ModelStore). */
export interface ModelSource {
  /** The model's bytes, or undefined when this peer does not hold it. */
  get(model: string): Promise<Uint8Array | undefined>
}

/** No provider delivered the model; `failures` says what each one did. */
export class ModelFetchError extends Error {
  override readonly name = 'ModelFetchError'
  constructor(
    message: string,
    readonly failures: { provider: string; reason: string }[]
  ) {
    super(message)
  }
}

/** Serves /openbatch/model/1.0.0 from a ModelSource. */
export class ModelServer {
  private started = false

  constructor(
    private readonly peer: ModelComponents,
    private readonly source: ModelSource,
    private readonly init: { timeoutMs?: number } = {}
  ) {}

  async start(): Promise<void> {
    if (!this.started) {
      this.started = true
      await this.peer.libp2p.handle(MODEL_PROTOCOL, (stream) => this.serve(stream), { maxInboundStreams: 16 })
    }
  }

  async stop(): Promise<void> {
    if (this.started) {
      this.started = false
      await this.peer.libp2p.unhandle(MODEL_PROTOCOL)
    }
  }

  private async serve(stream: Stream): Promise<void> {
    const timeoutMs = this.init.timeoutMs ?? STREAM_TIMEOUT_MS
    const lp = frameStream(stream, 'ModelRequest')
    let bytes: Uint8Array | undefined
    let model: Uint8Array | undefined
    try {
      // One request after another on the same stream; each must come within the timeout.
      while (true) {
        let raw: Awaited<ReturnType<typeof lp.read>>
        try {
          raw = await lp.read({ signal: AbortSignal.timeout(timeoutMs) })
        } catch (err) {
          if (stream.readStatus !== 'readable') {
            break // the client closed its side: transfer over
          }
          throw err
        }
        const req = decodeFrame('ModelRequest', raw)
        if (model == null || !equals(model, req.model)) {
          model = req.model
          bytes = await this.source.get(parseModelCid(req.model).toString())
        }
        if (bytes == null) {
          await lp.write(ModelChunk.encode({ code: ErrorCode.MODEL_NOT_FOUND, totalSize: 0n, offset: req.offset, data: new Uint8Array() }))
          break
        }
        const offset = Number(req.offset)
        const length = Math.min(req.length, MAX_MODEL_CHUNK_BYTES)
        const data = bytes.subarray(Math.min(offset, bytes.byteLength), Math.min(offset + length, bytes.byteLength))
        await lp.write(
          ModelChunk.encode({
            code: ErrorCode.OK,
            totalSize: BigInt(bytes.byteLength),
            offset: req.offset,
            data: data as Uint8Array<ArrayBuffer>
          })
        )
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

async function fetchFrom(
  peer: ModelComponents,
  provider: PeerId,
  model: Uint8Array,
  maxBytes: number,
  options: AbortOptions
): Promise<Uint8Array> {
  const stream = await dialDirect(peer.libp2p, provider, MODEL_PROTOCOL, options)
  try {
    const lp = frameStream(stream, 'ModelChunk')
    let total: number | undefined
    const parts: Uint8Array[] = []
    let offset = 0
    while (total === undefined || offset < total) {
      await lp.write(
        ModelRequest.encode({ model: model as Uint8Array<ArrayBuffer>, offset: BigInt(offset), length: MAX_MODEL_CHUNK_BYTES }),
        options
      )
      const chunk = decodeFrame('ModelChunk', await lp.read(options))
      if (chunk.code !== ErrorCode.OK) {
        throw new ProtocolViolationError(`answered ${chunk.code}`)
      }
      const size = Number(chunk.totalSize)
      if (size > maxBytes) {
        throw new ProtocolViolationError(`announces ${size} bytes, more than the ${maxBytes}-byte limit`)
      }
      if (total !== undefined && size !== total) {
        throw new ProtocolViolationError(`changed the model size from ${total} to ${size} mid-transfer`)
      }
      total = size
      if (
        Number(chunk.offset) !== offset ||
        chunk.data.byteLength > MAX_MODEL_CHUNK_BYTES ||
        (chunk.data.byteLength === 0 && offset < total)
      ) {
        throw new ProtocolViolationError(
          `sent a chunk that does not fit the request (offset ${chunk.offset}, ${chunk.data.byteLength} bytes)`
        )
      }
      parts.push(chunk.data)
      offset += chunk.data.byteLength
      if (offset > total) {
        throw new ProtocolViolationError('sent more bytes than it announced')
      }
    }
    await stream.close(options)
    return concatBytes(parts)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

export interface FetchModelOptions extends AbortOptions {
  /** Providers to try, in order. @default providers found in the DHT */
  providers?: PeerId[]
  /**
   * A peer asked before `providers` (or the DHT, which is searched only when it fails): the
   * requester of the job that needs the model, which holds it (§6.4).
   */
  first?: PeerId
  /** @default MAX_MODEL_BYTES */
  maxBytes?: number
}

/** Fetches a model by CID from the first provider that delivers bytes matching it (spec §6.4). */
export async function fetchModel(peer: ModelComponents, model: string, options: FetchModelOptions = {}): Promise<Uint8Array> {
  const cid = parseModelCid(model)
  const maxBytes = Math.min(options.maxBytes ?? MAX_MODEL_BYTES, MAX_MODEL_BYTES)
  const failures: { provider: string; reason: string }[] = []
  const tried: PeerId[] = []
  const from = async (provider: PeerId): Promise<Uint8Array | undefined> => {
    if (provider.equals(peer.peerId) || tried.some((p) => p.equals(provider))) {
      return undefined
    }
    tried.push(provider)
    try {
      const bytes = await fetchFrom(peer, provider, cid.bytes, maxBytes, options)
      if (modelMatchesCid(bytes, cid)) {
        return bytes
      }
      failures.push({ provider: provider.toString(), reason: 'sent bytes that do not hash to the model CID' })
    } catch (err) {
      options.signal?.throwIfAborted()
      failures.push({ provider: provider.toString(), reason: (err as Error).message })
    }
    return undefined
  }
  const first = options.first == null ? undefined : await from(options.first)
  if (first != null) {
    return first
  }
  for (const provider of options.providers ?? (await collectProviders(peer, cid, options))) {
    const bytes = await from(provider)
    if (bytes != null) {
      return bytes
    }
  }
  throw new ModelFetchError(
    failures.length === 0 ? `no provider of model ${model} was found` : `no provider delivered model ${model}`,
    failures
  )
}

async function collectProviders(peer: ModelComponents, cid: ReturnType<typeof parseModelCid>, options: AbortOptions): Promise<PeerId[]> {
  const found: PeerId[] = []
  for await (const p of peer.libp2p.contentRouting.findProviders(cid, options)) {
    if (!found.some((f) => f.equals(p.id))) {
      found.push(p.id)
    }
  }
  return found
}
