/**
 * Determinism study (issue #3): runs identical inputs under different intra-op thread counts,
 * graph optimisation levels and batch compositions (a task alone vs merged with 31 others), and
 * records how far honest outputs drift from a reference run. `pnpm study` writes the results to
 * packages/runtime-onnx/DETERMINISM.md; determinism.spec.ts asserts that no honest drift breaks
 * the spec's default agreement rules.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agreeOutputs, DEFAULT_AGREEMENT, dtypeInfo, float32Tensor, type Tensor, toFloat64Array } from '@openbatch/protocol'
import { createOnnxBackend, type DeviceInfo, type GraphOptimizationLevel, ModelStore } from '../src/index.js'
import { CLASSIFIER, IN_FEATURES, LABELLER, MLP, randomInput, rng, TWO_IO } from './models.js'
import { PADDLE_CLS_PATH } from './paths.js'

const devices: DeviceInfo = { cpu: { model: 'study', cores: 2 }, memoryBytes: 2 ** 33, gpus: [], gpuProbe: 'not probed' }

export interface Setting {
  intraOpThreads: number
  graphOptimizationLevel: GraphOptimizationLevel
  /** 'alone': each task runs by itself; 'merged': all tasks in one engine call. */
  batch: 'alone' | 'merged'
}

export interface Drift {
  model: string
  setting: Setting
  maxAbs: number
  maxRel: number
  argmaxFlips: number
  /** Bit-identical to the reference on every task. */
  identical: boolean
  /** Agrees with the reference under the spec's default rule (ALLCLOSE atol/rtol; ints exact). */
  agreesByDefault: boolean
}

interface StudyModel {
  name: string
  bytes: Uint8Array
  tasks: Tensor[][]
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

async function runAll(store: ModelStore, model: string, tasks: Tensor[][], setting: Setting): Promise<Tensor[][]> {
  const backend = createOnnxBackend({
    store,
    threads: 1,
    intraOpThreads: setting.intraOpThreads,
    graphOptimizationLevel: setting.graphOptimizationLevel,
    devices
  })
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

function compare(ref: Tensor[][], got: Tensor[][]): Omit<Drift, 'model' | 'setting'> {
  let maxAbs = 0
  let maxRel = 0
  let argmaxFlips = 0
  let identical = true
  let agreesByDefault = true
  ref.forEach((outputs, i) => {
    const other = got[i] as Tensor[]
    agreesByDefault &&= agreeOutputs(outputs, other, [DEFAULT_AGREEMENT]).agree
    for (const a of outputs) {
      const b = other.find((t) => t.name === a.name) as Tensor
      identical &&= Buffer.from(a.data).equals(Buffer.from(b.data))
      if (dtypeInfo(a.dtype).kind !== 'float') {
        continue
      }
      const va = toFloat64Array(a)
      const vb = toFloat64Array(b)
      va.forEach((x, j) => {
        const y = vb[j] as number
        const d = Math.abs(x - y)
        maxAbs = Math.max(maxAbs, d)
        maxRel = Math.max(maxRel, d / Math.max(Math.abs(x), Math.abs(y), 1e-12))
      })
      const row = Number(a.dims[a.dims.length - 1] ?? 1n)
      for (let r = 0; r < va.length / row; r++) {
        const slice = (v: Float64Array) => Array.from(v.subarray(r * row, (r + 1) * row))
        const am = (xs: number[]) => xs.indexOf(Math.max(...xs))
        if (am(slice(va)) !== am(slice(vb))) {
          argmaxFlips++
        }
      }
    }
  })
  return { maxAbs, maxRel, argmaxFlips, identical, agreesByDefault }
}

export async function runDeterminismStudy(settings: Setting[] = SETTINGS): Promise<Drift[]> {
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-study-'))
  try {
    const store = new ModelStore(dir)
    const drifts: Drift[] = []
    for (const m of await studyModels()) {
      const model = await store.add(m.bytes)
      const ref = await runAll(store, model, m.tasks, REFERENCE)
      for (const setting of settings) {
        drifts.push({ model: m.name, setting, ...compare(ref, await runAll(store, model, m.tasks, setting)) })
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
      `| ${d.model} | ${d.setting.intraOpThreads} | ${d.setting.graphOptimizationLevel} | ${d.setting.batch} | ${fmt(d.maxAbs)} | ${fmt(d.maxRel)} | ${d.argmaxFlips} | ${d.identical ? 'yes' : 'no'} | ${d.agreesByDefault ? 'yes' : 'NO'} |`
  )
  return [
    '| model | intra-op threads | graph optimisation | batch | max abs diff | max rel diff | argmax flips | bit-identical | agrees (spec default) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows
  ].join('\n')
}
