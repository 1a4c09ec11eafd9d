/**
 * Reading a batch's inputs from files, checked against the model's input spec: .npy (one input,
 * first axis = items), .npz (one array per input name), .jsonl (one object per line, input name →
 * flat or nested numbers), or a directory of images (decoded and resized for an NCHW image input).
 * Every failure is a UsageError that names the file and what the model expects.
 */

import { createReadStream } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { DType, dtypeInfo, type Tensor, type TensorSpec, tensor } from '@openbatch/sdk'
import { unzipSync } from 'fflate'
import { type NpyArray, parse as parseNpy } from 'npyjs'
import { UsageError } from './errors.js'
import { IMAGE_EXTENSIONS, type ImagePrep, imageTensor, PRESETS } from './images.js'

export interface InputSource {
  /** How many items (known before reading them). */
  count: number
  /** A label per item for the results file (file name, or the row number). */
  labels: string[]
  items: () => AsyncIterable<Tensor[]>
}

const describeShape = (s: TensorSpec) => `[${s.shape.join(',')}]`

/** The dims one item has for `spec`: the first (batch) axis is 1, symbolic axes take `actual`. */
function itemDims(spec: TensorSpec, actual: number[], where: string): number[] {
  const want = spec.shape.slice(1)
  if (actual.length !== want.length) {
    throw new UsageError(
      `${where}: each item has shape [${actual.join(',')}], the model's input "${spec.name}" expects ${describeShape(spec)} (items along the first axis)`
    )
  }
  want.forEach((d, i) => {
    if (typeof d === 'number' && d > 0 && d !== actual[i]) {
      throw new UsageError(
        `${where}: each item has shape [${actual.join(',')}], the model's input "${spec.name}" expects ${describeShape(spec)}`
      )
    }
  })
  return [1, ...actual]
}

const NPY_DTYPES: Record<string, DType> = {
  f4: DType.FLOAT32,
  f8: DType.FLOAT64,
  i4: DType.INT32,
  i8: DType.INT64,
  u1: DType.UINT8,
  i1: DType.INT8
}

function fromNpy(arr: NpyArray, spec: TensorSpec, where: string): { count: number; item: (i: number) => Tensor } {
  if (arr.fortranOrder) {
    throw new UsageError(`${where}: Fortran-ordered arrays are not supported; save it with numpy.ascontiguousarray`)
  }
  const dtype = NPY_DTYPES[arr.dtype]
  if (dtype === undefined || dtype !== spec.dtype) {
    throw new UsageError(`${where}: dtype ${arr.dtype}, but the model's input "${spec.name}" is ${DType[spec.dtype]?.toLowerCase()}`)
  }
  const [count, ...rest] = arr.shape
  if (count === undefined || count < 1) {
    throw new UsageError(`${where}: no items (shape [${arr.shape.join(',')}])`)
  }
  const dims = itemDims(spec, rest, where)
  const size = dtypeInfo(dtype).size * rest.reduce((a, b) => a * b, 1)
  const bytes = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength)
  return {
    count,
    item: (i) => ({ name: spec.name, dtype, dims: dims.map(BigInt), data: bytes.slice(i * size, (i + 1) * size) })
  }
}

const toArrayBuffer = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer

/** Reads `path` as the inputs of a model with these input specs. */
export async function readInputs(path: string, specs: TensorSpec[], prep: ImagePrep): Promise<InputSource> {
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(path)
  } catch {
    throw new UsageError(`inputs ${path} do not exist; give a .npy, .npz or .jsonl file, or a directory of images`)
  }
  if (info.isDirectory()) {
    return readImageDir(path, specs, prep)
  }
  const ext = extname(path).toLowerCase()
  if (ext === '.npy') {
    if (specs.length !== 1) {
      throw new UsageError(
        `${path}: the model has ${specs.length} inputs (${specs.map((s) => s.name).join(', ')}); give an .npz with one array per input`
      )
    }
    const spec = specs[0] as TensorSpec
    const arr = parseNpyFile(await readFile(path), path)
    const { count, item } = fromNpy(arr, spec, path)
    return {
      count,
      labels: Array.from({ length: count }, (_, i) => String(i)),
      items: async function* () {
        for (let i = 0; i < count; i++) {
          yield [item(i)]
        }
      }
    }
  }
  if (ext === '.npz') {
    let files: Record<string, Uint8Array>
    try {
      files = unzipSync(await readFile(path))
    } catch (err) {
      throw new UsageError(`${path} is not a valid .npz (zip) file: ${(err as Error).message}`)
    }
    const readers = specs.map((spec) => {
      const entry = files[`${spec.name}.npy`]
      if (entry == null) {
        throw new UsageError(
          `${path} has no array "${spec.name}" (it has: ${Object.keys(files)
            .map((f) => f.replace(/\.npy$/, ''))
            .join(', ')})`
        )
      }
      return fromNpy(parseNpyFile(entry, `${path}:${spec.name}`), spec, `${path}:${spec.name}`)
    })
    const count = readers[0]?.count ?? 0
    if (readers.some((r) => r.count !== count)) {
      throw new UsageError(`${path}: arrays have different item counts (${readers.map((r) => r.count).join(', ')})`)
    }
    return {
      count,
      labels: Array.from({ length: count }, (_, i) => String(i)),
      items: async function* () {
        for (let i = 0; i < count; i++) {
          yield readers.map((r) => r.item(i))
        }
      }
    }
  }
  if (ext === '.jsonl') {
    return readJsonl(path, specs)
  }
  throw new UsageError(`inputs ${path}: unknown kind; give a .npy, .npz or .jsonl file, or a directory of images`)
}

function parseNpyFile(bytes: Uint8Array, where: string): NpyArray {
  try {
    return parseNpy(toArrayBuffer(bytes))
  } catch (err) {
    throw new UsageError(`${where} is not a valid .npy file: ${(err as Error).message}`)
  }
}

const TYPED: Partial<Record<DType, (v: number[]) => Parameters<typeof tensor>[1]>> = {
  [DType.FLOAT32]: (v) => Float32Array.from(v),
  [DType.FLOAT64]: (v) => Float64Array.from(v),
  [DType.INT32]: (v) => Int32Array.from(v),
  [DType.INT64]: (v) => BigInt64Array.from(v.map((x) => BigInt(x))),
  [DType.UINT8]: (v) => Uint8Array.from(v),
  [DType.INT8]: (v) => Int8Array.from(v)
}

async function readJsonl(path: string, specs: TensorSpec[]): Promise<InputSource> {
  // One pass to count and check; the items are read again when the batch streams them.
  let count = 0
  for await (const line of lines(path)) {
    if (line.trim() !== '') {
      parseLine(line, ++count, path, specs)
    }
  }
  if (count === 0) {
    throw new UsageError(`${path} has no items`)
  }
  return {
    count,
    labels: Array.from({ length: count }, (_, i) => String(i)),
    items: async function* () {
      let n = 0
      for await (const line of lines(path)) {
        if (line.trim() !== '') {
          yield parseLine(line, ++n, path, specs)
        }
      }
    }
  }
}

function lines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })
}

function parseLine(line: string, n: number, path: string, specs: TensorSpec[]): Tensor[] {
  let obj: Record<string, unknown>
  try {
    obj = JSON.parse(line) as Record<string, unknown>
  } catch {
    throw new UsageError(`${path} line ${n}: not JSON`)
  }
  if (obj == null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new UsageError(`${path} line ${n}: give an object of the model's inputs by name, e.g. {"${specs[0]?.name}": [...]}`)
  }
  const names = specs.map((s) => s.name)
  const unknown = Object.keys(obj).filter((k) => !names.includes(k))
  if (unknown.length > 0) {
    throw new UsageError(
      `${path} line ${n}: the model has no input ${unknown.map((k) => `"${k}"`).join(', ')}; its inputs are ${names.join(', ')}`
    )
  }
  return specs.map((spec) => {
    const value = obj[spec.name]
    if (value === undefined) {
      throw new UsageError(`${path} line ${n}: the model's input "${spec.name}" ${describeShape(spec)} is missing`)
    }
    if (!Array.isArray(value)) {
      throw new UsageError(
        `${path} line ${n}: "${spec.name}" must be an array of numbers (nested arrays give the shape), got ${typeof value}`
      )
    }
    const flat = (value as unknown[]).flat(Number.POSITIVE_INFINITY) as number[]
    const fixed = spec.shape.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : undefined))
    let dims: number[]
    if (Array.isArray(value[0])) {
      // Nested arrays carry the item's shape (needed where the model's axes are symbolic).
      const nested: number[] = []
      for (let v: unknown = value; Array.isArray(v); v = v[0]) {
        nested.push(v.length)
      }
      dims = itemDims(spec, nested, `${path} line ${n}`)
    } else if (fixed.filter((d) => d === undefined).length === 1 && fixed.length >= 1) {
      // One open axis (a sequence length, say): a flat array fills it.
      const known = fixed.reduce<number>((a, d) => a * (d ?? 1), 1)
      if (flat.length % known !== 0) {
        throw new UsageError(
          `${path} line ${n}: "${spec.name}" has ${flat.length} numbers, not a multiple of ${known}, for the model's input ${describeShape(spec)}`
        )
      }
      dims = [1, ...fixed.map((d) => d ?? flat.length / known)]
    } else if (fixed.some((d) => d === undefined)) {
      throw new UsageError(
        `${path} line ${n}: the model's input "${spec.name}" ${describeShape(spec)} has symbolic axes; give nested arrays (their nesting is the shape) or use .npy`
      )
    } else {
      dims = [1, ...(fixed as number[])]
    }
    const size = dims.reduce((a, b) => a * b, 1)
    if (flat.length !== size || flat.some((x) => typeof x !== 'number')) {
      throw new UsageError(
        `${path} line ${n}: "${spec.name}" has ${flat.length} numbers; the model expects ${describeShape(spec)} (${size} per item)`
      )
    }
    const make = TYPED[spec.dtype]
    if (make == null) {
      throw new UsageError(`the model's input "${spec.name}" has a dtype JSONL cannot carry; use .npy`)
    }
    return tensor(spec.name, make(flat), dims)
  })
}

async function readImageDir(dir: string, specs: TensorSpec[], prep: ImagePrep): Promise<InputSource> {
  const spec = specs[0]
  const shape = spec?.shape ?? []
  const is3 = (d: number | string | undefined) => d === 3
  const layout = shape.length === 4 && is3(shape[1]) ? 'nchw' : shape.length === 4 && is3(shape[3]) ? 'nhwc' : undefined
  if (specs.length !== 1 || spec == null || layout === undefined) {
    throw new UsageError(
      `a directory of images needs a model with one image input, [N,3,H,W] (NCHW) or [N,H,W,3] (NHWC); this model has ${specs.map((s) => `"${s.name}" ${describeShape(s)}`).join(', ')}`
    )
  }
  const [h, w] = layout === 'nchw' ? [shape[2], shape[3]] : [shape[1], shape[2]]
  const height = typeof h === 'number' && h > 0 ? h : prep.size?.[0]
  const width = typeof w === 'number' && w > 0 ? w : prep.size?.[1]
  if (height === undefined || width === undefined) {
    const sizes = Object.entries(PRESETS)
      .map(([name, p]) => `${name}: ${p.size?.join('x')}`)
      .join(', ')
    throw new UsageError(
      `the model's image input "${spec.name}" ${describeShape(spec)} leaves its height or width open; give --image-size HxW, or a --preset whose size fits the model (${sizes})`
    )
  }
  if (spec.dtype !== DType.FLOAT32 && spec.dtype !== DType.UINT8) {
    throw new UsageError(
      `the model's image input "${spec.name}" is ${DType[spec.dtype]?.toLowerCase()}; images become float32 or uint8 inputs`
    )
  }
  const target = { height, width, layout, dtype: spec.dtype } as const
  const files = (await readdir(dir)).filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())).sort()
  if (files.length === 0) {
    throw new UsageError(`${dir} has no images (${IMAGE_EXTENSIONS.join(', ')})`)
  }
  return {
    count: files.length,
    labels: files,
    items: async function* () {
      for (const f of files) {
        const path = join(dir, f)
        yield [await imageTensor(await readFile(path), spec.name, target, prep, path)]
      }
    }
  }
}
