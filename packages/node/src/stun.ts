/**
 * A STUN binding server (RFC 5389 §7, "Binding" only): answers each Binding request with the
 * address and port it came from (XOR-MAPPED-ADDRESS). A peer behind a NAT learns its mapping from
 * it — the server-reflexive candidate WebRTC's ICE needs to punch through NATs (spec §4.4). Public
 * peers may serve it so that a network does not depend on third-party STUN servers. It keeps no
 * state and answers nothing but well-formed Binding requests; responses are no larger than requests
 * (an IPv4 answer is 32 bytes), so it amplifies nothing.
 */

import { createSocket, type Socket } from 'node:dgram'
import { isIPv4 } from 'node:net'

const MAGIC_COOKIE = 0x2112a442
const BINDING_REQUEST = 0x0001
const BINDING_SUCCESS = 0x0101
const XOR_MAPPED_ADDRESS = 0x0020
const HEADER_BYTES = 20

export interface StunServer {
  /** The UDP port it answers on. */
  port: number
  close(): Promise<void>
}

/** The Binding success response to `request` from `address`:`port`, or undefined when `request` is not a Binding request. */
export function stunBindingResponse(request: Uint8Array, address: string, port: number): Buffer | undefined {
  const msg = Buffer.from(request.buffer, request.byteOffset, request.byteLength)
  // RFC 5389 §6: the two top bits are zero, the cookie is fixed, the length counts 4-byte words.
  if (msg.length < HEADER_BYTES || msg.readUInt16BE(0) !== BINDING_REQUEST || msg.readUInt32BE(4) !== MAGIC_COOKIE) {
    return undefined
  }
  if (msg.readUInt16BE(2) % 4 !== 0 || msg.readUInt16BE(2) + HEADER_BYTES !== msg.length) {
    return undefined
  }
  if (!isIPv4(address)) {
    return undefined // the server listens on IPv4 only
  }
  const ip = Buffer.from(address.split('.').map(Number))
  const valueBytes = 4 + ip.length
  const res = Buffer.alloc(HEADER_BYTES + 4 + valueBytes)
  res.writeUInt16BE(BINDING_SUCCESS, 0)
  res.writeUInt16BE(4 + valueBytes, 2)
  msg.copy(res, 4, 4, HEADER_BYTES) // the cookie and the transaction id
  res.writeUInt16BE(XOR_MAPPED_ADDRESS, 20)
  res.writeUInt16BE(valueBytes, 22)
  res.writeUInt8(1, 25) // IPv4
  res.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 26)
  // An IPv4 address is XORed with the cookie.
  const key = res.subarray(4, 4 + ip.length)
  for (let i = 0; i < ip.length; i++) {
    res[28 + i] = (ip[i] as number) ^ (key[i] as number)
  }
  return res
}

/** Starts a STUN binding server on `port` (0: any free port) of every IPv4 interface, or `host`. */
export async function startStunServer(options: { port?: number; host?: string } = {}): Promise<StunServer> {
  const socket: Socket = createSocket('udp4')
  socket.on('message', (msg, rinfo) => {
    const res = stunBindingResponse(msg, rinfo.address, rinfo.port)
    if (res != null) {
      socket.send(res, rinfo.port, rinfo.address)
    }
  })
  socket.on('error', () => {}) // a send to a vanished client is no concern of the server
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(options.port ?? 3478, options.host, () => {
      socket.off('error', reject)
      resolve()
    })
  })
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve()))
  }
}
