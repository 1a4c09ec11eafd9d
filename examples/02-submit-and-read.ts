/**
 * 02 — Submitting a batch and reading verified results.
 *
 * The inputs are an async generator: openbatch streams them into its job store, so a batch can
 * be far larger than memory. Results come back in input order, each with its verification
 * status — re-run by another worker and agreed, or standing on its worker's reputation.
 *
 * Run: pnpm --filter @openbatch/examples exec node dist/02-submit-and-read.js
 * Expect: a last line "read 50 results in input order: …"
 */

import { AgreementKind, classify, createClient, createPeer, type Output, verificationPolicy } from '@openbatch/sdk'
import { CLASSIFIER, textLine } from './model.js'

// Two workers stand in for the network (point `bootstrap` at real peers instead).
const network = { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false } // bootstrap addresses only: no LAN discovery
const w1 = await createPeer({ ...network, worker: { models: [CLASSIFIER], threads: 1 } })
const bootstrap = [w1.addresses[0] as string]
const w2 = await createPeer({ ...network, bootstrap, worker: { models: [CLASSIFIER], threads: 1 } })
const client = await createClient({ ...network, bootstrap })

// Items are produced lazily, one at a time.
async function* inputs() {
  for (let i = 0; i < 50; i++) {
    yield { x: { data: textLine(i), dims: [1, 3, 48, 192] } }
  }
}

const job = await client.submitBatch({
  model: CLASSIFIER,
  inputs: inputs(),
  // A classifier's outputs agree when they pick the same class (spec §7.1).
  verification: verificationPolicy({ agreement: AgreementKind.ARGMAX }),
  signal: AbortSignal.timeout(300_000) // aborting cancels the job
})
job.addEventListener('progress', (e) => process.stdout.write(`\r${e.detail.settled}/${e.detail.taskCount}`))

const statuses = new Map<string, number>()
let next = 0
for await (const result of job.results()) {
  if (result.index !== next++) {
    throw new Error('results come in input order')
  }
  // Each output is a typed array of its dtype with number[] dims; classify() reads a classifier's head.
  const [best] = classify(Object.values(result.outputs)[0] as Output, { labels: ['0°', '180°'] })[0] ?? []
  const status = result.verification.status
  statuses.set(status, (statuses.get(status) ?? 0) + 1)
  if (result.index < 3) {
    console.log(
      `\nitem ${result.index}: ${best?.label} (p = ${best?.score.toFixed(3)}) — ${status} (worker ${result.verification.worker.slice(-8)})`
    )
  }
}
console.log(`\nread ${next} results in input order: ${[...statuses].map(([s, n]) => `${n} ${s}`).join(', ')}`)

await client.stop()
await Promise.all([w1.stop(), w2.stop()])
