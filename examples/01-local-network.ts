/**
 * 01 — A small openbatch network in one process.
 *
 * Three peers serve a model as workers; a fourth joins through them and submits a batch. The
 * peers talk real libp2p over TCP on loopback: capacity records in the DHT, the job announced
 * over gossip, tasks pulled over streams, results signed, a share of them re-run elsewhere.
 *
 * Run: pnpm --filter @openbatch/examples exec node dist/01-local-network.js
 * Expect: a last line "local network: 20 items in …/… tasks settled, … re-run and agreed"
 */

import { createClient, createPeer, tensor } from '@openbatch/sdk'
import { CLASSIFIER, textLine } from './model.js'

// Peers on one machine or one LAN reach each other with no special setting. `mdns: false` keeps
// this network to the peers given as bootstrap addresses (other examples may run alongside).
const network = { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }

// The first worker starts alone; the others join through it.
const first = await createPeer({ ...network, worker: { models: [CLASSIFIER], threads: 1 } })
const bootstrap = [first.addresses[0] as string]
const others = await Promise.all([1, 2].map(() => createPeer({ ...network, bootstrap, worker: { models: [CLASSIFIER], threads: 1 } })))
const workers = [first, ...others]
console.log(`workers: ${workers.map((w) => w.peerId).join(', ')}`)

// A client serves no models; it submits work.
const client = await createClient({ ...network, bootstrap })
const job = await client.submitBatch({
  model: CLASSIFIER,
  inputs: Array.from({ length: 20 }, (_, i) => [tensor('x', textLine(i), [1, 3, 48, 192])])
})
const summary = await job.finished
// Items travel several to a task when the workers are fast enough for it (spec §6.8).
console.log(
  `local network: ${summary.itemCount} items in ${summary.settled}/${summary.taskCount} tasks settled, ${summary.agreed} re-run and agreed`
)

await client.stop()
await Promise.all(workers.map((w) => w.stop()))
