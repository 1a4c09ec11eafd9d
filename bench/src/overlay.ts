/**
 * Overlay benchmark (issue #4): one requester and one worker in separate processes over TCP
 * loopback run the PaddleOCR text-direction classifier at batch 32 on the same generated inputs,
 * measured in the same run against the runtime pool alone (no network). Prints items/s for both,
 * the ratio network/local (floor ≥ 0.85) and the per-task protocol overhead in µs of CPU on the
 * requester and worker sides. The last line is a JSON object with all figures.
 */

import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { createPeer, WorkerService } from '@openbatch/node'
import { fromHex, open, STATEMENTS, type Tensor } from '@openbatch/protocol'
import { createOnnxBackend, ModelStore } from '@openbatch/runtime-onnx'
import { item, MODEL_PATH } from './inputs.js'

const TASKS = Number(process.env.BENCH_TASKS ?? 1024)
const BATCH = 32
const FLOOR = 0.85

export async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-overlay-'))
  const store = new ModelStore(dir)
  const model = await store.add(await readFile(MODEL_PATH))
  const inputs: Tensor[][] = Array.from({ length: TASKS }, (_, i) => item(i))
  const backend = createOnnxBackend({ store, maxBatch: BATCH, executionProvider: 'cpu' })
  await backend.start()
  try {
    // (a) The runtime pool alone: every item submitted, 2 × BATCH in flight, merged into batches of 32.
    await Promise.all(inputs.slice(0, BATCH).map((t) => backend.run(model, t)))
    const cpuLocal0 = process.cpuUsage()
    const t0 = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: 2 * BATCH }, async () => {
        while (next < TASKS) {
          await backend.run(model, inputs[next++] as Tensor[])
        }
      })
    )
    const localMs = performance.now() - t0
    const localCpu = process.cpuUsage(cpuLocal0)
    const local = (TASKS * 1000) / localMs

    // (b) Over the network: the requester in its own process, this process the worker.
    const child = spawn(process.execPath, [fileURLToPath(new URL('./overlay-requester.js', import.meta.url)), String(TASKS)], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    const readLine = async () => JSON.parse((await lines.next()).value as string) as Record<string, string | number>
    const ready = await readLine()
    const peer = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], local: true })
    await peer.start()
    await peer.libp2p.dial(multiaddr(ready.addr as string))
    const worker = new WorkerService(peer, { backend, models: [model], capacity: Number(process.env.BENCH_CAPACITY ?? 2 * BATCH) })
    worker.start()
    const cpuNet0 = process.cpuUsage()
    const t1 = performance.now()
    worker.addJob(await open(STATEMENTS.job, fromHex(ready.announcement as string)))
    const done = await readLine()
    const networkMs = performance.now() - t1
    const workerCpu = process.cpuUsage(cpuNet0)
    await worker.stop()
    await peer.stop()
    child.kill()
    const network = (TASKS * 1000) / networkMs
    const ratio = network / local
    const cpu = (u: NodeJS.CpuUsage) => u.user + u.system
    // Worker overhead: the worker process's CPU beyond what the pool alone used for the same items.
    const workerOverheadUs = (cpu(workerCpu) - cpu(localCpu)) / TASKS
    const requesterOverheadUs = Number(done.cpuUs) / TASKS
    console.log(`PaddleOCR text direction, ${TASKS} items, batch ${BATCH}, TCP loopback, requester and worker in separate processes`)
    console.log(`runtime pool alone: ${local.toFixed(0)} items/s`)
    console.log(
      `over the network:   ${network.toFixed(0)} items/s   ratio ${ratio.toFixed(3)} (floor ${FLOOR}: ${ratio >= FLOOR ? 'met' : 'NOT met'})`
    )
    console.log(
      `protocol overhead per task: requester ${requesterOverheadUs.toFixed(0)} µs CPU, worker ${workerOverheadUs.toFixed(0)} µs CPU`
    )
    console.log(
      JSON.stringify({
        bench: 'overlay',
        tasks: TASKS,
        batch: BATCH,
        localItemsPerSecond: local,
        networkItemsPerSecond: network,
        ratio,
        floor: FLOOR,
        floorMet: ratio >= FLOOR,
        requesterOverheadUsPerTask: requesterOverheadUs,
        workerOverheadUsPerTask: workerOverheadUs,
        receipts: worker.receipts.length
      })
    )
  } finally {
    await backend.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
