import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CROSS_DEVICE, runDeterminismStudy } from './determinism.js'
import { webgpuDevices } from './fixtures.js'

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

  it('CPU and WebGPU results of every model agree under the default rule, with no argmax flip', async (t) => {
    if ((await webgpuDevices(t)) == null) {
      return
    }
    const drifts = await runDeterminismStudy(CROSS_DEVICE)
    assert.equal(drifts.length, 16) // 8 models × (alone, merged)
    const failing = drifts.filter((d) => !d.agreesByDefault || d.argmaxFlips > 0)
    assert.deepEqual(failing, [])
  })
})
