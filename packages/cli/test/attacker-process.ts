/**
 * The attacker of issue #11 item 4 in its own process: `node attacker-process.js <model CID> <bootstrap>`.
 * It joins the network, accepts work claims and never answers them, and announces 20 signed fake
 * jobs of the model — again every 10 s with a fresh issue time, as an honest requester would.
 * Prints {"ready": peerId} once it announced, then {"claims": n} as claims arrive.
 */
import { announceJob, createOpenbatchPeer } from '@openbatch/node'
import { createJobAnnouncement, parseModelCid, peerIdBytes, STATEMENTS, seal, WORK_PROTOCOL } from '@openbatch/protocol'

const [model, bootstrap] = process.argv.slice(2) as [string, string]
const peer = await createOpenbatchPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [bootstrap], mdns: false })
await peer.start()
for (const deadline = Date.now() + 30_000; peer.libp2p.getConnections().length === 0; ) {
  if (Date.now() > deadline) {
    throw new Error('could not reach the bootstrap peer')
  }
  await new Promise((resolve) => setTimeout(resolve, 50))
}
let claims = 0
await peer.libp2p.handle(WORK_PROTOCOL, () => {
  claims++
  process.stdout.write(`${JSON.stringify({ claims })}\n`)
})
const nonces = Array.from({ length: 20 }, () => crypto.getRandomValues(new Uint8Array(16)))
const announce = async () => {
  for (const nonce of nonces) {
    const job = createJobAnnouncement({
      requester: peerIdBytes(peer.peerId),
      model: parseModelCid(model).bytes,
      taskCount: 100_000,
      maxBatch: 32,
      now: Date.now(),
      durationMs: 3_600_000,
      nonce
    })
    await announceJob(peer, await seal(STATEMENTS.job, job, peer.privateKey)).catch(() => {})
  }
}
await announce()
setInterval(() => void announce(), 10_000)
process.stdout.write(`${JSON.stringify({ ready: peer.peerId.toString() })}\n`)
