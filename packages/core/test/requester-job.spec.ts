import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { type JobAction, RequesterJob, TaskState } from '../src/index.js'

const T0 = 1_000_000
const job = (over: Partial<ConstructorParameters<typeof RequesterJob>[0]> = {}) =>
  new RequesterJob({ taskCount: 10, maxBatch: 4, deadline: T0 + 600_000, leaseMs: 10_000, initialAllowance: 4, ...over })
const of = <T extends JobAction['type']>(actions: JobAction[], type: T) =>
  actions.filter((a): a is Extract<JobAction, { type: T }> => a.type === type)

describe('RequesterJob (§6.2, §6.3, §6.5)', () => {
  it('grants at most min(maxTasks, maxBatch, allowance) tasks and asks to persist the lease', () => {
    const j = job()
    const { outcome, actions } = j.claim(T0, 'w1', 100)
    assert.equal(outcome.code, 'OK')
    assert.deepEqual(outcome.tasks, [0, 1, 2, 3])
    assert.deepEqual(of(actions, 'lease'), [{ type: 'lease', worker: 'w1', tasks: [0, 1, 2, 3], expiresAt: T0 + 10_000 }])
    assert.deepEqual(of(actions, 'timer'), [{ type: 'timer', at: T0 + 10_000 }])
    assert.deepEqual(j.claim(T0, 'w2', 2).outcome.tasks, [4, 5])
    // w1 holds its whole allowance: nothing more until it returns work
    assert.equal(j.claim(T0, 'w1', 4).outcome.code, 'NO_TASKS')
  })

  it('accepts results within the lease and completes the job', () => {
    const j = job({ taskCount: 3 })
    const { outcome } = j.claim(T0, 'w1', 3)
    const actions = outcome.tasks.flatMap((t) => {
      const step = j.result(T0 + 100, 'w1', t)
      assert.deepEqual(step.outcome, { code: 'OK', check: false })
      return step.actions
    })
    assert.deepEqual(
      of(actions, 'accept').map((a) => a.task),
      [0, 1, 2]
    )
    assert.equal(of(actions, 'complete').length, 1)
    assert.deepEqual(j.summary(), { taskCount: 3, pending: 0, leased: 0, done: 3, settled: 3, checking: 0, checks: 0, closed: true })
    assert.equal(j.claim(T0 + 200, 'w2', 1).outcome.code, 'JOB_CLOSED')
  })

  it("re-queues the tasks of an expired lease, hands them out first, and halves the slow worker's allowance", () => {
    const j = job()
    j.claim(T0, 'slow', 4)
    j.result(T0 + 1000, 'slow', 0)
    const released = of(j.tick(T0 + 10_000), 'release')
    assert.deepEqual(released, [{ type: 'release', worker: 'slow', tasks: [1, 2, 3], reason: 'expired' }])
    assert.equal(j.allowance('slow'), 2)
    assert.deepEqual(j.claim(T0 + 10_001, 'fast', 4).outcome.tasks, [1, 2, 3, 4])
    assert.equal(j.taskState(0), TaskState.DONE)
  })

  it('doubles the allowance of a worker that returns whole leases in time, up to 2 × maxBatch', () => {
    const j = job({ taskCount: 100 })
    for (let round = 0; round < 4; round++) {
      const { outcome } = j.claim(T0, 'w', 100)
      for (const t of outcome.tasks) {
        j.result(T0 + 1, 'w', t)
      }
    }
    assert.equal(j.allowance('w'), 8)
  })

  it("re-queues a disconnected worker's tasks at once", () => {
    const j = job()
    j.claim(T0, 'w1', 4)
    const released = of(j.workerGone(T0 + 5, 'w1'), 'release')
    assert.deepEqual(released, [{ type: 'release', worker: 'w1', tasks: [0, 1, 2, 3], reason: 'worker-gone' }])
    assert.equal(j.summary().pending, 10)
  })

  it('answers NOT_ASSIGNED, DUPLICATE and LEASE_EXPIRED as the spec says', () => {
    const j = job()
    j.claim(T0, 'w1', 2) // tasks 0, 1
    assert.equal(j.result(T0, 'w2', 0).outcome.code, 'NOT_ASSIGNED', 'unknown worker')
    j.claim(T0, 'w2', 1) // task 2
    assert.equal(j.result(T0, 'w2', 0).outcome.code, 'NOT_ASSIGNED', 'never leased to w2')
    assert.equal(j.result(T0, 'w1', 99).outcome.code, 'NOT_ASSIGNED', 'no such task')
    assert.equal(j.result(T0, 'w1', 0).outcome.code, 'OK')
    assert.equal(j.result(T0, 'w1', 0).outcome.code, 'DUPLICATE')
    // w1's lease on task 1 expires; a late result is accepted while the task is pending again...
    j.tick(T0 + 10_000)
    assert.equal(j.result(T0 + 10_001, 'w1', 1).outcome.code, 'OK')
    // ...but not once the task was re-assigned to someone else
    j.claim(T0 + 10_002, 'w3', 4) // includes task 2 (w2's lease expired too)
    assert.equal(j.result(T0 + 10_003, 'w2', 2).outcome.code, 'LEASE_EXPIRED')
    assert.equal(j.result(T0 + 10_004, 'w3', 2).outcome.code, 'OK')
  })

  it('closes at the deadline and reports unfinished tasks', () => {
    const j = job({ deadline: T0 + 5000 })
    const lease = j.claim(T0, 'w1', 4)
    assert.equal(lease.outcome.code === 'OK' && lease.outcome.leaseExpiresAt, T0 + 5000, 'no lease outlives the job')
    assert.deepEqual(of(j.tick(T0 + 5000), 'deadline'), [{ type: 'deadline', unfinished: 10 }])
    assert.equal(j.claim(T0 + 5001, 'w2', 1).outcome.code, 'JOB_CLOSED')
  })

  it('restores from persisted tasks: done stays done, live leases stay, the rest is pending', () => {
    const params = { taskCount: 6, maxBatch: 6, deadline: T0 + 600_000, leaseMs: 10_000, initialAllowance: 6 }
    const j = RequesterJob.restore(params, [
      { index: 0, state: TaskState.DONE, worker: 'w1' },
      { index: 1, state: TaskState.LEASED, worker: 'w1', leaseExpiresAt: T0 + 10_000 },
      { index: 2, state: TaskState.PENDING }
    ])
    assert.deepEqual(j.summary(), { taskCount: 6, pending: 4, leased: 1, done: 1, settled: 1, checking: 0, checks: 0, closed: false })
    assert.deepEqual(j.claim(T0, 'w2', 6).outcome.tasks, [2, 3, 4, 5], 'pending first, the leased task is not handed out twice')
    assert.equal(j.result(T0 + 1, 'w1', 1).outcome.code, 'OK', 'the restored lease is honoured')
    assert.equal(j.result(T0 + 1, 'w1', 0).outcome.code, 'DUPLICATE')
  })

  it('refuses impossible parameters with InvalidJobParamsError', () => {
    for (const bad of [
      { taskCount: 0 },
      { taskCount: 1.5 },
      { maxBatch: 0 },
      { leaseMs: 0 },
      { deadline: Number.NaN },
      { initialAllowance: 0 }
    ]) {
      assert.throws(() => job(bad), { name: 'InvalidJobParamsError' })
    }
    assert.throws(() => job().taskState(10), { name: 'InvalidJobParamsError', message: /outside 0\.\.9/ })
  })

  it('holds a million tasks in compact state', () => {
    const j = new RequesterJob({ taskCount: 1_000_000, maxBatch: 32, deadline: T0 + 1 })
    assert.deepEqual(j.claim(T0, 'w', 32).outcome.tasks.length, 4)
    assert.equal(j.summary().pending, 999_996)
  })

  it('under any interleaving of claims, results, crashes and time, no task is held by two workers, none is lost, and the job completes', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('claim' as const), worker: fc.integer({ min: 0, max: 3 }), n: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('result' as const), worker: fc.integer({ min: 0, max: 3 }), task: fc.integer({ min: -1, max: 20 }) }),
      fc.record({ kind: fc.constant('gone' as const), worker: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 15_000 }) })
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), (ops, taskCount) => {
        const j = new RequesterJob({ taskCount, maxBatch: 4, deadline: T0 + 10 ** 9, leaseMs: 10_000 })
        let now = T0
        const holder = new Map<number, string>()
        const done = new Set<number>()
        const apply = (actions: JobAction[]) => {
          for (const a of actions) {
            if (a.type === 'lease') {
              for (const t of a.tasks) {
                assert.ok(!holder.has(t), `task ${t} leased twice`)
                assert.ok(!done.has(t), `done task ${t} leased again`)
                holder.set(t, a.worker)
              }
            } else if (a.type === 'release') {
              for (const t of a.tasks) {
                assert.equal(holder.get(t), a.worker)
                holder.delete(t)
              }
            } else if (a.type === 'accept') {
              assert.ok(!done.has(a.task), `task ${a.task} accepted twice`)
              done.add(a.task)
              holder.delete(a.task)
            }
          }
        }
        for (const o of ops) {
          if (o.kind === 'claim') {
            apply(j.claim(now, `w${o.worker}`, o.n).actions)
          } else if (o.kind === 'result') {
            apply(j.result(now, `w${o.worker}`, o.task).actions)
          } else if (o.kind === 'gone') {
            apply(j.workerGone(now, `w${o.worker}`))
          } else {
            now += o.ms
            apply(j.tick(now))
          }
          const s = j.summary()
          assert.equal(s.done, done.size)
          assert.equal(s.leased, holder.size)
          assert.equal(s.pending + s.leased + s.done, taskCount)
        }
        // An honest worker then finishes whatever is left.
        for (let guard = 0; j.summary().done < taskCount; guard++) {
          assert.ok(guard < 10 * taskCount, 'the job did not complete')
          now += 10_000
          apply(j.tick(now))
          const { outcome, actions } = j.claim(now, 'honest', 4)
          apply(actions)
          for (const t of outcome.tasks) {
            apply(j.result(now, 'honest', t).actions)
          }
        }
        assert.equal(done.size, taskCount)
      }),
      { numRuns: 300 }
    )
  })
})
