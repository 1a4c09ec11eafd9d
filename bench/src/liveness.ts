/**
 * Liveness benchmark (issue #11, item 4): an honest job's throughput while fake jobs are
 * announced whose requester accepts claims and never answers them. Real libp2p peers in this
 * process (memory transport): a requester, 3 workers (capacity 8, a simulated model taking 2 ms a
 * task), and the attacker — one peer announcing 20 signed fake jobs of the same model, then (second
 * variant) 20 sybil identities with one fake job each. Each configuration runs the same honest
 * job of 2,000 tasks; baseline and attack runs alternate (`BENCH_ROUNDS`, default 2) and the ratio
 * is median baseline time ÷ median attack time. Floor: ≥ 0.8 with one attacking peer. The last
 * line is JSON.
 */

import type { InferenceBackend } from '@openbatch/inference'
import {
  announceJob,
  createOpenbatchPeer,
  MemoryJobStore,
  type OpenbatchPeer,
  RequesterService,
  WorkerService,
  WorkServer
} from '@openbatch/node'
import {
  createJobAnnouncement,
  DType,
  float32Tensor,
  jobsTopic,
  modelCid,
  peerIdBytes,
  STATEMENTS,
  seal,
  type Tensor,
  toFloat64Array,
  WORK_PROTOCOL
} from '@openbatch/protocol'

const MODEL = modelCid(new TextEncoder().encode('liveness bench model'))
const TASKS = Number(process.env.BENCH_TASKS ?? 2000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
let counter = 0
let nonce = 0

/** y = x0 + x1 after 2 ms: a model whose time is the worker's, so capacity matters. */
const backend: InferenceBackend = {
  describe: async (model) => ({
    model,
    inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 2] }],
    outputs: [{ name: 'y', dtype: DType.FLOAT32, shape: ['N', 1] }],
    batchable: true,
    sizeBytes: 0
  }),
  run: async (_model, tensors) => {
    await new Promise((resolve) => setTimeout(resolve, 2))
    const [a, b] = Array.from(toFloat64Array(tensors[0] as Tensor)) as [number, number]
    return {
      outputs: [float32Tensor('y', [1, 1], [a + b])],
      profile: { runtime: 'bench', provider: 'cpu', device: 'bench', intraOpThreads: 1, graphOptimization: 'all', batchSize: 1 },
      durationUs: 2000
    }
  }
}

async function peer(): Promise<OpenbatchPeer> {
  const p = await createOpenbatchPeer({
    transports: ['memory'],
    listen: [`/memory/liveness-bench-${process.pid}-${counter++}`],
    mdns: false
  })
  await p.start()
  return p
}

type Dialable = Parameters<OpenbatchPeer['libp2p']['dial']>[0]

async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function fakeJobs(attacker: OpenbatchPeer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const job = createJobAnnouncement({
      requester: peerIdBytes(attacker.peerId),
      model: MODEL.bytes,
      taskCount: 100_000,
      maxBatch: 32,
      now: Date.now(),
      durationMs: 3_600_000,
      nonce: crypto.getRandomValues(new Uint8Array(16))
    })
    await announceJob(attacker, await seal(STATEMENTS.job, job, attacker.privateKey))
  }
}

/** One run: a fresh network; `attackers` peers announcing `jobsEach` fake jobs each; the honest job's time in ms. */
async function run(attackers: number, jobsEach: number): Promise<number> {
  const requester = await peer()
  const workers = [await peer(), await peer(), await peer()]
  const liars: OpenbatchPeer[] = []
  for (let i = 0; i < attackers; i++) {
    liars.push(await peer())
  }
  const all = [requester, ...workers, ...liars]
  for (const p of all.slice(1)) {
    await p.libp2p.dial(requester.libp2p.getMultiaddrs()[0] as Dialable)
  }
  for (const liar of liars) {
    for (const w of workers) {
      await liar.libp2p.dial(w.libp2p.getMultiaddrs()[0] as Dialable)
    }
  }
  for (const liar of liars) {
    // Accepts every claim, never answers.
    await liar.libp2p.handle(WORK_PROTOCOL, () => {})
  }
  const service = new RequesterService(requester, { store: new MemoryJobStore() })
  await new WorkServer(requester, service).start()
  const services = workers.map((w) => new WorkerService(w, { backend, models: [MODEL.toString()], capacity: 8 }))
  for (const s of services) {
    s.start()
  }
  await until(
    'the workers to subscribe',
    () => [requester, ...liars].every((p) => p.libp2p.services.pubsub.getSubscribers(jobsTopic(MODEL)).length >= 3),
    30_000
  )
  for (const liar of liars) {
    await fakeJobs(liar, jobsEach)
  }
  await new Promise((resolve) => setTimeout(resolve, attackers > 0 ? 500 : 0)) // the fake claims are out
  const job = createJobAnnouncement({
    requester: peerIdBytes(requester.peerId),
    model: MODEL.bytes,
    taskCount: TASKS,
    maxBatch: 8,
    now: Date.now(),
    durationMs: 3_600_000,
    nonce: new Uint8Array(16).fill(++nonce % 256),
    // Sampling off: the bench measures claims and capacity, not verification.
    verification: { initialRate: 1e-9, minRate: 1e-9, trustHorizon: 0, canaryRate: 0, penalty: 0n, cost: 0n, agreement: [] }
  })
  const envelope = await seal(STATEMENTS.job, job, requester.privateKey)
  const started = performance.now()
  const { done } = await service.addJob({ announcement: envelope, inputs: (i) => [float32Tensor('x', [1, 2], [i, 1])] })
  await announceJob(requester, envelope)
  await done
  const ms = performance.now() - started
  await Promise.all(services.map((s) => s.stop(0)))
  service.stop()
  await Promise.all(all.map((p) => p.stop(500)))
  return ms
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b)
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2
}

export async function main(): Promise<void> {
  const baseline: number[] = []
  const onePeer: number[] = []
  const sybils: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    baseline.push(await run(0, 0))
    onePeer.push(await run(1, 20))
    sybils.push(await run(20, 1))
  }
  const b = median(baseline)
  const ratioOne = b / median(onePeer)
  const ratioSybil = b / median(sybils)
  console.log(`honest job of ${TASKS} tasks, 3 workers: ${(b / 1000).toFixed(2)} s alone (median of ${ROUNDS})`)
  console.log(
    `  with one peer announcing 20 fake jobs: ${(median(onePeer) / 1000).toFixed(2)} s — throughput ×${ratioOne.toFixed(2)} (floor 0.8)`
  )
  console.log(
    `  with 20 sybil peers announcing one fake job each: ${(median(sybils) / 1000).toFixed(2)} s — throughput ×${ratioSybil.toFixed(2)}`
  )
  console.log(
    JSON.stringify({
      bench: 'liveness',
      tasks: TASKS,
      rounds: ROUNDS,
      baselineMs: baseline,
      onePeerAttackMs: onePeer,
      sybilAttackMs: sybils,
      throughputRatioOnePeer: ratioOne,
      throughputRatioSybils: ratioSybil,
      floor: 0.8,
      pass: ratioOne >= 0.8
    })
  )
}
