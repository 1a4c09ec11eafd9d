/**
 * Worker-thread entry: owns onnxruntime sessions and runs inference off the main event loop
 * (onnxruntime-node's run() blocks its thread for the whole inference). One message at a time.
 */

import { parentPort, workerData } from 'node:worker_threads'
import ort from 'onnxruntime-node'
import { transferable, typedArrayFor, type WireTensor } from './convert.js'
import type { WorkerInit, WorkerReply, WorkerRequest } from './protocol.js'

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
  try {
    s = await ort.InferenceSession.create(new Uint8Array(bytes), {
      intraOpNumThreads: init.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: init.graphOptimizationLevel,
      executionProviders: init.executionProviders,
      extra: init.allowSpinning ? {} : { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } }
    })
  } catch (err) {
    throw Object.assign(new Error(`model ${model} failed to load: ${(err as Error).message}`), { name: 'ModelLoadError' })
  }
  const entry = { session: s, cost }
  sessions.set(model, entry)
  used += cost
  return entry
}

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
        out = await s.run(feeds)
      } catch (err) {
        throw Object.assign(new Error((err as Error).message), { name: 'InferenceFailedError' })
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
    case 'crash':
      // Test hook: end the thread the way a native crash would, without replying.
      process.exit(70)
  }
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
            port.postMessage(reply, transfer)
          },
          (err: Error) =>
            port.postMessage({ id: req.id, ok: false, error: { name: err.name, message: err.message }, loaded: [...sessions.keys()] })
        )
  )
})
