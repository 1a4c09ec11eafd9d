import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runDeterminismStudy } from './determinism.js'

describe('determinism (issue #3 study, spec §7.1 defaults)', () => {
  it('honest runs under other thread counts, graph optimisations and batch compositions never disagree under the default rule', async () => {
    const drifts = await runDeterminismStudy([
      { intraOpThreads: 2, graphOptimizationLevel: 'disabled', batch: 'alone' },
      { intraOpThreads: 2, graphOptimizationLevel: 'all', batch: 'merged' },
      { intraOpThreads: 1, graphOptimizationLevel: 'basic', batch: 'merged' }
    ])
    assert.equal(drifts.length, 15)
    const failing = drifts.filter((d) => !d.agreesByDefault || d.argmaxFlips > 0)
    assert.deepEqual(failing, [])
  })
})
