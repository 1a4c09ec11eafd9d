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

/** An agent whose requesters `req-<id>` already answered a claim (so claims are full-sized). */
function provenAgent(params: ConstructorParameters<typeof WorkerAgent>[0], ids: string[]): WorkerAgent {
  const agent = new WorkerAgent(params)
  for (const id of ids) {
    agent.announce(T0 - 10, job(`probe-${id}`, { requester: `req-${id}` }))
    agent.claimed(T0 - 10, `probe-${id}`, 'JOB_CLOSED')
  }
  return agent
}

describe('WorkerAgent (§6.2)', () => {
  it('claims only what its free slots can run, one claim per job at a time', () => {
    const agent = provenAgent({ capacity: 8 }, ['a'])
    assert.deepEqual(claims(agent.announce(T0, job('a'))), [{ type: 'claim', job: 'a', requester: 'req-a', maxTasks: 8 }])
    assert.deepEqual(claims(agent.tick(T0)), [], 'the claim is still in flight')
    assert.deepEqual(claims(agent.claimed(T0 + 1, 'a', 'OK', 5)), [{ type: 'claim', job: 'a', requester: 'req-a', maxTasks: 3 }])
    assert.deepEqual(claims(agent.claimed(T0 + 2, 'a', 'OK', 3)), [], 'all slots taken')
    assert.deepEqual(claims(agent.finished(T0 + 3, 2)), [{ type: 'claim', job: 'a', requester: 'req-a', maxTasks: 2 }])
  })

  it("never asks for more than the job's max_batch or its own maxClaim", () => {
    const agent = provenAgent({ capacity: 100, maxClaim: 16 }, ['a', 'b'])
    assert.equal((claims(agent.announce(T0, job('a', { maxBatch: 4 })))[0] as { maxTasks: number }).maxTasks, 4)
    assert.equal((claims(agent.announce(T0, job('b')))[0] as { maxTasks: number }).maxTasks, 16)
  })

  it('backs off exponentially after NO_TASKS and resets after work', () => {
    const agent = provenAgent({ capacity: 4, backoffMs: 1000, maxBackoffMs: 4000 }, ['a'])
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
    const agent = provenAgent({ capacity: 8, backoffMs: 1000 }, ['a'])
    agent.announce(T0, job('a'))
    agent.claimed(T0, 'a', 'OK', 4) // a claim for the other 4 slots goes out
    const after = agent.claimed(T0 + 1, 'a', 'NO_TASKS') // allowance used up
    assert.deepEqual(claims(after), [])
    assert.deepEqual(claims(agent.tick(T0 + 5000)), [], 'no retry on a timer while it waits')
    assert.deepEqual(claims(agent.finished(T0 + 5001, 1)), [{ type: 'claim', job: 'a', requester: 'req-a', maxTasks: 5 }])
  })

  it('drops jobs that are closed, refuse it, or pass their deadline', () => {
    const agent = new WorkerAgent({ capacity: 4 })
    agent.announce(T0, job('a'))
    agent.announce(T0, job('b', { deadline: T0 + 10 }))
    const dropped = agent.claimed(T0, 'a', 'JOB_CLOSED').filter((a) => a.type === 'drop')
    assert.deepEqual(
      agent.claimed(T0, 'a', 'BANNED').filter((a) => a.type === 'drop'),
      [],
      'already gone'
    )
    assert.deepEqual(dropped, [{ type: 'drop', job: 'a', reason: 'JOB_CLOSED' }])
    assert.deepEqual(
      agent.tick(T0 + 10).filter((a) => a.type === 'drop'),
      [{ type: 'drop', job: 'b', reason: 'deadline passed' }]
    )
    assert.equal(agent.knownJobs, 0)
    assert.deepEqual(claims(agent.announce(T0 + 20, job('c', { deadline: T0 + 5 }))), [], 'an expired announcement is not taken')
  })

  it('shares free slots among jobs in turn', () => {
    const agent = provenAgent({ capacity: 2, maxClaim: 1 }, ['a', 'b'])
    agent.announce(T0, job('a'))
    const second = claims(agent.announce(T0, job('b')))
    assert.deepEqual(
      second.map((c) => c.type === 'claim' && c.job),
      ['b']
    )
  })

  it('asks a requester that never answered for one task, one claim per requester, two at a time, outside its capacity (§6.2)', () => {
    const agent = new WorkerAgent({ capacity: 32 })
    // 20 announcements of a peer that never answers, 20 of sybil peers, then an honest one.
    let out: AgentAction[] = []
    for (let i = 0; i < 20; i++) {
      out = [...out, ...agent.announce(T0, job(`fake${i}`, { requester: 'attacker' }))]
    }
    assert.deepEqual(
      claims(out).map((c) => c.type === 'claim' && [c.job, c.maxTasks]),
      [['fake0', 1]],
      'one one-task claim to the unproven requester, whatever its number of jobs'
    )
    const honest = claims(agent.announce(T0, job('honest')))
    assert.deepEqual(
      honest,
      [{ type: 'claim', job: 'honest', requester: 'req-honest', maxTasks: 1 }],
      'another requester gets the second slot'
    )
    const full = claims(agent.claimed(T0 + 1, 'honest', 'OK', 1))
    assert.deepEqual(
      full,
      [{ type: 'claim', job: 'honest', requester: 'req-honest', maxTasks: 31 }],
      'once it answered, it gets every free slot'
    )
    for (let i = 0; i < 20; i++) {
      agent.announce(T0 + 1, job(`sybil${i}`, { requester: `sybil${i}` }))
    }
    assert.equal(agent.heldTasks, 1)
    agent.claimed(T0 + 2, 'honest', 'OK', 31)
    assert.deepEqual(
      claims(agent.finished(T0 + 3, 4)).map((c) => c.type === 'claim' && c.job),
      ['honest'],
      'capacity is the honest job’s'
    )
    // The attacker times out: its 20 jobs wait together; a sybil takes the freed unproven slot.
    const after = claims(agent.claimed(T0 + 5000, 'fake0', 'TIMEOUT'))
    assert.equal(after.length, 1)
    assert.ok(after[0]?.type === 'claim' && after[0].requester.startsWith('sybil') && after[0].maxTasks === 1)
  })

  it('backs off a requester that does not answer — all its jobs — then drops them and reports it', () => {
    const agent = new WorkerAgent({ capacity: 8, backoffMs: 1000, maxRequesterFailures: 3 })
    const claimOf = (actions: AgentAction[]) => (claims(actions)[0] as { job: string } | undefined)?.job
    let inFlight = claimOf(agent.announce(T0, job('a1', { requester: 'bad' })))
    assert.equal(inFlight, 'a1')
    assert.equal(claimOf(agent.claimed(T0, 'a1', 'TIMEOUT')), undefined, 'backed off')
    assert.equal(claimOf(agent.announce(T0 + 1, job('a2', { requester: 'bad' }))), undefined, "the requester's other job waits too")
    inFlight = claimOf(agent.tick(T0 + 1000))
    assert.ok(inFlight != null, 'after 1 s')
    assert.equal(claimOf(agent.claimed(T0 + 1000, inFlight, 'FAILED')), undefined)
    assert.equal(claimOf(agent.tick(T0 + 2999)), undefined)
    inFlight = claimOf(agent.tick(T0 + 3000))
    assert.ok(inFlight != null, 'after 2 s more (the backoff doubled)')
    const third = agent.claimed(T0 + 3000, inFlight, 'TIMEOUT')
    assert.deepEqual(
      third
        .filter((a) => a.type === 'drop')
        .map((a) => a.type === 'drop' && a.job)
        .sort(),
      ['a1', 'a2']
    )
    assert.deepEqual(
      third.filter((a) => a.type === 'unresponsive'),
      [{ type: 'unresponsive', requester: 'bad', failures: 3 }]
    )
    assert.equal(agent.knownJobs, 0)
    assert.deepEqual(
      claims(agent.announce(T0 + 4000, job('a1', { requester: 'bad' }))),
      [],
      'the same announcement again does not bring it back'
    )
    const again = claims(agent.announce(T0 + 4000, job('a1', { requester: 'bad', issuedAt: T0 + 4000 })))
    assert.equal(again.length, 1, 'a fresh announcement gets one more try')
    assert.equal(agent.claimed(T0 + 4001, 'a1', 'FAILED').filter((a) => a.type === 'drop').length, 1, 'and one failure drops it again')
  })

  it('treats UNKNOWN_JOB as transient (a restarting requester): backs off, drops only after three in a row (§6.5)', () => {
    const agent = new WorkerAgent({ capacity: 4, backoffMs: 1000 })
    agent.announce(T0, job('a'))
    assert.deepEqual(
      agent.claimed(T0, 'a', 'UNKNOWN_JOB').filter((a) => a.type === 'drop'),
      []
    )
    assert.equal(claims(agent.tick(T0 + 1000)).length, 1)
    agent.claimed(T0 + 1000, 'a', 'UNKNOWN_JOB')
    assert.equal(claims(agent.tick(T0 + 3000)).length, 1)
    assert.deepEqual(
      agent.claimed(T0 + 3000, 'a', 'UNKNOWN_JOB').filter((a) => a.type === 'drop'),
      [{ type: 'drop', job: 'a', reason: 'UNKNOWN_JOB' }]
    )
    // The requester is back and re-announces: the job comes back at once.
    assert.equal(claims(agent.announce(T0 + 5000, job('a', { issuedAt: T0 + 5000 }))).length, 1)
  })

  it('a re-announcement of a backed-off job claims it again at once', () => {
    const agent = provenAgent({ capacity: 4, backoffMs: 10_000 }, ['a'])
    agent.announce(T0, job('a', { issuedAt: T0 }))
    agent.claimed(T0, 'a', 'NO_TASKS')
    assert.deepEqual(claims(agent.tick(T0 + 100)), [])
    assert.deepEqual(claims(agent.announce(T0 + 100, job('a', { issuedAt: T0 }))), [], 'a repeat changes nothing')
    assert.equal(claims(agent.announce(T0 + 100, job('a', { issuedAt: T0 + 100 }))).length, 1)
  })

  it('refuses a capacity below 1', () => {
    assert.throws(() => new WorkerAgent({ capacity: 0 }), { name: 'InvalidJobParamsError' })
  })
})
