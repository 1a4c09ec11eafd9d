/**
 * A requester in its own process for the issue #11 network test:
 * `node requester-process.js <dataDir> <model.onnx> <ids.npy> <bootstrap>`. With no job stored it
 * submits one (every item of the .npy); after a restart it resumes the stored job. Prints JSON
 * lines: {"submitted": jobId} or {"resumed": jobId}, {"progress": settled} now and then, and
 * {"done": summary} when every item settled.
 */
import { readFile } from 'node:fs/promises'
import { SqliteJobStore } from '@openbatch/node'
import { DType } from '@openbatch/protocol'
import { type BatchJob, createClient } from '@openbatch/sdk'
import { parse } from 'npyjs'

const [dataDir, model, inputs, bootstrap] = process.argv.slice(2) as [string, string, string, string]
const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`)

const existing = (() => {
  const store = new SqliteJobStore(`${dataDir}/jobs.db`)
  try {
    return store.listJobs()[0]?.jobId
  } finally {
    store.close()
  }
})()
const client = await createClient({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [bootstrap], mdns: false })
let job: BatchJob
if (existing == null) {
  const npy = parse((await readFile(inputs)).buffer as ArrayBuffer)
  const [count] = npy.shape as [number]
  const data = npy.data as BigInt64Array
  const items = Array.from({ length: count }, (_, i) => [
    { name: 'ids', dtype: DType.INT64, dims: [1n, 4n], data: new Uint8Array(data.buffer, data.byteOffset + i * 32, 32).slice() }
  ])
  job = await client.submitBatch({ model, inputs: items, maxBatch: 16, discoveryTimeoutMs: 60_000 })
  say({ submitted: job.id })
} else {
  job = client.job(existing)
  say({ resumed: existing })
}
let last = 0
job.addEventListener('progress', (e) => {
  if (e.detail.settled - last >= 50 || e.detail.settled === e.detail.taskCount) {
    last = e.detail.settled
    say({ progress: e.detail.settled })
  }
})
const summary = await job.finished
say({ done: summary })
await client.stop()
process.exit(0)
