import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  agreeOutputs,
  DEFAULT_ATOL,
  DEFAULT_RTOL,
  detectionProbability,
  float32Tensor,
  type ResolvedPolicy,
  resolvePolicy,
  type Tensor,
  wilsonInterval
} from '@openbatch/protocol'
import { MemoryTrustBook, seededRandom, type Verdict, VerifiedJob, type VerifiedJobAction } from '../src/index.js'
import { submit } from './helpers.js'

/**
 * The adversary matrix of issue #5 against the sans-IO VerifiedJob with virtual time. Outputs are
 * 4-float vectors compared with the default ALLCLOSE rule; honest workers differ from each other by
 * the float noise measured across thread counts, graph optimisation levels and batch compositions
 * (runtime-onnx DETERMINISM.md: ≤ 1.2e-6 absolute).
 */

function truth(task: number): number[] {
  const r = seededRandom(task + 1)
  return [r(), r(), r(), r()].map((x) => x * 2 - 1)
}
const tensor = (v: number[]): Tensor[] => [float32Tensor('y', [1, 4], v)]

/** How a worker answers task t (cheat: whether it fakes this one). */
type Strategy = (task: number, random: () => number) => number[]

const honest =
  (noise: number): Strategy =>
  (t, random) =>
    truth(t).map((x) => x + (random() - 0.5) * 2 * noise)
const cheats: Record<string, Strategy> = {
  random: (_t, random) => [random(), random(), random(), random()],
  zeros: () => [0, 0, 0, 0],
  // Three times the tolerance on one element: just outside the rule.
  perturbed: (t) => truth(t).map((x, i) => (i === 0 ? x + 3 * (DEFAULT_ATOL + DEFAULT_RTOL * Math.abs(x)) : x))
}

interface SimWorker {
  id: string
  group?: string
  answer: (task: number, random: () => number) => number[]
  /** Tasks claimed per round. */
  maxTasks: number
}

interface Sim {
  job: VerifiedJob
  verdicts: Verdict[]
  frauds: { task: number; accused: string; agreeing: string[] }[]
  /** What each worker submitted for each task. */
  submitted: Map<string, number[]>
  /** First runs each worker submitted. */
  firstRuns: Map<string, number>
  now: number
}

function newSim(taskCount: number, policy: ResolvedPolicy, random: () => number, trust = new MemoryTrustBook()): Sim {
  const job = new VerifiedJob({
    taskCount,
    maxBatch: 8,
    deadline: 1e12,
    leaseMs: 1000,
    policy,
    reward: 100n,
    random,
    trust
  })
  return { job, verdicts: [], frauds: [], submitted: new Map(), firstRuns: new Map(), now: 0 }
}

/** One round: each worker in turn claims, computes and submits. */
function round(sim: Sim, workers: SimWorker[], random: () => number): void {
  sim.now += 1
  for (const w of workers) {
    const { outcome, actions } = sim.job.claim(sim.now, w.id, w.maxTasks, w.group)
    collect(sim, actions)
    for (const task of outcome.tasks) {
      const outputs = w.answer(task, random)
      const step = submit(sim.job, sim.now, { task, worker: w.id, outputs: tensor(outputs) })
      if (step.outcome.code !== 'OK') {
        continue
      }
      sim.submitted.set(`${w.id}/${task}`, outputs)
      if (!step.outcome.check) {
        sim.firstRuns.set(w.id, (sim.firstRuns.get(w.id) ?? 0) + 1)
      }
      collect(sim, step.actions)
    }
  }
}

function collect(sim: Sim, actions: VerifiedJobAction[]): void {
  for (const a of actions) {
    if (a.type === 'audit') {
      // The caller loads the convicted worker's stored result.
      sim.job.audit({ task: a.task, worker: a.worker, outputs: tensor(sim.submitted.get(`${a.worker}/${a.task}`) as number[]) })
    } else if (a.type === 'verdict') {
      sim.verdicts.push(a.verdict)
    } else if (a.type === 'fraud') {
      sim.frauds.push({ task: a.task, accused: a.accused.worker, agreeing: a.agreeing.map((r) => r.worker) })
    }
  }
}

/** No settled result the job calls verified (agreed, or decided by a majority) is wrong. */
function assertVerifiedAreRight(sim: Sim): void {
  for (const v of sim.verdicts) {
    if (v.status === 'agreed' || v.status === 'disputed') {
      const out = sim.submitted.get(`${v.worker}/${v.task}`) as number[]
      assert.ok(agreeOutputs(tensor(out), tensor(truth(v.task)), []).agree, `task ${v.task} marked ${v.status} with a wrong result`)
    }
  }
}

const constantRate = (p: number, canaryRate = 0): ResolvedPolicy => ({
  ...resolvePolicy(undefined),
  initialRate: p,
  minRate: p,
  canaryRate
})

/**
 * The cheater does every first run, `checkers` honest workers only take checks; detection is the
 * first fraud proof against the cheater within its first `n` tasks.
 */
function detectedWithin(strategy: Strategy, f: number, p: number, n: number, seed: number): boolean {
  const random = seededRandom(seed)
  const sim = newSim(4 * n, constantRate(p), random)
  const cheater: SimWorker = {
    id: 'cheater',
    maxTasks: 1,
    answer: (t, r) => (r() < f ? strategy(t, r) : honest(1e-6)(t, r))
  }
  const checkers: SimWorker[] = ['h0', 'h1', 'h2'].map((id) => ({ id, maxTasks: 0, answer: honest(1e-6) }))
  // The cheater does n first runs; the checkers take re-runs (and, when excluded from one, a
  // first run of their own) until every check of the cheater's results is settled.
  for (let i = 0; i < 20 * n && sim.frauds.length === 0; i++) {
    const cheaterDone = (sim.firstRuns.get('cheater') ?? 0) >= n
    if (cheaterDone && sim.job.openVerifications === 0) {
      break
    }
    if (!cheaterDone) {
      round(sim, [cheater], random)
    }
    for (const c of checkers) {
      c.maxTasks = sim.job.summary().checks
    }
    round(sim, checkers, random)
  }
  assert.ok(
    sim.frauds.every((fr) => fr.accused === 'cheater'),
    'only the cheater is ever accused'
  )
  assertVerifiedAreRight(sim)
  return sim.frauds.length > 0
}

describe('VerifiedJob: adversaries (issue #5, spec §7)', () => {
  const p = 0.1
  for (const [name, strategy] of Object.entries(cheats)) {
    for (const f of [0.01, 0.1, 0.5]) {
      it(`catches a worker returning ${name} outputs on ${f * 100}% of tasks at the rate §7.4 predicts`, () => {
        // n so that the formula's probability is near 0.6, where a wrong rate shows most.
        const n = Math.ceil(Math.log(0.4) / Math.log(1 - f * p))
        const trials = f === 0.01 ? 150 : 400
        let caught = 0
        for (let trial = 0; trial < trials; trial++) {
          if (detectedWithin(strategy, f, p, n, trial * 7919 + Math.round(f * 100))) {
            caught++
          }
        }
        assert.ok(trials * n >= 1000, 'at least 1,000 tasks per setting')
        const expected = detectionProbability({ cheatFraction: f, sampleRate: p, tasks: n })
        const { low, high } = wilsonInterval(caught, trials)
        assert.ok(
          low <= expected && expected <= high,
          `${name} f=${f}: measured ${caught}/${trials}, formula ${expected.toFixed(4)}, CI [${low.toFixed(4)}, ${high.toFixed(4)}]`
        )
      })
    }
  }

  it('never accuses honest workers on different settings (threads, batch composition, graph optimisation)', () => {
    const random = seededRandom(11)
    const sim = newSim(3000, resolvePolicy(undefined), random)
    // Noise levels from DETERMINISM.md: bit-identical, ~1e-7, and the worst measured 1.2e-6.
    const workers: SimWorker[] = [0, 1e-7, 1.2e-6, 1.2e-6].map((noise, i) => ({ id: `h${i}`, maxTasks: 4, answer: honest(noise) }))
    for (let i = 0; i < 10_000 && !sim.job.summary().closed; i++) {
      round(sim, workers, random)
    }
    const s = sim.job.summary()
    assert.equal(s.closed, true)
    assert.equal(s.done, 3000)
    assert.equal(sim.frauds.length, 0)
    assert.equal(s.disputed + s.unresolved, 0)
    assert.ok(s.agreed > 100, `it did sample: ${s.agreed} agreed`)
    assert.equal(sim.verdicts.length, 3000, 'every task has exactly one verdict')
    assert.equal(new Set(sim.verdicts.map((v) => v.task)).size, 3000)
  })

  it('a perturbation within the tolerance is not an offence; one beyond it is', () => {
    const random = seededRandom(12)
    const sim = newSim(400, constantRate(1), random)
    const within: Strategy = (t) => truth(t).map((x, i) => (i === 0 ? x + 0.5 * (DEFAULT_ATOL + DEFAULT_RTOL * Math.abs(x)) : x))
    const workers: SimWorker[] = [
      { id: 'within', maxTasks: 2, answer: within },
      { id: 'h0', maxTasks: 2, answer: honest(0) },
      { id: 'h1', maxTasks: 2, answer: honest(0) }
    ]
    for (let i = 0; i < 2000 && !sim.job.summary().closed; i++) {
      round(sim, workers, random)
    }
    assert.equal(sim.frauds.length, 0)
    const sim2 = newSim(40, constantRate(1), random)
    workers[0] = { id: 'beyond', maxTasks: 2, answer: cheats.perturbed as Strategy }
    for (let i = 0; i < 200 && sim2.frauds.length === 0; i++) {
      round(sim2, workers, random)
    }
    assert.equal(sim2.frauds[0]?.accused, 'beyond')
  })

  it('two colluding identities agreeing on a wrong answer: checks go to other networks, both are caught', () => {
    const random = seededRandom(13)
    const trust = new MemoryTrustBook()
    const sim = newSim(400, resolvePolicy(undefined), random, trust)
    const wrong: Strategy = (t) => truth(t).map((x) => -x) // the same wrong answer from both
    const workers: SimWorker[] = [
      { id: 'c1', group: '10.0.0', maxTasks: 4, answer: wrong },
      { id: 'c2', group: '10.0.0', maxTasks: 4, answer: wrong },
      { id: 'h0', group: '10.0.1', maxTasks: 4, answer: honest(1e-6) },
      { id: 'h1', group: '10.0.2', maxTasks: 4, answer: honest(1e-6) },
      { id: 'h2', group: '10.0.3', maxTasks: 4, answer: honest(1e-6) }
    ]
    // The requester knows the workers' networks (their connections) before they claim.
    for (const w of workers) {
      sim.job.noteWorker(0, w.id, w.group as string)
    }
    for (let i = 0; i < 5000 && !sim.job.summary().closed; i++) {
      round(sim, workers, random)
    }
    assert.ok(sim.job.summary().closed)
    const accused = new Set(sim.frauds.map((f) => f.accused))
    assert.deepEqual([...accused].sort(), ['c1', 'c2'])
    assert.ok(trust.get('c1').bannedUntil > sim.now && trust.get('c2').bannedUntil > sim.now)
    assert.equal(sim.job.claim(sim.now, 'c1', 1).outcome.code, 'BANNED')
    assertVerifiedAreRight(sim)
    // Every task the colluders first-ran was sampled (newcomers, p = 1): none stands unverified.
    for (const v of sim.verdicts) {
      assert.ok(v.status !== 'unsampled' || !['c1', 'c2'].includes(v.worker), `task ${v.task} stands on a colluder's word`)
    }
  })

  it('a worker honest until trusted, then cheating, is caught; trust starts over and it is refused', () => {
    const random = seededRandom(14)
    const trust = new MemoryTrustBook()
    const sim = newSim(6000, resolvePolicy(undefined), random, trust)
    let turned = false
    const workers: SimWorker[] = [
      { id: 'sleeper', maxTasks: 8, answer: (t, r) => (turned ? (cheats.random as Strategy)(t, r) : honest(1e-6)(t, r)) },
      { id: 'h0', maxTasks: 2, answer: honest(1e-6) },
      { id: 'h1', maxTasks: 2, answer: honest(1e-6) }
    ]
    for (let i = 0; i < 20_000 && !sim.job.summary().closed && sim.frauds.length === 0; i++) {
      if (!turned && (sim.firstRuns.get('sleeper') ?? 0) >= 2000) {
        turned = true
        assert.ok(sim.job.rate('sleeper') < 0.2, `trusted: rate ${sim.job.rate('sleeper')}`)
      }
      round(sim, workers, random)
    }
    assert.ok(turned)
    assert.equal(sim.frauds[0]?.accused, 'sleeper')
    assert.equal(trust.get('sleeper').streak, 0)
    assert.equal(sim.job.claim(sim.now, 'sleeper', 8).outcome.code, 'BANNED')
    assertVerifiedAreRight(sim)
  })

  it('canaries: tasks already agreed go out again, only to workers that never saw them, and catch a cheater', () => {
    const random = seededRandom(15)
    const sim = newSim(300, constantRate(0.05, 0.5), random)
    const seen = new Map<string, Set<number>>()
    const track = (id: string, answer: Strategy): SimWorker => ({
      id,
      maxTasks: 4,
      answer: (t, r) => {
        const s = seen.get(id) ?? new Set()
        assert.ok(!s.has(t), `${id} was sent task ${t} twice`)
        s.add(t)
        seen.set(id, s)
        return answer(t, r)
      }
    })
    const workers = [
      track('h0', honest(1e-6)),
      track('h1', honest(1e-6)),
      track('h2', honest(1e-6)),
      track('lazy', cheats.zeros as Strategy)
    ]
    // The lazy worker joins late: by then there are agreed tasks to use as canaries.
    for (let i = 0; i < 5000 && !sim.job.summary().closed; i++) {
      round(sim, sim.verdicts.length > 60 ? workers : workers.slice(0, 3), random)
    }
    const s = sim.job.summary()
    assert.ok(s.canariesPassed > 0, 'honest workers pass canaries')
    assert.ok(sim.frauds.some((f) => f.accused === 'lazy'))
    assert.ok(!sim.frauds.some((f) => f.accused !== 'lazy'))
    assertVerifiedAreRight(sim)
  })

  it("a convicted worker's earlier unsampled results are re-run: verdicts revised, no wrong result stands", () => {
    const random = seededRandom(18)
    const sim = newSim(400, constantRate(0.1), random)
    const workers: SimWorker[] = [
      { id: 'cheater', maxTasks: 4, answer: (t, r) => (r() < 0.2 ? (cheats.random as Strategy)(t, r) : honest(1e-6)(t, r)) },
      { id: 'h0', maxTasks: 2, answer: honest(1e-6) },
      { id: 'h1', maxTasks: 2, answer: honest(1e-6) },
      { id: 'h2', maxTasks: 2, answer: honest(1e-6) }
    ]
    for (let i = 0; i < 20_000 && !sim.job.summary().closed; i++) {
      round(sim, workers, random)
    }
    const s = sim.job.summary()
    assert.ok(s.closed)
    assert.ok(
      sim.frauds.some((f) => f.accused === 'cheater'),
      'convicted'
    )
    assert.ok(s.audited > 0, 'its unsampled results were audited')
    assert.equal(s.agreed + s.unsampled + s.disputed + s.unresolved, 400)
    // The last verdict of every task names a right result.
    const last = new Map(sim.verdicts.map((v) => [v.task, v]))
    assert.equal(last.size, 400)
    for (const v of last.values()) {
      const out = sim.submitted.get(`${v.worker}/${v.task}`) as number[]
      assert.ok(
        agreeOutputs(tensor(out), tensor(truth(v.task)), []).agree,
        `task ${v.task}: ${v.status} by ${v.worker}${v.revised ? ' (revised)' : ''}`
      )
    }
    assert.ok(sim.verdicts.some((v) => v.revised === true))
  })

  it('a check no independent worker takes in time is given up: the first result stands, unsampled', () => {
    const random = seededRandom(16)
    const sim = newSim(3, resolvePolicy(undefined), random)
    // Another worker is around (it subscribes to the job) but never claims.
    sim.job.noteWorker(sim.now, 'idle')
    round(sim, [{ id: 'only', maxTasks: 3, answer: honest(0) }], random)
    assert.equal(sim.job.summary().checks, 3, 'a newcomer is always sampled')
    assert.equal(sim.job.claim(sim.now, 'only', 3).outcome.tasks.length, 0, 'never its own re-run')
    const wake = sim.job.timer()
    assert.ok(wake.type === 'timer' && wake.at !== undefined)
    collect(sim, sim.job.tick(wake.at as number))
    assert.deepEqual(
      sim.verdicts.map((v) => [v.task, v.status, v.worker]),
      [
        [0, 'unsampled', 'only'],
        [1, 'unsampled', 'only'],
        [2, 'unsampled', 'only']
      ]
    )
    assert.equal(sim.job.summary().closed, true)
  })

  it('with no other worker around, a check is given up at once: a single worker never waits for one (§7.2)', () => {
    const random = seededRandom(19)
    const sim = newSim(4, resolvePolicy(undefined), random)
    for (let i = 0; i < 3; i++) {
      round(sim, [{ id: 'only', maxTasks: 2, answer: honest(0) }], random)
    }
    assert.equal(sim.job.summary().closed, true, 'every task settled without waiting for a check')
    assert.deepEqual(
      sim.verdicts.map((v) => v.status),
      ['unsampled', 'unsampled', 'unsampled', 'unsampled']
    )
  })

  it('an expired check settles its task whichever event comes first — a claim as well as a tick', () => {
    const random = seededRandom(19)
    const sim = newSim(2, resolvePolicy(undefined), random)
    sim.job.noteWorker(sim.now, 'idle')
    round(sim, [{ id: 'only', maxTasks: 2, answer: honest(0) }], random)
    assert.equal(sim.job.summary().checks, 2)
    // The next event after the check wait is a claim (a worker polling), not the timer.
    const { outcome, actions } = sim.job.claim(sim.now + 1000, 'only', 2)
    assert.equal(outcome.tasks.length, 0)
    collect(sim, actions)
    assert.deepEqual(
      sim.verdicts.map((v) => v.status),
      ['unsampled', 'unsampled']
    )
    assert.equal(sim.job.summary().closed, true)
  })

  it('refuses claims from banned workers and from workers below the reputation threshold', () => {
    const trust = new MemoryTrustBook()
    trust.get('banned').bannedUntil = 10
    Object.assign(trust.get('bad'), { agreements: 0, disagreements: 3 })
    const sim = newSim(10, resolvePolicy(undefined), seededRandom(17), trust)
    assert.equal(sim.job.claim(5, 'banned', 1).outcome.code, 'BANNED')
    assert.equal(sim.job.claim(11, 'banned', 1).outcome.code, 'OK', 'bans expire')
    assert.equal(sim.job.claim(11, 'bad', 1).outcome.code, 'RATE_LIMITED')
  })

  it('counts a task done only once its result is stored: a failed write puts the task back, and a re-run back in its queue', () => {
    const random = seededRandom(23)
    const sim = newSim(2, constantRate(1), random)
    sim.job.noteWorker(0, 'b')
    const claim = sim.job.claim(1, 'a', 2)
    assert.deepEqual(claim.outcome.tasks, [0, 1])
    // The store's write of task 0's result fails.
    const step = sim.job.result(2, { task: 0, worker: 'a', outputs: tensor(truth(0)) })
    assert.deepEqual(step.outcome, { code: 'OK', check: false })
    const accept = step.actions.find((x) => x.type === 'accept')
    assert.ok(accept?.type === 'accept')
    assert.ok(!step.actions.some((x) => x.type === 'timer'), 'the timer comes with stored() or storeFailed(), not before')
    const undone = sim.job.storeFailed(2, accept)
    assert.equal(undone.at(-1)?.type, 'timer')
    assert.ok(undone.some((x) => x.type === 'release' && x.tasks[0] === 0))
    assert.equal(sim.job.summary().done, 0, 'not counted done')
    assert.equal(sim.job.summary().settled, 0)
    // Stored on the next try (the same worker may send it again: it got no receipt).
    sim.job.claim(3, 'a', 1)
    const again = submit(sim.job, 4, { task: 0, worker: 'a', outputs: tensor(truth(0)) })
    assert.equal(again.outcome.code, 'OK')
    assert.equal(sim.job.summary().done, 1)
    // The re-run's write fails: the check goes back to its queue, for a worker other than 'a'.
    const rerun = sim.job.claim(5, 'b', 1)
    assert.deepEqual(rerun.outcome.tasks, [0])
    const check = sim.job.result(6, { task: 0, worker: 'b', outputs: tensor(truth(0)) })
    const checkAccept = check.actions.find((x) => x.type === 'accept')
    assert.ok(checkAccept?.type === 'accept' && checkAccept.check)
    sim.job.storeFailed(6, checkAccept)
    assert.equal(sim.job.summary().checks, 1, 'the check is queued again')
    assert.equal((sim.job.claim(7, 'a', 1).outcome.tasks as number[]).includes(0), false, 'never to the worker that ran the task')
    const retry = sim.job.claim(8, 'b', 1)
    assert.deepEqual(retry.outcome.tasks, [0])
    const settled = submit(sim.job, 9, { task: 0, worker: 'b', outputs: tensor(truth(0)) })
    const verdict = settled.actions.find((x) => x.type === 'verdict')
    assert.ok(verdict?.type === 'verdict')
    assert.deepEqual([verdict.verdict.status, verdict.result?.worker], ['agreed', 'a'])
  })

  it('a policy of the caller with canary rate 0 mixes in no canaries', () => {
    const random = seededRandom(29)
    const sim = newSim(60, constantRate(1, 0), random)
    const workers = ['a', 'b', 'c'].map((id) => ({ id, maxTasks: 4, answer: honest(0) }))
    for (let i = 0; i < 500 && !sim.job.summary().closed; i++) {
      round(sim, workers, random)
    }
    assert.equal(sim.job.summary().closed, true)
    assert.equal(sim.job.summary().canariesPassed, 0)
  })
})
