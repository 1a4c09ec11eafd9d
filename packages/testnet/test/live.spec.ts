import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseScenario, runTestnet, scaleScenario } from '../src/index.js'

describe('the live engine (real peers in one process)', () => {
  it('scales a scenario to a number of peers: every group keeps at least one, the timeline in proportion', () => {
    const scenario = parseScenario(`name: s
seed: 1
duration: 60
groups:
  - { id: honest, count: 80, behaviour: honest }
  - { id: cheats, count: 15, behaviour: cheater }
  - { id: one, count: 1, behaviour: lazy }
requesters:
  - { id: a, jobs: [{ tasks: 10 }] }
  - { id: b, jobs: [{ tasks: 10 }] }
timeline:
  - { at: 5, event: crash, group: honest, count: 40 }
`)
    const scaled = scaleScenario(scenario, 30)
    assert.deepEqual(
      scaled.groups.map((g) => g.count),
      [23, 4, 1]
    )
    assert.equal(scaled.groups.reduce((n, g) => n + g.count, 0) + scaled.requesters.length, 30)
    assert.equal(scaled.timeline[0]?.count, 12)
  })

  it('runs real peers with cheaters, a hoarder, a proof forger and a crash: every task settles once, the cheaters are caught, no forged proof accepted', async () => {
    const scenario = parseScenario(`name: live-mix
seed: 3
duration: 240
groups:
  - { id: honest, count: 7, behaviour: honest, capacity: 4, serviceMs: 5 }
  - { id: cheats, count: 2, behaviour: cheater, params: { rate: 0.5 }, capacity: 4, serviceMs: 5 }
  - { id: hoarders, count: 1, behaviour: hoarder, capacity: 2 }
  - { id: forgers, count: 1, behaviour: forger, params: { every: 0.5 }, capacity: 4, serviceMs: 5 }
requesters:
  - id: alice
    jobs:
      - { tasks: 300, maxBatch: 4, leaseMs: 3000 }
  - id: spammer
    unresponsive: true
    jobs:
      - { tasks: 1000 }
timeline:
  - { at: 2, event: crash, group: honest, count: 1 }
assertions:
  - { metric: totals.lost, max: 0 }
  - { metric: groups.cheats.detected, min: 0.5 }
`)
    const { report, assertions } = await runTestnet(scenario, { engine: 'live' })
    assert.equal(report.engine, 'live')
    assert.equal(report.live?.peers, 13)
    assert.equal(report.totals.tasks, 300, 'the spammer’s tasks are not counted as served')
    assert.equal(report.totals.settled, 300)
    assert.equal(report.totals.lost, 0)
    assert.equal(report.totals.doubleCredits, 0)
    assert.equal(report.totals.falseAccusations, 0)
    assert.equal(report.groups.honest?.fraudProofs, 0)
    assert.ok((report.groups.cheats?.faked ?? 0) > 0, 'the cheaters faked results')
    assert.ok((report.groups.cheats?.convicted ?? 0) >= 1, JSON.stringify(report.groups.cheats))
    assert.equal(report.groups.hoarders?.results, 0, 'the hoarder never answered')
    assert.ok((report.totals.forgedProofs ?? 0) >= 3, `forged proofs published: ${report.totals.forgedProofs}`)
    assert.equal(report.totals.forgedProofsAccepted, 0, 'no peer accepted a forged proof')
    assert.equal(report.totals.falseProofsAccepted, 0, 'no peer accepted a proof against a worker that never faked')
    assert.equal(report.groups.forgers?.convicted, 0)
    assert.ok(report.totals.overhead >= 1, `runs per task ${report.totals.overhead}`)
    assert.ok(report.announcementDelayMs.n >= 9, `announcements delivered by gossip: ${report.announcementDelayMs.n}`)
    assert.ok((report.dht?.lookups ?? 0) > 0 && (report.dht?.median ?? 0) >= 1)
    assert.deepEqual(
      assertions.filter((a) => !a.ok),
      []
    )
  })

  it('runs the workers in a child process over TCP loopback, with requesters keeping their jobs in SQLite', async () => {
    const scenario = parseScenario(`name: tcp
seed: 4
duration: 120
groups:
  - { id: honest, count: 5, behaviour: honest, capacity: 4, serviceMs: 5 }
requesters:
  - { id: alice, jobs: [{ tasks: 200, maxBatch: 4 }] }
`)
    const { report } = await runTestnet(scenario, { engine: 'live', processes: 2, store: 'sqlite' })
    assert.equal(report.live?.processes, 2)
    assert.equal(report.live?.peers, 6)
    assert.equal(report.totals.settled, 200)
    assert.equal(report.totals.lost, 0)
    assert.equal(report.totals.doubleCredits, 0)
    assert.ok(report.announcementDelayMs.n >= 5)
    assert.ok((report.dht?.lookups ?? 0) > 0 && report.dht?.nodes === 6, JSON.stringify(report.dht))
    await assert.rejects(runTestnet(scenario, { engine: 'live', processes: 2, transport: 'memory' }), {
      name: 'RangeError',
      message: /the memory transport connects peers of one process only; with processes > 1 use tcp/
    })
  })
})
