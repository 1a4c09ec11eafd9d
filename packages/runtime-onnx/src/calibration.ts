/**
 * Agreement calibration (spec §7.1): small models built in code that exercise one operator class
 * each — matrix products with softmax, convolution, reductions, element-wise maths — with
 * deterministic inputs, and the drift measure the determinism study and `openbatch device-check`
 * report when the same tasks run under two settings (CPU vs WebGPU, say).
 */

import {
  agreeOutputs,
  DEFAULT_AGREEMENT,
  DEFAULT_ATOL,
  DEFAULT_RTOL,
  DType,
  dtypeInfo,
  float32Tensor,
  type Tensor,
  toFloat64Array
} from '@openbatch/protocol'
import { buildOnnxModel, type InitializerSpec } from './onnx-builder.js'

/** Deterministic numbers in [-1, 1) (Park–Miller), so every machine studies the same values. */
export function calibrationValues(n: number, seed: number): number[] {
  let s = seed % 2147483647 || 1
  return Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647
    return (s / 2147483647) * 2 - 1
  })
}

const weights = (name: string, dims: number[], seed: number): InitializerSpec => ({
  name,
  dims,
  values: calibrationValues(
    dims.reduce((a, b) => a * b, 1),
    seed
  )
})

/** x [N,32] → probs [N,10]: MatMul, Add, Relu, MatMul, Softmax — a small float classifier. */
export const MATMUL_SOFTMAX = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 32] }],
  outputs: [{ name: 'probs', dtype: DType.FLOAT32, shape: ['N', 10] }],
  nodes: [
    { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h0'] },
    { op: 'Add', inputs: ['h0', 'b1'], outputs: ['h1'] },
    { op: 'Relu', inputs: ['h1'], outputs: ['h2'] },
    { op: 'MatMul', inputs: ['h2', 'w2'], outputs: ['logits'] },
    { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: 1 } }
  ],
  initializers: [weights('w1', [32, 64], 1), weights('b1', [64], 2), weights('w2', [64, 10], 3)]
})

/** x [N,3,16,16] → features [N,8,1,1]: 3×3 convolution (8 filters), ReLU, global average pooling. */
export const CONV = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 3, 16, 16] }],
  outputs: [{ name: 'features', dtype: DType.FLOAT32, shape: ['N', 8, 1, 1] }],
  nodes: [
    { op: 'Conv', inputs: ['x', 'k', 'kb'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['features'] }
  ],
  initializers: [weights('k', [8, 3, 3, 3], 11), weights('kb', [8], 12)]
})

/** x [N,64] → sum, mean, max, l2 [N,1]: reductions along the row (opset 12: axes as attributes). */
export const REDUCTIONS = buildOnnxModel({
  opset: 12,
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 64] }],
  outputs: ['sum', 'mean', 'max', 'l2'].map((name) => ({ name, dtype: DType.FLOAT32, shape: ['N', 1] })),
  nodes: [
    { op: 'ReduceSum', inputs: ['x'], outputs: ['sum'], attrs: { axes: [1], keepdims: 1 } },
    { op: 'ReduceMean', inputs: ['x'], outputs: ['mean'], attrs: { axes: [1], keepdims: 1 } },
    { op: 'ReduceMax', inputs: ['x'], outputs: ['max'], attrs: { axes: [1], keepdims: 1 } },
    { op: 'ReduceL2', inputs: ['x'], outputs: ['l2'], attrs: { axes: [1], keepdims: 1 } }
  ]
})

/** x [N,64] → y [N,64]: a chain of element-wise operators (exp, log, tanh, sigmoid, erf, sqrt, division). */
export const ELEMENTWISE = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 64] }],
  outputs: [{ name: 'y', dtype: DType.FLOAT32, shape: ['N', 64] }],
  nodes: [
    { op: 'Abs', inputs: ['x'], outputs: ['a'] },
    { op: 'Add', inputs: ['a', 'one'], outputs: ['a1'] },
    { op: 'Log', inputs: ['a1'], outputs: ['l'] },
    { op: 'Exp', inputs: ['x'], outputs: ['e'] },
    { op: 'Tanh', inputs: ['e'], outputs: ['t'] },
    { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
    { op: 'Erf', inputs: ['x'], outputs: ['f'] },
    { op: 'Sqrt', inputs: ['a1'], outputs: ['q'] },
    { op: 'Mul', inputs: ['l', 't'], outputs: ['m1'] },
    { op: 'Add', inputs: ['m1', 's'], outputs: ['m2'] },
    { op: 'Add', inputs: ['m2', 'f'], outputs: ['m3'] },
    { op: 'Div', inputs: ['m3', 'q'], outputs: ['y'] }
  ],
  initializers: [{ name: 'one', dims: [1], values: [1] }]
})

export interface CalibrationModel {
  name: string
  bytes: Uint8Array
  /** Single-item tasks (first dimension 1), deterministic. */
  tasks: Tensor[][]
}

/** Tasks of `count` items with inputs of `shape` (first dimension 1), from `seed`. */
export function calibrationTasks(name: string, shape: number[], count: number, seed: number): Tensor[][] {
  const size = shape.reduce((a, b) => a * b, 1)
  return Array.from({ length: count }, (_, i) => [float32Tensor(name, shape, calibrationValues(size, seed + i))])
}

/**
 * The built-in calibration models, one operator class each, 32 tasks apiece; with
 * `paddleClassifier` (the bytes of PaddleOCR's text-direction classifier) a real model as well.
 */
export function calibrationModels(paddleClassifier?: Uint8Array): CalibrationModel[] {
  return [
    { name: 'matmul + softmax', bytes: MATMUL_SOFTMAX, tasks: calibrationTasks('x', [1, 32], 32, 100) },
    { name: 'conv (conv, relu, pooling)', bytes: CONV, tasks: calibrationTasks('x', [1, 3, 16, 16], 32, 200) },
    { name: 'reductions (sum, mean, max, l2)', bytes: REDUCTIONS, tasks: calibrationTasks('x', [1, 64], 32, 300) },
    { name: 'element-wise (exp, log, tanh, erf, …)', bytes: ELEMENTWISE, tasks: calibrationTasks('x', [1, 64], 32, 400) },
    ...(paddleClassifier == null
      ? []
      : [{ name: 'PaddleOCR text direction', bytes: paddleClassifier, tasks: calibrationTasks('x', [1, 3, 48, 192], 32, 500) }])
  ]
}

/** How far one run's outputs are from a reference run's, task by task. */
export interface Drift {
  maxAbs: number
  maxRel: number
  /**
   * The largest share of the default ALLCLOSE tolerance an element used: max |a − b| / (atol +
   * rtol·|a|). Below 1 agrees; 1 / this is the margin.
   */
  toleranceUsed: number
  /** Rows whose largest element moved (last dimension = classes). */
  argmaxFlips: number
  /** Bit-identical to the reference on every task. */
  identical: boolean
  /** Agrees with the reference under the spec's default rule (ALLCLOSE atol/rtol; integers exact). */
  agreesByDefault: boolean
}

/** Compares `got` with `ref` (same tasks, same order). */
export function measureDrift(ref: Tensor[][], got: Tensor[][]): Drift {
  const drift: Drift = { maxAbs: 0, maxRel: 0, toleranceUsed: 0, argmaxFlips: 0, identical: true, agreesByDefault: true }
  ref.forEach((outputs, i) => {
    const other = got[i] as Tensor[]
    drift.agreesByDefault &&= agreeOutputs(outputs, other, [DEFAULT_AGREEMENT]).agree
    for (const a of outputs) {
      const b = other.find((t) => t.name === a.name) as Tensor
      drift.identical &&= a.data.byteLength === b.data.byteLength && a.data.every((x, j) => x === b.data[j])
      if (dtypeInfo(a.dtype).kind !== 'float') {
        continue
      }
      const va = toFloat64Array(a)
      const vb = toFloat64Array(b)
      va.forEach((x, j) => {
        const y = vb[j] as number
        const d = Math.abs(x - y)
        drift.maxAbs = Math.max(drift.maxAbs, d)
        drift.maxRel = Math.max(drift.maxRel, d / Math.max(Math.abs(x), Math.abs(y), 1e-12))
        drift.toleranceUsed = Math.max(drift.toleranceUsed, d / (DEFAULT_ATOL + DEFAULT_RTOL * Math.abs(x)))
      })
      const row = Number(a.dims[a.dims.length - 1] ?? 1n)
      const argmax = (v: Float64Array, r: number) => {
        let best = r * row
        for (let k = r * row; k < (r + 1) * row; k++) {
          if ((v[k] as number) > (v[best] as number)) {
            best = k
          }
        }
        return best - r * row
      }
      for (let r = 0; r < va.length / row; r++) {
        if (argmax(va, r) !== argmax(vb, r)) {
          drift.argmaxFlips++
        }
      }
    }
  })
  return drift
}
