/**
 * What openbatch's services use of a peer, after js-libp2p's components: each service names the
 * part it uses (`Pick<OpenbatchComponents, 'libp2p' | 'peerId'>`, `{ pubsub }`), so it can be built
 * with stubs and imports no peer. An `OpenbatchPeer` provides them all.
 */

import type { GossipSub } from '@libp2p/gossipsub'
import type { identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { mdns } from '@libp2p/mdns'
import type { ping } from '@libp2p/ping'
import type { JobAnnouncement } from '@openbatch/protocol'
import type { ObservedAddresses } from './reachability.js'
import type { Reputation } from './reputation.js'

// A type alias (not an interface) so it satisfies libp2p's ServiceMap index signature.
export type PeerServices = {
  dht: KadDHT
  pubsub: GossipSub
  identify: ReturnType<ReturnType<typeof identify>>
  ping: ReturnType<ReturnType<typeof ping>>
  /** Present when `mdns` is on. */
  mdns?: ReturnType<ReturnType<typeof mdns>>
  /** Present when the peer serves as a relay (§4.4). */
  relay?: unknown
  /** Present with hole punching (§4.4). */
  dcutr?: unknown
  observed?: ObservedAddresses
  autonat?: unknown
  upnp?: unknown
}

export type OpenbatchLibp2p = Libp2p<PeerServices>

/** The open jobs a peer knows and passes on (§6.7): the part of JobDirectory other services use. */
export interface JobListing {
  /** One of this peer's own open jobs, with its latest signed announcement. */
  setOwn(envelope: Uint8Array, job: JobAnnouncement): void
  /** This peer's job is no longer open. */
  removeOwn(jobId: string): void
  /** An announcement of another peer's job, accepted from gossip or a query. */
  noteSeen(envelope: Uint8Array, job: JobAnnouncement): void
  /** Another peer's job is over: not passed on any more. */
  forget(jobId: string): void
}

export interface OpenbatchComponents {
  libp2p: OpenbatchLibp2p
  peerId: PeerId
  privateKey: PrivateKey
  /** Per-peer trust (§7.6), shared by every service of the peer. */
  reputation: Reputation
  /** The job directory (§6.7). */
  jobs: JobListing
}

/** What gossip-topic services use: the pubsub service alone. */
export interface PubSubComponents {
  pubsub: GossipSub
}
