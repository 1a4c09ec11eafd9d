/**
 * The worker process of `pnpm bench dispatch`: `<system> <n> <address>` starts n workers of one
 * system with an instant backend (no inference: the bench measures dispatch), prints {"ready":true}
 * once they are up, and runs until it is killed.
 *
 * - `openbatch`: n SDK peers over TCP loopback, bootstrapped from the requester at `<address>`,
 *   each holding up to CAPACITY tasks;
 * - `bullmq`: n BullMQ workers on the Redis at `<address>` (port), each with concurrency CAPACITY
 *   and a processor that returns at once;
 * - `sink`: n bare libp2p peers (TCP loopback, noise, yamux; no openbatch protocol) that read every
 *   stream of SINK_PROTOCOL to its end and then close it; their addresses are printed with ready.
 */

import { createOpenbatchPeer } from '@openbatch/node'
import { createPeer, DType, float32Tensor, type InferenceBackend } from '@openbatch/sdk'
import { Worker } from 'bullmq'
import { CAPACITY, QUEUE, SINK_PROTOCOL } from './dispatch-shared.js'
import { MODEL_PATH } from './inputs.js'

const [system, count, address] = process.argv.slice(2)
const n = Number(count)

/** Answers every task at once with one float per item: the cost measured is the system's, not a model's. */
const instant: InferenceBackend = {
  describe: async (model) => ({
    model,
    inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 'C', 'H', 'W'] }],
    outputs: [{ name: 'y', dtype: DType.FLOAT32, shape: ['N', 1] }],
    batchable: true,
    sizeBytes: 0
  }),
  // One row per item (a task of several items, §6.8, has one row each).
  run: async (_model, inputs) => ({
    outputs: [float32Tensor('y', [Number(inputs[0]?.dims[0] ?? 1n), 1], new Float32Array(Number(inputs[0]?.dims[0] ?? 1n)).fill(1))],
    profile: { runtime: 'instant', provider: 'cpu', device: 'none', intraOpThreads: 1, graphOptimization: 'all', batchSize: 1 },
    durationUs: 0
  })
}

if (system === 'openbatch') {
  for (let i = 0; i < n; i++) {
    await createPeer({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [address as string],
      local: true,
      mdns: false,
      worker: { models: [MODEL_PATH], backend: instant, benchmark: false, capacity: CAPACITY }
    })
  }
} else if (system === 'sink') {
  const addresses: string[] = []
  for (let i = 0; i < n; i++) {
    const peer = await createOpenbatchPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    await peer.start()
    await peer.libp2p.handle(SINK_PROTOCOL, async (stream) => {
      for await (const _ of stream) {
        // read and dropped
      }
      await stream.close()
    })
    addresses.push(String(peer.addresses[0]))
  }
  console.log(JSON.stringify({ ready: true, addresses }))
} else {
  for (let i = 0; i < n; i++) {
    const worker = new Worker(QUEUE, async () => 1, {
      connection: { host: '127.0.0.1', port: Number(address) },
      concurrency: CAPACITY
    })
    await worker.waitUntilReady()
  }
}
if (system !== 'sink') {
  console.log(JSON.stringify({ ready: true }))
}
