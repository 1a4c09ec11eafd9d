/** JSONL inputs of any rank, checked per line against the model's inputs (issue #16). */

import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DType, type TensorSpec } from '@openbatch/sdk'
import { PADDLE_PREP } from '../src/images.js'
import { readInputs } from '../src/inputs.js'
import { tempDir } from './helpers.js'

/** A text model's inputs: token ids [batch, seq] and a mask of the same shape. */
const TEXT: TensorSpec[] = [
  { name: 'input_ids', dtype: DType.INT64, shape: ['batch', 'seq'] },
  { name: 'attention_mask', dtype: DType.INT64, shape: ['batch', 'seq'] }
]

async function jsonl(lines: unknown[]): Promise<string> {
  const path = join(await tempDir(), 'inputs.jsonl')
  await writeFile(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'))
  return path
}

async function items(path: string, specs: TensorSpec[]) {
  const source = await readInputs(path, specs, PADDLE_PREP)
  const out = []
  for await (const item of source.items()) {
    out.push(item.map((t) => ({ name: t.name, dtype: t.dtype, dims: t.dims.map(Number) })))
  }
  return out
}

describe('JSONL inputs (issue #16)', () => {
  it('a flat array fills the one open axis: [batch, seq] inputs of different lengths', async () => {
    const path = await jsonl([
      { input_ids: [101, 2023, 102], attention_mask: [1, 1, 1] },
      { input_ids: [101, 102], attention_mask: [1, 1] }
    ])
    assert.deepEqual(await items(path, TEXT), [
      [
        { name: 'input_ids', dtype: DType.INT64, dims: [1, 3] },
        { name: 'attention_mask', dtype: DType.INT64, dims: [1, 3] }
      ],
      [
        { name: 'input_ids', dtype: DType.INT64, dims: [1, 2] },
        { name: 'attention_mask', dtype: DType.INT64, dims: [1, 2] }
      ]
    ])
  })

  it('nested arrays of any rank give the shape', async () => {
    const spec: TensorSpec[] = [{ name: 'x', dtype: DType.FLOAT32, shape: ['batch', 'c', 'h', 'w'] }]
    const path = await jsonl([{ x: [[[1, 2]], [[3, 4]]] }])
    assert.deepEqual(await items(path, spec), [[{ name: 'x', dtype: DType.FLOAT32, dims: [1, 2, 1, 2] }]])
  })

  it('bad lines name the input, the line and what the model expects', async () => {
    const cases: [unknown[], RegExp][] = [
      [[{ input_ids: [1, 2] }], /line 1: the model's input "attention_mask" \[batch,seq\] is missing/],
      [
        [{ input_ids: [1], attention_mask: [1], token_type_ids: [0] }],
        /line 1: the model has no input "token_type_ids"; its inputs are input_ids, attention_mask/
      ],
      [
        [
          { input_ids: [1], attention_mask: [1] },
          { input_ids: 5, attention_mask: [1] }
        ],
        /line 2: "input_ids" must be an array of numbers .* got number/
      ],
      [['[1, 2, 3]'], /line 1: give an object of the model's inputs by name, e\.g\. \{"input_ids": \[\.\.\.\]\}/],
      [['{"input_ids": [1'], /line 1: not JSON/]
    ]
    for (const [lines, pattern] of cases) {
      await assert.rejects(items(await jsonl(lines), TEXT), (err: Error) => {
        assert.equal(err.name, 'UsageError')
        assert.match(err.message, pattern)
        return true
      })
    }
    const image: TensorSpec[] = [{ name: 'x', dtype: DType.FLOAT32, shape: ['batch', 3, 'h', 'w'] }]
    await assert.rejects(
      items(await jsonl([{ x: [1, 2, 3] }]), image),
      /line 1: the model's input "x" \[batch,3,h,w\] has symbolic axes; give nested arrays/
    )
    const fixed: TensorSpec[] = [{ name: 'x', dtype: DType.FLOAT32, shape: ['batch', 2, 'n'] }]
    await assert.rejects(
      items(await jsonl([{ x: [1, 2, 3] }]), fixed),
      /line 1: "x" has 3 numbers, not a multiple of 2, for the model's input \[batch,2,n\]/
    )
  })
})
