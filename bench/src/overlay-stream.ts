/**
 * The sending process of `pnpm bench overlay`'s transport baseline: dials `<address>`, opens one
 * stream of `<protocol>` and writes `<chunks>` chunks of `<bytes>` bytes from one reused buffer (no
 * copies of its own), then prints {"cpuUs":…}: what a libp2p stream — TCP, noise, yamux, no
 * openbatch protocol — costs the side that sends the bytes.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { createOpenbatchPeer } from '@openbatch/node'

const [address, protocol, chunks, bytes] = process.argv.slice(2)
const peer = await createOpenbatchPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
await peer.start()
const stream = await peer.libp2p.dialProtocol(multiaddr(address as string), protocol as string)
const data = new Uint8Array(Number(bytes)).fill(7)
const cpu0 = process.cpuUsage()
for (let i = 0; i < Number(chunks); i++) {
  if (!stream.send(data)) {
    await new Promise((resolve) => stream.addEventListener('drain', resolve, { once: true }))
  }
}
await stream.close()
// The receiver closes its side once it has read every byte: only then have they all left here.
for await (const _ of stream) {
  // it sends nothing
}
const cpu = process.cpuUsage(cpu0)
console.log(JSON.stringify({ cpuUs: cpu.user + cpu.system }))
await peer.stop()
