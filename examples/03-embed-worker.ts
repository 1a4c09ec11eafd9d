/**
 * 03 — Embedding a worker in an app.
 *
 * An app lends its machine's idle GPU (or CPU) to the network: one call starts a peer that
 * serves a model, runs tasks off the event loop in worker threads, and keeps the requesters'
 * signed receipts — provable, verified work.
 *
 * Run: pnpm --filter @openbatch/examples exec node dist/03-embed-worker.js
 * Expect: a last line "worker earned … receipts from …"
 */

import { createClient, createPeer, tensor } from '@openbatch/sdk'
import { CLASSIFIER, textLine } from './model.js'

const network = { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false } // bootstrap addresses only: no LAN discovery

// The app's worker: one inference thread, at most 8 tasks held at once.
const worker = await createPeer({ ...network, worker: { models: [CLASSIFIER], threads: 1, capacity: 8 } })
let ran = 0
worker.addEventListener('run', () => ran++)
worker.addEventListener('error', (e) => console.error('worker:', e.detail.message))
console.log(`worker ${worker.peerId} serves ${(await worker.servedModels()).join(', ')}`)
// Stop cleanly on Ctrl-C: tasks in flight finish and are submitted first.
process.once('SIGINT', () => void worker.stop())

// Somebody else's job (here: a client in the same process, for the example's sake).
const client = await createClient({ ...network, bootstrap: [worker.addresses[0] as string] })
const job = await client.submitBatch({
  model: CLASSIFIER,
  inputs: Array.from({ length: 12 }, (_, i) => [tensor('x', textLine(i), [1, 3, 48, 192])]),
  discoveryTimeoutMs: 30_000,
  // This worker is alone: sampled tasks have nobody to re-run them. Don't wait long for one
  // (they stand "unsampled"); on a real network keep the default, a lease (60 s).
  checkWaitMs: 1000
})
await job.finished
await client.stop()

const [earned] = worker.receipts?.totals() ?? []
console.log(`ran ${ran} tasks`)
console.log(`worker earned ${earned?.receipts ?? 0} receipts from ${earned?.requester.slice(-8) ?? 'nobody'}`)
await worker.stop()
