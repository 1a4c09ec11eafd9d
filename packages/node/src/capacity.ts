/**
 * Capacity in the DHT (spec §4.2, §4.3): a worker seals its capacity record, `put`s it under its
 * key and `provide`s every model it serves plus the worker rendezvous CID; a requester finds
 * providers of a model and keeps those whose capacity record verifies and lists the model —
 * fetched from the worker itself over /openbatch/capacity/1.0.0 (one round trip), or from the
 * DHT when the worker cannot be reached.
 */

import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import {
  CAPACITY_PROTOCOL,
  CAPACITY_TTL_MS,
  type CapacityRecord,
  capacityKey,
  type Device,
  DIRECT_UPGRADE_TIMEOUT_MS,
  MAX_CAPACITY_RECORD_BYTES,
  type ModelCapacity,
  parseModelCid,
  peerIdBytes,
  STATEMENTS,
  seal,
  validateCapacityEntry,
  WORKER_RENDEZVOUS_CID,
  WORKER_SHARDS,
  workerShard,
  workerShardCid
} from '@openbatch/protocol'
import { equals } from 'uint8arrays/equals'
import type { OpenbatchComponents } from './components.js'
import { dialDirect } from './direct.js'
import { NoWorkersError } from './errors.js'
import { deadline, sleep, withDeadline } from './signals.js'

/** What capacity uses of a peer. */
export type CapacityComponents = Pick<OpenbatchComponents, 'libp2p' | 'peerId' | 'privateKey'>

export interface CapacityInit {
  devices: Device[]
  models: ModelCapacity[]
  /** @default CAPACITY_TTL_MS */
  ttlMs?: number
}

export interface WorkerInfo {
  peerId: PeerId
  record: CapacityRecord
}

const lastSeq = new WeakMap<CapacityComponents, bigint>()
/** The signed capacity record each peer published last, served over CAPACITY_PROTOCOL. */
const published = new WeakMap<CapacityComponents, Uint8Array>()

/** Serves this peer's latest capacity record over /openbatch/capacity/1.0.0 (§4.3); the answer is empty before one is published. */
export async function serveCapacity(peer: CapacityComponents): Promise<void> {
  await peer.libp2p.handle(
    CAPACITY_PROTOCOL,
    async (stream: Stream) => {
      try {
        const lp = lpStream(stream, { maxDataLength: 0 })
        await lp.write(published.get(peer) ?? new Uint8Array(), { signal: AbortSignal.timeout(10_000) })
        await stream.close({ signal: AbortSignal.timeout(10_000) })
      } catch (err) {
        stream.abort(err as Error)
      }
    },
    { maxInboundStreams: 32 }
  )
}

/** Asks `worker` itself for its capacity record; returns the signed bytes (unchecked) or undefined. */
export async function fetchCapacity(peer: CapacityComponents, worker: PeerId, options: AbortOptions = {}): Promise<Uint8Array | undefined> {
  // §4.4: not over a limited relay; dialDirect also starts the WebRTC connection to a NATed worker
  // that gossip (the job's announcement) then needs.
  const stream = await dialDirect(peer.libp2p, worker, CAPACITY_PROTOCOL, options)
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_CAPACITY_RECORD_BYTES })
    const bytes = (await lp.read(options)).subarray()
    await stream.close(options)
    return bytes.byteLength === 0 ? undefined : bytes
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

/**
 * Publishes this peer's capacity record and provider records. The seq is the wall clock in ms (or
 * one more than the last one published), so it increases across restarts without being stored.
 */
export async function publishCapacity(peer: CapacityComponents, init: CapacityInit, options: AbortOptions = {}): Promise<CapacityRecord> {
  const now = Date.now()
  const seq = [BigInt(now), (lastSeq.get(peer) ?? 0n) + 1n].reduce((a, b) => (a > b ? a : b))
  const record: CapacityRecord = {
    worker: peerIdBytes(peer.peerId),
    seq,
    issuedAtMs: BigInt(now),
    expiresAtMs: BigInt(now + (init.ttlMs ?? CAPACITY_TTL_MS)),
    devices: init.devices,
    models: init.models
  }
  const bytes = await seal(STATEMENTS.capacity, record, peer.privateKey)
  published.set(peer, bytes) // served to those who ask this peer directly, from now on
  await peer.libp2p.contentRouting.put(capacityKey(peer.peerId), bytes, options)
  const shard = workerShard(peer.peerId)
  for (const m of init.models) {
    await peer.libp2p.contentRouting.provide(parseModelCid(m.model), options)
    // §4.3: and the model's worker shard, so listings stay complete beyond one search's k providers.
    await peer.libp2p.contentRouting.provide(workerShardCid(m.model, shard), options)
  }
  await peer.libp2p.contentRouting.provide(WORKER_RENDEZVOUS_CID, options)
  lastSeq.set(peer, seq)
  return record
}

/**
 * A peer's verified capacity record (§4.2): asked of the worker itself first (at most
 * `directTimeoutMs`), else looked up in the DHT; undefined when it has none or it fails §4.2.
 */
export async function getCapacity(
  peer: CapacityComponents,
  worker: PeerId,
  options: AbortOptions & { directTimeoutMs?: number } = {}
): Promise<CapacityRecord | undefined> {
  const key = capacityKey(worker)
  try {
    const bytes = await withDeadline(options.directTimeoutMs ?? 3000, (signal) => fetchCapacity(peer, worker, { signal }), options.signal)
    if (bytes != null) {
      return (await validateCapacityEntry(key, bytes, Date.now())).message
    }
  } catch {
    // Not reachable in time (e.g. behind a NAT, reached through a relay), or an invalid answer: the
    // DHT holds its record too. The connection is still made, with longer to do it: the job's
    // announcement reaches the worker only over a connection (§4.4, §5.1), through an unlimited
    // relay or over WebRTC.
    if (peer.libp2p.getConnections(worker).every((c) => c.limits != null)) {
      peer.libp2p.dial(worker, { signal: AbortSignal.timeout(DIRECT_UPGRADE_TIMEOUT_MS) }).catch(() => {})
    }
  }
  try {
    const value = await peer.libp2p.contentRouting.get(key, options)
    return (await validateCapacityEntry(key, value, Date.now())).message
  } catch {
    return undefined
  }
}

export interface FindWorkersOptions extends AbortOptions {
  /** Stop after this many workers. */
  limit?: number
  /** Capacity records looked up at once. @default 8 */
  concurrency?: number
  /** Peer ids (strings) already known: not looked up again (a search that resumes). */
  skip?: ReadonlySet<string>
}

/**
 * Workers that provide `model` and whose verified capacity record lists it (spec §4.3), yielded
 * as each record arrives. The providers of the model and of its WORKER_SHARDS worker shards are
 * searched at once — one DHT provider search stops after k (20) providers, the shards keep each
 * under that — and the capacity records are fetched `concurrency` at a time meanwhile.
 */
export async function* findWorkers(peer: CapacityComponents, model: string, options: FindWorkersOptions = {}): AsyncGenerator<WorkerInfo> {
  const cid = parseModelCid(model)
  const concurrency = Math.max(1, options.concurrency ?? 8)
  const seen = new Set<string>(options.skip ?? [])
  const searches = [cid, ...Array.from({ length: WORKER_SHARDS }, (_, s) => workerShardCid(cid, s))]
  const stop = new AbortController()
  const signal = AbortSignal.any([stop.signal, ...(options.signal == null ? [] : [options.signal])])
  const providers = merge(searches.map((key) => peer.libp2p.contentRouting.findProviders(key, { signal })))
  const pending = new Map<number, Promise<{ id: number; worker?: WorkerInfo }>>()
  let next = 0
  let found = 0
  const lookup = (provider: PeerId) => {
    const id = next++
    pending.set(
      id,
      getCapacity(peer, provider, { signal }).then((record) => ({
        id,
        worker: record?.models.some((m) => equals(m.model, cid.bytes)) === true ? { peerId: provider, record } : undefined
      }))
    )
  }
  const settleOne = async () => {
    const { id, worker } = await Promise.race(pending.values())
    pending.delete(id)
    return worker
  }
  try {
    for await (const provider of providers) {
      const key = provider.id.toString()
      if (seen.has(key) || provider.id.equals(peer.peerId)) {
        continue
      }
      seen.add(key)
      lookup(provider.id)
      while (pending.size >= concurrency) {
        const worker = await settleOne()
        if (worker != null) {
          yield worker
          if (++found === options.limit) {
            return
          }
        }
      }
    }
    while (pending.size > 0) {
      const worker = await settleOne()
      if (worker != null) {
        yield worker
        if (++found === options.limit) {
          return
        }
      }
    }
  } finally {
    stop.abort() // the searches still running are not needed any more
  }
}

/** Yields the items of several async iterables as they come; a failing one ends only itself. */
async function* merge<T>(sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]())
  const step = (i: number) =>
    (iterators[i] as AsyncIterator<T>).next().then(
      (r) => ({ i, r }),
      () => ({ i, r: { done: true, value: undefined } as IteratorResult<T> })
    )
  const live = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>(iterators.map((_, i) => [i, step(i)]))
  try {
    while (live.size > 0) {
      const { i, r } = await Promise.race(live.values())
      if (r.done === true) {
        live.delete(i)
        continue
      }
      live.set(i, step(i))
      yield r.value
    }
  } finally {
    await Promise.allSettled(iterators.map((it) => it.return?.()))
  }
}

/** How long one publication (record and provider records) may take before it is tried again. */
const PUBLISH_TIMEOUT_MS = 5 * 60_000

/**
 * Keeps a worker's capacity record in the DHT (spec §4.2): publishes now, republishes at half the
 * record's lifetime, and at once whenever `update()` changes what the worker offers. A peer with
 * no connections yet publishes when its first peer connects; a failed publish is retried after
 * 1 s, doubling up to a minute.
 */
export class CapacityPublisher {
  private timer?: ReturnType<typeof setTimeout>
  private running = false
  private waitingForPeers = false
  private retryMs = 1000
  private publishing: Promise<unknown> = Promise.resolve()
  /** The record most recently published. */
  current?: CapacityRecord

  constructor(
    private readonly peer: CapacityComponents,
    private offer: CapacityInit,
    private readonly onError: (err: Error) => void = () => {}
  ) {}

  async start(): Promise<void> {
    this.running = true
    this.peer.libp2p.addEventListener('peer:connect', this.onConnect)
    await this.publish()
  }

  stop(): void {
    this.running = false
    this.peer.libp2p.removeEventListener('peer:connect', this.onConnect)
    clearTimeout(this.timer)
  }

  private readonly onConnect = () => {
    if (this.waitingForPeers) {
      this.waitingForPeers = false
      void this.publish()
    }
  }

  /** New devices or models: republish now. */
  async update(offer: CapacityInit): Promise<void> {
    this.offer = offer
    await this.publish()
  }

  private publish(): Promise<void> {
    const run = this.publishing.then(async () => {
      if (!this.running) {
        return
      }
      clearTimeout(this.timer)
      if (this.peer.libp2p.getConnections().length === 0) {
        this.waitingForPeers = true // nobody to store it: publish when a peer connects
        return
      }
      const ttl = this.offer.ttlMs ?? CAPACITY_TTL_MS
      let next = ttl / 2
      try {
        this.current = await withDeadline(PUBLISH_TIMEOUT_MS, (signal) => publishCapacity(this.peer, this.offer, { signal }))
        this.retryMs = 1000
      } catch (err) {
        this.onError(err as Error)
        next = Math.min(next, this.retryMs)
        this.retryMs = Math.min(60_000, this.retryMs * 2)
      }
      if (this.running) {
        this.timer = setTimeout(() => void this.publish(), next)
        this.timer.unref()
      }
    })
    this.publishing = run
    return run
  }
}

export interface DiscoverWorkersOptions extends AbortOptions {
  /** Workers to find. @default 1 */
  minWorkers?: number
  /** How long to keep searching. @default 30_000 */
  timeoutMs?: number
  /** Pause between two DHT searches that found too few (records spread as workers publish). @default 250 */
  retryMs?: number
  /**
   * The most a worker may ask per item for `model` (its capacity record's `price_per_item`, §3.2):
   * workers asking more are not counted. @default no maximum
   */
  maxPricePerItem?: bigint
}

/**
 * Searches the DHT (spec §4.3) until `minWorkers` workers of `model` are found; resolves with them,
 * or rejects with NoWorkersError after `timeoutMs` (with `signal`'s reason when it aborts).
 */
export async function discoverWorkers(
  peer: CapacityComponents,
  model: string,
  options: DiscoverWorkersOptions = {}
): Promise<WorkerInfo[]> {
  const minWorkers = options.minWorkers ?? 1
  const timeoutMs = options.timeoutMs ?? 30_000
  const retryMs = options.retryMs ?? 250
  const started = Date.now()
  // Cleared when the search ends: a deadline firing later must not reach the DHT's queries.
  const search = deadline(timeoutMs, options.signal)
  const found = new Map<string, WorkerInfo>()
  const tooDear = new Set<string>()
  const max = options.maxPricePerItem
  try {
    while (!search.signal.aborted) {
      try {
        // Workers found by an earlier round are not looked up again.
        for await (const w of findWorkers(peer, model, { signal: search.signal, skip: new Set([...found.keys(), ...tooDear]) })) {
          const offer = w.record.models.find((m) => parseModelCid(m.model).toString() === model)
          if (max != null && offer != null && offer.pricePerItem > max) {
            tooDear.add(w.peerId.toString())
            continue
          }
          found.set(w.peerId.toString(), w)
          if (found.size >= minWorkers) {
            return [...found.values()]
          }
        }
      } catch {
        // a lookup cut short by the timeout, or no DHT peers yet
      }
      await sleep(retryMs, search.signal).catch(() => {}) // aborted: the loop ends
    }
  } finally {
    search.clear()
  }
  options.signal?.throwIfAborted()
  throw new NoWorkersError(
    model,
    Date.now() - started,
    found.size,
    minWorkers,
    peer.libp2p.getConnections().length,
    max == null ? undefined : { count: tooDear.size, maxPricePerItem: max }
  )
}
