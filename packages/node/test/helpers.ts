import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import type { InferenceBackend } from '@openbatch/inference'
import { DHT_PROTOCOL_PREFIX, DType, float32Tensor, type Tensor, toFloat64Array } from '@openbatch/protocol'
import { createOpenbatchPeer, type OpenbatchPeer } from '../src/index.js'

/**
 * A temporary directory, removed when the whole test file has run. Not at the end of the test that
 * made it: hooks run in the order they were registered, so removing it there would race the peers
 * still writing to it (ENOTEMPTY), and a failing hook skips the hooks after it — the peers' stop()
 * — which once left a test file hanging until CI's time ran out.
 */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-node-'))
  tempDirs.push(dir)
  return dir
}
const tempDirs: string[] = []
after(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5 }))))

/** Polls `condition` until it holds; fails after `timeoutMs` with `what`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

let counter = 0

/**
 * `n` started peers on the memory transport, all connected to the first (or, with `mesh`, to each
 * other), each knowing a DHT peer.
 */
export async function network(n: number, options: { mesh?: boolean } = {}): Promise<OpenbatchPeer[]> {
  const peers: OpenbatchPeer[] = []
  for (let i = 0; i < n; i++) {
    const peer = await createOpenbatchPeer({
      transports: ['memory'],
      listen: [`/memory/openbatch-test-${process.pid}-${counter++}`],
      local: true
    })
    await peer.start()
    peers.push(peer)
  }
  after(() => Promise.all(peers.map((p) => p.stop())))
  const [hub, ...rest] = peers as [OpenbatchPeer, ...OpenbatchPeer[]]
  for (const [i, p] of rest.entries()) {
    const targets = options.mesh === true ? peers.slice(0, i + 1) : [hub]
    for (const t of targets) {
      await p.libp2p.dial(t.libp2p.getMultiaddrs()[0] as Parameters<OpenbatchPeer['libp2p']['dial']>[0])
    }
  }
  const kad = `${DHT_PROTOCOL_PREFIX}/kad/1.0.0`
  const knowsDhtPeer = async (p: OpenbatchPeer) => (await p.libp2p.peerStore.all()).some((info) => info.protocols.includes(kad))
  await waitFor('every peer to know a DHT peer', async () => (await Promise.all(peers.map(knowsDhtPeer))).every(Boolean))
  return peers
}

/**
 * A test backend computing y = x0 + x1 once `gate` opens (a gate that never opens makes a worker
 * that hangs); with `cheatEvery` = n it adds 1000 to every n-th result (a cheater); with `anyWidth`
 * it takes rows of any width (the first two values count).
 */
export function sumBackend(options: { gate?: Promise<void>; cheatEvery?: number; anyWidth?: boolean } = {}): InferenceBackend {
  let n = 0
  return {
    describe: async (model) => ({
      model,
      inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', options.anyWidth === true ? 'W' : 2] }],
      outputs: [{ name: 'y', dtype: DType.FLOAT32, shape: ['N', 1] }],
      batchable: true,
      sizeBytes: 0
    }),
    run: async (_model, tensors) => {
      await options.gate
      const [a, b] = Array.from(toFloat64Array(tensors[0] as Tensor)) as [number, number]
      const cheat = options.cheatEvery != null && n++ % options.cheatEvery === 0
      return {
        outputs: [float32Tensor('y', [1, 1], [a + b + (cheat ? 1000 : 0)])],
        profile: { runtime: 'test', provider: 'cpu', device: 'test', intraOpThreads: 1, graphOptimization: 'all', batchSize: 1 },
        durationUs: 1
      }
    }
  }
}
