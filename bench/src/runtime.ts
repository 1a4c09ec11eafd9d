/**
 * Runtime benchmark (issue #3): the PaddleOCR text-direction classifier at batch sizes 1, 8, 32,
 * measured in the same run, each given every core:
 *   (a) direct: session.run() on the main thread with a [b,3,48,192] tensor, with as many
 *       intra-op threads as cores (one caller blocks in run(), so intra-op threads are the only
 *       way it uses the other cores);
 *   (b) pool: the same [b,3,48,192] tensor through OnnxBackend.run() (worker-thread pool) with
 *       the backend's defaults (on CPU one single-threaded session per core, up to 4; two
 *       batches in flight per thread), its bytes in a SharedArrayBuffer — the public zero-copy
 *       path, as direct session.run() reads the caller's buffer in place;
 *   (b') pool, copied: the same with an ordinary buffer, which the pool copies once per batch;
 *   (c) merged: b single-item tasks submitted at once, merged by the backend into one call.
 * Segments are interleaved and medians reported (this machine's CPU time is noisy). Prints items/s,
 * the ratios (b)/(a) — floor ≥ 0.95 at batch ≥ 8 — (b')/(a) and (c)/(a), and the event-loop delay
 * p99 during (a) and (b): the reason the pool exists.
 *
 * `pnpm bench runtime --device webgpu`: the same on onnxruntime's WebGPU provider (direct: one
 * WebGPU session; pool: the backend's WebGPU default, one session), on whatever adapter Dawn
 * offers — a software one included; the JSON line names it. On a software adapter (a CPU
 * emulating a GPU, ~13 items/s) the segments are longer and batch 32 is left out.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { DType, float32Tensor, type Tensor } from '@openbatch/protocol'
import { adapterName, createOnnxBackend, detectDevices, ModelStore } from '@openbatch/runtime-onnx'
import ort from 'onnxruntime-node'
import { ITEM, ITEM_SIZE, MODEL_PATH, median } from './inputs.js'

const at = process.argv.indexOf('--device')
const DEVICE_ARG = at >= 0 ? process.argv[at + 1] : 'cpu'
if (DEVICE_ARG !== 'cpu' && DEVICE_ARG !== 'webgpu') {
  throw new Error(`--device must be cpu or webgpu, got ${DEVICE_ARG}`)
}
const DEVICE: 'cpu' | 'webgpu' = DEVICE_ARG
/** Pool threads; unset: the backend's default for the machine (on CPU one per core, up to 4). */
const POOL_THREADS = process.env.BENCH_POOL_THREADS == null ? undefined : Number(process.env.BENCH_POOL_THREADS)
const FLOOR = 0.95

function items(n: number): Float32Array[] {
  let s = 1
  return Array.from({ length: n }, () =>
    Float32Array.from({ length: ITEM_SIZE }, () => {
      s = (s * 16807) % 2147483647
      return (s / 2147483647) * 2 - 1
    })
  )
}

interface Segment {
  itemsPerSecond: number
  loopDelayP99Ms: number
}

/**
 * Runs `count` loops concurrently for `ms`, each starting its next round (of `perRound` items) as
 * soon as one ends. With `watch`, also measures event-loop delay — in separate segments, because
 * the monitor's timer wakes an idle main thread hundreds of times a second, which on a 2-core
 * machine steals time from the inference threads.
 */
async function lanes(ms: number, count: number, perRound: number, round: () => Promise<unknown>, watch = false): Promise<Segment> {
  const h = monitorEventLoopDelay({ resolution: 5 })
  if (watch) {
    h.enable()
  }
  let rounds = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (performance.now() - started < ms) {
        await round()
        rounds++
      }
    })
  )
  const elapsed = performance.now() - started
  h.disable()
  return { itemsPerSecond: (rounds * perRound * 1000) / elapsed, loopDelayP99Ms: watch ? h.percentile(99) / 1e6 : Number.NaN }
}

export async function main(): Promise<void> {
  const threads = availableParallelism()
  const pool = items(64)
  const bytes = await readFile(MODEL_PATH)
  const devices = await detectDevices({ webgpu: DEVICE === 'webgpu' })
  const adapter = devices.webgpu
  if (DEVICE === 'webgpu' && adapter == null) {
    throw new Error(`--device webgpu: ${devices.webgpuProbe}`)
  }
  const software = adapter?.fallback === true
  const BATCHES = DEVICE === 'webgpu' && software ? [1, 8] : [1, 8, 32]
  const SEGMENT_MS = Number(process.env.BENCH_SEGMENT_MS ?? (DEVICE === 'webgpu' ? (software ? 3000 : 1000) : 600))
  const PAIRS = Number(process.env.BENCH_PAIRS ?? (DEVICE === 'webgpu' && software ? 3 : 9))
  const deviceName = DEVICE === 'webgpu' && adapter != null ? adapterName(adapter) : devices.cpu.model
  console.log(
    `PaddleOCR ch_ppocr_mobile_v2.0_cls (${bytes.byteLength} bytes), input [N,${ITEM.join(',')}], on ${DEVICE} (${deviceName}${software ? ', a software adapter' : ''}), direct with ${threads} intra-op threads, ${PAIRS} interleaved pairs of ${SEGMENT_MS} ms segments (medians)`
  )

  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: [DEVICE],
    logSeverityLevel: 3
  })
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-bench-'))
  let poolConfig = { threads: 0, intraOpThreads: 0 }
  const results: Record<
    string,
    {
      direct: Segment
      pool: Segment
      ratio: number
      ratios: number[]
      copied: { itemsPerSecond: number; ratio: number }
      merged: { itemsPerSecond: number; ratio: number }
    }
  > = {}
  try {
    for (const batch of BATCHES) {
      const data = new Float32Array(batch * ITEM_SIZE)
      for (let i = 0; i < batch; i++) {
        data.set(pool[i % pool.length] as Float32Array, i * ITEM_SIZE)
      }
      const feed = new ort.Tensor('float32', data, [batch, ...ITEM])
      const store = new ModelStore(dir)
      const model = await store.add(bytes)
      const backend = createOnnxBackend({
        store,
        threads: POOL_THREADS,
        maxRows: batch,
        executionProvider: DEVICE,
        devices
      })
      await backend.start()
      poolConfig = { threads: backend.threads, intraOpThreads: backend.intraOpThreads }
      const tasks: Tensor[][] = pool.map((v) => [float32Tensor('x', [1, ...ITEM], v)])
      const dims = [batch, ...ITEM].map(BigInt)
      const copiedTask: Tensor[] = [{ name: 'x', dtype: DType.FLOAT32, dims, data: new Uint8Array(data.buffer) }]
      const shared = new Uint8Array(new SharedArrayBuffer(data.byteLength))
      shared.set(new Uint8Array(data.buffer))
      // (protons types tensor bytes as Uint8Array<ArrayBuffer>; a shared view needs the cast.)
      const sharedTask: Tensor[] = [{ name: 'x', dtype: DType.FLOAT32, dims, data: shared as unknown as Uint8Array<ArrayBuffer> }]
      const whole = () => backend.run(model, sharedTask)
      const copied = () => backend.run(model, copiedTask)
      let next = 0
      const round = () => Promise.all(Array.from({ length: batch }, () => backend.run(model, tasks[next++ % tasks.length] as Tensor[])))
      const directStep = () => session.run({ x: feed })
      await directStep()
      await Promise.all([round(), round()])

      // This machine's CPU time is noisy: alternate short segments (swapping the order each pair)
      // and take medians, so drift affects both sides alike.
      const directs: Segment[] = []
      const pools: Segment[] = []
      const ratios: number[] = []
      const mergedRatios: number[] = []
      const mergeds: Segment[] = []
      const copiedRatios: number[] = []
      const copieds: Segment[] = []
      for (let pair = 0; pair < PAIRS; pair++) {
        const d = pair % 2 === 0 ? await lanes(SEGMENT_MS, 1, batch, directStep) : undefined
        // Two lanes keep two batches in flight, as a worker peer keeps its queue full.
        const p = await lanes(SEGMENT_MS, 2 * backend.threads, batch, whole)
        const c = await lanes(SEGMENT_MS, 2 * backend.threads, batch, copied)
        const m = await lanes(SEGMENT_MS, 2 * backend.threads, batch, round)
        const d2 = d ?? (await lanes(SEGMENT_MS, 1, batch, directStep))
        directs.push(d2)
        pools.push(p)
        mergeds.push(m)
        copieds.push(c)
        copiedRatios.push(c.itemsPerSecond / d2.itemsPerSecond)
        ratios.push(p.itemsPerSecond / d2.itemsPerSecond)
        mergedRatios.push(m.itemsPerSecond / d2.itemsPerSecond)
      }
      const directLoop = (await lanes(SEGMENT_MS, 1, batch, directStep, true)).loopDelayP99Ms
      const poolLoop = (await lanes(SEGMENT_MS, 2 * backend.threads, batch, whole, true)).loopDelayP99Ms
      await backend.stop()
      const direct = { itemsPerSecond: median(directs.map((x) => x.itemsPerSecond)), loopDelayP99Ms: directLoop }
      const viaPool = { itemsPerSecond: median(pools.map((x) => x.itemsPerSecond)), loopDelayP99Ms: poolLoop }

      const ratio = median(ratios)
      const merged = { itemsPerSecond: median(mergeds.map((x) => x.itemsPerSecond)), ratio: median(mergedRatios) }
      const copy = { itemsPerSecond: median(copieds.map((x) => x.itemsPerSecond)), ratio: median(copiedRatios) }
      results[batch] = { direct, pool: viaPool, ratio, ratios, copied: copy, merged }
      console.log(
        `batch ${String(batch).padStart(2)}: direct ${direct.itemsPerSecond.toFixed(0).padStart(5)} items/s (loop p99 ${direct.loopDelayP99Ms.toFixed(1)} ms)  ` +
          `pool ${viaPool.itemsPerSecond.toFixed(0).padStart(5)} items/s (loop p99 ${viaPool.loopDelayP99Ms.toFixed(1)} ms)  ratio ${ratio.toFixed(3)}  ` +
          `| copied input ${copy.itemsPerSecond.toFixed(0).padStart(5)} items/s  ratio ${copy.ratio.toFixed(3)}  ` +
          `| merged singles ${merged.itemsPerSecond.toFixed(0).padStart(5)} items/s  ratio ${merged.ratio.toFixed(3)}`
      )
    }
  } finally {
    await session.release()
    await rm(dir, { recursive: true, force: true })
  }
  const floorMet = BATCHES.filter((b) => b >= 8).every((b) => (results[b]?.ratio ?? 0) >= FLOOR)
  console.log(`pool: ${poolConfig.threads} threads × ${poolConfig.intraOpThreads} intra-op threads`)
  console.log(`floor (pool/direct ≥ ${FLOOR} at batch ≥ 8): ${floorMet ? 'met' : 'NOT met'}`)
  console.log(
    JSON.stringify({
      bench: 'runtime',
      model: 'ch_ppocr_mobile_v2.0_cls',
      device: DEVICE,
      adapter: DEVICE === 'webgpu' ? { name: deviceName, software } : undefined,
      intraOpThreads: threads,
      pool: poolConfig,
      segmentMs: SEGMENT_MS,
      pairs: PAIRS,
      floor: FLOOR,
      floorMet,
      results
    })
  )
}
