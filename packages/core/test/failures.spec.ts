/**
 * Task failures (spec §6.6) in the sans-IO core: transient failures go to other workers and, after
 * MAX_TRANSIENT_FAILURES, become the task's result; deterministic ones are confirmed by an
 * independent worker before the task settles as failed, and a false one is outvoted and proven.
 */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FailureKind, float32Tensor, MAX_TRANSIENT_FAILURES, resolvePolicy, type TaskFailure } from '@openbatch/protocol'
import { RequesterJob, seededRandom, TaskState, VerifiedJob, type VerifiedJobAction } from '../src/index.js'
import { submit } from './helpers.js'

const T0 = 1_000_000
const outputs = (x: number) => [float32Tensor('y', [1, 1], [x])]
const rejected: TaskFailure = { kind: FailureKind.INPUT_REJECTED, message: 'input "x" has shape [1, 3], the model expects [1, 4]' }
const oom: TaskFailure = { kind: FailureKind.RESOURCE_EXHAUSTED, message: 'Failed to allocate memory' }

function verifiedJob(taskCount: number, random = seededRandom(7)) {
  // Sampling off except where §6.6 forces it: only failures are re-run.
  const policy = { ...resolvePolicy(undefined), initialRate: 0, minRate: 0, canaryRate: 0 }
  return new VerifiedJob({ taskCount, maxBatch: 4, deadline: T0 + 600_000, leaseMs: 10_000, policy, reward: 0n, random })
}
const verdicts = (actions: VerifiedJobAction[]) => actions.flatMap((a) => (a.type === 'verdict' ? [a.verdict] : []))

describe('task failures (§6.6)', () => {
  it('a transient failure sends the task to another worker, never back to the one that failed it', () => {
    const j = new RequesterJob({ taskCount: 2, maxBatch: 2, deadline: T0 + 600_000, leaseMs: 10_000 })
    assert.deepEqual(j.claim(T0, 'a', 2).outcome.tasks, [0, 1])
    const step = j.failed(T0 + 1, 'a', 0)
    assert.deepEqual(step.outcome, { code: 'RETRY_ELSEWHERE' })
    assert.ok(step.actions.some((x) => x.type === 'release' && x.reason === 'failed' && x.tasks[0] === 0))
    assert.equal(j.taskState(0), TaskState.PENDING)
    assert.equal(j.allowance('a'), 4, 'not the worker’s fault: its allowance is kept')
    j.result(T0 + 2, 'a', 1)
    assert.equal(j.claim(T0 + 3, 'a', 2).outcome.code, 'NO_TASKS', 'task 0 is not offered to a again')
    assert.deepEqual(j.claim(T0 + 3, 'b', 2).outcome.tasks, [0])
    assert.deepEqual(j.failed(T0 + 4, 'b', 1).outcome, { code: 'NOT_ASSIGNED' }, 'a failure for a task it does not hold')
  })

  it(`after ${MAX_TRANSIENT_FAILURES} workers failed a task transiently, the failure is its result: settled failed, unsampled`, () => {
    const j = verifiedJob(1)
    let last: VerifiedJobAction[] = []
    for (const [i, w] of ['a', 'b', 'c'].entries()) {
      assert.deepEqual(j.claim(T0 + i, w, 1).outcome.tasks, [0])
      const step = submit(j, T0 + i, { task: 0, worker: w, outputs: [], failure: oom }, 'failed')
      assert.equal(step.outcome.code, i < 2 ? 'RETRY_ELSEWHERE' : 'OK')
      last = step.actions
    }
    assert.deepEqual(
      verdicts(last).map((v) => [v.status, v.worker, v.failure]),
      [['unsampled', 'c', FailureKind.RESOURCE_EXHAUSTED]]
    )
    assert.ok(last.some((x) => x.type === 'complete'))
    assert.equal(j.summary().failed, 1)
  })

  it('a deterministic failure is confirmed by an independent worker before the task settles failed (p = 1)', () => {
    const j = verifiedJob(1)
    j.noteWorker(T0, 'b')
    j.claim(T0, 'a', 1)
    const first = submit(j, T0 + 1, { task: 0, worker: 'a', outputs: [], failure: rejected })
    assert.equal(first.outcome.code, 'OK')
    assert.deepEqual(verdicts(first.actions), [], 'not settled on one worker’s word')
    assert.deepEqual(j.claim(T0 + 2, 'b', 1).outcome.tasks, [0], 'the re-run goes to b')
    const second = submit(j, T0 + 3, { task: 0, worker: 'b', outputs: [], failure: { ...rejected, message: 'other words' } })
    assert.deepEqual(
      verdicts(second.actions).map((v) => [v.status, v.failure]),
      [['agreed', FailureKind.INPUT_REJECTED]]
    )
    assert.equal(j.summary().failed, 1)
  })

  it('a false failure is outvoted by two agreeing outputs and proven; the task keeps its outputs', () => {
    const j = verifiedJob(1)
    j.noteWorker(T0, 'b')
    j.noteWorker(T0, 'c')
    j.claim(T0, 'lazy', 1)
    submit(j, T0 + 1, { task: 0, worker: 'lazy', outputs: [], failure: rejected })
    j.claim(T0 + 2, 'b', 1)
    submit(j, T0 + 3, { task: 0, worker: 'b', outputs: outputs(1) })
    assert.deepEqual(j.claim(T0 + 4, 'c', 1).outcome.tasks, [0], 'a disagreement goes to a third worker')
    const third = submit(j, T0 + 5, { task: 0, worker: 'c', outputs: outputs(1) })
    const fraud = third.actions.find((x) => x.type === 'fraud')
    assert.ok(fraud?.type === 'fraud' && fraud.accused.worker === 'lazy')
    assert.deepEqual(
      verdicts(third.actions).map((v) => [v.status, v.failure]),
      [['disputed', undefined]]
    )
    assert.equal(j.summary().failed, 0)
  })

  it('two failures never outvote outputs: the task is unresolved and nobody is accused', () => {
    const k = verifiedJob(1)
    k.noteWorker(T0, 'b')
    k.noteWorker(T0, 'c')
    k.claim(T0, 'a', 1)
    submit(k, T0 + 1, { task: 0, worker: 'a', outputs: [], failure: rejected })
    k.claim(T0 + 2, 'b', 1)
    submit(k, T0 + 3, { task: 0, worker: 'b', outputs: outputs(2) })
    k.claim(T0 + 4, 'c', 1)
    const third = submit(k, T0 + 5, { task: 0, worker: 'c', outputs: [], failure: rejected })
    assert.equal(
      third.actions.some((x) => x.type === 'fraud'),
      false
    )
    assert.deepEqual(
      verdicts(third.actions).map((v) => v.status),
      ['unresolved']
    )
  })

  it('a transient failure of a re-run sends the check to another worker', () => {
    const j = verifiedJob(1)
    j.noteWorker(T0, 'b')
    j.noteWorker(T0, 'c')
    j.claim(T0, 'a', 1)
    submit(j, T0 + 1, { task: 0, worker: 'a', outputs: [], failure: rejected })
    j.claim(T0 + 2, 'b', 1)
    assert.deepEqual(submit(j, T0 + 3, { task: 0, worker: 'b', outputs: [], failure: oom }, 'failed').outcome, { code: 'RETRY_ELSEWHERE' })
    assert.deepEqual(j.claim(T0 + 4, 'b', 1).outcome.tasks, [], 'not to b again')
    assert.deepEqual(j.claim(T0 + 4, 'c', 1).outcome.tasks, [0])
  })

  it('tasks a claim could not carry go back to the queue at once, at no cost to the worker', () => {
    const j = new RequesterJob({ taskCount: 4, maxBatch: 4, deadline: T0 + 600_000, leaseMs: 10_000 })
    assert.deepEqual(j.claim(T0, 'a', 4).outcome.tasks, [0, 1, 2, 3])
    const back = j.giveBack(T0, 'a', [2, 3])
    assert.ok(back.some((x) => x.type === 'release' && x.reason === 'returned' && x.tasks.join() === '2,3'))
    assert.equal(j.taskState(2), TaskState.PENDING)
    assert.equal(j.allowance('a'), 4)
    assert.deepEqual(j.claim(T0 + 1, 'b', 4).outcome.tasks, [2, 3], 'returned tasks come first')
  })

  it('a resumed job’s summary covers the counts before the restart', () => {
    const policy = resolvePolicy(undefined)
    const j = new VerifiedJob({
      taskCount: 10,
      maxBatch: 4,
      deadline: T0 + 600_000,
      policy,
      reward: 0n,
      random: seededRandom(1),
      restore: Array.from({ length: 8 }, (_, index) => ({ index, state: TaskState.DONE, worker: 'w' })),
      restoredCounts: { agreed: 3, unsampled: 4, disputed: 1, failed: 2, fraudProofs: 1 }
    })
    const s = j.summary()
    assert.deepEqual([s.agreed, s.unsampled, s.disputed, s.failed, s.fraudProofs, s.done], [3, 4, 1, 2, 1, 8])
  })
})
