/**
 * Reachability of a peer behind home routers (spec §4.4): which of its addresses others can dial,
 * whether it is reached through a relay, and the addresses peers observed for it.
 */

import type { Multiaddr } from '@multiformats/multiaddr'
import { ipOf, isNonPublicIp } from './addresses.js'

/** The part of libp2p's address manager this service reads (an internal libp2p component). */
interface AddressManagerLike {
  getObservedAddrs(): Multiaddr[]
}

/**
 * Reads the addresses other peers observed for this one (identify's `observedAddr`), which libp2p
 * keeps apart until AutoNAT confirms one: `openbatch network` shows them.
 */
export class ObservedAddresses {
  constructor(private readonly components: { addressManager: AddressManagerLike }) {}

  list(): string[] {
    return this.components.addressManager.getObservedAddrs().map((a) => a.toString())
  }
}

export function observedAddresses(): (components: { addressManager: AddressManagerLike }) => ObservedAddresses {
  return (components) => new ObservedAddresses(components)
}

/** How peers elsewhere reach this one. */
export type Reachability = 'public' | 'relayed' | 'private' | 'offline'

export interface NetworkReport {
  /**
   * `public`: a confirmed public address (peers dial it directly); `relayed`: reached through a
   * relay reservation (and hole punching); `private`: addresses inside private networks only (a
   * LAN, or behind a NAT with no relay yet); `offline`: no address at all.
   */
  reachability: Reachability
  /** Addresses other peers are given (confirmed ones and relay addresses), each with /p2p/<id>. */
  addresses: string[]
  /** Relays holding a reservation for this peer. */
  relays: string[]
  /** Addresses peers observed for this one that AutoNAT has not confirmed (a NAT's mappings). */
  observed: string[]
  /**
   * Open connections: the remote address, whether it goes through a relay, and whether it is
   * limited (a limited relay's: no bulk data, §4.4).
   */
  connections: Array<{ peer: string; address: string; direction: 'inbound' | 'outbound'; relayed: boolean; limited: boolean }>
}

/** Whether `address` is a circuit relay address. */
export function isRelayAddress(address: Multiaddr): boolean {
  return address.getComponents().some((c) => c.name === 'p2p-circuit')
}

/** Reachability from a peer's advertised addresses (spec §4.4). */
export function reachabilityOf(addresses: Multiaddr[]): Reachability {
  let relayed = false
  let any = false
  for (const a of addresses) {
    any = true
    if (isRelayAddress(a)) {
      relayed = true
      continue
    }
    const ip = ipOf(a)
    if (ip == null || !isNonPublicIp(ip)) {
      return 'public' // a public IP or a DNS name
    }
  }
  return relayed ? 'relayed' : any ? 'private' : 'offline'
}
