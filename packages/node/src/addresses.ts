/**
 * Which addresses a peer may use (spec §4.1): public addresses always; private, loopback and
 * link-local ones only inside a network this host is on (one of its interfaces' subnets, the
 * loopback network for 127.0.0.0/8 and ::1). Peers on one host or one LAN therefore find and dial
 * each other with no flag, while a public peer never dials a private range of someone else's
 * network — the safety kad-dht's default mapper buys by dropping every private address, which
 * also drops every peer of a LAN from the routing table. Subnet arithmetic is Node's BlockList.
 */

import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Ranges not routable on the internet: RFC 1918, loopback, link-local, CGNAT, unspecified, ULA. */
const NON_PUBLIC = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16]
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10]
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6')
}

function family(ip: string): 'ipv4' | 'ipv6' | undefined {
  return isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined
}

/** Whether `ip` is private, loopback, link-local, CGNAT, unspecified or ULA. */
export function isNonPublicIp(ip: string): boolean {
  const f = family(ip)
  if (f === 'ipv6' && ip.toLowerCase().startsWith('::ffff:') && isIPv4(ip.slice(7))) {
    return NON_PUBLIC.check(ip.slice(7), 'ipv4')
  }
  return f != null && NON_PUBLIC.check(ip, f)
}

let cached: { at: number; list: BlockList } | undefined

/** The networks of this host's interfaces and its loopback (re-read every few seconds: interfaces come and go). */
export function localNetworks(now = Date.now()): BlockList {
  if (cached != null && now - cached.at < 5000) {
    return cached.list
  }
  const list = new BlockList()
  list.addSubnet('127.0.0.0', 8, 'ipv4')
  list.addAddress('::1', 'ipv6')
  for (const entries of Object.values(networkInterfaces())) {
    for (const i of entries ?? []) {
      const [net, bits] = (i.cidr ?? '').split('/')
      const f = family(i.address)
      if (net != null && bits != null && f != null) {
        try {
          list.addSubnet(i.address.split('%')[0] as string, Number(bits), f)
        } catch {
          // an address BlockList cannot take (a zone id): skipped
        }
      }
    }
  }
  cached = { at: now, list }
  return list
}

/** Whether `ip` lies in one of `networks` (this host's, by default). */
export function inLocalNetwork(ip: string, networks: BlockList = localNetworks()): boolean {
  const f = family(ip)
  return f != null && networks.check(ip, f)
}

/** The IP address of `ma` (its first ip4/ip6 component), or undefined for a name or none. */
export function ipOf(ma: Multiaddr): string | undefined {
  return ma.getComponents().find((x) => x.name === 'ip4' || x.name === 'ip6')?.value
}

/**
 * Whether this peer may dial (or keep in its DHT) `ma`: public addresses and names always,
 * non-public ones only inside this host's networks — or any address with `anyPrivate` (the
 * `local` override).
 */
export function isUsableAddress(ma: Multiaddr, anyPrivate = false, networks?: BlockList): boolean {
  const ip = ipOf(ma)
  if (ip == null || anyPrivate || !isNonPublicIp(ip)) {
    return true
  }
  return inLocalNetwork(ip, networks)
}

/** kad-dht's peerInfoMapper: keeps the addresses this peer could use (see isUsableAddress). */
export function usableAddressesMapper(anyPrivate = false): (peer: PeerInfo) => PeerInfo {
  return (peer) => {
    if (anyPrivate) {
      return peer
    }
    const networks = localNetworks()
    return { ...peer, multiaddrs: peer.multiaddrs.filter((ma) => isUsableAddress(ma, false, networks)) }
  }
}
