/**
 * Builds small ONNX models in code (no model is downloaded at run time). Used by tests, the
 * determinism study, examples and simulations.
 */

import { DTYPES, DType, float32Tensor } from '@openbatch/protocol'
import { ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './pb/onnx.js'

export interface ValueSpec {
  name: string
  dtype: DType
  /** A string is a symbolic dimension (e.g. "N" for the batch dimension). */
  shape: Array<number | string>
}

export interface NodeSpec {
  op: string
  inputs: string[]
  outputs: string[]
  /** Integer, float (`{ f }`) and integer-list attributes. */
  attrs?: Record<string, number | { f: number } | number[]>
}

export interface InitializerSpec {
  name: string
  dims: number[]
  values: number[]
}

export interface GraphSpec {
  inputs: ValueSpec[]
  outputs: ValueSpec[]
  nodes: NodeSpec[]
  /** FLOAT32 constants. */
  initializers?: InitializerSpec[]
  opset?: number
}

const ATTR_FLOAT = 1
const ATTR_INT = 2
const ATTR_INTS = 7

function valueInfo(v: ValueSpec): ValueInfoProto {
  const code = DTYPES[v.dtype as keyof typeof DTYPES].code
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: code,
        shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dimValue: 0n, dimParam: d } : { dimValue: BigInt(d), dimParam: '' })) }
      }
    }
  }
}

function node(n: NodeSpec, i: number): NodeProto {
  return {
    input: n.inputs,
    output: n.outputs,
    name: `${n.op.toLowerCase()}_${i}`,
    opType: n.op,
    domain: '',
    attribute: Object.entries(n.attrs ?? {}).map(([name, v]) =>
      Array.isArray(v)
        ? { name, f: 0, i: 0n, s: new Uint8Array(), ints: v.map(BigInt), type: ATTR_INTS }
        : typeof v === 'number'
          ? { name, f: 0, i: BigInt(v), s: new Uint8Array(), ints: [], type: ATTR_INT }
          : { name, f: v.f, i: 0n, s: new Uint8Array(), ints: [], type: ATTR_FLOAT }
    )
  }
}

function initializer(t: InitializerSpec): TensorProto {
  const tensor = float32Tensor(t.name, t.dims, t.values)
  return { dims: t.dims.map(BigInt), dataType: DTYPES[DType.FLOAT32].code, name: t.name, rawData: tensor.data }
}

/** Encodes a graph as an ONNX model (IR version 8, default opset 17). */
export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  return ModelProto.encode({
    irVersion: 8n,
    producerName: 'openbatch',
    opsetImport: [{ domain: '', version: BigInt(spec.opset ?? 17) }],
    graph: {
      name: 'graph',
      node: spec.nodes.map(node),
      initializer: (spec.initializers ?? []).map(initializer),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo)
    }
  })
}
