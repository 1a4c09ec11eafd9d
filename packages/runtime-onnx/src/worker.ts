/**
 * Worker-thread entry: owns onnxruntime sessions and runs inference off the main event loop
 * (onnxruntime-node's run() blocks its thread for the whole inference). One message at a time.
 */

import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parentPort, threadId, workerData } from 'node:worker_threads'
import ort from 'onnxruntime-node'
import { elementBytes, transferable, typedArrayFor, type WireTensor } from './convert.js'
import type { CpuPlacement, WorkerInit, WorkerReply, WorkerRequest } from './protocol.js'

const init = workerData as WorkerInit
const port = parentPort
if (port == null) {
  throw new Error('worker.js must run in a worker thread')
}

interface Cached {
  session: ort.InferenceSession
  cost: number
}

/** Insertion-ordered: the first entry is the least recently used. */
const sessions = new Map<string, Cached>()
let used = 0
/** CPU placements found since the last reply. */
let placements: CpuPlacement[] = []
/** Test hook: the next run fails as on a lost device. */
let deviceLost = false
let profiles = 0

function touch(model: string, entry: Cached): void {
  sessions.delete(model)
  sessions.set(model, entry)
}

async function evictFor(incoming: number): Promise<void> {
  for (const [model, entry] of sessions) {
    if (used + incoming <= init.sessionBudgetBytes || sessions.size === 0) {
      break
    }
    sessions.delete(model)
    used -= entry.cost
    await entry.session.release()
  }
}

async function session(model: string, bytes?: ArrayBuffer): Promise<Cached> {
  const cached = sessions.get(model)
  if (cached != null) {
    touch(model, cached)
    return cached
  }
  if (bytes == null) {
    throw Object.assign(new Error(`model ${model} is not loaded in this thread`), { name: 'NotLoaded' })
  }
  // A session holds the model's weights plus runtime buffers; the file size times a factor is
  // the estimate the budget is kept in.
  const cost = bytes.byteLength * init.sessionCostFactor
  await evictFor(cost)
  let s: ort.InferenceSession
  const profileDir = init.placementProfileDir
  const prefix = profileDir == null ? undefined : join(profileDir, `placement-${process.pid}-${threadId}-${profiles++}`)
  try {
    s = await ort.InferenceSession.create(new Uint8Array(bytes), {
      intraOpNumThreads: init.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: init.graphOptimizationLevel,
      executionProviders: init.executionProviders,
      // onnxruntime's own log goes (fatal only): a run that fails rejects with its message, which
      // reaches the peer's owner as the task's failure (§6.6) in the peer's structured log, and the
      // CPU placements are told once by the backend (onNotice). Its raw, coloured lines on stderr
      // would break a JSON-lines log.
      logSeverityLevel: 4,
      ...(prefix != null ? { enableProfiling: true, profileFilePrefix: prefix } : {}),
      extra: init.allowSpinning ? {} : { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } }
    })
  } catch (err) {
    throw Object.assign(new Error(`model ${model} failed to load: ${(err as Error).message}`), { name: 'ModelLoadError' })
  }
  if (prefix != null) {
    const ops = await cpuPlacedOps(s, prefix)
    if (ops != null && Object.keys(ops).length > 0) {
      placements.push({ model, ops })
    }
  }
  const entry = { session: s, cost }
  sessions.set(model, entry)
  used += cost
  return entry
}

/**
 * Runs the new session once on zeros with profiling on, ends profiling and reads which provider
 * each node ran on: the operators placed on the CPU, by count (memory copies between devices are
 * not operators of the model). Undefined when the probe run itself fails (the model's real inputs
 * will tell). The profile file is removed.
 */
async function cpuPlacedOps(s: ort.InferenceSession, prefix: string): Promise<Record<string, number> | undefined> {
  let ops: Record<string, number> | undefined
  try {
    const feeds: Record<string, ort.Tensor> = {}
    for (const m of s.inputMetadata) {
      if (!m.isTensor || m.type === 'string') {
        return undefined
      }
      const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1))
      const size = dims.reduce((a, b) => a * b, 1)
      const wire: WireTensor = {
        name: m.name,
        type: m.type,
        dims,
        buffer: new ArrayBuffer(size * 8),
        byteLength: size * elementBytes(m.type)
      }
      feeds[m.name] = new ort.Tensor(m.type as ort.Tensor.Type, typedArrayFor(wire) as never, dims)
    }
    await s.run(feeds)
    ops = {}
  } catch {
    ops = undefined
  }
  s.endProfiling()
  const dir = join(prefix, '..')
  const base = prefix.slice(dir.length + 1)
  for (const file of (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith(`${base}_`))) {
    const path = join(dir, file)
    try {
      if (ops != null) {
        for (const e of JSON.parse(await readFile(path, 'utf8')) as { cat?: string; args?: { provider?: string; op_name?: string } }[]) {
          const op = e.args?.op_name
          if (e.cat === 'Node' && op != null && e.args?.provider === 'CPUExecutionProvider' && !op.startsWith('Memcpy')) {
            ops[op] = (ops[op] ?? 0) + 1
          }
        }
      }
    } catch {
      ops = undefined
    } finally {
      await rm(path, { force: true })
    }
  }
  return ops
}

/** A WebGPU error that means the device is gone, not that the model failed. */
const DEVICE_LOST = /device (is |was |has been )?lost|devicelost|lost (the )?device|device.*destroyed/i

function describe(s: ort.InferenceSession) {
  const meta = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
    list.map((m) => ({ name: m.name, type: m.isTensor ? m.type : 'non-tensor', shape: m.isTensor ? [...m.shape] : [] }))
  return { inputs: meta(s.inputMetadata), outputs: meta(s.outputMetadata) }
}

async function handle(req: Exclude<WorkerRequest, { op: 'stop' }>): Promise<WorkerReply> {
  switch (req.op) {
    case 'describe': {
      const { session: s } = await session(req.model, req.bytes)
      return { id: req.id, ok: true, meta: describe(s), loaded: [...sessions.keys()] }
    }
    case 'run': {
      const { session: s } = await session(req.model, req.bytes)
      const feeds: Record<string, ort.Tensor> = {}
      for (const f of req.feeds) {
        feeds[f.name] = new ort.Tensor(f.type as ort.Tensor.Type, typedArrayFor(f) as never, f.dims)
      }
      const started = process.hrtime.bigint()
      let out: ort.InferenceSession.ReturnType
      try {
        if (deviceLost) {
          deviceLost = false
          throw new Error('WebGPU device was lost (simulated by the test hook)')
        }
        out = await s.run(feeds)
      } catch (err) {
        const message = (err as Error).message
        const lost = init.executionProviders.includes('webgpu') && DEVICE_LOST.test(message)
        throw Object.assign(new Error(message), { name: lost ? 'DeviceLostError' : 'InferenceFailedError' })
      }
      const durationUs = Number((process.hrtime.bigint() - started) / 1000n)
      const outputs: WireTensor[] = []
      for (const name of s.outputNames) {
        const t = out[name] as ort.Tensor
        const data = t.data as ArrayBufferView
        const buffer = new ArrayBuffer(data.byteLength)
        new Uint8Array(buffer).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        outputs.push({ name, type: t.type, dims: [...t.dims], buffer })
        t.dispose()
      }
      // The input buffers go back to the main thread for reuse: no allocation per batch on either
      // side. Shared ones stay the caller's.
      return {
        id: req.id,
        ok: true,
        outputs,
        durationUs,
        loaded: [...sessions.keys()],
        recycled: transferable(req.feeds.map((f) => f.buffer))
      }
    }
    case 'lose-device':
      deviceLost = true
      return { id: req.id, ok: true, meta: { inputs: [], outputs: [] }, loaded: [...sessions.keys()] }
    case 'crash':
      // Test hook: end the thread the way a native crash would, without replying.
      process.exit(70)
  }
}

function withPlacements(reply: WorkerReply): WorkerReply {
  if (placements.length === 0) {
    return reply
  }
  const found = placements
  placements = []
  return { ...reply, placements: found }
}

// One request at a time: onnxruntime-node's run() returns at once and computes in a later turn of
// this thread's loop, so overlapping requests would only queue there and blur their durations.
let chain: Promise<void> = Promise.resolve()
let stopping = false
port.on('message', (req: WorkerRequest) => {
  if (req.op === 'stop') {
    // Terminating a thread while onnxruntime runs can abort the whole process (the binding fails
    // to raise its error in a terminating environment), so the thread ends itself between runs.
    stopping = true
    chain = chain.then(async () => {
      for (const { session: s } of sessions.values()) {
        await s.release().catch(() => {})
      }
      process.exit(0)
    })
    return
  }
  chain = chain.then(() =>
    stopping
      ? undefined // the pool already failed this job
      : handle(req).then(
          (reply) => {
            // Outputs are always copied into ArrayBuffers of their own (above).
            const transfer = 'outputs' in reply ? [...reply.outputs.map((o) => o.buffer as ArrayBuffer), ...reply.recycled] : []
            port.postMessage(withPlacements(reply), transfer)
          },
          (err: Error) =>
            port.postMessage(
              withPlacements({ id: req.id, ok: false, error: { name: err.name, message: err.message }, loaded: [...sessions.keys()] })
            )
        )
  )
})
