/**
 * The live engine's workers: real openbatch peers with a simulated inference backend, started,
 * stopped, crashed and churned by a `WorkerHost` — in the engine's own process, or in a child
 * process (`live-child.ts`) that reports to the engine what happened over IPC.
 */

import { multiaddr } from '@multiformats/multiaddr'
import { seededRandom } from '@openbatch/core'
import type { InferenceBackend, ModelInfo, RunResult } from '@openbatch/inference'
import { CapacityPublisher, createOpenbatchPeer, type OpenbatchPeer, publishFraudProof, sleep, WorkerService } from '@openbatch/node'
import {
  DType,
  deriveTaskId,
  float32Tensor,
  jobsTopic,
  modelCid,
  open,
  peerIdBytes,
  STATEMENTS,
  seal,
  type TaskResult,
  type Tensor,
  tensorSetDigest,
  toHex
} from '@openbatch/protocol'
import { BEHAVIOURS, type Behaviour, unitHash } from './adversaries/index.js'
import type { GroupSpec, Scenario } from './scenario.js'

/** Values in each task's output (as in the simulator). */
export const OUTPUT_SIZE = 4

/** The model every scenario job uses: a CID of fixed bytes (no worker loads it: the backend is simulated). */
const MODEL_CID = modelCid(new TextEncoder().encode('openbatch testnet model v1'))
export const MODEL = MODEL_CID.toString()
export const MODEL_BYTES = MODEL_CID.bytes

/** A task's input carries its key: the job's number and the task's index. */
export function taskInput(job: number, task: number): Tensor[] {
  return [float32Tensor('x', [1, 4], [job, task, 0, 0])]
}

export function honestValues(key: string): number[] {
  return Array.from({ length: OUTPUT_SIZE }, (_, i) => unitHash(`${key}:${i}`) * 2 - 1)
}

const INFO: ModelInfo = {
  model: MODEL,
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: [1, 4] }],
  outputs: [{ name: 'y', dtype: DType.FLOAT32, shape: [1, OUTPUT_SIZE] }],
  batchable: false,
  sizeBytes: 0
}

/** What workers tell the engine (directly, or over IPC from a child process). */
export interface WorkerSink {
  /** A worker started (sybils' new identities too). */
  registered(name: string, group: string): void
  /** A worker stopped (left, crashed, or replaced by a new identity). */
  gone(name: string): void
  /** A worker computed an answer for task `key` (faked or not). */
  result(group: string, worker: string, key: string, faked: boolean): void
  /** A worker received a receipt: `key` names the job, task and worker. */
  receipt(key: string): void
  /** An announcement reached a worker by gossip this long after it was issued. */
  delay(ms: number): void
  /** A worker's peer accepted a fraud proof against `accused`, published by `reporter`. */
  proofAccepted(accused: string, reporter: string): void
  /** A forger published a forged proof. */
  forged(): void
}

export interface LiveWorker {
  name: string
  group: GroupSpec
  behaviour: Behaviour
  node: OpenbatchPeer
  service: WorkerService
  capacity: CapacityPublisher
  identitiesLeft: number
  stopped: boolean
}

/** A peer of the live engine, built for a crowd (see PeerConfig). */
export async function createLiveNode(transport: 'memory' | 'tcp', memoryName: string, bootstrap?: string): Promise<OpenbatchPeer> {
  const tcp = transport === 'tcp'
  const node = await createOpenbatchPeer({
    transports: [tcp ? 'tcp' : 'memory'],
    listen: [tcp ? '/ip4/127.0.0.1/tcp/0' : `/memory/${memoryName}`],
    mdns: false,
    // Every peer dials from the same host, and an overloaded process fails pings of healthy
    // connections (memory ones cannot die silently, loopback ones die with their process).
    inboundConnectionsPerSecond: 1000,
    connectionMonitor: false
  })
  await node.start()
  if (bootstrap != null) {
    await node.libp2p.dial(multiaddr(bootstrap), { signal: AbortSignal.timeout(30_000) })
  }
  return node
}

/** The simulated inference backend of one live worker: real inputs in, its behaviour's outputs out. */
class SimulatedBackend implements InferenceBackend {
  private chain: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly worker: () => string,
    private readonly group: GroupSpec,
    private readonly behaviour: Behaviour,
    private readonly random: () => number,
    private readonly sink: WorkerSink
  ) {}

  async describe(): Promise<ModelInfo> {
    return INFO
  }

  run(_model: string, inputs: Tensor[], options: { signal?: AbortSignal } = {}): Promise<RunResult> {
    // One task after another, as the simulator's workers run them.
    const next = this.chain.then(() => this.runOne(inputs, options.signal))
    this.chain = next.catch(() => {})
    return next
  }

  private async runOne(inputs: Tensor[], signal?: AbortSignal): Promise<RunResult> {
    const input = inputs[0] as Tensor
    const view = new DataView(input.data.buffer, input.data.byteOffset, input.data.byteLength)
    const key = `${view.getFloat32(0, true)}:${view.getFloat32(4, true)}`
    const serviceMs = this.group.serviceMs * (this.behaviour.slowdown ?? 1) * -Math.log(1 - this.random())
    await sleep(serviceMs, signal)
    const answer = this.behaviour.respond(key, honestValues(key), this.random)
    if (answer == null) {
      // A lease hoarder: it holds the task until it is stopped.
      await sleep(Number.POSITIVE_INFINITY, signal)
      throw new Error('unreachable')
    }
    this.sink.result(this.group.id, this.worker(), key, answer.faked)
    return {
      outputs: [float32Tensor('y', [1, OUTPUT_SIZE], answer.values)],
      profile: { runtime: 'testnet', provider: 'simulated', device: 'none', intraOpThreads: 1, graphOptimization: 'none', batchSize: 1 },
      durationUs: Math.round(serviceMs * 1000)
    }
  }
}

export interface WorkerHostInit {
  seed: number
  transport: 'memory' | 'tcp'
  /** Distinguishes this host's memory addresses from other hosts' in one process. */
  prefix: string
  bootstrap: string
  sink: WorkerSink
  /** The newest served job's signed announcement and number (forgers cite it). */
  job: () => { envelope: Uint8Array; seq: number } | undefined
  /** Every peer this host started goes here too (the engine measures DHT hops from them). */
  onNode?: (node: OpenbatchPeer) => void
}

/** Starts and stops workers; applies the timeline's events to its own workers. */
export class WorkerHost {
  readonly workers: LiveWorker[] = []
  readonly byName = new Map<string, LiveWorker>()
  private readonly timers: ReturnType<typeof setTimeout>[] = []
  private started = 0
  private closed = false

  constructor(private readonly init: WorkerHostInit) {}

  async start(group: GroupSpec, identitiesLeft?: number): Promise<LiveWorker> {
    const { sink, seed } = this.init
    const behaviour = (BEHAVIOURS[group.behaviour] as (p: typeof group.params) => Behaviour)(group.params)
    const n = this.started++
    const rnd = seededRandom((seed ^ (unitHash(`${this.init.prefix}:${group.id}:${n}`) * 4294967296)) >>> 0)
    const node = await createLiveNode(this.init.transport, `${this.init.prefix}-${n}`, this.init.bootstrap)
    this.init.onNode?.(node)
    const name = node.peerId.toString()
    // Every peer checks every proof itself (§7.5); the engine counts those against workers that never faked.
    node.onFraudProof((proof, reporter) => sink.proofAccepted(proof.accused.signer.toString(), reporter.toString()))
    const service = new WorkerService(node, {
      backend: new SimulatedBackend(() => name, group, behaviour, rnd, sink),
      models: [MODEL],
      capacity: group.capacity,
      onReceipt: (receipt) => {
        void open(STATEMENTS.receipt, receipt).then(({ message }) =>
          sink.receipt(`${toHex(message.jobId)}|${toHex(message.taskId)}|${name}`)
        )
      }
    })
    service.start()
    const capacity = new CapacityPublisher(node, {
      devices: [],
      models: [{ model: MODEL_BYTES, itemsPerSecond: 1000 / group.serviceMs, maxBatch: group.capacity, pricePerItem: 0n }]
    })
    void capacity.start().catch(() => {})
    const topic = jobsTopic(MODEL_BYTES)
    // Announcements as gossip delivered them to this worker: the delay from their issue time.
    node.libp2p.services.pubsub.addEventListener('message', (evt) => {
      if (evt.detail.topic !== topic) {
        return
      }
      void open(STATEMENTS.job, evt.detail.data)
        .then(({ message }) => sink.delay(Date.now() - Number(message.issuedAtMs)))
        .catch(() => {})
    })
    const w: LiveWorker = {
      name,
      group,
      behaviour,
      node,
      service,
      capacity,
      identitiesLeft: identitiesLeft ?? Number(group.params.identities ?? 5) - 1,
      stopped: false
    }
    if (behaviour.forgeEveryS != null) {
      const every = behaviour.forgeEveryS * 1000
      const forge = () => {
        if (w.stopped || this.closed) {
          return
        }
        const job = this.init.job()
        const victims = this.workers.filter((v) => v !== w && !v.stopped)
        const victim = victims[Math.floor(rnd() * victims.length)]
        if (job != null && victim != null) {
          sink.forged()
          void forgeProof(node, job.envelope, job.seq, victim.node.peerId.toMultihash().bytes).catch(() => {})
        }
        this.timers.push(setTimeout(forge, every))
      }
      this.timers.push(setTimeout(forge, every))
    }
    this.workers.push(w)
    this.byName.set(name, w)
    sink.registered(name, group.id)
    return w
  }

  async stop(w: LiveWorker, graceful: boolean): Promise<void> {
    if (w.stopped) {
      return
    }
    w.stopped = true
    this.init.sink.gone(w.name)
    w.capacity.stop()
    if (graceful) {
      await w.service.stop(2000)
      await w.node.stop(2000)
    } else {
      // A crash: the connections drop, the tasks held are never returned.
      await w.service.stop(0)
      await w.node.stop(0)
    }
  }

  /** A convicted sybil comes back under a new identity while it has identities left. */
  async convicted(name: string): Promise<void> {
    const w = this.byName.get(name)
    if (w != null && w.group.behaviour === 'sybil' && w.identitiesLeft > 0 && !w.stopped && !this.closed) {
      await this.stop(w, false)
      await this.start(w.group, w.identitiesLeft - 1)
    }
  }

  /**
   * A timeline event for `count` of this host's members of its group (join, leave, crash, churn;
   * partitions are the requesters' side). `random` draws churn sessions; `elapsedMs` and the
   * event's `until` bound them.
   */
  apply(e: Scenario['timeline'][number], count: number, scenario: Scenario, random: () => number, elapsedMs: () => number): void {
    const members = this.workers.filter((w) => w.group.id === e.group && !w.stopped)
    const group = scenario.groups.find((x) => x.id === e.group)
    switch (e.event) {
      case 'join':
        for (let k = 0; k < count && group != null; k++) {
          void this.start(group)
        }
        break
      case 'leave':
      case 'crash':
        for (const w of members.slice(0, count)) {
          void this.stop(w, e.event === 'leave')
        }
        break
      case 'churn': {
        const until = (e.until ?? 0) * 1000
        const churn = (w: LiveWorker) => {
          const session = -Math.log(1 - random()) * (e.sessionS ?? 60) * 1000
          if (elapsedMs() + session > until) {
            return
          }
          this.timers.push(
            setTimeout(async () => {
              if (this.closed) {
                return
              }
              await this.stop(w, false)
              churn(await this.start(w.group))
            }, session)
          )
        }
        for (const w of members) {
          churn(w)
        }
        break
      }
    }
  }

  /** Stops every worker (as crashes: the run is over) and every timer. */
  async close(): Promise<void> {
    this.closed = true
    for (const t of this.timers) {
      clearTimeout(t)
    }
    await Promise.all(this.workers.map((w) => this.stop(w, false)))
  }
}

/**
 * A forged fraud proof (the `forger` behaviour): task 0 of `job`, a made-up wrong result in the
 * victim's name and an honest one in the forger's, both signed by the forger (it has no other key),
 * published on the fraud topic. §7.5 validation must reject it at every peer.
 */
async function forgeProof(forger: OpenbatchPeer, announcement: Uint8Array, jobSeq: number, victim: Uint8Array): Promise<void> {
  const { message: job } = await open(STATEMENTS.job, announcement)
  const inputs = taskInput(jobSeq, 0)
  const inputDigest = tensorSetDigest(inputs)
  const result = (worker: Uint8Array, values: number[]): TaskResult => {
    const outputs = [float32Tensor('y', [1, OUTPUT_SIZE], values)]
    return {
      taskId: deriveTaskId(job.jobId, 0, job.model, inputDigest),
      jobId: job.jobId,
      index: 0n,
      model: job.model,
      inputDigest,
      outputDigest: tensorSetDigest(outputs),
      outputs,
      worker: worker as Uint8Array<ArrayBuffer>,
      startedAtMs: BigInt(Date.now()),
      durationUs: 1000n
    }
  }
  const honest = honestValues(`${jobSeq}:0`)
  const accused = await seal(
    STATEMENTS.result,
    result(
      victim,
      honest.map((x) => -x)
    ),
    forger.privateKey
  )
  const agreeing = await seal(STATEMENTS.result, result(peerIdBytes(forger.peerId), honest), forger.privateKey)
  const proof = await seal(
    STATEMENTS.fraud,
    {
      announcement: announcement as Uint8Array<ArrayBuffer>,
      accused,
      agreeing: [agreeing],
      inputs,
      reporter: peerIdBytes(forger.peerId),
      issuedAtMs: BigInt(Date.now())
    },
    forger.privateKey
  )
  await publishFraudProof(forger, proof)
}
