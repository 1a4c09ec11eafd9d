/**
 * Spec §4.4 in one process on TCP loopback: a peer reachable only through a relay, bulk protocols
 * refused over a limited relay with a reason and carried by an unlimited one; and the STUN server.
 */

import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { after, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import {
  createOpenbatchPeer,
  dialDirect,
  NoDirectConnectionError,
  type OpenbatchPeer,
  reachabilityOf,
  startStunServer,
  stunBindingResponse
} from '../src/index.js'
import { waitFor } from './helpers.js'

const PROTOCOL = '/openbatch-test/bulk/1.0.0'

async function relayed(serve: 'limited' | 'unlimited'): Promise<{ relay: OpenbatchPeer; hidden: OpenbatchPeer; dialer: OpenbatchPeer }> {
  const base = { transports: ['tcp' as const], mdns: false, holePunch: false, autonat: false, upnp: false }
  const relay = await createOpenbatchPeer({ ...base, listen: ['/ip4/127.0.0.1/tcp/0'], relay: { serve, reserve: false } })
  // Listens only through a relay: like a peer behind a NAT, it has no address of its own.
  const hidden = await createOpenbatchPeer({ ...base, listen: [], relay: { serve: false, reserve: 'always' } })
  // No address either: it cannot be dialled back (a peer that can be is reached directly, §4.4).
  const dialer = await createOpenbatchPeer({ ...base, listen: [], relay: { serve: false, reserve: false } })
  for (const p of [relay, hidden, dialer]) {
    await p.start()
    after(() => p.stop())
  }
  await hidden.libp2p.handle(PROTOCOL, async (stream) => {
    await stream.close()
  })
  await hidden.libp2p.dial(multiaddr(relay.addresses[0] as string))
  await waitFor('a relay reservation', () => hidden.network().relays.length === 1, 20_000)
  const circuit = hidden.addresses.filter((a) => a.includes('/p2p-circuit/'))
  assert.ok(circuit.length > 0, JSON.stringify(hidden.addresses))
  assert.equal(hidden.network().reachability, 'relayed')
  await dialer.libp2p.peerStore.merge(hidden.peerId, { multiaddrs: circuit.map((a) => multiaddr(a).decapsulateCode(421)) })
  return { relay, hidden, dialer }
}

describe('reachability (spec §4.4)', () => {
  it('refuses bulk protocols over a limited relay, naming the peer and what it needs', async () => {
    const { hidden, dialer } = await relayed('limited')
    await assert.rejects(dialDirect(dialer.libp2p, hidden.peerId, PROTOCOL, { upgradeTimeoutMs: 1500 }), (err: Error) => {
      assert.ok(err instanceof NoDirectConnectionError, `${err.name}: ${err.message}`)
      assert.match(err.message, new RegExp(`peer ${hidden.peerId.toString()} is reachable only through a limited relay`))
      assert.match(err.message, /within 1500 ms/)
      return true
    })
    assert.ok(
      dialer.libp2p.getConnections(hidden.peerId).every((c) => c.limits != null),
      'the only connection is the limited relayed one'
    )
  })

  it('carries bulk protocols over an unlimited relay', async () => {
    const { hidden, dialer } = await relayed('unlimited')
    const stream = await dialDirect(dialer.libp2p, hidden.peerId, PROTOCOL, { upgradeTimeoutMs: 1500 })
    await stream.close()
    const conn = dialer.libp2p.getConnections(hidden.peerId)[0]
    assert.ok(conn?.remoteAddr.toString().includes('/p2p-circuit'), conn?.remoteAddr.toString())
    assert.equal(conn?.limits, undefined)
    assert.deepEqual(
      dialer
        .network()
        .connections.filter((c) => c.peer === hidden.peerId.toString())
        .map((c) => [c.relayed, c.limited]),
      [[true, false]]
    )
  })

  it('classifies addresses', () => {
    const id = '12D3KooWGU34GZYPoyfixPvwHySW2q2LfENdbwXohqAZAfj87HJu'
    assert.equal(reachabilityOf([]), 'offline')
    assert.equal(reachabilityOf([multiaddr('/ip4/192.168.1.2/tcp/1'), multiaddr('/ip4/127.0.0.1/tcp/1')]), 'private')
    assert.equal(reachabilityOf([multiaddr('/ip4/192.168.1.2/tcp/1'), multiaddr(`/ip4/11.11.0.1/tcp/1/p2p/${id}/p2p-circuit`)]), 'relayed')
    assert.equal(reachabilityOf([multiaddr('/ip4/11.11.0.2/tcp/1'), multiaddr(`/ip4/11.11.0.1/tcp/1/p2p/${id}/p2p-circuit`)]), 'public')
    assert.equal(reachabilityOf([multiaddr('/dns4/example.org/tcp/1')]), 'public')
  })

  it('answers STUN binding requests with the mapped address (RFC 5389), and nothing else', async () => {
    const request = Buffer.alloc(20)
    request.writeUInt16BE(0x0001, 0)
    request.writeUInt32BE(0x2112a442, 4)
    request.fill(7, 8, 20) // transaction id
    const res = stunBindingResponse(request, '11.11.0.2', 58581) as Buffer
    // Success response, 12 bytes of attributes, the same cookie and transaction id.
    assert.equal(res.readUInt16BE(0), 0x0101)
    assert.equal(res.readUInt16BE(2), 12)
    assert.deepEqual(res.subarray(4, 20), request.subarray(4, 20))
    // XOR-MAPPED-ADDRESS, IPv4: the port XOR 0x2112, the address XOR the cookie.
    assert.equal(res.readUInt16BE(20), 0x0020)
    assert.equal(res.readUInt16BE(26) ^ 0x2112, 58581)
    assert.equal(((res.readUInt32BE(28) ^ 0x2112a442) >>> 0).toString(16), (0x0b0b0002).toString(16))
    assert.equal(stunBindingResponse(Buffer.alloc(20), '11.11.0.2', 1), undefined, 'no cookie')
    assert.equal(stunBindingResponse(request.subarray(0, 19), '11.11.0.2', 1), undefined, 'short')
    const notBinding = Buffer.from(request)
    notBinding.writeUInt16BE(0x0101, 0)
    assert.equal(stunBindingResponse(notBinding, '11.11.0.2', 1), undefined, 'a response is not answered')

    const server = await startStunServer({ port: 0, host: '127.0.0.1' })
    after(() => server.close())
    const client = createSocket('udp4')
    after(() => client.close())
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve))
    const answer = new Promise<Buffer>((resolve) => client.once('message', resolve))
    client.send(request, server.port, '127.0.0.1')
    const got = await answer
    assert.equal(got.readUInt16BE(26) ^ 0x2112, client.address().port)
  })
})
