/**
 * Determinism study (issues #3, #12): runs identical inputs under different intra-op thread counts,
 * graph optimisation levels, batch compositions (a task alone vs merged with 31 others) and
 * devices (onnxruntime's CPU provider vs its WebGPU provider), and records how far honest outputs
 * drift from a reference run (CPU). `pnpm study` writes the results to
 * packages/runtime-onnx/DETERMINISM.md; determinism.spec.ts asserts that no honest drift breaks
 * the spec's default agreement rules.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { float32Tensor, type Tensor } from '@openbatch/protocol'
import {
  type Drift as CalibrationDrift,
  calibrationModels,
  createOnnxBackend,
  type DeviceInfo,
  detectDevices,
  type GraphOptimizationLevel,
  ModelStore,
  measureDrift
} from '../src/index.js'
import { CLASSIFIER, IN_FEATURES, LABELLER, MLP, randomInput, rng, TWO_IO } from './models.js'
import { PADDLE_CLS_PATH } from './paths.js'

const devices: DeviceInfo = { cpu: { model: 'study', cores: 2 }, memoryBytes: 2 ** 33, gpus: [], gpuProbe: 'not probed' }

export interface Setting {
  /** @default 'cpu' */
  device?: 'cpu' | 'webgpu'
  intraOpThreads: number
  graphOptimizationLevel: GraphOptimizationLevel
  /** 'alone': each task runs by itself; 'merged': all tasks in one engine call. */
  batch: 'alone' | 'merged'
}

export interface Drift extends CalibrationDrift {
  model: string
  setting: Setting
}

interface StudyModel {
  name: string
  bytes: Uint8Array
  tasks: Tensor[][]
  /** Studied only across devices (added with the WebGPU study; the CPU settings were studied before). */
  crossDeviceOnly?: boolean
}

async function studyModels(): Promise<StudyModel[]> {
  const r = rng(2024)
  const paddleTasks = Array.from({ length: 32 }, () => [
    float32Tensor(
      'x',
      [1, 3, 48, 192],
      Array.from({ length: 3 * 48 * 192 }, () => r() * 2 - 1)
    )
  ])
  const mlpTasks = Array.from({ length: 32 }, (_, i) => [randomInput('x', 1, IN_FEATURES, 7000 + i)])
  return [
    { name: 'mlp', bytes: MLP, tasks: mlpTasks },
    // Added with the WebGPU study (issue #12): one operator class each, across devices only.
    ...calibrationModels()
      .filter((m) => m.name !== 'matmul + softmax')
      .map((m) => ({ ...m, crossDeviceOnly: true })),
    { name: 'classifier (softmax)', bytes: CLASSIFIER, tasks: mlpTasks },
    { name: 'labeller (int64 argmax)', bytes: LABELLER, tasks: mlpTasks },
    {
      name: 'two inputs, two outputs',
      bytes: TWO_IO,
      tasks: mlpTasks.map((_, i) => [randomInput('a', 1, 4, i), randomInput('b', 1, 4, 100 + i)])
    },
    { name: 'PaddleOCR text direction', bytes: await readFile(PADDLE_CLS_PATH), tasks: paddleTasks }
  ]
}

export const SETTINGS: Setting[] = [
  ...[1, 2, 4].flatMap((intraOpThreads) =>
    (['disabled', 'basic', 'extended', 'all'] as const).map((graphOptimizationLevel) => ({
      intraOpThreads,
      graphOptimizationLevel,
      batch: 'alone' as const
    }))
  ),
  ...[1, 2].flatMap((intraOpThreads) =>
    (['disabled', 'all'] as const).map((graphOptimizationLevel) => ({ intraOpThreads, graphOptimizationLevel, batch: 'merged' as const }))
  )
]

const REFERENCE: Setting = { intraOpThreads: 1, graphOptimizationLevel: 'all', batch: 'alone' }

/** CPU vs WebGPU: each task alone and all merged, on the adapter Dawn offers. */
export const CROSS_DEVICE: Setting[] = [
  { device: 'webgpu', intraOpThreads: 1, graphOptimizationLevel: 'all', batch: 'alone' },
  { device: 'webgpu', intraOpThreads: 1, graphOptimizationLevel: 'all', batch: 'merged' }
]

let probed: DeviceInfo | undefined

async function runAll(store: ModelStore, model: string, tasks: Tensor[][], setting: Setting): Promise<Tensor[][]> {
  const webgpu = setting.device === 'webgpu'
  if (webgpu) {
    probed ??= await detectDevices({ nvidiaSmi: '/nonexistent' })
    if (probed.webgpu == null) {
      throw new Error(`the cross-device study needs a WebGPU adapter: ${probed.webgpuProbe}`)
    }
  }
  const backend = createOnnxBackend({
    store,
    threads: 1,
    intraOpThreads: setting.intraOpThreads,
    graphOptimizationLevel: setting.graphOptimizationLevel,
    executionProvider: webgpu ? 'webgpu' : 'cpu',
    devices: webgpu ? (probed as DeviceInfo) : devices
  })
  if (webgpu) {
    await backend.start()
    if (backend.provider.provider !== 'webgpu') {
      throw new Error(`WebGPU was not used: ${backend.provider.reason}`)
    }
  }
  await backend.start()
  try {
    if (setting.batch === 'merged') {
      return (await Promise.all(tasks.map((t) => backend.run(model, t)))).map((r) => r.outputs)
    }
    const out: Tensor[][] = []
    for (const t of tasks) {
      out.push((await backend.run(model, t)).outputs)
    }
    return out
  } finally {
    await backend.stop()
  }
}

export async function runDeterminismStudy(settings: Setting[] = SETTINGS): Promise<Drift[]> {
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-study-'))
  try {
    const store = new ModelStore(dir)
    const drifts: Drift[] = []
    for (const m of await studyModels()) {
      const studied = m.crossDeviceOnly === true ? settings.filter((s) => s.device === 'webgpu') : settings
      if (studied.length === 0) {
        continue
      }
      const model = await store.add(m.bytes)
      const ref = await runAll(store, model, m.tasks, REFERENCE)
      for (const setting of studied) {
        drifts.push({ model: m.name, setting, ...measureDrift(ref, await runAll(store, model, m.tasks, setting)) })
      }
    }
    return drifts
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export function toMarkdown(drifts: Drift[]): string {
  const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1))
  const rows = drifts.map(
    (d) =>
      `| ${d.model} | ${d.setting.device ?? 'cpu'} | ${d.setting.intraOpThreads} | ${d.setting.graphOptimizationLevel} | ${d.setting.batch} | ${fmt(d.maxAbs)} | ${fmt(d.maxRel)} | ${d.toleranceUsed === 0 ? '0' : `${(d.toleranceUsed * 100).toPrecision(2)} %`} | ${d.argmaxFlips} | ${d.identical ? 'yes' : 'no'} | ${d.agreesByDefault ? 'yes' : 'NO'} |`
  )
  return [
    '| model | device | intra-op threads | graph optimisation | batch | max abs diff | max rel diff | tolerance used | argmax flips | bit-identical | agrees (spec default) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows
  ].join('\n')
}
