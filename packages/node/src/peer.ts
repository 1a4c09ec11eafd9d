/**
 * An openbatch peer: libp2p 3 with TCP and/or the memory transport, noise, yamux, identify, ping,
 * a private kad-dht (protocol prefix /openbatch, spec §4.1) with the capacity-record validator and
 * selector registered (spec §4.2), and gossipsub (spec §5). Its Reputation (spec §7.6) refuses
 * connections to and from banned peers, feeds gossipsub's application-specific score, and takes
 * every valid fraud proof the peer receives (§7.5).
 */

import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import {
  CAPACITY_NAMESPACE,
  type CheckedFraudProof,
  DHT_PROTOCOL_PREFIX,
  open,
  STATEMENTS,
  selectCapacityRecord,
  sha256,
  validateCapacityEntry
} from '@openbatch/protocol'
import { MemoryDatastore } from 'datastore-core'
import { FsDatastore } from 'datastore-fs'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { type PeerConfig, type ResolvedConfig, resolveConfig } from './config.js'
import { FraudBoard } from './fraud.js'
import { loadOrCreateIdentity } from './identity.js'
import { Reputation } from './reputation.js'

// A type alias (not an interface) so it satisfies libp2p's ServiceMap index signature.
export type PeerServices = {
  dht: KadDHT
  pubsub: GossipSub
  identify: ReturnType<ReturnType<typeof identify>>
  ping: ReturnType<ReturnType<typeof ping>>
}

export type OpenbatchLibp2p = Libp2p<PeerServices>

/** §4.2 validator for kad-dht: the wall clock is read here, at the edge, not in the protocol code. */
async function validateCapacity(key: Uint8Array, value: Uint8Array): Promise<void> {
  await validateCapacityEntry(key, value, Date.now())
}

/** §4.2 selector for kad-dht: highest seq, then later expiry, then larger bytes. */
async function selectCapacity(_key: Uint8Array, values: Uint8Array[]): Promise<number> {
  const decoded = await Promise.all(
    values.map(async (bytes) => {
      try {
        return { bytes, record: (await open(STATEMENTS.capacity, bytes)).message }
      } catch {
        return { bytes }
      }
    })
  )
  return selectCapacityRecord(decoded)
}

/**
 * The libp2p options of an openbatch peer as a plain object, for callers who want to adjust them
 * before creating the node (after Helia's `libp2pDefaults()`).
 */
export function libp2pOptions(
  config: ResolvedConfig,
  privateKey: PrivateKey,
  datastore: Libp2pOptions['datastore'],
  reputation: Reputation = new Reputation()
): Libp2pOptions<PeerServices> {
  const loopback = new Set(['127.0.0.1', '::1'])
  const banned = async (peer: PeerId) => reputation.isBanned(peer)
  return {
    privateKey,
    datastore,
    addresses: { listen: config.listen },
    transports: [...(config.transports.includes('tcp') ? [tcp()] : []), ...(config.transports.includes('memory') ? [memory()] : [])],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: config.bootstrap.length > 0 ? [bootstrap({ list: config.bootstrap })] : [],
    // §7.6: banned peers are refused connections both ways.
    connectionGater: {
      ...(config.local ? { denyDialMultiaddr: async () => false } : {}),
      denyDialPeer: banned,
      denyInboundEncryptedConnection: banned,
      denyOutboundEncryptedConnection: banned
    },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: `${DHT_PROTOCOL_PREFIX}/kad/1.0.0`,
        clientMode: false,
        peerInfoMapper: config.local ? passthroughMapper : removePrivateAddressesMapper,
        validators: { [CAPACITY_NAMESPACE]: validateCapacity },
        selectors: { [CAPACITY_NAMESPACE]: selectCapacity }
      }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        // Spec §5: the message id is SHA-256 of the data, so one statement relayed by several
        // peers is one message.
        msgIdFn: (msg) => sha256(msg.data),
        // Single-host networks: many peers on one IP would score each other negative and empty
        // their meshes (spec §5). Public networks keep gossipsub's defaults.
        scoreParams: {
          ...(config.local ? { IPColocationFactorWhitelist: loopback } : {}),
          // §7.6: reputation feeds the application-specific score (P5).
          appSpecificScore: (peer: string) => reputation.appScore(peer)
        }
      })
    }
  }
}

/** A running (after `start()`) openbatch peer. */
export class OpenbatchPeer {
  private readonly fraud: FraudBoard
  private unsubscribeBans?: () => void
  /** Valid fraud proofs received from the network (each one counted against its accused). */
  fraudProofsReceived = 0
  private readonly fraudListeners = new Set<(proof: CheckedFraudProof, reporter: PeerId) => void>()

  constructor(
    readonly libp2p: OpenbatchLibp2p,
    readonly config: ResolvedConfig,
    readonly reputation: Reputation = new Reputation()
  ) {
    // §7.5: every peer checks every fraud proof itself; a valid one counts against the accused.
    this.fraud = new FraudBoard(this, {
      onProof: (proof, reporter) => {
        this.fraudProofsReceived++
        this.reputation.offence(proof.accused.signer.toString())
        for (const listener of this.fraudListeners) {
          listener(proof, reporter)
        }
      }
    })
  }

  /** Calls `listener` for each valid fraud proof received (after it was counted against the accused). */
  onFraudProof(listener: (proof: CheckedFraudProof, reporter: PeerId) => void): () => void {
    this.fraudListeners.add(listener)
    return () => this.fraudListeners.delete(listener)
  }

  get peerId(): PeerId {
    return this.libp2p.peerId
  }

  get privateKey(): PrivateKey {
    return this.config.privateKey as PrivateKey
  }

  /** Listening addresses, each ending in /p2p/<peer id>. */
  get addresses(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString())
  }

  async start(): Promise<void> {
    await this.libp2p.start()
    this.fraud.start()
    // A peer banned while connected is disconnected at once.
    this.unsubscribeBans = this.reputation.onBan((peer) => {
      const conn = this.libp2p.getConnections().find((c) => c.remotePeer.toString() === peer)
      if (conn != null) {
        void this.libp2p.hangUp(conn.remotePeer).catch(() => {})
      }
    })
  }

  async stop(): Promise<void> {
    this.unsubscribeBans?.()
    this.fraud.stop()
    await this.libp2p.stop()
    this.reputation.close()
  }
}

/** What a peer is built with besides its plain config: libp2p metrics (e.g. `prometheusMetrics()`). */
export interface PeerComponents {
  metrics?: Libp2pOptions['metrics']
}

/** Creates (without starting) an openbatch peer from `config`. */
export async function createPeer(config: PeerConfig = {}, components: PeerComponents = {}): Promise<OpenbatchPeer> {
  const resolved = resolveConfig(config)
  let privateKey = resolved.privateKey
  let datastore: Libp2pOptions['datastore'] = new MemoryDatastore()
  if (resolved.dataDir != null) {
    privateKey ??= await loadOrCreateIdentity(join(resolved.dataDir, 'identity.key'))
    const fs = new FsDatastore(join(resolved.dataDir, 'datastore'))
    await fs.open()
    datastore = fs
  }
  if (privateKey == null) {
    const { generateKeyPair } = await import('@libp2p/crypto/keys')
    privateKey = await generateKeyPair('Ed25519')
  }
  const reputation = new Reputation(resolved.dataDir == null ? undefined : join(resolved.dataDir, 'reputation.db'))
  const libp2p = await createLibp2p<PeerServices>({
    ...libp2pOptions(resolved, privateKey, datastore, reputation),
    ...(components.metrics == null ? {} : { metrics: components.metrics }),
    start: false
  })
  return new OpenbatchPeer(libp2p, { ...resolved, privateKey }, reputation)
}
