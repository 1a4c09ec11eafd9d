/** Peer configuration: every option optional, each default documented, bad values a ConfigError. */

import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError } from './errors.js'

export type TransportName = 'tcp' | 'memory'

export interface PeerConfig {
  /**
   * Directory for the identity key (`identity.key`, mode 0600) and the datastore (peer store, DHT
   * records). Omit for an in-memory peer that forgets everything on stop (tests).
   */
  dataDir?: string
  /**
   * Addresses to listen on.
   * @default ['/ip4/0.0.0.0/tcp/0'] with TCP; [] with only the memory transport
   */
  listen?: string[]
  /**
   * Peers to join the network through, as multiaddrs ending in /p2p/<peer id>.
   * @default []
   */
  bootstrap?: string[]
  /** @default ['tcp'] */
  transports?: TransportName[]
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
}

export interface ResolvedConfig {
  dataDir?: string
  listen: string[]
  bootstrap: string[]
  transports: TransportName[]
  local: boolean
  mdns: false | { serviceTag: string; intervalMs: number }
  privateKey?: PrivateKey
}

/** mDNS service tag of openbatch networks (peers of other libp2p networks on the LAN are not asked). */
export const DEFAULT_MDNS_SERVICE_TAG = '_openbatch._udp.local'

/** Fills defaults and checks every option; throws ConfigError naming the option. */
export function resolveConfig(config: PeerConfig = {}): ResolvedConfig {
  const transports = config.transports ?? ['tcp']
  if (!Array.isArray(transports) || transports.length === 0) {
    throw new ConfigError('transports', 'name at least one of "tcp", "memory"')
  }
  for (const t of transports) {
    if (t !== 'tcp' && t !== 'memory') {
      throw new ConfigError('transports', `unknown transport "${String(t)}"; use "tcp" or "memory"`)
    }
  }
  const listen = config.listen ?? (transports.includes('tcp') ? ['/ip4/0.0.0.0/tcp/0'] : [])
  for (const a of listen) {
    parseAddr('listen', a)
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
  const wantMdns = config.mdns ?? transports.includes('tcp')
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
  return { dataDir: config.dataDir, listen, bootstrap, transports, local: config.local ?? false, mdns, privateKey: config.privateKey }
}

function parseAddr(field: string, addr: string) {
  try {
    return multiaddr(addr)
  } catch (err) {
    throw new ConfigError(field, `"${addr}" is not a multiaddr (${(err as Error).message})`)
  }
}
