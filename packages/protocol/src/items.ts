/**
 * Multi-item tasks (spec §6.8): several items of a batch carried by one task, stacked along the
 * first dimension of every input, and the task's outputs split back into one row group per item.
 * Pure functions: the submitter packs and unpacks; workers and the verification rules see a task
 * like any other.
 */

import { uvarint } from './bytes.js'
import { InvalidTensorError } from './errors.js'
import { Task, Tensor } from './pb/openbatch.js'

/** Wire type 2 (length-delimited) tag of field `field`. */
const lengthDelimited = (field: number) => (field << 3) | 2

/** An item that can share a task: every input has a first dimension of 1 (one row). */
export function isRowItem(item: readonly Tensor[]): boolean {
  return item.length > 0 && item.every((t) => t.dims.length > 0 && t.dims[0] === 1n)
}

/** Whether `b` can be stacked with `a` in one task: both one-row items with the same inputs (names, dtypes, other dimensions). */
export function sameItemShape(a: readonly Tensor[], b: readonly Tensor[]): boolean {
  if (!isRowItem(a) || !isRowItem(b) || a.length !== b.length) {
    return false
  }
  return a.every((t, i) => {
    const u = b[i] as Tensor
    return t.name === u.name && t.dtype === u.dtype && t.dims.length === u.dims.length && t.dims.every((d, k) => d === u.dims[k])
  })
}

/**
 * §6.8 One task's inputs from `items` (one-row items of the same shape, `sameItemShape`): each
 * input is the items' inputs of that name concatenated along the first dimension, in item order.
 * A single item is returned as it is.
 */
export function stackItems(items: readonly (readonly Tensor[])[]): Tensor[] {
  const [first] = items
  if (first == null) {
    throw new InvalidTensorError('no items to stack')
  }
  if (items.length === 1) {
    return [...first]
  }
  for (const [i, item] of items.entries()) {
    if (!sameItemShape(first, item)) {
      throw new InvalidTensorError(`item ${i} does not have the one-row shape of the items it is stacked with`)
    }
  }
  return first.map((t, input) => {
    const data = new Uint8Array(items.length * t.data.byteLength)
    items.forEach((item, i) => {
      data.set((item[input] as Tensor).data, i * t.data.byteLength)
    })
    return { name: t.name, dtype: t.dtype, dims: [BigInt(items.length), ...t.dims.slice(1)], data }
  })
}

/** Task encodings made by `encodeStackedTask`, by the inputs array it returned. */
const stackedEncodings = new WeakMap<readonly Tensor[], { index: number; bytes: Uint8Array<ArrayBuffer> }>()

/**
 * §6.8 The task `index` of `items` (one-row items of the same shape, as `stackItems` takes them),
 * stacked and encoded at once: `bytes` is `Task.encode({ taskId: empty, index, inputs:
 * stackItems(items) })` byte for byte, built in one buffer into which each item's bytes are copied
 * once, and `inputs` are the stacked tensors as views of it (no second copy: a requester staging a
 * 110 MB batch packed 32 items per task copied every byte twice). `encodedTask(inputs, index)` gives
 * `bytes` back.
 */
export function encodeStackedTask(
  index: number,
  items: readonly (readonly Tensor[])[]
): { bytes: Uint8Array<ArrayBuffer>; inputs: Tensor[] } {
  const [first] = items
  if (first == null) {
    throw new InvalidTensorError('no items to stack')
  }
  for (const [i, item] of items.entries()) {
    if (items.length > 1 && !sameItemShape(first, item)) {
      throw new InvalidTensorError(`item ${i} does not have the one-row shape of the items it is stacked with`)
    }
  }
  const head = Task.encode({ taskId: new Uint8Array(), index: BigInt(index), inputs: [] })
  // Per input: its Tensor header (all but data), then data's tag and length, then the rows.
  const layout = first.map((t, input) => {
    const dims = items.length > 1 ? [BigInt(items.length), ...t.dims.slice(1)] : t.dims
    const dataBytes = items.reduce((n, item) => n + (item[input] as Tensor).data.byteLength, 0)
    const header = Tensor.encode({ name: t.name, dtype: t.dtype, dims, data: new Uint8Array() })
    const dataHead = dataBytes > 0 ? [Uint8Array.of(lengthDelimited(4)), uvarint(dataBytes)] : []
    const tensorBytes = header.byteLength + dataHead.reduce((n, b) => n + b.byteLength, 0) + dataBytes
    return { t, dims, dataBytes, prefix: [Uint8Array.of(lengthDelimited(3)), uvarint(tensorBytes), header, ...dataHead] }
  })
  const total = layout.reduce((n, l) => n + l.prefix.reduce((m, b) => m + b.byteLength, 0) + l.dataBytes, head.byteLength)
  const bytes = new Uint8Array(total)
  bytes.set(head, 0)
  let at = head.byteLength
  const inputs = layout.map(({ t, dims, dataBytes, prefix }, input) => {
    for (const part of prefix) {
      bytes.set(part, at)
      at += part.byteLength
    }
    const start = at
    for (const item of items) {
      const data = (item[input] as Tensor).data
      bytes.set(data, at)
      at += data.byteLength
    }
    return { name: t.name, dtype: t.dtype, dims, data: bytes.subarray(start, start + dataBytes) }
  })
  stackedEncodings.set(inputs, { index, bytes })
  return { bytes, inputs }
}

/** The encoding `encodeStackedTask(index, …)` made along with `inputs`, if it did. */
export function encodedTask(inputs: readonly Tensor[], index: number): Uint8Array<ArrayBuffer> | undefined {
  const known = stackedEncodings.get(inputs)
  return known != null && known.index === index ? known.bytes : undefined
}

/**
 * §6.8 A multi-item task's outputs split into `count` items: each output must have `count` rows
 * (first dimension); item i gets row i of every output, with a first dimension of 1. The rows are
 * views of the outputs' bytes, not copies. With `count` 1 the outputs are the item's as they are.
 */
export function splitRows(outputs: readonly Tensor[], count: number): Tensor[][] {
  if (count === 1) {
    return [[...outputs]]
  }
  for (const t of outputs) {
    if (t.dims.length === 0 || t.dims[0] !== BigInt(count)) {
      throw new InvalidTensorError(
        `output "${t.name}" has shape [${t.dims.join(', ')}]: a task of ${count} items needs ${count} rows along its first dimension`
      )
    }
  }
  return Array.from({ length: count }, (_, i) =>
    outputs.map((t) => {
      const rowBytes = t.data.byteLength / count
      return { name: t.name, dtype: t.dtype, dims: [1n, ...t.dims.slice(1)], data: t.data.subarray(i * rowBytes, (i + 1) * rowBytes) }
    })
  )
}

/**
 * Where the items of a batch went (§6.8): tasks of `itemsPerTask` items each, but for the tasks
 * listed in `short` (task index, item count), in task order — the last task, and tasks cut short by
 * an item of another shape or one that cannot share a task.
 */
export interface ItemPacking {
  itemsPerTask: number
  itemCount: number
  short: [task: number, items: number][]
}

/** Maps tasks to the items they carry, for a job packed as `packing` (one item per task without it). */
export class ItemMap {
  readonly itemCount: number
  readonly itemsPerTask: number
  /** Short tasks in order, each with the first item of the task after it. */
  readonly #short: { task: number; count: number; nextStart: number }[] = []

  constructor(
    readonly taskCount: number,
    packing?: ItemPacking
  ) {
    this.itemsPerTask = packing?.itemsPerTask ?? 1
    this.itemCount = packing?.itemCount ?? taskCount
    let missing = 0
    for (const [task, count] of packing?.short ?? []) {
      missing += this.itemsPerTask - count
      this.#short.push({ task, count, nextStart: (task + 1) * this.itemsPerTask - missing })
    }
  }

  /** The items of task `task`: the first one's index and how many. */
  itemsOf(task: number): { start: number; count: number } {
    // The last short task before `task` (binary search): every task after it up to `task` is full.
    let lo = 0
    let hi = this.#short.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.#short[mid] as { task: number }).task < task) {
        lo = mid + 1
      } else {
        hi = mid
      }
    }
    const before = this.#short[lo - 1]
    const start = before == null ? task * this.itemsPerTask : before.nextStart + (task - before.task - 1) * this.itemsPerTask
    const here = this.#short[lo]
    return { start, count: here != null && here.task === task ? here.count : this.itemsPerTask }
  }
}

const itemBytes = (item: readonly Tensor[]) => item.reduce((n, t) => n + t.data.byteLength, 0)

/**
 * §6.8 Packs a stream of items into tasks of up to `itemsPerTask` consecutive items (and at most
 * `maxTaskBytes` of input bytes, unless one item alone is larger), filling `packing` as it goes: a
 * task ends early before an item that cannot be stacked with it (another shape, or more than one
 * row — such an item travels alone). With `itemsPerTask` 1 every item is its own task, as it is.
 */
export async function* packItems(
  items: Iterable<Tensor[]> | AsyncIterable<Tensor[]>,
  itemsPerTask: number,
  maxTaskBytes: number,
  packing: ItemPacking
): AsyncGenerator<Tensor[]> {
  if (!Number.isInteger(itemsPerTask) || itemsPerTask < 1) {
    throw new RangeError(`itemsPerTask must be a whole number ≥ 1, got ${itemsPerTask}`)
  }
  packing.itemsPerTask = itemsPerTask
  packing.itemCount = 0
  packing.short = []
  let group: Tensor[][] = []
  let bytes = 0
  let task = 0
  const flush = (): Tensor[] => {
    if (group.length !== itemsPerTask) {
      packing.short.push([task, group.length])
    }
    // Stacked and encoded at once: the store takes the encoding as it is (encodedTask).
    const inputs = group.length > 1 ? encodeStackedTask(task, group).inputs : stackItems(group)
    task++
    group = []
    bytes = 0
    return inputs
  }
  for await (const item of items) {
    packing.itemCount++
    const size = itemBytes(item)
    const alone = itemsPerTask === 1 || !isRowItem(item)
    if (group.length > 0 && (alone || !sameItemShape(group[0] as Tensor[], item) || bytes + size > maxTaskBytes)) {
      yield flush()
    }
    group.push(item)
    bytes += size
    if (alone || group.length === itemsPerTask) {
      yield flush()
    }
  }
  if (group.length > 0) {
    yield flush()
  }
}
