/**
 * An openbatch peer: libp2p 3 with TCP and/or the memory transport, noise, yamux, identify, ping,
 * a private kad-dht (protocol prefix /openbatch, spec §4.1) with the capacity-record validator and
 * selector registered (spec §4.2), gossipsub (spec §5), mDNS on the LAN, and the job directory
 * (§6.7). Its Reputation (spec §7.6) refuses connections to and from banned peers, feeds
 * gossipsub's application-specific score, and takes every valid fraud proof the peer receives
 * (§7.5). Private and loopback addresses are used inside this host's own networks (§4.1).
 */

import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import { autoNATv2 } from '@libp2p/autonat-v2'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { ComponentLogger, Logger, PeerId, PrivateKey } from '@libp2p/interface'
import { kadDHT } from '@libp2p/kad-dht'
import { enabled, logger } from '@libp2p/logger'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { uPnPNAT } from '@libp2p/upnp-nat'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
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
import { isUsableAddress, usableAddressesMapper } from './addresses.js'
import { serveCapacity } from './capacity.js'
import { guardCapacityRecords } from './capacity-records.js'
import type { OpenbatchLibp2p, PeerServices } from './components.js'
import { type PeerConfig, type ResolvedConfig, resolveConfig } from './config.js'
import { FraudBoard } from './fraud.js'
import { paceGcToExternalMemory } from './gc.js'
import { loadOrCreateIdentity } from './identity.js'
import { JobDirectory } from './jobs.js'
import { isRelayAddress, type NetworkReport, observedAddresses, reachabilityOf } from './reachability.js'
import { Reputation } from './reputation.js'

export type { OpenbatchLibp2p, PeerServices } from './components.js'

const disabledLog: Logger = Object.assign(() => {}, {
  enabled: false,
  error: () => {},
  trace: () => {},
  newScope: () => disabledLog
})

/**
 * libp2p's loggers, created only for the components DEBUG names (`DEBUG=libp2p:*` as usual); every
 * other component shares one disabled logger.
 */
export const quietLogger: ComponentLogger = {
  forComponent: (name) => (enabled(name) || enabled(`${name}:error`) ? logger(name) : disabledLog)
}

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
  // Many peers of one host share its loopback address; that is no sign of a Sybil attack from
  // one remote IP, so gossipsub's IP-colocation penalty never counts it (spec §5).
  const loopback = new Set(['127.0.0.1', '::1'])
  const banned = async (peer: PeerId) => reputation.isBanned(peer)
  const network = config.transports.some((t) => t !== 'memory')
  return {
    privateKey,
    // §4.2: a held capacity record is replaced only by one the selector prefers.
    datastore: guardCapacityRecords(datastore ?? new MemoryDatastore()),
    addresses: { listen: listenAddresses(config), appendAnnounce: config.announce },
    connectionManager: { maxConnections: config.maxConnections, inboundConnectionThreshold: config.inboundConnectionsPerSecond },
    connectionMonitor: { enabled: config.connectionMonitor },
    // One logger for every component: libp2p's default builds a logger per stream, each checking
    // whether stderr is a TTY (5 % of a crowd's CPU, issue #13); DEBUG= still enables them.
    logger: quietLogger,
    transports: [
      ...(config.transports.includes('tcp') ? [tcp()] : []),
      ...(config.transports.includes('quic') ? [quic()] : []),
      ...(config.transports.includes('websockets') ? [webSockets()] : []),
      // §4.4: peers both behind NATs connect directly over WebRTC: offers and answers cross a relay
      // (/webrtc-signaling/0.0.1), ICE punches the NATs with the STUN servers' mappings.
      ...(config.transports.includes('webrtc')
        ? [webRTC({ rtcConfiguration: { iceServers: config.stun.map((urls) => ({ urls })) } })]
        : []),
      ...(config.transports.includes('memory') ? [memory()] : []),
      // §4.4: any peer on a network dials relay addresses (a NATed requester or worker is reached
      // through one); it reserves a slot itself when it listens on /p2p-circuit.
      ...(network ? [circuitRelayTransport()] : [])
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: config.bootstrap.length > 0 ? [bootstrap({ list: config.bootstrap })] : [],
    connectionGater: {
      // §4.1: non-public addresses only inside this host's networks (any, with `local`).
      denyDialMultiaddr: async (ma) => !isUsableAddress(ma, config.local),
      // §7.6: banned peers are refused connections both ways.
      denyDialPeer: banned,
      denyInboundEncryptedConnection: banned,
      denyOutboundEncryptedConnection: banned
    },
    services: {
      identify: identify(),
      // kad-dht's contact checks and libp2p's connection monitor both ping over /ipfs/ping/1.0.0
      // on the same connection, independently. With the default of one outbound ping stream the
      // second is refused (TooManyOutboundProtocolStreamsError), and the connection monitor takes
      // the refusal for a dead peer and closes a healthy connection (issue #11: every ~10 s). The
      // remote's pingers overlap the same way on our side, so inbound allows 8, not 2.
      ping: ping({ maxOutboundStreams: 4, maxInboundStreams: 8 }),
      dht: kadDHT({
        protocol: `${DHT_PROTOCOL_PREFIX}/kad/1.0.0`,
        clientMode: false,
        alpha: config.dht.alpha,
        disjointPaths: config.dht.disjointPaths,
        kBucketSize: config.dht.kBucketSize,
        peerInfoMapper: usableAddressesMapper(config.local),
        validators: { [CAPACITY_NAMESPACE]: validateCapacity },
        selectors: { [CAPACITY_NAMESPACE]: selectCapacity }
      }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        // Spec §5: the message id is SHA-256 of the data, so one statement relayed by several
        // peers is one message.
        msgIdFn: (msg) => sha256(msg.data),
        // The same id, read before the signature is checked: a copy of a message already
        // validated is dropped without verifying its signature again (§5; each copy a mesh peer
        // relays was another Ed25519 verification — ~10 per announcement per peer among 17).
        fastMsgIdFn: (msg) =>
          createHash('sha256')
            .update(msg.data ?? NO_BYTES)
            .digest('base64'),
        scoreParams: {
          IPColocationFactorWhitelist: loopback,
          // §7.6: reputation feeds the application-specific score (P5).
          appSpecificScore: (peer: string) => reputation.appScore(peer)
        }
      }),
      ...(config.mdns === false ? {} : { mdns: mdns({ serviceTag: config.mdns.serviceTag, interval: config.mdns.intervalMs }) }),
      // §4.4: a limited relay carries control messages and hole punching, never bulk data; an
      // operator's unlimited relay may carry everything.
      ...(config.relay.serve === false
        ? {}
        : { relay: circuitRelayServer({ reservations: { applyDefaultLimit: config.relay.serve === 'limited' } }) }),
      ...(config.holePunch ? { dcutr: dcutr() } : {}),
      ...(network ? { observed: observedAddresses() } : {}),
      ...(config.autonat ? { autonat: autoNATv2() } : {}),
      // The home router itself reports the mapping, so its address counts at once; AutoNAT would
      // need four peers of distinct networks to confirm it.
      ...(config.upnp ? { upnp: uPnPNAT({ autoConfirmAddress: true }) } : {})
    }
  }
}

/**
 * The configured listen addresses, plus `/p2p-circuit` (a relay reservation, §4.4) when the peer
 * reserves always, or reserves 'auto' and announces no public address of its own; and `/webrtc`
 * (WebRTC connections signalled through that relay) with the webrtc transport.
 */
export function listenAddresses(config: ResolvedConfig): string[] {
  const reserve =
    config.relay.reserve === 'always' ||
    (config.relay.reserve === 'auto' && reachabilityOf(config.announce.map((a) => multiaddr(a))) !== 'public')
  const extra = reserve ? ['/p2p-circuit', ...(config.transports.includes('webrtc') ? ['/webrtc'] : [])] : []
  return [...config.listen, ...extra.filter((a) => !config.listen.includes(a))]
}

/** Circuit relay v2's hop protocol: a peer that speaks it is a relay (§4.4). */
const NO_BYTES = new Uint8Array()
const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'

/** How often a peer that wants a relay reservation and holds none asks a relay again (§4.4). */
const RESERVATION_RETRY_MS = 10_000

/** A running (after `start()`) openbatch peer. */
export class OpenbatchPeer {
  private readonly fraud: FraudBoard
  /** Open jobs this peer knows (its own and others'), served to workers that ask (§6.7). */
  readonly jobs: JobDirectory
  private unsubscribeBans?: () => void
  private reservationTimer?: ReturnType<typeof setInterval>
  /** Valid fraud proofs received from the network (each one counted against its accused). */
  fraudProofsReceived = 0
  private readonly fraudListeners = new Set<(proof: CheckedFraudProof, reporter: PeerId) => void>()

  constructor(
    readonly libp2p: OpenbatchLibp2p,
    readonly config: ResolvedConfig,
    readonly reputation: Reputation = new Reputation()
  ) {
    this.jobs = new JobDirectory(this)
    // §7.5: every peer checks every fraud proof itself; a valid one counts against the accused.
    this.fraud = new FraudBoard(
      { pubsub: libp2p.services.pubsub },
      {
        onProof: (proof, reporter) => {
          this.fraudProofsReceived++
          this.reputation.offence(proof.accused.signer.toString())
          for (const listener of this.fraudListeners) {
            listener(proof, reporter)
          }
        }
      }
    )
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

  /** How peers elsewhere reach this one (spec §4.4): `openbatch network` prints it. */
  network(): NetworkReport {
    const addresses = this.libp2p.getMultiaddrs()
    const relays = new Set<string>()
    for (const a of addresses) {
      const parts = a.getComponents()
      const at = parts.findIndex((c) => c.name === 'p2p-circuit')
      const relay = at > 0 ? parts[at - 1] : undefined
      if (relay?.name === 'p2p' && relay.value != null) {
        relays.add(relay.value)
      }
    }
    return {
      reachability: reachabilityOf(addresses),
      addresses: addresses.map((a) => a.toString()),
      relays: [...relays],
      observed: this.libp2p.services.observed?.list() ?? [],
      connections: this.libp2p.getConnections().map((c) => ({
        peer: c.remotePeer.toString(),
        address: c.remoteAddr.toString(),
        direction: c.direction,
        relayed: isRelayAddress(c.remoteAddr),
        limited: c.limits != null
      }))
    }
  }

  async start(): Promise<void> {
    await this.libp2p.start()
    this.fraud.start()
    await this.jobs.start()
    await serveCapacity(this)
    // Peers found on the LAN by mDNS are dialled (libp2p only records them).
    this.libp2p.services.mdns?.addEventListener('peer', this.onLanPeer)
    this.watchReservation()
    // A peer banned while connected is disconnected at once.
    this.unsubscribeBans = this.reputation.onBan((peer) => {
      const conn = this.libp2p.getConnections().find((c) => c.remotePeer.toString() === peer)
      if (conn != null) {
        void this.libp2p.hangUp(conn.remotePeer).catch(() => {})
      }
    })
  }

  /**
   * §4.4: a peer that wants a relay reservation and holds none asks again. libp2p's relay
   * transport tries each relay it discovers once; a reservation that fails (seen here: the first
   * RESERVE of a fresh identity failing with StreamStateError though the relay granted it) is not
   * retried until the relay connects anew, so the connection to one relay is re-opened.
   */
  private watchReservation(): void {
    if (!listenAddresses(this.config).includes('/p2p-circuit')) {
      return
    }
    this.reservationTimer = setInterval(() => {
      if (this.network().relays.length > 0) {
        return
      }
      const relay = this.libp2p.getConnections().find((c) => c.limits == null && !isRelayAddress(c.remoteAddr))
      if (relay == null) {
        return
      }
      void this.libp2p.peerStore
        .get(relay.remotePeer)
        .then(async (p) => {
          if (p.protocols.includes(RELAY_HOP_PROTOCOL)) {
            await this.libp2p.hangUp(relay.remotePeer)
            await this.libp2p.dial(relay.remotePeer, { signal: AbortSignal.timeout(10_000) })
          }
        })
        .catch(() => {})
    }, RESERVATION_RETRY_MS)
    this.reservationTimer.unref()
  }

  private readonly onLanPeer = (evt: CustomEvent<{ id: PeerId }>) => {
    const id = evt.detail.id
    if (!id.equals(this.peerId) && this.libp2p.getConnections(id).length === 0 && this.libp2p.getConnections().length < 64) {
      void this.libp2p.dial(id, { signal: AbortSignal.timeout(10_000) }).catch(() => {})
    }
  }

  /**
   * Stops the peer within `timeoutMs`: connections get that long to close gracefully, then are
   * aborted (a remote that does not answer the close must not keep this process alive).
   */
  async stop(timeoutMs = 2000): Promise<void> {
    this.unsubscribeBans?.()
    clearInterval(this.reservationTimer)
    this.libp2p.services.mdns?.removeEventListener('peer', this.onLanPeer)
    this.fraud.stop()
    await this.jobs.stop()
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const conn of this.libp2p.getConnections()) {
          conn.abort(new Error('the peer is stopping'))
        }
        resolve()
      }, timeoutMs)
    })
    await Promise.race([this.libp2p.stop(), late.then(() => this.libp2p.stop())])
    clearTimeout(timer)
    this.reputation.close()
  }
}

/** What a peer is built with besides its plain config: libp2p metrics (e.g. `prometheusMetrics()`). */
export interface PeerComponents {
  metrics?: Libp2pOptions['metrics']
}

/** Creates (without starting) an openbatch peer from `config`. */
export async function createOpenbatchPeer(config: PeerConfig = {}, components: PeerComponents = {}): Promise<OpenbatchPeer> {
  const resolved = resolveConfig(config)
  if (resolved.paceGc) {
    paceGcToExternalMemory()
  }
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
