/** Small ONNX models built in code, with deterministic weights. */

import { seededRandom } from '@openbatch/core'
import { DType, float32Tensor, type Tensor } from '@openbatch/protocol'
import { buildOnnxModel, type InitializerSpec } from '../src/index.js'

/** Seeded PRNG for deterministic weights and inputs. */
export const rng = seededRandom

const weights = (name: string, dims: number[], seed: number): InitializerSpec => {
  const r = rng(seed)
  return { name, dims, values: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) }
}

const IN = 16
const HIDDEN = 64
const OUT = 10

const mlpNodes = [
  { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h0'] },
  { op: 'Add', inputs: ['h0', 'b1'], outputs: ['h1'] },
  { op: 'Relu', inputs: ['h1'], outputs: ['h2'] },
  { op: 'MatMul', inputs: ['h2', 'w2'], outputs: ['h3'] },
  { op: 'Add', inputs: ['h3', 'b2'], outputs: ['logits'] }
]
const mlpWeights = [weights('w1', [IN, HIDDEN], 1), weights('b1', [HIDDEN], 2), weights('w2', [HIDDEN, OUT], 3), weights('b2', [OUT], 4)]

/** x [N,16] → logits [N,10]. */
export const MLP = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', IN] }],
  outputs: [{ name: 'logits', dtype: DType.FLOAT32, shape: ['N', OUT] }],
  nodes: mlpNodes,
  initializers: mlpWeights
})

/** x [N,16] → probs [N,10] (softmax). */
export const CLASSIFIER = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', IN] }],
  outputs: [{ name: 'probs', dtype: DType.FLOAT32, shape: ['N', OUT] }],
  nodes: [...mlpNodes, { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: 1 } }],
  initializers: mlpWeights
})

/** x [N,16] → label [N] (int64 argmax). */
export const LABELLER = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', IN] }],
  outputs: [{ name: 'label', dtype: DType.INT64, shape: ['N'] }],
  nodes: [...mlpNodes, { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } }],
  initializers: mlpWeights
})

/** a, b [N,4] → sum, prod [N,4]. */
export const TWO_IO = buildOnnxModel({
  inputs: [
    { name: 'a', dtype: DType.FLOAT32, shape: ['N', 4] },
    { name: 'b', dtype: DType.FLOAT32, shape: ['N', 4] }
  ],
  outputs: [
    { name: 'sum', dtype: DType.FLOAT32, shape: ['N', 4] },
    { name: 'prod', dtype: DType.FLOAT32, shape: ['N', 4] }
  ],
  nodes: [
    { op: 'Add', inputs: ['a', 'b'], outputs: ['sum'] },
    { op: 'Mul', inputs: ['a', 'b'], outputs: ['prod'] }
  ]
})

/** x [N,4] → total [M,4], the sum over rows: declared batchable, but its output does not follow the rows. */
export const ROW_SUM = buildOnnxModel({
  opset: 12, // ReduceSum takes its axes as an attribute up to opset 12
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 4] }],
  outputs: [{ name: 'total', dtype: DType.FLOAT32, shape: ['M', 4] }],
  nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['total'], attrs: { axes: [0], keepdims: 1 } }]
})

/** x [1,16] (fixed batch) → logits [1,10]. */
export const FIXED_BATCH = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: [1, IN] }],
  outputs: [{ name: 'logits', dtype: DType.FLOAT32, shape: [1, OUT] }],
  nodes: mlpNodes,
  initializers: mlpWeights
})

/** A well-formed ONNX file whose operator does not exist: loading it fails. */
export const UNLOADABLE = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 4] }],
  outputs: [{ name: 'y', dtype: DType.FLOAT32, shape: ['N', 4] }],
  nodes: [{ op: 'NoSuchOperator', inputs: ['x'], outputs: ['y'] }]
})

/** ids [N,4] (int64) → vectors [N,4,2]: an embedding lookup (Gather) over 10 rows; an id outside 0..9 fails. */
export const EMBEDDING = buildOnnxModel({
  inputs: [{ name: 'ids', dtype: DType.INT64, shape: ['N', 4] }],
  outputs: [{ name: 'vectors', dtype: DType.FLOAT32, shape: ['N', 4, 2] }],
  nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['vectors'], attrs: { axis: 0 } }],
  initializers: [{ name: 'table', dims: [10, 2], values: Array.from({ length: 20 }, (_, i) => i / 10) }]
})

export function randomInput(name: string, rows: number, cols: number, seed: number): Tensor {
  const r = rng(seed)
  return float32Tensor(
    name,
    [rows, cols],
    Array.from({ length: rows * cols }, () => r() * 4 - 2)
  )
}

export const IN_FEATURES = IN
export const OUT_CLASSES = OUT

export { CONV, ELEMENTWISE, REDUCTIONS } from '../src/calibration.js'

/** x [N,3,3] → det [N]: the determinant, an operator onnxruntime's WebGPU provider has no kernel for. */
export const DETERMINANT = buildOnnxModel({
  inputs: [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 3, 3] }],
  outputs: [{ name: 'det', dtype: DType.FLOAT32, shape: ['N'] }],
  nodes: [{ op: 'Det', inputs: ['x'], outputs: ['det'] }]
})
