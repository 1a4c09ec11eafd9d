import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AgreementKind, type AgreementRule, agreeOutputs, agreeTensors, DType, float32Tensor, type Tensor } from '../src/index.js'

const rule = (kind: AgreementKind, over: Partial<AgreementRule> = {}): AgreementRule => ({
  output: '',
  kind,
  atol: 1e-4,
  rtol: 1e-3,
  minCosine: 0.999,
  k: 2,
  tieTolerance: 1e-4,
  ...over
})
const f = (values: number[], dims = [values.length], name = 'y') => float32Tensor(name, dims, values)
const ints = (values: number[]): Tensor => ({
  name: 'y',
  dtype: DType.INT32,
  dims: [BigInt(values.length)],
  data: new Uint8Array(Int32Array.from(values).buffer)
})

describe('agreement rules (§7.1)', () => {
  it('EXACT compares bytes', () => {
    assert.ok(agreeTensors(f([1, 2]), f([1, 2]), rule(AgreementKind.EXACT)).agree)
    assert.ok(!agreeTensors(f([1, 2]), f([1, 2.0000002]), rule(AgreementKind.EXACT)).agree)
  })

  it('integer tensors are exact even under ALLCLOSE and COSINE', () => {
    assert.ok(!agreeTensors(ints([100, 7]), ints([100, 8]), rule(AgreementKind.ALLCLOSE, { atol: 5 })).agree)
    assert.ok(!agreeTensors(ints([100, 7]), ints([100, 8]), rule(AgreementKind.COSINE)).agree)
    assert.ok(agreeTensors(ints([100, 7]), ints([100, 7]), rule(AgreementKind.COSINE)).agree)
  })

  it('ALLCLOSE uses atol + rtol·max(|a|,|b|)', () => {
    const r = rule(AgreementKind.ALLCLOSE, { atol: 0.01, rtol: 0.1 })
    assert.ok(agreeTensors(f([10]), f([10.9]), r).agree) // 0.9 ≤ 0.01 + 1.09
    assert.ok(!agreeTensors(f([0]), f([0.02]), r).agree) // 0.02 > 0.01 + 0.002
    const v = agreeTensors(f([1, 2]), f([1, 3]), r)
    assert.match(v.reason ?? '', /element 1/)
  })

  it('ARGMAX agrees on the same class and on near-ties, not on a clear flip', () => {
    const r = rule(AgreementKind.ARGMAX, { tieTolerance: 0.01 })
    assert.ok(agreeTensors(f([0.1, 0.9], [1, 2]), f([0.2, 0.8], [1, 2]), r).agree)
    assert.ok(agreeTensors(f([0.501, 0.499], [1, 2]), f([0.499, 0.501], [1, 2]), r).agree)
    assert.ok(!agreeTensors(f([0.9, 0.1], [1, 2]), f([0.1, 0.9], [1, 2]), r).agree)
    assert.ok(!agreeTensors(f([0.9, 0.1, 0.1, 0.9], [2, 2]), f([0.9, 0.1, 0.9, 0.1], [2, 2]), r).agree, 'second row flips')
  })

  it('TOP_K compares index sets, order inside the set does not matter', () => {
    const r = rule(AgreementKind.TOP_K, { k: 2, tieTolerance: 0.001 })
    assert.ok(agreeTensors(f([0.5, 0.3, 0.1, 0.1]), f([0.3, 0.5, 0.1, 0.1]), r).agree)
    assert.ok(!agreeTensors(f([0.5, 0.3, 0.1, 0.1]), f([0.5, 0.1, 0.3, 0.1]), r).agree)
  })

  it('COSINE compares rows of the last axis; zero rows agree only with zero rows', () => {
    const r = rule(AgreementKind.COSINE, { minCosine: 0.99, atol: 1e-6 })
    assert.ok(agreeTensors(f([1, 2, 3, 4], [2, 2]), f([2, 4, 3.01, 4], [2, 2]), r).agree, 'scale does not matter')
    assert.ok(!agreeTensors(f([1, 0], [1, 2]), f([0, 1], [1, 2]), r).agree)
    assert.ok(agreeTensors(f([0, 0], [1, 2]), f([0, 0], [1, 2]), r).agree)
    assert.ok(!agreeTensors(f([0, 0], [1, 2]), f([0, 1], [1, 2]), r).agree)
  })

  it('NaN agrees only with NaN in the same place; infinities only with the same infinity', () => {
    const r = rule(AgreementKind.ALLCLOSE)
    assert.ok(agreeTensors(f([Number.NaN, 1]), f([Number.NaN, 1]), r).agree)
    assert.ok(!agreeTensors(f([Number.NaN, 1]), f([0, 1]), r).agree)
    assert.ok(agreeTensors(f([Number.POSITIVE_INFINITY]), f([Number.POSITIVE_INFINITY]), r).agree)
    assert.ok(!agreeTensors(f([Number.POSITIVE_INFINITY]), f([Number.NEGATIVE_INFINITY]), r).agree)
    assert.ok(!agreeTensors(f([Number.POSITIVE_INFINITY]), f([3e38]), r).agree)
  })

  it('different dtype, shape, output names or counts never agree', () => {
    const r = rule(AgreementKind.ALLCLOSE)
    assert.ok(!agreeTensors(f([1, 2]), f([1, 2], [2, 1]), r).agree)
    assert.ok(!agreeTensors(f([1]), { ...ints([1]) }, r).agree)
    assert.equal(agreeOutputs([f([1], [1], 'a')], [f([1], [1], 'b')]).agree, false)
    assert.equal(agreeOutputs([f([1], [1], 'a')], []).agree, false)
  })

  it('picks the rule naming the output, then the default rule', () => {
    const rules = [rule(AgreementKind.EXACT, { output: 'ids' }), rule(AgreementKind.ALLCLOSE, { atol: 1 })]
    const a = [f([1], [1], 'ids'), f([1], [1], 'score')]
    assert.ok(agreeOutputs(a, [f([1], [1], 'ids'), f([1.5], [1], 'score')], rules).agree)
    const v = agreeOutputs(a, [f([1.5], [1], 'ids'), f([1], [1], 'score')], rules)
    assert.equal(v.agree, false)
    assert.equal(v.output, 'ids')
  })

  it('every rule is symmetric (property)', () => {
    const arbRow = fc.array(fc.oneof(fc.float({ noDefaultInfinity: false }), fc.constantFrom(0, 1, -1, Number.NaN)), {
      minLength: 4,
      maxLength: 4
    })
    const arbRule = fc.record({
      kind: fc.constantFrom(AgreementKind.EXACT, AgreementKind.ARGMAX, AgreementKind.TOP_K, AgreementKind.ALLCLOSE, AgreementKind.COSINE),
      atol: fc.double({ min: 0, max: 1, noNaN: true }),
      rtol: fc.double({ min: 0, max: 1, noNaN: true }),
      minCosine: fc.double({ min: -1, max: 1, noNaN: true }),
      k: fc.integer({ min: 1, max: 4 }),
      tieTolerance: fc.double({ min: 0, max: 1, noNaN: true })
    })
    fc.assert(
      fc.property(arbRow, arbRow, arbRule, (a, b, r) => {
        const ta = f(a, [2, 2])
        const tb = f(b, [2, 2])
        const rr = { output: '', ...r }
        assert.equal(agreeTensors(ta, tb, rr).agree, agreeTensors(tb, ta, rr).agree)
        assert.ok(agreeTensors(ta, ta, rr).agree, 'reflexive')
      }),
      { numRuns: 2000 }
    )
  })
})
