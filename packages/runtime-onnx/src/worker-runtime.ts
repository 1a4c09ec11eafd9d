/**
 * What a worker peer needs of onnxruntime, in one call: the devices found, a started backend on
 * the best of them, and — per served model — the capacity offer its benchmark measured (§4.2). A
 * GPU's batch is sized by measurement; a CPU keeps DEFAULT_MAX_ROWS. The peer (`@openbatch/node`'s
 * worker) advertises the offers and runs tasks through the backend.
 */

import type { ModelStore, TensorSpec } from '@openbatch/inference'
import { type Device, dtypeInfo, type ModelCapacity, parseModelCid, type Tensor } from '@openbatch/protocol'
import { measureCapacity, toModelCapacity } from './benchmark.js'
import { capacityDevices, type DeviceInfo, detectDevices, type ExecutionProvider, type ProviderChoice } from './device.js'
import { createOnnxBackend, DEFAULT_MAX_ROWS, type OnnxBackend } from './engine.js'

/** Batch sizes a GPU worker measures at start; it keeps the one with the most items/s. */
const GPU_BATCH_SIZES = [1, 8, 32, 128]

export interface WorkerRuntimeInit {
  /** Where the served models are kept. */
  store: ModelStore
  /** @default 'auto' (see OnnxBackendInit.executionProvider) */
  device?: ExecutionProvider
  threads?: number
  intraOpThreads?: number
  sessionBudgetBytes?: number
  memoryBudgetBytes?: number
  /** With CUDA: share of the first GPU's memory onnxruntime may use (split across threads). @default no limit */
  gpuMemoryShare?: number
  /** Measure items/s per model (a second or two each). Off: offers say 1 item/s. @default true */
  benchmark?: boolean
  /** Price per item in the offers. @default 0n */
  pricePerItem?: bigint
  /** Device notices (CPU fallbacks, a lost GPU), as OnnxBackendInit.onNotice. */
  onNotice?: (message: string) => void
}

export interface WorkerRuntime {
  backend: OnnxBackend
  /** Where inference runs, and why. */
  provider: ProviderChoice
  devices: DeviceInfo
  /** The devices as a capacity record lists them. */
  advertised: Device[]
  /** One offer per served model. */
  offers: ModelCapacity[]
}

/** Starts onnxruntime for a worker serving the models in `init.store`, and measures them. */
export async function createWorkerRuntime(init: WorkerRuntimeInit): Promise<WorkerRuntime> {
  const devices = await detectDevices({ webgpu: init.device !== 'cpu' })
  const gpu = devices.gpus[0]
  const backend = createOnnxBackend({
    store: init.store,
    devices,
    executionProvider: init.device ?? 'auto',
    onNotice: init.onNotice,
    threads: init.threads,
    intraOpThreads: init.intraOpThreads,
    sessionBudgetBytes: init.sessionBudgetBytes,
    memoryBudgetBytes: init.memoryBudgetBytes,
    gpuMemoryLimitBytes: init.gpuMemoryShare == null || gpu == null ? undefined : Math.floor(gpu.memoryBytes * init.gpuMemoryShare),
    // A peer's cores also carry its networking and protocol work: onnxruntime threads that
    // spin between batches take that CPU (measured with `pnpm bench overlay`: it doubled the
    // worker's per-task overhead on 2 cores).
    allowSpinning: false
  })
  await backend.start()
  const onGpu = backend.provider.provider !== 'cpu'
  const offers: ModelCapacity[] = []
  let bestRows = 0
  for (const { model } of await init.store.list()) {
    if (init.benchmark === false) {
      offers.push({
        model: parseModelCid(model).bytes,
        itemsPerSecond: 1,
        maxBatch: DEFAULT_MAX_ROWS,
        pricePerItem: init.pricePerItem ?? 0n
      })
      continue
    }
    const described = await backend.describe(model)
    // A GPU's batch is sized by measurement: the largest tried that still raises items/s
    // (the search ends at a batch the device cannot hold).
    if (onGpu) {
      backend.maxRows = GPU_BATCH_SIZES[GPU_BATCH_SIZES.length - 1] as number
    }
    const report = await measureCapacity(backend, model, () => sampleInputs(described.inputs), {
      batchSizes: onGpu ? GPU_BATCH_SIZES : [1, 8],
      minDurationMs: 300
    })
    bestRows = Math.max(bestRows, report.batchRows)
    offers.push(toModelCapacity(report, init.pricePerItem ?? 0n))
  }
  backend.maxRows = onGpu && bestRows > 0 ? bestRows : DEFAULT_MAX_ROWS
  return { backend, provider: backend.provider, devices, advertised: capacityDevices(devices, backend.provider), offers }
}

/** Zero inputs of the model's declared shape (symbolic dims as 1), for the capacity benchmark. */
function sampleInputs(inputs: TensorSpec[]): Tensor[] {
  return inputs.map((i) => {
    const dims = i.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1))
    const count = dims.reduce((a, b) => a * b, 1)
    return { name: i.name, dtype: i.dtype, dims: dims.map(BigInt), data: new Uint8Array(count * dtypeInfo(i.dtype).size) }
  })
}
