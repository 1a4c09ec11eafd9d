/**
 * Agreement rules (spec §7.1): when two results for the same task count as the same answer.
 * Every rule here is symmetric: agree(a, b) === agree(b, a).
 */

import { equals } from 'uint8arrays/equals'
import { DEFAULT_MIN_COSINE, DEFAULT_TIE_TOLERANCE } from './constants.js'
import { DEFAULT_AGREEMENT, isDeterministicFailure } from './messages.js'
import { AgreementKind, type AgreementRule, type TaskFailure } from './pb/openbatch.js'
import { dtypeInfo, type Tensor, toFloat64Array } from './tensor.js'

export interface Agreement {
  readonly agree: boolean
  /** The first output that disagreed, when one did. */
  readonly output?: string
  /** Why they disagree, in words (for logs and fraud-proof reports). */
  readonly reason?: string
}

const AGREE: Agreement = { agree: true }

/**
 * §7.1 rule selection: the rule naming the output, else the rule with an empty output name,
 * else the spec default (ALLCLOSE with DEFAULT_ATOL / DEFAULT_RTOL).
 */
export function ruleFor(rules: readonly AgreementRule[], output: string): AgreementRule {
  return rules.find((r) => r.output === output) ?? rules.find((r) => r.output === '') ?? DEFAULT_AGREEMENT
}

/** §7.1 Compares two output sets for one task under `rules`. */
export function agreeOutputs(a: readonly Tensor[], b: readonly Tensor[], rules: readonly AgreementRule[] = []): Agreement {
  if (a.length !== b.length) {
    return { agree: false, reason: `output count ${a.length} ≠ ${b.length}` }
  }
  const byName = new Map(b.map((t) => [t.name, t]))
  for (const ta of a) {
    const tb = byName.get(ta.name)
    if (tb == null) {
      return { agree: false, output: ta.name, reason: `output "${ta.name}" missing from the other result` }
    }
    const r = agreeTensors(ta, tb, ruleFor(rules, ta.name))
    if (!r.agree) {
      return { ...r, output: ta.name }
    }
  }
  return AGREE
}

/** What §7.1 compares of a result: its outputs, or the failure it reported instead (§6.6). */
export interface ComparableResult {
  readonly outputs: readonly Tensor[]
  readonly failure?: TaskFailure
  /**
   * §3.5 The outputs' digest. A result may carry it alone; two results of which either has no
   * outputs agree exactly when their digests are equal (§7.1: a digest admits only EXACT).
   */
  readonly outputDigest?: Uint8Array
}

/**
 * §7.1, §6.6 Compares two results for one task: outputs under `rules`; two failures agree when
 * both are the same deterministic kind; a failure never agrees with outputs.
 */
export function agreeResults(a: ComparableResult, b: ComparableResult, rules: readonly AgreementRule[] = []): Agreement {
  if (a.failure != null || b.failure != null) {
    if (a.failure == null || b.failure == null) {
      const failed = (a.failure ?? b.failure) as TaskFailure
      return { agree: false, reason: `one run failed (${failed.kind}), the other produced outputs` }
    }
    if (a.failure.kind !== b.failure.kind || !isDeterministicFailure(a.failure.kind)) {
      return { agree: false, reason: `failures ${a.failure.kind} and ${b.failure.kind} are not the same deterministic kind` }
    }
    return AGREE
  }
  if ((a.outputs.length === 0 || b.outputs.length === 0) && a.outputDigest != null && b.outputDigest != null) {
    return equals(a.outputDigest, b.outputDigest)
      ? AGREE
      : { agree: false, reason: 'output digests differ (a result without outputs compares by digest)' }
  }
  return agreeOutputs(a.outputs, b.outputs, rules)
}

/** §7.1 Compares one pair of tensors under one rule. */
export function agreeTensors(a: Tensor, b: Tensor, rule: AgreementRule): Agreement {
  if (a.dtype !== b.dtype) {
    return { agree: false, reason: `dtype ${a.dtype} ≠ ${b.dtype}` }
  }
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
    return { agree: false, reason: `shape [${a.dims.join(',')}] ≠ [${b.dims.join(',')}]` }
  }
  const isFloat = dtypeInfo(a.dtype).kind === 'float'
  const kind = rule.kind
  // Integer and bool tensors: ALLCLOSE and COSINE are evaluated as EXACT (§7.1).
  if (kind === AgreementKind.EXACT || (!isFloat && (kind === AgreementKind.ALLCLOSE || kind === AgreementKind.COSINE))) {
    return equals(a.data, b.data) ? AGREE : { agree: false, reason: 'elements differ (exact)' }
  }
  const va = toFloat64Array(a)
  const vb = toFloat64Array(b)
  // §7.1 non-finite values: NaN only agrees with NaN, ±Inf only with the same infinity.
  for (let i = 0; i < va.length; i++) {
    const x = va[i] as number
    const y = vb[i] as number
    if (Number.isNaN(x) !== Number.isNaN(y)) {
      return { agree: false, reason: `NaN at element ${i} in one result only` }
    }
    if ((!Number.isFinite(x) || !Number.isFinite(y)) && !Number.isNaN(x) && x !== y) {
      return { agree: false, reason: `element ${i}: ${x} ≠ ${y}` }
    }
  }
  const row = a.dims.length === 0 ? 1 : Number(a.dims[a.dims.length - 1])
  switch (kind) {
    case AgreementKind.ALLCLOSE:
      return allclose(va, vb, rule.atol, rule.rtol)
    case AgreementKind.COSINE:
      return cosine(va, vb, row, rule.minCosine === 0 ? DEFAULT_MIN_COSINE : rule.minCosine, rule.atol)
    case AgreementKind.ARGMAX:
      return topK(va, vb, row, 1, tie(rule))
    case AgreementKind.TOP_K:
      return topK(va, vb, row, rule.k, tie(rule))
    default:
      return { agree: false, reason: `unknown agreement kind ${String(kind)}` }
  }
}

function tie(rule: AgreementRule): number {
  return rule.tieTolerance === 0 ? DEFAULT_TIE_TOLERANCE : rule.tieTolerance
}

/** |a−b| ≤ atol + rtol·max(|a|,|b|) elementwise — the symmetric form of numpy's allclose. */
function allclose(a: Float64Array, b: Float64Array, atol: number, rtol: number): Agreement {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number
    const y = b[i] as number
    if (!Number.isFinite(x)) {
      continue // equal non-finite values, checked above
    }
    const d = Math.abs(x - y)
    if (d > atol + rtol * Math.max(Math.abs(x), Math.abs(y))) {
      return { agree: false, reason: `element ${i}: |${x} − ${y}| = ${d} exceeds atol ${atol} + rtol ${rtol}·max(|a|,|b|)` }
    }
  }
  return AGREE
}

/** Per row of the last axis: cosine ≥ min; two near-zero rows (norm ≤ atol) agree, one alone does not. */
function cosine(a: Float64Array, b: Float64Array, row: number, min: number, atol: number): Agreement {
  if (row === 0) {
    return AGREE
  }
  for (let r = 0; r < a.length / row; r++) {
    let dot = 0
    let na = 0
    let nb = 0
    for (let i = r * row; i < (r + 1) * row; i++) {
      const x = a[i] as number
      const y = b[i] as number
      if (!Number.isFinite(x)) {
        continue
      }
      dot += x * y
      na += x * x
      nb += y * y
    }
    const za = Math.sqrt(na) <= atol
    const zb = Math.sqrt(nb) <= atol
    if (za || zb) {
      if (za !== zb) {
        return { agree: false, reason: `row ${r}: one vector is zero, the other is not` }
      }
      continue
    }
    // One rounding of the product, not two of separate norms: identical rows give exactly 1.
    const c = dot / Math.sqrt(na * nb)
    if (!(c >= min)) {
      return { agree: false, reason: `row ${r}: cosine ${c} < ${min}` }
    }
  }
  return AGREE
}

/** Indices of the k largest non-NaN values of v[from, to), ties broken by the lower index. */
function topIndices(v: Float64Array, from: number, to: number, k: number): number[] {
  const idx: number[] = []
  for (let i = from; i < to; i++) {
    if (!Number.isNaN(v[i] as number)) {
      idx.push(i)
    }
  }
  idx.sort((i, j) => (v[j] as number) - (v[i] as number) || i - j)
  return idx.slice(0, k)
}

/**
 * Per row of the last axis, the top-k index sets must match, except that an index in one set and
 * not the other is tolerated when, in the result that left it out, its value is within
 * `tolerance` of that result's k-th largest value (a near-tie that float noise may flip).
 */
function topK(a: Float64Array, b: Float64Array, row: number, k: number, tolerance: number): Agreement {
  if (row === 0) {
    return AGREE
  }
  for (let r = 0; r < a.length / row; r++) {
    const from = r * row
    const to = from + row
    const ta = topIndices(a, from, to, k)
    const tb = topIndices(b, from, to, k)
    if (ta.length === 0) {
      continue
    }
    const kthA = a[ta[ta.length - 1] as number] as number
    const kthB = b[tb[tb.length - 1] as number] as number
    const sa = new Set(ta)
    const sb = new Set(tb)
    for (const i of ta) {
      if (!sb.has(i) && !((b[i] as number) >= kthB - tolerance)) {
        return { agree: false, reason: `row ${r}: index ${i - from} is in one top-${k} and not near the other's` }
      }
    }
    for (const i of tb) {
      if (!sa.has(i) && !((a[i] as number) >= kthA - tolerance)) {
        return { agree: false, reason: `row ${r}: index ${i - from} is in one top-${k} and not near the other's` }
      }
    }
  }
  return AGREE
}
