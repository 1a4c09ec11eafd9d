/**
 * Capacity in the DHT (spec §4.2, §4.3): a worker seals its capacity record, `put`s it under its
 * key and `provide`s every model it serves plus the worker rendezvous CID; a requester finds
 * providers of a model and keeps those whose capacity record verifies and lists the model.
 */

import type { AbortOptions, PeerId } from '@libp2p/interface'
import {
  CAPACITY_TTL_MS,
  type CapacityRecord,
  capacityKey,
  type Device,
  type ModelCapacity,
  parseModelCid,
  peerIdBytes,
  STATEMENTS,
  seal,
  validateCapacityEntry,
  WORKER_RENDEZVOUS_CID
} from '@openbatch/protocol'
import { equals } from 'uint8arrays/equals'
import type { OpenbatchPeer } from './peer.js'

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

const lastSeq = new WeakMap<OpenbatchPeer, bigint>()

/**
 * Publishes this peer's capacity record and provider records. The seq is the wall clock in ms (or
 * one more than the last one published), so it increases across restarts without being stored.
 */
export async function publishCapacity(peer: OpenbatchPeer, init: CapacityInit, options: AbortOptions = {}): Promise<CapacityRecord> {
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
  await peer.libp2p.contentRouting.put(capacityKey(peer.peerId), bytes, options)
  for (const m of init.models) {
    await peer.libp2p.contentRouting.provide(parseModelCid(m.model), options)
  }
  await peer.libp2p.contentRouting.provide(WORKER_RENDEZVOUS_CID, options)
  lastSeq.set(peer, seq)
  return record
}

/** A peer's verified capacity record from the DHT, or undefined when it has none or it fails §4.2. */
export async function getCapacity(peer: OpenbatchPeer, worker: PeerId, options: AbortOptions = {}): Promise<CapacityRecord | undefined> {
  const key = capacityKey(worker)
  try {
    const value = await peer.libp2p.contentRouting.get(key, options)
    return (await validateCapacityEntry(key, value, Date.now())).message
  } catch {
    return undefined
  }
}

/** Workers that provide `model` and whose verified capacity record lists it. */
export async function* findWorkers(
  peer: OpenbatchPeer,
  model: string,
  options: AbortOptions & { limit?: number } = {}
): AsyncGenerator<WorkerInfo> {
  const cid = parseModelCid(model)
  const seen = new Set<string>()
  let found = 0
  for await (const provider of peer.libp2p.contentRouting.findProviders(cid, options)) {
    const id = provider.id.toString()
    if (seen.has(id) || provider.id.equals(peer.peerId)) {
      continue
    }
    seen.add(id)
    const record = await getCapacity(peer, provider.id, options)
    if (record?.models.some((m) => equals(m.model, cid.bytes)) === true) {
      yield { peerId: provider.id, record }
      if (++found === options.limit) {
        return
      }
    }
  }
}

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
    private readonly peer: OpenbatchPeer,
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
        this.current = await publishCapacity(this.peer, this.offer, { signal: AbortSignal.timeout(60_000) })
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
