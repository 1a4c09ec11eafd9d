/**
 * Bulk protocols over direct connections only (spec §4.4). A peer behind a NAT may be reachable
 * only through a relay; a limited relay's connection carries control messages and hole punching,
 * and libp2p refuses to open any other protocol on it. When the connection to a peer is limited,
 * `dialDirect` dials the peer's WebRTC addresses (signalled through the relay) and waits for DCUtR,
 * then opens the stream on the first unlimited connection either gives.
 * An unlimited relay (one its operator chose, §4.4) is not limited and is used at once.
 */

import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { DIRECT_UPGRADE_TIMEOUT_MS } from '@openbatch/protocol'
import { NoDirectConnectionError } from './errors.js'
import { withDeadline } from './signals.js'

export interface DialDirectOptions extends AbortOptions {
  /** How long each dial may take (the wait for an upgrade is not counted). @default no limit but `signal` */
  dialTimeoutMs?: number
  /** How long to wait for a limited connection to be upgraded. @default DIRECT_UPGRADE_TIMEOUT_MS */
  upgradeTimeoutMs?: number
}

/** Opens `protocol` to `remote` over a connection that is not limited (§4.4). */
export async function dialDirect(libp2p: Libp2p, remote: PeerId, protocol: string, options: DialDirectOptions = {}): Promise<Stream> {
  const attempt = () =>
    options.dialTimeoutMs == null
      ? libp2p.dialProtocol(remote, protocol, options)
      : withDeadline(options.dialTimeoutMs, (signal) => libp2p.dialProtocol(remote, protocol, { signal }), options.signal)
  const upgradeMs = options.upgradeTimeoutMs ?? DIRECT_UPGRADE_TIMEOUT_MS
  try {
    return await attempt()
  } catch (err) {
    if ((err as Error).name !== 'LimitedConnectionError') {
      // The dial failed or ran out of the caller's time (a relayed dial of a loaded peer can):
      // a WebRTC connection to a NATed peer still starts, for whatever comes next.
      if (openUnlimited(libp2p, remote) == null) {
        dialWebRTC(libp2p, remote, AbortSignal.timeout(upgradeMs)).catch(() => {})
      }
      throw err
    }
  }
  // Either hole punching upgrades the relayed connection (DCUtR), or a WebRTC connection signalled
  // through the relay punches through both NATs; whichever gives an unlimited connection first.
  const done = new AbortController()
  const signal = options.signal == null ? done.signal : AbortSignal.any([options.signal, done.signal])
  // The WebRTC dial is not this call's: a caller that gives up sooner (a 3 s capacity fetch) still
  // leaves the direct connection forming for what comes next (gossip, claims).
  const webrtc = dialWebRTC(libp2p, remote, AbortSignal.timeout(upgradeMs))
  webrtc.catch(() => {})
  try {
    await Promise.any([unlimitedConnection(libp2p, remote, upgradeMs, signal), webrtc])
  } catch (err) {
    throw (err as AggregateError).errors?.[0] ?? err
  } finally {
    done.abort()
  }
  return attempt()
}

/**
 * Makes sure a connection to `remote` without limits forms (§4.4), and never rejects: none open,
 * it dials `remote` (which may give a limited relayed connection) and then its WebRTC addresses.
 * Resolves with whether one is open at the end (by this dial, DCUtR or the remote's own).
 */
export async function connectDirect(libp2p: Libp2p, remote: PeerId, signal: AbortSignal): Promise<boolean> {
  if (openUnlimited(libp2p, remote) != null) {
    return true
  }
  try {
    const conn = await libp2p.dial(remote, { signal })
    if (conn.limits != null && openUnlimited(libp2p, remote) == null) {
      await dialWebRTC(libp2p, remote, signal)
    }
  } catch {
    // Unreachable for now: the caller tries again later.
  }
  return openUnlimited(libp2p, remote) != null
}

/** Dials `remote`'s WebRTC addresses (`…/p2p-circuit/webrtc/p2p/<remote>`, §4.4); rejects when it has none. */
async function dialWebRTC(libp2p: Libp2p, remote: PeerId, signal: AbortSignal): Promise<Connection> {
  const known = await libp2p.peerStore.get(remote).catch(() => undefined)
  const addrs = (known?.addresses ?? [])
    .map((a) => a.multiaddr)
    .filter((ma) => ma.getComponents().some((c) => c.name === 'webrtc'))
    .map((ma) => (ma.getComponents().at(-1)?.name === 'p2p' ? ma : ma.encapsulate(`/p2p/${remote.toString()}`)))
  if (addrs.length === 0) {
    throw new Error(`no WebRTC address known for ${remote.toString()}`)
  }
  const conn = await libp2p.dial(addrs, { signal })
  if (conn.limits != null) {
    throw new Error(`the WebRTC dial of ${remote.toString()} gave a limited connection`)
  }
  return conn
}

/** An open connection to `remote` with no limits, if there is one. */
function openUnlimited(libp2p: Libp2p, remote: PeerId): Connection | undefined {
  return libp2p.getConnections(remote).find((c) => c.status === 'open' && c.limits == null)
}

/** Resolves once an open connection to `remote` has no limits; rejects after `timeoutMs`. */
function unlimitedConnection(libp2p: Libp2p, remote: PeerId, timeoutMs: number, signal?: AbortSignal): Promise<Connection> {
  const now = openUnlimited(libp2p, remote)
  if (now != null) {
    return Promise.resolve(now)
  }
  return new Promise((resolve, reject) => {
    const finish = (err?: Error, conn?: Connection) => {
      clearTimeout(timer)
      libp2p.removeEventListener('connection:open', onOpen)
      signal?.removeEventListener('abort', onAbort)
      if (conn != null) {
        resolve(conn)
      } else {
        reject(err)
      }
    }
    const onOpen = () => {
      const conn = openUnlimited(libp2p, remote)
      if (conn != null) {
        finish(undefined, conn)
      }
    }
    const onAbort = () => finish(signal?.reason ?? new Error('aborted'))
    const timer = setTimeout(
      () => finish(new NoDirectConnectionError(remote.toString(), timeoutMs, libp2p.getConnections(remote).length)),
      timeoutMs
    )
    libp2p.addEventListener('connection:open', onOpen)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
