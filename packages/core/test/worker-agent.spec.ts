import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type AgentAction, type KnownJob, WorkerAgent } from '../src/index.js'

const T0 = 1_000_000
const job = (id: string, over: Partial<KnownJob> = {}): KnownJob => ({
  id,
  requester: `req-${id}`,
  model: 'm',
  deadline: T0 + 60_000,
  maxBatch: 32,
  ...over
})
const claims = (actions: AgentAction[]) => actions.filter((a) => a.type === 'claim')

describe('WorkerAgent (§6.2)', () => {
  it('claims only what its free slots can run, one claim per job at a time', () => {
    const agent = new WorkerAgent({ capacity: 8 })
    assert.deepEqual(claims(agent.announce(T0, job('a'))), [{ type: 'claim', job: 'a', requester: 'req-a', maxTasks: 8 }])
    assert.deepEqual(claims(agent.tick(T0)), [], 'the claim is still in flight')
    assert.deepEqual(claims(agent.claimed(T0 + 1, 'a', 'OK', 5)), [{ type: 'claim', job: 'a', requester: 'req-a', maxTasks: 3 }])
    assert.deepEqual(claims(agent.claimed(T0 + 2, 'a', 'OK', 3)), [], 'all slots taken')
    assert.deepEqual(claims(agent.finished(T0 + 3, 2)), [{ type: 'claim', job: 'a', requester: 'req-a', maxTasks: 2 }])
  })

  it("never asks for more than the job's max_batch or its own maxClaim", () => {
    const agent = new WorkerAgent({ capacity: 100, maxClaim: 16 })
    assert.equal((claims(agent.announce(T0, job('a', { maxBatch: 4 })))[0] as { maxTasks: number }).maxTasks, 4)
    assert.equal((claims(agent.announce(T0, job('b')))[0] as { maxTasks: number }).maxTasks, 16)
  })

  it('backs off exponentially after NO_TASKS and resets after work', () => {
    const agent = new WorkerAgent({ capacity: 4, backoffMs: 1000, maxBackoffMs: 4000 })
    agent.announce(T0, job('a'))
    const timers = (actions: AgentAction[]) => actions.filter((a) => a.type === 'timer')
    assert.deepEqual(timers(agent.claimed(T0, 'a', 'NO_TASKS')), [{ type: 'timer', at: T0 + 1000 }])
    assert.deepEqual(claims(agent.tick(T0 + 999)), [])
    assert.equal(claims(agent.tick(T0 + 1000)).length, 1)
    assert.deepEqual(timers(agent.claimed(T0 + 1000, 'a', 'NO_TASKS')), [{ type: 'timer', at: T0 + 3000 }])
    agent.tick(T0 + 3000)
    assert.deepEqual(timers(agent.claimed(T0 + 3000, 'a', 'RATE_LIMITED')), [{ type: 'timer', at: T0 + 7000 }], 'capped at maxBackoffMs')
    agent.tick(T0 + 7000)
    agent.claimed(T0 + 7000, 'a', 'OK', 1)
    assert.equal(claims(agent.finished(T0 + 7001)).length, 0, 'the claim after OK is already in flight')
  })

  it('when the requester has nothing more while it holds tasks, claims again on finishing one, without backoff', () => {
    const agent = new WorkerAgent({ capacity: 8, backoffMs: 1000 })
    agent.announce(T0, job('a'))
    agent.claimed(T0, 'a', 'OK', 4) // a claim for the other 4 slots goes out
    const after = agent.claimed(T0 + 1, 'a', 'NO_TASKS') // allowance used up
    assert.deepEqual(claims(after), [])
    assert.deepEqual(claims(agent.tick(T0 + 5000)), [], 'no retry on a timer while it waits')
    assert.deepEqual(claims(agent.finished(T0 + 5001, 1)), [{ type: 'claim', job: 'a', requester: 'req-a', maxTasks: 5 }])
  })

  it('drops jobs that are closed, unknown, refuse it, or pass their deadline', () => {
    const agent = new WorkerAgent({ capacity: 4 })
    agent.announce(T0, job('a'))
    agent.announce(T0, job('b', { deadline: T0 + 10 }))
    const dropped = agent.claimed(T0, 'a', 'JOB_CLOSED').filter((a) => a.type === 'drop')
    assert.deepEqual(dropped, [{ type: 'drop', job: 'a', reason: 'JOB_CLOSED' }])
    assert.deepEqual(
      agent.tick(T0 + 10).filter((a) => a.type === 'drop'),
      [{ type: 'drop', job: 'b', reason: 'deadline passed' }]
    )
    assert.equal(agent.knownJobs, 0)
    assert.deepEqual(claims(agent.announce(T0 + 20, job('c', { deadline: T0 + 5 }))), [], 'an expired announcement is not taken')
  })

  it('shares free slots among jobs in turn', () => {
    const agent = new WorkerAgent({ capacity: 2, maxClaim: 1 })
    agent.announce(T0, job('a'))
    const second = claims(agent.announce(T0, job('b')))
    assert.deepEqual(
      second.map((c) => c.type === 'claim' && c.job),
      ['b']
    )
  })

  it('refuses a capacity below 1', () => {
    assert.throws(() => new WorkerAgent({ capacity: 0 }), { name: 'InvalidJobParamsError' })
  })
})
