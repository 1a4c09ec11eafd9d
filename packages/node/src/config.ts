/** Peer configuration: every option optional, each default documented, bad values a ConfigError. */

import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError } from './errors.js'

export type TransportName = 'tcp' | 'quic' | 'websockets' | 'webrtc' | 'memory'

/** The transports a peer may name, in the order libp2p tries them. */
export const TRANSPORTS: readonly TransportName[] = ['tcp', 'quic', 'websockets', 'webrtc', 'memory']

/**
 * STUN servers WebRTC's ICE asks for this peer's NAT mapping by default (@libp2p/webrtc's list).
 * A network whose public peers serve STUN (`openbatch peer --stun-service`) names them instead.
 */
export const DEFAULT_STUN = [
  'stun:stun.l.google.com:19302',
  'stun:global.stun.twilio.com:3478',
  'stun:stun.cloudflare.com:3478',
  'stun:stun.services.mozilla.com:3478'
]

/** What a peer does as a circuit relay v2 server (spec §4.4). */
export type RelayService = false | 'limited' | 'unlimited'

/** When a peer reserves a slot on a relay (spec §4.4). */
export type RelayReservation = false | 'auto' | 'always'

export interface PeerConfig {
  /**
   * Directory for the identity key (`identity.key`, mode 0600) and the datastore (peer store, DHT
   * records). Omit for an in-memory peer that forgets everything on stop (tests).
   */
  dataDir?: string
  /**
   * Addresses to listen on.
   * @default one wildcard address per network transport: `/ip4/0.0.0.0/tcp/0`,
   * `/ip4/0.0.0.0/udp/0/quic-v1`, `/ip4/0.0.0.0/tcp/0/ws`; [] with only the memory transport
   */
  listen?: string[]
  /**
   * Public addresses to announce besides the ones this peer finds itself (a public peer whose
   * operator knows its address, e.g. a bootstrap or relay behind a port forward). They count as
   * confirmed: AutoNAT needs several peers to confirm an address on its own.
   * @default []
   */
  announce?: string[]
  /**
   * Peers to join the network through, as multiaddrs ending in /p2p/<peer id>.
   * @default []
   */
  bootstrap?: string[]
  /**
   * `tcp`, `quic` (QUIC v1 over UDP; its native binary ships in the npm package), `websockets`
   * (for relays and browsers), `webrtc` (direct connections between peers behind NATs: signalled
   * through a relay, hole punched by ICE, spec §4.4; its native binary ships in the npm package too)
   * and `memory` (peers of one process: tests, testnets).
   * @default ['tcp', 'quic', 'webrtc']
   */
  transports?: TransportName[]
  /**
   * STUN servers (`stun:host:port`) WebRTC asks for this peer's address as its NAT maps it.
   * @default DEFAULT_STUN
   */
  stun?: string[]
  /**
   * Circuit relay v2 (spec §4.4). `serve`: relay for other peers — `'limited'` (libp2p's limits:
   * 2 min and 128 KiB per relayed connection, enough for control messages and hole punching),
   * `'unlimited'` (an operator's relay that bulk data may use) or `false`. `reserve`: reserve a slot
   * on a relay so that peers can reach this one — `'auto'` (when the peer has no confirmed public
   * address: behind a NAT), `'always'` or `false`.
   * @default { serve: 'limited', reserve: 'auto' } when listening on a network address; both
   * false otherwise (loopback, memory)
   */
  relay?: { serve?: RelayService; reserve?: RelayReservation }
  /**
   * DCUtR (spec §4.4): a relayed connection is upgraded to a direct one when one side has a
   * confirmed public address. (Two peers both behind NATs cannot be hole punched by js-libp2p
   * today: its TCP and QUIC transports dial from other ports than they listen on; see §4.4.)
   * @default true when listening on a network address
   */
  holePunch?: boolean
  /**
   * AutoNAT v2: ask peers to dial this peer's addresses back, to learn whether it is reachable.
   * @default true when listening on a network address
   */
  autonat?: boolean
  /**
   * Map this peer's ports on the home router with UPnP IGD (`@libp2p/upnp-nat`).
   * @default true when listening on a network address
   */
  upnp?: boolean
  /**
   * Dial and keep in the DHT non-public addresses of any network, not only of this host's own
   * networks (spec §4.1) — for setups where peers reach each other through private addresses the
   * host cannot see as its own (containers, VPNs). Peers on one host or one LAN do not need it.
   * @default false
   */
  local?: boolean
  /**
   * Find peers on the LAN with multicast DNS and dial them (`serviceTag` keeps separate networks
   * apart on one LAN). Off by default with only the memory transport.
   * @default { serviceTag: '_openbatch._udp.local', intervalMs: 10000 } with TCP
   */
  mdns?: boolean | { serviceTag?: string; intervalMs?: number }
  /** The identity to use instead of the one in `dataDir` (or a fresh one when there is none). */
  privateKey?: PrivateKey
  /**
   * Kademlia lookups: `alpha` peers asked at once and `disjointPaths` independent paths per lookup
   * (S/Kademlia), `kBucketSize` peers per bucket (k, also how many peers store a record).
   * @default { alpha: 3, disjointPaths: 3, kBucketSize: 20 }
   */
  dht?: { alpha?: number; disjointPaths?: number; kBucketSize?: number }
  /**
   * Most connections this peer keeps open (libp2p prunes the least valued above it). Many peers in
   * one process (testnets) keep this low: each connection costs a Noise handshake and keep-alives.
   * @default 300 (libp2p's default)
   */
  maxConnections?: number
  /**
   * Inbound connections accepted per second from one host (libp2p's rate limit). Hundreds of peers
   * of one host dialling each other (testnets) need more than a public peer gives one remote.
   * @default 5
   */
  inboundConnectionsPerSecond?: number
  /**
   * Ping every connection every 10 s and close it when the ping fails (libp2p's connection
   * monitor), to find connections that died silently (a NAT's mapping dropped, a cable pulled).
   * Peers of one process on the memory transport turn it off: their connections cannot die
   * silently, and an overloaded process fails pings of healthy connections.
   * @default true
   */
  connectionMonitor?: boolean
  /**
   * Let V8 count ArrayBuffer memory within its heap's growing limit
   * (`--external-memory-accounted-in-global-limit`, set once for the whole process by the first peer
   * created with this on) instead of collecting the whole heap after every 64 MiB of it: a peer
   * allocates a fresh buffer for every encrypted message it sends or receives, and V8's default
   * made full collections up to half of a data-plane peer's CPU (issue #15). Turn it off in a
   * process whose V8 flags its embedder manages. On a V8 older than 13 nothing is set.
   * @default true
   */
  paceGc?: boolean
}

export interface ResolvedConfig {
  dataDir?: string
  listen: string[]
  announce: string[]
  bootstrap: string[]
  transports: TransportName[]
  stun: string[]
  relay: { serve: RelayService; reserve: RelayReservation }
  holePunch: boolean
  autonat: boolean
  upnp: boolean
  local: boolean
  mdns: false | { serviceTag: string; intervalMs: number }
  privateKey?: PrivateKey
  dht: { alpha: number; disjointPaths: number; kBucketSize: number }
  maxConnections: number
  inboundConnectionsPerSecond: number
  connectionMonitor: boolean
  paceGc: boolean
}

/**
 * Kademlia's α = 3 (the paper's) and 3 disjoint paths, not kad-dht's 10 and 10: a lookup in a network
 * of a few hundred peers asks far fewer of them for the same answer (issue #13 measured kad-dht's
 * defaults as 15 % of a crowd's CPU).
 */
export const DEFAULT_DHT = { alpha: 3, disjointPaths: 3, kBucketSize: 20 } as const

/** mDNS service tag of openbatch networks (peers of other libp2p networks on the LAN are not asked). */
export const DEFAULT_MDNS_SERVICE_TAG = '_openbatch._udp.local'

/** Fills defaults and checks every option; throws ConfigError naming the option. */
export function resolveConfig(config: PeerConfig = {}): ResolvedConfig {
  const transports = config.transports ?? ['tcp', 'quic', 'webrtc']
  const names = TRANSPORTS.map((t) => `"${t}"`).join(', ')
  if (!Array.isArray(transports) || transports.length === 0) {
    throw new ConfigError('transports', `name at least one of ${names}`)
  }
  for (const t of transports) {
    if (!TRANSPORTS.includes(t)) {
      throw new ConfigError('transports', `unknown transport "${String(t)}"; use ${names}`)
    }
  }
  const listen = config.listen ?? transports.flatMap((t) => (t === 'memory' || t === 'webrtc' ? [] : [WILDCARD[t]]))
  for (const a of listen) {
    const ma = parseAddr('listen', a)
    const needs = transportOf(ma)
    if (needs != null && !transports.includes(needs)) {
      throw new ConfigError('listen', `"${a}" needs the ${needs} transport; add it to transports`)
    }
  }
  const stun = config.stun ?? DEFAULT_STUN
  for (const url of stun) {
    if (!/^stuns?:[^\s]+$/.test(url)) {
      throw new ConfigError('stun', `"${url}" is not a STUN server URL like "stun:stun.example.org:3478"`)
    }
  }
  const announce = config.announce ?? []
  for (const a of announce) {
    parseAddr('announce', a)
  }
  // Reachability features help a peer on a network; on loopback or memory there is nothing to
  // traverse (and testnets of hundreds of loopback peers must not pay for them).
  const onNetwork = listen.some((a) => !/^\/(ip4\/127\.|ip6\/::1\/|memory\/)/.test(a) && !a.startsWith('/p2p-circuit'))
  const relay = {
    serve: config.relay?.serve ?? (onNetwork ? 'limited' : false),
    reserve: config.relay?.reserve ?? (onNetwork ? 'auto' : false)
  } as ResolvedConfig['relay']
  if (![false, 'limited', 'unlimited'].includes(relay.serve)) {
    throw new ConfigError('relay.serve', `must be false, "limited" or "unlimited", got ${JSON.stringify(relay.serve)}`)
  }
  if (![false, 'auto', 'always'].includes(relay.reserve)) {
    throw new ConfigError('relay.reserve', `must be false, "auto" or "always", got ${JSON.stringify(relay.reserve)}`)
  }
  if (relay.reserve !== false && transports.every((t) => t === 'memory' || t === 'webrtc')) {
    throw new ConfigError('relay.reserve', 'a relay is reached over TCP, QUIC or WebSockets; add one to transports')
  }
  if (transports.includes('webrtc') && transports.every((t) => t === 'memory' || t === 'webrtc')) {
    throw new ConfigError('transports', 'webrtc is signalled through a relay reached over TCP, QUIC or WebSockets; add one')
  }
  const bootstrap = config.bootstrap ?? []
  for (const a of bootstrap) {
    const ma = parseAddr('bootstrap', a)
    if (ma.getComponents().find((c) => c.name === 'p2p') == null) {
      throw new ConfigError('bootstrap', `"${a}" has no /p2p/<peer id>; a bootstrap address must name the peer`)
    }
  }
  if (config.dataDir !== undefined && (typeof config.dataDir !== 'string' || config.dataDir === '')) {
    throw new ConfigError('dataDir', 'must be a directory path')
  }
  if (config.privateKey !== undefined && config.privateKey.type !== 'Ed25519') {
    throw new ConfigError('privateKey', `must be an Ed25519 key, got ${config.privateKey.type}`)
  }
  let mdns: ResolvedConfig['mdns'] = false
  const wantMdns = config.mdns ?? transports.some((t) => t !== 'memory')
  if (wantMdns !== false) {
    const o = wantMdns === true ? {} : wantMdns
    if (typeof o !== 'object' || o == null) {
      throw new ConfigError('mdns', 'must be true, false or { serviceTag, intervalMs }')
    }
    const intervalMs = o.intervalMs ?? 10_000
    if (!Number.isInteger(intervalMs) || intervalMs < 100) {
      throw new ConfigError('mdns.intervalMs', `must be an integer ≥ 100, got ${intervalMs}`)
    }
    const serviceTag = o.serviceTag ?? DEFAULT_MDNS_SERVICE_TAG
    if (!/^_[a-z0-9-]+\._udp\.local$/.test(serviceTag)) {
      throw new ConfigError('mdns.serviceTag', `"${serviceTag}" is not a DNS-SD service name like "_openbatch._udp.local"`)
    }
    mdns = { serviceTag, intervalMs }
  }
  const dht = { ...DEFAULT_DHT, ...config.dht }
  for (const [name, v] of Object.entries(dht)) {
    if (!Number.isInteger(v) || v < 1 || v > 64) {
      throw new ConfigError(`dht.${name}`, `must be an integer in 1..64, got ${String(v)}`)
    }
  }
  const maxConnections = config.maxConnections ?? 300
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new ConfigError('maxConnections', `must be a positive integer, got ${String(maxConnections)}`)
  }
  const inboundConnectionsPerSecond = config.inboundConnectionsPerSecond ?? 5
  if (!Number.isInteger(inboundConnectionsPerSecond) || inboundConnectionsPerSecond < 1) {
    throw new ConfigError('inboundConnectionsPerSecond', `must be a positive integer, got ${String(inboundConnectionsPerSecond)}`)
  }
  const paceGc = config.paceGc ?? true
  if (typeof paceGc !== 'boolean') {
    throw new ConfigError('paceGc', `must be true or false, got ${JSON.stringify(paceGc)}`)
  }
  return {
    dataDir: config.dataDir,
    listen,
    announce,
    bootstrap,
    transports,
    stun,
    relay,
    holePunch: config.holePunch ?? onNetwork,
    autonat: config.autonat ?? onNetwork,
    upnp: config.upnp ?? onNetwork,
    local: config.local ?? false,
    mdns,
    privateKey: config.privateKey,
    dht,
    maxConnections,
    inboundConnectionsPerSecond,
    connectionMonitor: config.connectionMonitor ?? true,
    paceGc
  }
}

const WILDCARD: Record<Exclude<TransportName, 'memory' | 'webrtc'>, string> = {
  tcp: '/ip4/0.0.0.0/tcp/0',
  quic: '/ip4/0.0.0.0/udp/0/quic-v1',
  websockets: '/ip4/0.0.0.0/tcp/0/ws'
}

/** The transport a listen address needs (undefined for relay addresses, which any transport reaches). */
function transportOf(ma: ReturnType<typeof multiaddr>): TransportName | undefined {
  const names = ma.getComponents().map((c) => c.name)
  if (names.includes('p2p-circuit') && !names.includes('webrtc')) {
    return undefined
  }
  if (names.includes('memory')) {
    return 'memory'
  }
  if (names.includes('webrtc')) {
    return 'webrtc'
  }
  if (names.includes('quic-v1')) {
    return 'quic'
  }
  if (names.includes('ws') || names.includes('wss')) {
    return 'websockets'
  }
  if (names.includes('tcp')) {
    return 'tcp'
  }
  return undefined
}

function parseAddr(field: string, addr: string) {
  try {
    return multiaddr(addr)
  } catch (err) {
    throw new ConfigError(field, `"${addr}" is not a multiaddr (${(err as Error).message})`)
  }
}
