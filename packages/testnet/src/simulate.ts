/**
 * The simulated engine: a scenario's peers in virtual time, driving the real sans-IO core —
 * `VerifiedJob` (tasks, leases, sampling, agreement, fraud, trust) on each requester and
 * `WorkerAgent` (claims, backoff) on each worker. Messages take a log-normal latency and may be
 * lost; a worker runs its tasks one after another with exponential service times. Nothing reads a
 * clock or `Math.random`: the same scenario and seed give the same report, byte for byte.
 *
 * Announcements spread over a gossip mesh of degree D (src/gossip.ts: hops of per-link latencies,
 * loss per transmission; late joiners ask, as §6.7 lets them). Modelled simply for now: a fraud
 * proof reaches every other requester after one latency.
 */

import {
  type AgentAction,
  MemoryTrustBook,
  type ObservedResult,
  recordOffence,
  seededRandom,
  TaskState,
  type TrustBook,
  type Verdict,
  VerifiedJob,
  type VerifiedJobAction,
  WorkerAgent
} from '@openbatch/core'
import { DEFAULT_AGREEMENT, float32Tensor, reputationScore, resolvePolicy } from '@openbatch/protocol'
import { BEHAVIOURS, type Behaviour, unitHash } from './adversaries/index.js'
import { type DhtReport, simulateDht } from './dht.js'
import { EventQueue } from './events.js'
import { GossipMesh } from './gossip.js'
import { type GroupSpec, type JobSpec, jobPolicy, type Scenario } from './scenario.js'

/** How long a worker waits for a claim's answer before counting it as failed (§6.2). */
const CLAIM_TIMEOUT_MS = 5000
/** Latencies are capped below the claim timeout (a message slower than that counts as lost). */
const MAX_LATENCY_MS = CLAIM_TIMEOUT_MS / 2
/** Values in each task's output. */
const OUTPUT_SIZE = 4
/** Width of the throughput buckets in the report (virtual ms). */
const BUCKET_MS = 10_000
/** Where the detection curve is read: the share of a group's members exposed within n results. */
const DETECTION_POINTS = [10, 20, 50, 100, 200, 500, 1000]

interface Worker {
  id: string
  /** Dense index (for compact keys). */
  index: number
  group: GroupSpec
  behaviour: Behaviour
  agent: WorkerAgent
  network: string
  random: () => number
  online: boolean
  /** Cut off from the requesters by a partition: every message to or from it is lost. */
  cut: boolean
  /** Its upload link (results leave one after another at the scenario's `uplinkMbps`). */
  uplink: Uplink
  /** A sybil's identities still unused (it comes back as a newcomer when convicted). */
  identitiesLeft: number
  /** Tasks waiting to run here, in order. */
  queue: { job: string; task: number }[]
  busy: boolean
  agentTick: number
  /** Claims in flight, by job: a token, so a late answer after the timeout is ignored. */
  claims: Map<string, number>
  /** First-run results requesters accepted from it (re-runs and canaries not counted). */
  firstRuns: number
  /** Of them, sampled for a re-run when accepted (§7.2). */
  sampledRuns: number
  /**
   * §7.4 as measured: the ordinal of its earliest first run that was sampled for a re-run when it
   * was accepted and then exposed by a fraud proof (audits of unsampled results after a conviction
   * do not count: the formula is about sampling).
   */
  exposedAt?: number
}

interface Uplink {
  /** When the link is free again (virtual ms). */
  freeAt: number
  /** Time spent sending (ms). */
  busyMs: number
}

interface Stored {
  /** The values sent, unless they were the honest ones (recomputed when needed). */
  values?: number[]
  faked: boolean
  /** Among its worker's first runs, this one's ordinal; undefined for a re-run or canary. */
  ordinal?: number
  /** A first run the requester sampled for a re-run when it accepted it (§7.2). */
  sampled?: boolean
}

interface Job {
  id: string
  requester: string
  /** Its requester never answers claims (an announcement spammer). */
  fake: boolean
  spec: JobSpec
  vj: VerifiedJob
  nextTick: number
  ended?: 'complete' | 'deadline'
  endedAt?: number
  /** Every answer received, by `resultKey(task, worker)` (for audits and for judging verdicts). */
  answers: Map<number, Stored>
  verdicts: Map<number, Verdict>
  /** Runs credited, by `resultKey(task, worker)`. */
  accepted: Map<number, number>
  runs: number
  settledAt: number[]
  /** When each accepted run (first runs, re-runs, canaries) arrived. */
  runTimes: number[]
}

export interface GroupReport {
  behaviour: string
  workers: number
  /** Results returned (first runs and checks). */
  results: number
  /** Of them, knowingly wrong. */
  faked: number
  /** Fraud proofs naming a member. */
  fraudProofs: number
  /** Members convicted at least once. */
  convicted: number
  /** Share of members convicted. */
  detected: number
  /** Virtual seconds from the first job's start to the first conviction in the group; null: none. */
  firstDetectionS: number | null
  /** Task results that ended up this group's faked answers (the damage that got through). */
  wrongAccepted: number
  /** Share of its results that were faked (f in §7.4, as it happened). */
  fakeShare: number
  /** Share of its first runs sampled for a re-run (p in §7.4, as it happened); null in the live engine (requesters do not say). */
  sampledShare: number | null
  /** Members by reputation (§7.6) in the first requester's trust book, in ten bins of 0.1. */
  trust: number[]
  /**
   * §7.4 as measured: for each n, the probability that a member is exposed by a fraud proof on one
   * of its first n first runs (Kaplan–Meier: a member banned by another route, or one whose job ran
   * out, stops being observed after its last first run), with Greenwood's standard error, the
   * members still observed at n and the exposures up to n.
   */
  detection: { n: number; probability: number; se: number; atRisk: number; exposures: number }[]
}

export interface Report {
  scenario: string
  seed: number
  engine: 'sim' | 'live'
  /** Seconds the run lasted: virtual in the simulator, wall clock in the live engine. */
  virtualSeconds: number
  events: number
  totals: {
    tasks: number
    settled: number
    /** Tasks of a completed job without a verdict: must be 0. */
    lost: number
    /** Runs credited (accepted) more than once for the same task and worker: must be 0. */
    doubleCredits: number
    /** Runs per task (first runs, re-runs, canaries). */
    overhead: number
    fraudProofs: number
    /** Fraud proofs naming a worker that never faked: must be 0. */
    falseAccusations: number
    wrongAccepted: number
    verdicts: Record<string, number>
    /** Live engine: forged fraud proofs published by `forger` workers. */
    forgedProofs?: number
    /**
     * Live engine: acceptances, by any peer, of a proof against a worker that never faked — a
     * requester's false accusation counts once per peer that checks it.
     */
    falseProofsAccepted?: number
    /** Live engine: acceptances, by any peer, of a forger's proof: must be 0. */
    forgedProofsAccepted?: number
  }
  jobs: {
    id: string
    tasks: number
    settled: number
    ended: string
    endedS: number | null
    itemsPerSecond: number
  }[]
  groups: Record<string, GroupReport>
  /** Tasks settled per 10 s of virtual time. */
  throughput: number[]
  /** Runs accepted (first runs, re-runs, canaries) per 10 s. */
  runs: number[]
  /** Tasks announced and not yet settled, at the end of each 10 s. */
  queueDepth: number[]
  /** Announcement delivery delay to workers (ms) — the gossip model's, with its sample size. */
  announcementDelayMs: { p50: number; p99: number; n: number }
  /** With the scenario's `dht`: lookups in a DHT of every peer (hop histogram). */
  dht?: DhtReport
  /**
   * The steady state: tasks settled between the first job's start + `warmUp` and the run's end −
   * `coolDown` (seconds from the first job's start), and their rate.
   */
  steady: { fromS: number; toS: number; settled: number; itemsPerSecond: number }
  /**
   * With `network.uplinkMbps`: the share of the run each requester's uplink spent sending task
   * inputs (1: the uplink was the bottleneck).
   */
  uplinkBusy?: Record<string, number>
  /** The live engine's own figures: peers started (sybils' later identities included), start-up time, RSS at the end (every process), processes. */
  live?: { peers: number; startS: number; peakRssBytes: number; processes: number }
}

export interface SimulateOptions {
  seed?: number
  /** Called every 2^16 events with the tasks settled so far (of the served jobs') and the virtual time. */
  onProgress?: (p: { settled: number; tasks: number; virtualS: number }) => void
}

/** Runs a scenario in virtual time and reports what happened. */
export function simulate(scenario: Scenario, options: SimulateOptions = {}): Report {
  const seed = options.seed ?? scenario.seed
  // The DHT of the scenario's peers, first: its routing tables are garbage before the run grows.
  const dht =
    scenario.dht == null
      ? undefined
      : simulateDht({ nodes: scenario.groups.reduce((n, g) => n + g.count, 0) + scenario.requesters.length, ...scenario.dht, seed })
  const random = seededRandom(seed)
  const events = new EventQueue()
  const workers: Worker[] = []
  const byId = new Map<string, Worker>()
  const jobs = new Map<string, Job>()
  const trust = new Map<string, TrustBook>()
  const convictions = new Map<string, number>()
  const fraudByWorker = new Map<string, number>()
  const fakedBy = new Set<string>()
  const counts = new Map<string, { results: number; faked: number }>()
  let falseAccusations = 0
  /** How long announcements took to reach workers (ms). */
  const announcementDelays: number[] = []
  let firstJobAt = Number.POSITIVE_INFINITY

  // ── network ────────────────────────────────────────────────────────────────────────────
  const gauss = () => {
    const u = 1 - random()
    const v = random()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  const latency = () => Math.min(MAX_LATENCY_MS, scenario.network.latencyMs * Math.exp(scenario.network.jitter * gauss()))
  /**
   * Delivers `deliver` after one latency, unless the message is lost (or `w`, the worker at one end,
   * is cut off by a partition); says whether it will arrive.
   */
  const send = (deliver: () => void, w?: Worker, upload?: { link: Uplink; bytes: number }): boolean => {
    if (random() < scenario.network.loss || w?.cut === true) {
      return false
    }
    events.at(transmit(upload) + latency(), deliver)
    return true
  }
  /** When a message of `bytes` has left its sender's uplink (now, with no bandwidth set): one after another. */
  const transmit = (upload?: { link: Uplink; bytes: number }): number => {
    const mbps = scenario.network.uplinkMbps
    if (upload == null || mbps == null || upload.bytes === 0) {
      return events.now
    }
    const ms = (upload.bytes * 8) / (mbps * 1000)
    const start = Math.max(events.now, upload.link.freeAt)
    upload.link.freeAt = start + ms
    upload.link.busyMs += ms
    return upload.link.freeAt
  }
  const requesterLinks = new Map(scenario.requesters.map((r) => [r.id, { freeAt: 0, busyMs: 0 } as Uplink]))

  // ── workers ────────────────────────────────────────────────────────────────────────────
  let serial = 0
  const addWorker = (group: GroupSpec): Worker => {
    const n = workers.length
    const w: Worker = {
      id: `${group.id}-${n}`,
      index: n,
      group,
      behaviour: (BEHAVIOURS[group.behaviour] as (typeof BEHAVIOURS)[string])(group.params),
      // The simulator keeps the backoff it was validated with (1 s doubling to 30 s; a real worker
      // uses WorkerAgent's 250 ms to 4 s): 4× the idle claims would slow a 10^5-peer run.
      agent: new WorkerAgent({ capacity: group.capacity, backoffMs: 1000, maxBackoffMs: 30_000 }),
      network: group.network ?? `net-${n}`,
      random: seededRandom((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0),
      online: true,
      cut: false,
      uplink: { freeAt: 0, busyMs: 0 },
      identitiesLeft: group.behaviour === 'sybil' ? Number(group.params.identities ?? 5) - 1 : 0,
      queue: [],
      busy: false,
      agentTick: Number.POSITIVE_INFINITY,
      claims: new Map(),
      firstRuns: 0,
      sampledRuns: 0
    }
    workers.push(w)
    byId.set(w.id, w)
    return w
  }

  const agentActions = (w: Worker, actions: AgentAction[]) => {
    for (const a of actions) {
      if (a.type === 'claim') {
        const token = serial++
        w.claims.set(a.job, token)
        // The worker gives a claim up after CLAIM_TIMEOUT_MS without an answer (§6.2). Latencies here
        // are far below it, so that only happens when the claim or its answer is lost: the timeout
        // is scheduled then (one event per lost message instead of one per claim).
        const sentAt = events.now
        if (!send(() => requesterClaim(a.job, w, a.maxTasks, token, sentAt), w)) {
          claimTimeout(w, a.job, token, sentAt)
        }
      } else if (a.type === 'timer' && a.at != null && a.at < w.agentTick) {
        const at = a.at
        w.agentTick = at
        events.at(at, () => {
          if (w.online && w.agentTick === at) {
            w.agentTick = Number.POSITIVE_INFINITY
            agentActions(w, w.agent.tick(events.now))
          }
        })
      }
    }
  }

  const claimTimeout = (w: Worker, job: string, token: number, sentAt: number) => {
    events.at(sentAt + CLAIM_TIMEOUT_MS, () => {
      if (w.online && w.claims.get(job) === token) {
        w.claims.delete(job)
        agentActions(w, w.agent.claimed(events.now, job, 'TIMEOUT'))
      }
    })
  }

  /**
   * The job's announcement reaches `w`. `issuedAt`: a re-announcement's fresh time (§5.1), which
   * brings back a job the worker gave up (its requester was unreachable).
   */
  const announce = (w: Worker, job: Job, issuedAt = job.spec.at * 1000) => {
    const sentAt = events.now
    send(() => arrive(w, job, issuedAt, sentAt), w)
  }
  /** The announcement (sent at `sentAt`) arrives at `w`. */
  const arrive = (w: Worker, job: Job, issuedAt: number, sentAt: number) => {
    announcementDelays.push(events.now - sentAt)
    if (w.online && job.ended == null) {
      agentActions(
        w,
        w.agent.announce(events.now, {
          id: job.id,
          requester: job.requester,
          model: 'sim',
          deadline: job.spec.at * 1000 + job.spec.deadline * 1000,
          maxBatch: job.spec.maxBatch,
          issuedAt
        })
      )
    }
  }
  /**
   * The gossip mesh (src/gossip.ts) over the workers present when the first job starts and the
   * requesters after them; workers that join later ask their peers for the open jobs (§6.7).
   */
  let mesh: { graph: GossipMesh; workers: number; requesters: Map<string, number> } | undefined
  const publish = (job: Job) => {
    if (mesh == null) {
      const requesters = new Map(scenario.requesters.map((r, i) => [r.id, workers.length + i]))
      mesh = { graph: new GossipMesh(workers.length + requesters.size, latency, random), workers: workers.length, requesters }
    }
    const m = mesh
    const sentAt = events.now
    const arrival = m.graph.spread(
      m.requesters.get(job.requester) as number,
      (i) => i >= m.workers || (workers[i]?.online ?? false),
      () => random() < scenario.network.loss
    )
    for (const w of workers) {
      if (!w.online) {
        continue
      }
      if (w.index >= m.workers) {
        announce(w, job)
        continue
      }
      const at = arrival[w.index] as number
      if (Number.isFinite(at) && !w.cut) {
        events.at(events.now + at, () => arrive(w, job, job.spec.at * 1000, sentAt))
      }
    }
  }

  const runNext = (w: Worker) => {
    if (w.busy || !w.online) {
      return
    }
    const next = w.queue.shift()
    if (next == null) {
      return
    }
    w.busy = true
    const service = -Math.log(1 - w.random()) * w.group.serviceMs * (w.behaviour.slowdown ?? 1)
    events.at(events.now + service, () => {
      if (!w.online) {
        return
      }
      w.busy = false
      const key = `${next.job}:${next.task}`
      const honest = honestValues(key)
      const answer = w.behaviour.respond(key, honest, w.random)
      if (answer != null) {
        const c = counts.get(w.group.id) ?? { results: 0, faked: 0 }
        c.results++
        if (answer.faked) {
          c.faked++
          fakedBy.add(w.id)
        }
        counts.set(w.group.id, c)
        // Honest values are not kept (recomputed when an audit needs them): a million tasks fit.
        const stored: Stored = answer.values === honest ? { faked: answer.faked } : { faked: answer.faked, values: answer.values }
        const spec = (jobs.get(next.job) as Job).spec
        send(() => requesterResult(next.job, w, next.task, answer.values, stored), w, { link: w.uplink, bytes: spec.outputBytes })
      }
      agentActions(w, w.agent.finished(events.now, 1))
      runNext(w)
    })
  }

  const goOffline = (w: Worker, graceful: boolean) => {
    w.online = false
    w.queue = []
    w.claims.clear()
    if (graceful) {
      for (const job of jobs.values()) {
        send(() => jobActions(job, job.vj.workerGone(events.now, w.id)), w)
      }
    }
  }

  // ── requesters ─────────────────────────────────────────────────────────────────────────
  const requesterClaim = (jobId: string, w: Worker, maxTasks: number, token: number, sentAt: number) => {
    const job = jobs.get(jobId) as Job
    if (job.fake) {
      claimTimeout(w, jobId, token, sentAt) // never answered: the worker gives up after the claim timeout
      return
    }
    let code: string
    let tasks: number[] = []
    if (job.ended != null) {
      code = 'JOB_CLOSED'
    } else {
      job.vj.noteWorker(events.now, w.id, w.network)
      const step = job.vj.claim(events.now, w.id, maxTasks, w.network)
      code = step.outcome.code
      tasks = step.outcome.tasks
      jobActions(job, step.actions)
    }
    const answered = send(
      () => {
        if (!w.online || w.claims.get(jobId) !== token) {
          return // the worker left, or gave the claim up: the lease runs out at the requester
        }
        w.claims.delete(jobId)
        agentActions(w, w.agent.claimed(events.now, jobId, code as never, tasks.length))
        for (const task of tasks) {
          w.queue.push({ job: jobId, task })
        }
        runNext(w)
      },
      w,
      { link: requesterLinks.get(job.requester) as Uplink, bytes: tasks.length * job.spec.inputBytes }
    )
    if (!answered) {
      claimTimeout(w, jobId, token, sentAt)
    }
  }

  const requesterResult = (jobId: string, w: Worker, task: number, values: number[], answer: Stored) => {
    const job = jobs.get(jobId) as Job
    if (job.ended != null) {
      return
    }
    const observed: ObservedResult = { task, worker: w.id, outputs: [float32Tensor('y', [1, OUTPUT_SIZE], values)] }
    const step = job.vj.result(events.now, observed)
    if (step.outcome.code === 'OK') {
      job.runs++
      job.runTimes.push(events.now)
      job.answers.set(resultKey(task, w), answer)
    }
    // The accept action stores the result (here: at once) and the verification goes on.
    jobActions(job, step.actions)
    if (step.outcome.code === 'OK' && !step.outcome.check) {
      answer.ordinal = ++w.firstRuns
      answer.sampled = job.vj.taskState(task) === TaskState.CHECKING
      if (answer.sampled) {
        w.sampledRuns++
      }
    }
  }

  const jobActions = (job: Job, actions: VerifiedJobAction[]) => {
    for (const a of actions) {
      switch (a.type) {
        case 'timer':
          if (a.at != null && a.at < job.nextTick) {
            const at = a.at
            job.nextTick = at
            events.at(at, () => {
              if (job.nextTick === at && job.ended == null) {
                job.nextTick = Number.POSITIVE_INFINITY
                jobActions(job, job.vj.tick(events.now))
              }
            })
          }
          break
        case 'accept': {
          const key = resultKey(a.task, byId.get(a.worker) as Worker)
          job.accepted.set(key, (job.accepted.get(key) ?? 0) + 1)
          jobActions(job, job.vj.stored(events.now, a))
          break
        }
        case 'verdict':
          job.verdicts.set(a.verdict.task, a.verdict)
          if (a.verdict.revised !== true) {
            job.settledAt.push(events.now) // a revised verdict (an audit) settles no new task
          }
          break
        case 'audit': {
          const stored = job.answers.get(resultKey(a.task, byId.get(a.worker) as Worker))
          if (stored != null) {
            const values = stored.values ?? honestValues(`${job.id}:${a.task}`)
            job.vj.audit({ task: a.task, worker: a.worker, outputs: [float32Tensor('y', [1, OUTPUT_SIZE], values)] })
          }
          break
        }
        case 'fraud': {
          const accused = a.accused.worker
          fraudByWorker.set(accused, (fraudByWorker.get(accused) ?? 0) + 1)
          const w = byId.get(accused)
          const stored = w == null ? undefined : job.answers.get(resultKey(a.task, w))
          if (w != null && stored?.ordinal != null && stored.sampled === true) {
            w.exposedAt = Math.min(w.exposedAt ?? stored.ordinal, stored.ordinal)
          }
          if (!fakedBy.has(accused)) {
            falseAccusations++
          }
          if (!convictions.has(accused)) {
            convictions.set(accused, events.now)
            // A sybil whitewashes: the convicted identity goes, a fresh one of the same operator joins.
            const sybil = byId.get(accused)
            if (sybil != null && sybil.identitiesLeft > 0 && sybil.online) {
              goOffline(sybil, false)
              const next = joinWorker(sybil.group)
              next.identitiesLeft = sybil.identitiesLeft - 1
            }
          }
          // §7.5: the proof travels; every other requester checks it and bans the accused.
          for (const [requester, book] of trust) {
            if (requester !== job.requester) {
              send(() => {
                const t = book.get(accused)
                recordOffence(t, events.now)
                book.changed(accused)
              })
            }
          }
          break
        }
        case 'complete':
        case 'deadline':
          if (job.ended == null) {
            job.ended = a.type
            job.endedAt = events.now
            if (!job.fake) {
              openJobs--
            }
          }
          break
      }
    }
  }

  const startJob = (requester: string, spec: JobSpec, index: number, fake: boolean) => {
    const book = trust.get(requester) as TrustBook
    const policy = resolvePolicy(jobPolicy(spec))
    const id = `${requester}/${index}`
    const now = events.now
    firstJobAt = Math.min(firstJobAt, now)
    const job: Job = {
      id,
      requester,
      fake,
      spec,
      vj: new VerifiedJob({
        taskCount: spec.tasks,
        maxBatch: spec.maxBatch,
        deadline: now + spec.deadline * 1000,
        leaseMs: spec.leaseMs,
        policy: { ...policy, agreement: [DEFAULT_AGREEMENT] },
        reward: 1,
        random: seededRandom((seed ^ (unitHash(id) * 4294967296)) >>> 0),
        trust: book
      }),
      nextTick: Number.POSITIVE_INFINITY,
      answers: new Map(),
      verdicts: new Map(),
      accepted: new Map(),
      runs: 0,
      settledAt: [],
      runTimes: []
    }
    jobs.set(id, job)
    jobActions(job, [job.vj.timer() as VerifiedJobAction])
    publish(job)
  }

  // ── the scenario ───────────────────────────────────────────────────────────────────────
  for (const group of scenario.groups) {
    for (let i = 0; i < group.count; i++) {
      addWorker(group)
    }
  }
  for (const r of scenario.requesters) {
    trust.set(r.id, new MemoryTrustBook())
    r.jobs.forEach((spec, i) => {
      events.at(spec.at * 1000, () => startJob(r.id, spec, i, r.unresponsive))
    })
  }
  const joinWorker = (group: GroupSpec): Worker => {
    const w = addWorker(group)
    // §6.7: a worker that joins asks its peers for the open jobs.
    for (const job of jobs.values()) {
      if (job.ended == null) {
        announce(w, job)
      }
    }
    return w
  }
  /** Churn: `w` crashes after an exponential session; a newcomer of its group takes its place. */
  const churn = (w: Worker, meanMs: number, until: number) => {
    events.at(events.now - Math.log(1 - random()) * meanMs, () => {
      if (!w.online || events.now > until) {
        return
      }
      goOffline(w, false)
      churn(joinWorker(w.group), meanMs, until)
    })
  }
  for (const e of scenario.timeline) {
    events.at(e.at * 1000, () => {
      const group = scenario.groups.find((g) => g.id === e.group) as GroupSpec
      const count = e.count ?? 0
      switch (e.event) {
        case 'join':
          for (let i = 0; i < count; i++) {
            joinWorker(group)
          }
          return
        case 'partition':
          for (const w of workers.filter((x) => x.online && !x.cut && x.group.id === e.group).slice(0, count)) {
            w.cut = true
          }
          return
        case 'heal':
          for (const w of workers.filter((x) => x.cut && (e.group == null || x.group.id === e.group))) {
            w.cut = false
            // Reconnected, it asks for the open jobs again (§6.7): jobs it gave up come back.
            for (const job of jobs.values()) {
              if (job.ended == null && w.online) {
                announce(w, job, events.now)
              }
            }
          }
          return
        case 'churn':
          for (const w of workers.filter((x) => x.online && x.group.id === e.group)) {
            churn(w, (e.sessionS as number) * 1000, (e.until as number) * 1000)
          }
          return
        default:
          for (const w of workers.filter((x) => x.online && x.group.id === e.group).slice(0, count)) {
            goOffline(w, e.event === 'leave')
          }
      }
    })
  }
  // The run ends when every job that can end has (a spammer's never does): counted, not scanned, as
  // the check runs after every event.
  let openJobs = scenario.requesters.reduce((n, r) => n + (r.unresponsive ? 0 : r.jobs.length), 0)
  const servedTasks = scenario.requesters.filter((r) => !r.unresponsive).reduce((n, r) => n + r.jobs.reduce((m, j) => m + j.tasks, 0), 0)
  const onProgress = options.onProgress
  events.run(scenario.duration * 1000, () => {
    if (onProgress != null && (events.processed & 0xffff) === 0) {
      let settled = 0
      for (const job of jobs.values()) {
        settled += job.fake ? 0 : job.settledAt.length
      }
      onProgress({ settled, tasks: servedTasks, virtualS: events.now / 1000 })
    }
    return openJobs === 0
  })

  // ── the report ─────────────────────────────────────────────────────────────────────────
  const verdictCounts: Record<string, number> = { agreed: 0, unsampled: 0, disputed: 0, unresolved: 0 }
  const wrongBy = new Map<string, number>()
  let tasks = 0
  let settled = 0
  let lost = 0
  let doubleCredits = 0
  let runs = 0
  const throughput: number[] = []
  const runSeries: number[] = []
  const announced: number[] = []
  const jobReports: Report['jobs'] = []
  for (const job of jobs.values()) {
    if (job.fake) {
      // An announcement spammer's job: listed, counted nowhere (nothing of it ever runs).
      jobReports.push({ id: job.id, tasks: job.spec.tasks, settled: 0, ended: 'never answered', endedS: null, itemsPerSecond: 0 })
      continue
    }
    tasks += job.spec.tasks
    settled += job.verdicts.size
    runs += job.runs
    if (job.ended === 'complete') {
      lost += job.spec.tasks - job.verdicts.size
    }
    for (const n of job.accepted.values()) {
      doubleCredits += n > 1 ? n - 1 : 0
    }
    for (const v of job.verdicts.values()) {
      verdictCounts[v.status] = (verdictCounts[v.status] ?? 0) + 1
      const answer = job.answers.get(resultKey(v.task, byId.get(v.worker) as Worker))
      if (answer?.faked === true) {
        const group = (byId.get(v.worker) as Worker).group.id
        wrongBy.set(group, (wrongBy.get(group) ?? 0) + 1)
      }
    }
    bucketCount(throughput, job.settledAt)
    bucketCount(runSeries, job.runTimes)
    bucketCount(announced, [job.spec.at * 1000], job.spec.tasks)
    const seconds = ((job.endedAt ?? events.now) - job.spec.at * 1000) / 1000
    jobReports.push({
      id: job.id,
      tasks: job.spec.tasks,
      settled: job.verdicts.size,
      ended: job.ended ?? 'unfinished',
      endedS: job.endedAt == null ? null : round(job.endedAt / 1000),
      itemsPerSecond: round(seconds > 0 ? job.verdicts.size / seconds : 0)
    })
  }
  const buckets = Math.max(throughput.length, runSeries.length, announced.length)
  const queueDepth: number[] = []
  let open = 0
  for (let b = 0; b < buckets; b++) {
    open += (announced[b] ?? 0) - (throughput[b] ?? 0)
    queueDepth.push(open)
  }
  const delays = announcementDelays.sort((a, b) => a - b)
  const quantile = (q: number) =>
    delays.length === 0 ? 0 : round(delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] as number)
  const firstBook = trust.get(scenario.requesters[0]?.id as string) as TrustBook
  const groups: Record<string, GroupReport> = {}
  for (const group of scenario.groups) {
    const members = workers.filter((w) => w.group.id === group.id)
    const convicted = members.filter((w) => convictions.has(w.id))
    const first = Math.min(...convicted.map((w) => convictions.get(w.id) as number))
    const c = counts.get(group.id) ?? { results: 0, faked: 0 }
    groups[group.id] = {
      behaviour: group.behaviour,
      workers: members.length,
      results: c.results,
      faked: c.faked,
      fraudProofs: members.reduce((n, w) => n + (fraudByWorker.get(w.id) ?? 0), 0),
      convicted: convicted.length,
      detected: round(convicted.length / members.length),
      firstDetectionS: convicted.length === 0 ? null : round((first - firstJobAt) / 1000),
      wrongAccepted: wrongBy.get(group.id) ?? 0,
      fakeShare: round(c.results === 0 ? 0 : c.faked / c.results),
      sampledShare: round(
        ratio(
          members.reduce((n, w) => n + w.sampledRuns, 0),
          members.reduce((n, w) => n + w.firstRuns, 0)
        )
      ),
      trust: members.reduce(
        (bins, w) => {
          const t = firstBook.get(w.id)
          const score = reputationScore({ agreements: t.agreements, disagreements: t.disagreements, timeouts: t.timeouts })
          const bin = Math.min(9, Math.floor(score * 10))
          bins[bin] = (bins[bin] as number) + 1
          return bins
        },
        Array.from({ length: 10 }, () => 0)
      ),
      detection: kaplanMeier(
        members.map((w) => (w.exposedAt != null ? { at: w.exposedAt, event: true } : { at: w.firstRuns, event: false }))
      )
    }
  }
  const steady = steadyState(
    [...jobs.values()].filter((j) => !j.fake).map((j) => j.settledAt),
    firstJobAt,
    events.now,
    scenario
  )
  const uplinkBusy =
    scenario.network.uplinkMbps == null
      ? undefined
      : Object.fromEntries(
          [...requesterLinks].map(([id, link]) => [id, round(events.now - firstJobAt > 0 ? link.busyMs / (events.now - firstJobAt) : 0)])
        )
  return {
    scenario: scenario.name,
    seed,
    engine: 'sim',
    steady,
    ...(uplinkBusy == null ? {} : { uplinkBusy }),
    virtualSeconds: round(events.now / 1000),
    events: events.processed,
    totals: {
      tasks,
      settled,
      lost,
      doubleCredits,
      overhead: round(tasks === 0 ? 0 : runs / tasks),
      fraudProofs: [...fraudByWorker.values()].reduce((a, b) => a + b, 0),
      falseAccusations,
      wrongAccepted: [...wrongBy.values()].reduce((a, b) => a + b, 0),
      verdicts: verdictCounts
    },
    jobs: jobReports,
    groups,
    throughput: pad(throughput, buckets),
    runs: pad(runSeries, buckets),
    queueDepth,
    announcementDelayMs: { p50: quantile(0.5), p99: quantile(0.99), n: delays.length },
    ...(dht == null ? {} : { dht })
  }
}

/** Adds `weight` to the 10 s bucket of each time. */
function bucketCount(series: number[], times: number[], weight = 1): void {
  for (const at of times) {
    const b = Math.floor(at / BUCKET_MS)
    while (series.length <= b) {
      series.push(0)
    }
    series[b] = (series[b] as number) + weight
  }
}

const pad = (series: number[], length: number) => [...series, ...Array.from({ length: length - series.length }, () => 0)]
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b)

/** The honest outputs of a task: a fixed function of the task (what every correct worker computes). */
function honestValues(key: string): number[] {
  return Array.from({ length: OUTPUT_SIZE }, (_, i) => unitHash(`${key}#${i}`) * 2 - 1)
}

const round = (x: number) => Math.round(x * 1000) / 1000

/** One number per (task, worker): tasks up to 10^7 and 2^21 workers stay below 2^53. */
const resultKey = (task: number, w: Worker) => task * 2_097_152 + w.index

/** Kaplan–Meier estimate of P(exposed within n) at DETECTION_POINTS, with Greenwood's standard error. */
function kaplanMeier(members: { at: number; event: boolean }[]): GroupReport['detection'] {
  const times = [...new Set(members.filter((m) => m.event).map((m) => m.at))].sort((a, b) => a - b)
  const out: GroupReport['detection'] = []
  let survival = 1
  let greenwood = 0
  let exposures = 0
  let t = 0
  for (const n of DETECTION_POINTS) {
    for (; t < times.length && (times[t] as number) <= n; t++) {
      const at = times[t] as number
      const atRisk = members.filter((m) => m.at >= at).length
      const d = members.filter((m) => m.event && m.at === at).length
      survival *= 1 - d / atRisk
      greenwood += atRisk > d ? d / (atRisk * (atRisk - d)) : 0
      exposures += d
    }
    const atRisk = members.filter((m) => m.at >= n).length
    if (atRisk === 0 && exposures === 0) {
      break
    }
    out.push({ n, probability: round(1 - survival), se: round(survival * Math.sqrt(greenwood)), atRisk, exposures })
    if (atRisk === 0) {
      break
    }
  }
  return out
}

/** Report.steady from the settle times (ms) of each job, the first job's start and the run's end. */
export function steadyState(settledAt: number[][], firstJobAt: number, endAt: number, scenario: Scenario): Report['steady'] {
  const start = Number.isFinite(firstJobAt) ? firstJobAt : 0
  const from = start + scenario.warmUp * 1000
  const to = Math.max(from, endAt - scenario.coolDown * 1000)
  let settled = 0
  for (const times of settledAt) {
    for (const t of times) {
      settled += t >= from && t <= to ? 1 : 0
    }
  }
  const r = (x: number) => Math.round(x * 1000) / 1000
  return {
    fromS: r((from - start) / 1000),
    toS: r((to - start) / 1000),
    settled,
    itemsPerSecond: to > from ? r(settled / ((to - from) / 1000)) : 0
  }
}
