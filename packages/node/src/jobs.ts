/**
 * Jobs over gossip and job discovery (spec §5.1, §6.7).
 *
 * - A requester's JobAnnouncer publishes each job's signed announcement on the model's jobs
 *   topic, and re-announces it every REANNOUNCE_INTERVAL_MS with a fresh `issued_at_ms`, so its
 *   bytes (and gossipsub's message id) are new and the mesh forwards it to workers that joined
 *   since. The announcement carries the requester's addresses, so a requester that restarted on
 *   another port can be dialled. Workers it was told of (found for the job) that are not among the
 *   topic's subscribers are dialled again before each announcement, and while fewer subscribe than
 *   it waits for, it re-announces every MIN_REANNOUNCE_INTERVAL_MS instead.
 * - A worker's JobBoard subscribes to the topics of the models it serves, validates every message
 *   before it is forwarded, and hands each new job — or a re-announcement of a known one at least
 *   MIN_REANNOUNCE_INTERVAL_MS newer — to the caller.
 * - Every peer's JobDirectory answers `/openbatch/job-query/1.0.0` with the announcements of open
 *   jobs it knows for the asked models: its own, and those it accepted from gossip. A worker asks
 *   each peer it connects to, so one that joins at any time learns of every open job its
 *   neighbours know within a round trip.
 */

import type { AbortOptions, IdentifyResult, PeerId, Stream } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import {
  DIRECT_UPGRADE_TIMEOUT_MS,
  decodeFrame,
  JOB_QUERY_PROTOCOL,
  type JobAnnouncement,
  JobList,
  JobQuery,
  jobsTopic,
  MAX_ADDRESS_BYTES,
  MIN_REANNOUNCE_INTERVAL_MS,
  type Opened,
  open,
  parseModelCid,
  REANNOUNCE_INTERVAL_MS,
  STATEMENTS,
  STREAM_TIMEOUT_MS,
  seal,
  toHex,
  validateJobMessage
} from '@openbatch/protocol'
import { ipOf, isNonPublicIp } from './addresses.js'
import type { JobListing, OpenbatchComponents } from './components.js'
import { connectDirect, dialDirect } from './direct.js'
import { frameStream } from './framing.js'
import { isRelayAddress } from './reachability.js'
import { TopicBoard } from './topic-board.js'

/** Publishes a signed job announcement (an envelope from `seal(STATEMENTS.job, …)`). */
export async function announceJob(peer: JobComponents, envelope: Uint8Array): Promise<void> {
  const { message } = await open(STATEMENTS.job, envelope)
  peer.jobs.setOwn(envelope, message)
  await peer.libp2p.services.pubsub.publish(jobsTopic(message.model), envelope)
}

/**
 * This peer's addresses as an announcement carries them (§3.3): multiaddr bytes, at most 16 —
 * the ones other hosts can use first (§4.4): direct public ones, then those through a relay, then
 * private and loopback ones (which serve peers of the same LAN or host).
 */
export function announcedAddresses(peer: JobComponents): Uint8Array[] {
  const rank = (a: Multiaddr) => {
    const ip = ipOf(a)
    return (ip != null && isNonPublicIp(ip) ? 2 : 0) + (isRelayAddress(a) ? 1 : 0)
  }
  return peer.libp2p
    .getMultiaddrs()
    .map((a, i) => ({ a, i, r: rank(a) }))
    .sort((x, y) => x.r - y.r || x.i - y.i)
    .map(({ a }) => a.bytes)
    .filter((b) => b.byteLength <= MAX_ADDRESS_BYTES)
    .slice(0, 16)
}

/** A job's requester may be reached at the addresses its announcement lists: tell the peer store. */
export async function learnRequesterAddresses(peer: JobComponents, job: Opened<JobAnnouncement>): Promise<void> {
  const addrs = []
  for (const bytes of job.message.addresses) {
    try {
      const ma = multiaddr(bytes)
      // The last /p2p names the peer: a relay address (§4.4) names its relay first.
      const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value
      if (id != null && id !== job.signer.toString()) {
        continue // an address of another peer: not the requester's to give
      }
      addrs.push(id == null ? ma : ma.decapsulateCode(421))
    } catch {
      // not a multiaddr: ignored
    }
  }
  if (addrs.length > 0 && !job.signer.equals(peer.peerId)) {
    await peer.libp2p.peerStore.merge(job.signer, { multiaddrs: addrs }).catch(() => {})
  }
}

/** What the job services use of a peer. */
export type JobComponents = Pick<OpenbatchComponents, 'libp2p' | 'peerId' | 'privateKey' | 'reputation' | 'jobs'>

interface DirectoryEntry {
  envelope: Uint8Array
  model: string
  deadline: bigint
}

export interface JobDirectoryInit {
  /** Announcements of other peers' jobs kept to answer queries. @default 1024 */
  seenLimit?: number
  /** @default STREAM_TIMEOUT_MS */
  timeoutMs?: number
  /** Most entries in one answer (the frame allows 64). @default 64 */
  maxAnswer?: number
}

/** §6.7 The open jobs a peer knows, and the job-query protocol that shares them. */
export class JobDirectory implements JobListing {
  private readonly own = new Map<string, DirectoryEntry>()
  private readonly seen = new Map<string, DirectoryEntry>()
  private readonly seenLimit: number
  private readonly timeoutMs: number
  private readonly maxAnswer: number
  private started = false

  constructor(
    private readonly peer: Pick<OpenbatchComponents, 'libp2p'>,
    init: JobDirectoryInit = {}
  ) {
    this.seenLimit = init.seenLimit ?? 1024
    this.timeoutMs = init.timeoutMs ?? STREAM_TIMEOUT_MS
    this.maxAnswer = Math.min(64, init.maxAnswer ?? 64)
  }

  async start(): Promise<void> {
    if (this.started) {
      return
    }
    this.started = true
    await this.peer.libp2p.handle(JOB_QUERY_PROTOCOL, (stream) => this.serve(stream), { maxInboundStreams: 8 })
  }

  async stop(): Promise<void> {
    if (!this.started) {
      return
    }
    this.started = false
    await this.peer.libp2p.unhandle(JOB_QUERY_PROTOCOL).catch(() => {})
  }

  /** One of this peer's own open jobs, with its latest signed announcement. */
  setOwn(envelope: Uint8Array, job: JobAnnouncement): void {
    this.own.set(toHex(job.jobId), { envelope, model: parseModelCid(job.model).toString(), deadline: job.deadlineMs })
  }

  /** This peer's job is no longer open (complete, cancelled, past its deadline). */
  removeOwn(jobId: string): void {
    this.own.delete(jobId)
  }

  /** An announcement of another peer's job, accepted from gossip or a query. */
  noteSeen(envelope: Uint8Array, job: JobAnnouncement): void {
    const id = toHex(job.jobId)
    this.seen.delete(id)
    this.seen.set(id, { envelope, model: parseModelCid(job.model).toString(), deadline: job.deadlineMs })
    if (this.seen.size > this.seenLimit) {
      this.seen.delete(this.seen.keys().next().value as string)
    }
  }

  /** Another peer's job is over (its requester answered JOB_CLOSED): not passed on any more. */
  forget(jobId: string): void {
    this.seen.delete(jobId)
  }

  /** Announcements of open jobs of `models` (CID strings): this peer's own first. */
  list(models: Set<string>, now = Date.now()): Uint8Array[] {
    const out: Uint8Array[] = []
    const t = BigInt(now)
    for (const map of [this.own, this.seen]) {
      for (const [id, e] of map) {
        if (e.deadline <= t) {
          map.delete(id)
          continue
        }
        if (models.has(e.model) && out.length < this.maxAnswer) {
          out.push(e.envelope)
        }
      }
    }
    return out
  }

  private async serve(stream: Stream): Promise<void> {
    const signal = AbortSignal.timeout(this.timeoutMs)
    try {
      const lp = frameStream(stream, 'JobQuery')
      const query = decodeFrame('JobQuery', await lp.read({ signal }))
      const models = new Set(query.models.map((m) => parseModelCid(m).toString()))
      await lp.write(JobList.encode({ announcements: this.list(models) as Uint8Array<ArrayBuffer>[] }), { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

/** §6.7 Asks `remote` for the open jobs it knows of `models`; returns the signed announcements (unchecked). */
export async function queryJobs(peer: JobComponents, remote: PeerId, models: string[], options: AbortOptions = {}): Promise<Uint8Array[]> {
  const stream = await dialDirect(peer.libp2p, remote, JOB_QUERY_PROTOCOL, options)
  try {
    // One reader per stream: a second would buffer the answer under the query's smaller limit.
    const lp = frameStream(stream, 'JobList')
    await lp.write(JobQuery.encode({ models: models.map((m) => parseModelCid(m).bytes) }), options)
    const list = decodeFrame('JobList', await lp.read(options))
    await stream.close(options)
    return list.announcements
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

export interface JobBoardInit {
  /** Model CIDs (strings) this worker serves. */
  models: string[]
  /** Called once per new, valid announcement, and again for each re-announcement (§5.1). */
  onJob: (job: Opened<JobAnnouncement>, from: PeerId) => void
  /** Requesters whose announcements are ignored (spec §5.1 [IGNORE], banned). @default the peer's Reputation */
  isBanned?: (requester: PeerId) => boolean
  /** How many job ids to remember for de-duplication. @default 10000 */
  seenLimit?: number
  /** Ask each peer this worker connects to for its open jobs (§6.7). @default true */
  query?: boolean
}

/**
 * A worker's view of the jobs of its models: gossip (§5.1) and job queries to the peers it
 * connects to (§6.7), one validation for both.
 */
export class JobBoard {
  private readonly board: TopicBoard<Opened<JobAnnouncement>>
  /** issued_at_ms of the newest announcement accepted per job id. */
  private readonly newest = new Map<string, bigint>()
  private readonly seenLimit: number
  private readonly models: string[]
  private readonly queried = new Map<string, number>()
  private running = false

  constructor(
    private readonly peer: JobComponents,
    private readonly init: JobBoardInit
  ) {
    this.models = init.models.map((m) => parseModelCid(m).toString())
    this.seenLimit = init.seenLimit ?? 10_000
    const topics = this.models.map((m) => jobsTopic(parseModelCid(m)))
    this.board = new TopicBoard(
      { pubsub: peer.libp2p.services.pubsub },
      topics,
      async (topic, data) => {
        const verdict = await this.check(topic, data, Date.now())
        return { action: verdict.action, value: verdict.value }
      },
      (job) => this.deliver(job)
    )
  }

  start(): void {
    if (this.running) {
      return
    }
    this.running = true
    this.board.start()
    if (this.init.query !== false) {
      this.peer.libp2p.addEventListener('peer:identify', this.onIdentify)
      for (const conn of this.peer.libp2p.getConnections()) {
        void this.ask(conn.remotePeer)
      }
    }
  }

  stop(): void {
    if (!this.running) {
      return
    }
    this.running = false
    this.board.stop()
    this.peer.libp2p.removeEventListener('peer:identify', this.onIdentify)
  }

  /** Asks `remote` for its open jobs of this worker's models and takes every valid, new one. */
  async ask(remote: PeerId, options: AbortOptions = {}): Promise<number> {
    const key = remote.toString()
    const now = Date.now()
    if (!this.running || this.models.length === 0 || now - (this.queried.get(key) ?? 0) < 1000) {
      return 0
    }
    this.queried.set(key, now)
    if (this.queried.size > 4096) {
      this.queried.delete(this.queried.keys().next().value as string)
    }
    let announcements: Uint8Array[]
    try {
      announcements = await queryJobs(this.peer, remote, this.models, { signal: options.signal ?? AbortSignal.timeout(10_000) })
    } catch {
      return 0 // it does not speak the protocol, or went away: gossip still reaches us
    }
    let taken = 0
    for (const envelope of announcements) {
      taken += (await this.offer(envelope)) ? 1 : 0
    }
    return taken
  }

  /** An announcement learnt outside gossip (a job query): validated as on gossip (§5.1), then delivered if new. */
  async offer(envelope: Uint8Array): Promise<boolean> {
    let model: string
    try {
      model = parseModelCid((await open(STATEMENTS.job, envelope)).message.model).toString()
    } catch {
      return false
    }
    if (!this.models.includes(model)) {
      return false
    }
    const verdict = await this.check(jobsTopic(parseModelCid(model)), envelope, Date.now())
    if (verdict.action !== 'accept' || verdict.value == null) {
      return false
    }
    this.deliver(verdict.value)
    return true
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>) => {
    if (evt.detail.protocols.includes(JOB_QUERY_PROTOCOL)) {
      void this.ask(evt.detail.peerId)
    }
  }

  private deliver(job: Opened<JobAnnouncement>): void {
    this.init.onJob(job, job.signer)
  }

  /** §5.1 validation plus the de-duplication rules of this board. */
  private async check(topic: string, data: Uint8Array, now: number) {
    const verdict = await validateJobMessage(topic, data, now)
    const job = verdict.value
    if (job == null) {
      return verdict
    }
    // [IGNORE] a banned requester (§5.1).
    const banned = this.init.isBanned ?? ((p: PeerId) => this.peer.reputation.isBanned(p))
    if (banned(job.signer)) {
      return { action: 'ignore' as const }
    }
    // [IGNORE] a job id already seen, unless this is a re-announcement issued at least
    // MIN_REANNOUNCE_INTERVAL_MS after the newest one accepted (§5.1).
    const id = toHex(job.message.jobId)
    const last = this.newest.get(id)
    if (last != null && job.message.issuedAtMs < last + BigInt(MIN_REANNOUNCE_INTERVAL_MS)) {
      return { action: 'ignore' as const }
    }
    this.newest.delete(id)
    this.newest.set(id, job.message.issuedAtMs)
    if (this.newest.size > this.seenLimit) {
      this.newest.delete(this.newest.keys().next().value as string)
    }
    this.peer.jobs.noteSeen(data, job.message)
    return verdict
  }
}

export interface JobAnnouncerInit {
  /** @default REANNOUNCE_INTERVAL_MS */
  intervalMs?: number
  /**
   * The interval instead while gossip knows fewer of a job's topic's subscribers than
   * `AnnounceOptions.subscribers`. @default MIN_REANNOUNCE_INTERVAL_MS
   */
  retryMs?: number
  /** Called when a publish fails (e.g. nobody to send it to yet): informational. */
  onError?: (err: Error) => void
}

export interface AnnounceOptions {
  /** Wait (up to `waitMs`) until gossip knows this many subscribers of the job's topic before the first announcement. @default 0 */
  subscribers?: number
  /** @default 5000 */
  waitMs?: number
  /**
   * Workers found for the job (e.g. by `discoverWorkers`). Before each announcement, those gossip
   * does not list among the topic's subscribers are dialled again, directly (§4.4, §5.1): a NATed
   * worker hears a NATed requester's announcement only over a direct connection, and one failed
   * attempt (a WebRTC dial that timed out) must not leave the job unseen until its deadline.
   */
  workers?: PeerId[]
}

interface Announced {
  job: JobAnnouncement
  timer?: ReturnType<typeof setTimeout>
  subscribers: number
  workers: PeerId[]
}

/**
 * A requester's announcements (§5.1): each open job is published at once and re-announced every
 * `intervalMs` with a fresh `issued_at_ms` and this peer's current addresses, until it closes.
 */
export class JobAnnouncer {
  private readonly jobs = new Map<string, Announced>()
  private readonly intervalMs: number
  private readonly retryMs: number
  /** Workers being dialled now (peer id strings): one dial each at a time. */
  private readonly dialling = new Set<string>()
  private readonly stopped = new AbortController()

  constructor(
    private readonly peer: JobComponents,
    private readonly init: JobAnnouncerInit = {}
  ) {
    this.intervalMs = init.intervalMs ?? REANNOUNCE_INTERVAL_MS
    this.retryMs = init.retryMs ?? MIN_REANNOUNCE_INTERVAL_MS
  }

  /**
   * Announces `job` (this peer's, e.g. from the job store) now and until `done` settles. Its
   * `issued_at_ms` and `addresses` are set afresh each time.
   */
  async add(job: JobAnnouncement, done: Promise<unknown>, options: AnnounceOptions = {}): Promise<void> {
    const id = toHex(job.jobId)
    this.remove(id)
    const subscribers = options.subscribers ?? 0
    const entry: Announced = { job, subscribers, workers: options.workers ?? [] }
    this.jobs.set(id, entry)
    const finish = () => this.remove(id)
    done.then(finish, finish)
    this.reach(entry)
    if (subscribers > 0) {
      await this.subscribed(jobsTopic(job.model), subscribers, options.waitMs ?? 5000)
    }
    if (this.jobs.get(id) === entry) {
      await this.publish(id, entry)
    }
  }

  /** Resolves once gossip knows `count` subscribers of `topic`, or after `waitMs` (§5.1: the first announcement should reach someone). */
  private subscribed(topic: string, count: number, waitMs: number): Promise<void> {
    const pubsub = this.peer.libp2p.services.pubsub
    if (pubsub.getSubscribers(topic).length >= count) {
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        pubsub.removeEventListener('subscription-change', check)
        resolve()
      }
      const check = () => {
        if (pubsub.getSubscribers(topic).length >= count) {
          done()
        }
      }
      const timer = setTimeout(done, waitMs)
      pubsub.addEventListener('subscription-change', check)
    })
  }

  /** Announces every open job again now (e.g. after this peer's addresses changed). */
  async refresh(): Promise<void> {
    await Promise.all([...this.jobs].map(([id, entry]) => this.publish(id, entry)))
  }

  /**
   * More workers found for an announced job (e.g. a resumed one, searched for after it started):
   * dialled now, as `AnnounceOptions.workers` are, and before each announcement after.
   */
  addWorkers(jobId: string, workers: PeerId[]): void {
    const entry = this.jobs.get(jobId)
    if (entry == null) {
      return
    }
    const known = new Set(entry.workers.map(String))
    entry.workers.push(...workers.filter((w) => !known.has(w.toString())))
    this.reach(entry)
  }

  remove(jobId: string): void {
    const entry = this.jobs.get(jobId)
    if (entry != null) {
      clearTimeout(entry.timer)
      this.jobs.delete(jobId)
    }
    this.peer.jobs.removeOwn(jobId)
  }

  stop(): void {
    this.stopped.abort()
    for (const id of [...this.jobs.keys()]) {
      this.remove(id)
    }
  }

  /** Dials (directly, §4.4) each of the job's known workers that gossip does not list as a subscriber of its topic and that no dial is under way to. */
  private reach(entry: Announced): void {
    if (entry.workers.length === 0 || this.stopped.signal.aborted) {
      return
    }
    const subscribed = new Set(this.peer.libp2p.services.pubsub.getSubscribers(jobsTopic(entry.job.model)).map(String))
    for (const worker of entry.workers) {
      const key = worker.toString()
      if (subscribed.has(key) || this.dialling.has(key)) {
        continue
      }
      this.dialling.add(key)
      const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(DIRECT_UPGRADE_TIMEOUT_MS)])
      void connectDirect(this.peer.libp2p, worker, signal).finally(() => this.dialling.delete(key))
    }
  }

  private async publish(id: string, entry: Announced): Promise<void> {
    clearTimeout(entry.timer)
    const topic = jobsTopic(entry.job.model)
    this.reach(entry)
    try {
      const now = BigInt(Date.now())
      // A fresh issue time, never past the deadline: the announcement must stay valid (§3.3).
      const issuedAtMs = now < entry.job.deadlineMs ? now : entry.job.deadlineMs - 1n
      const fresh: JobAnnouncement = { ...entry.job, issuedAtMs, addresses: announcedAddresses(this.peer) as Uint8Array<ArrayBuffer>[] }
      const envelope = await seal(STATEMENTS.job, fresh, this.peer.privateKey)
      if (this.jobs.get(id) !== entry) {
        return // removed meanwhile
      }
      await announceJob(this.peer, envelope)
    } catch (err) {
      this.init.onError?.(err as Error)
    }
    if (this.jobs.get(id) === entry) {
      // Heard by fewer workers than it waits for: sooner again, with their dials retried (§5.1).
      const short = this.peer.libp2p.services.pubsub.getSubscribers(topic).length < entry.subscribers
      entry.timer = setTimeout(() => void this.publish(id, entry), short ? this.retryMs : this.intervalMs)
      entry.timer.unref()
    }
  }
}
