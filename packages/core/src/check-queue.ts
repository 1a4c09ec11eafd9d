/**
 * Checks waiting for an independent worker (spec §7.2, §7.4): re-runs of sampled results and
 * canaries of settled tasks. A check names the workers that must not get it (everyone who ran the
 * task) and the network groups to avoid while a worker of another group may come. The queue only
 * decides who may take which check; leases — of first runs and checks alike — are RequesterJob's.
 */

export interface Check {
  task: number
  /** Workers that must not get it: everyone who already ran the task (§6.2, §7.4). */
  readonly exclude: Set<string>
  /** Network groups to avoid while a worker from another one may come (§7.2). */
  readonly avoid: Set<string>
  /** When it was queued (again); it is given up `checkWaitMs` later. */
  queuedAt: number
}

/** Who is around to take checks: a worker seen within a lease, a group seen within a lease. */
export interface Presence {
  /** A worker outside `exclude` was seen recently (someone could take the check). */
  checkerAround(exclude: Set<string>, now: number): boolean
  /** A worker of a group outside `avoid` was seen recently. */
  otherGroupActive(avoid: Set<string>, now: number): boolean
}

export class CheckQueue {
  /** Every check, queued or out on a lease, by task. */
  private readonly checks = new Map<number, Check>()
  /** Checks waiting for a worker, oldest first. */
  private queue: Check[] = []

  constructor(
    private readonly checkWaitMs: number,
    /** A check held back from an avoided group is offered to it after this long anyway (§7.2). */
    private readonly patienceMs: number
  ) {}

  /** Checks waiting for a worker. */
  get waiting(): number {
    return this.queue.length
  }

  /** Whether `task` has a check, queued or out. */
  has(task: number): boolean {
    return this.checks.has(task)
  }

  /** Queues a check of `task`; false when it already has one. */
  add(now: number, task: number, exclude: Iterable<string>, avoid: Iterable<string>): boolean {
    if (this.checks.has(task)) {
      return false
    }
    const check: Check = { task, exclude: new Set(exclude), avoid: new Set(avoid), queuedAt: now }
    this.checks.set(task, check)
    this.queue.push(check)
    return true
  }

  /**
   * Takes up to `want` checks `worker` may run: it never ran the task, and its `group` is not one
   * to avoid — unless no worker of another group is around, or the check waited `patienceMs`.
   */
  take(now: number, worker: string, group: string | undefined, want: number, presence: Presence): number[] {
    if (want <= 0 || this.queue.length === 0) {
      return []
    }
    const taken: number[] = []
    const rest: Check[] = []
    for (const c of this.queue) {
      const heldBack = group != null && c.avoid.has(group) && now - c.queuedAt < this.patienceMs && presence.otherGroupActive(c.avoid, now)
      if (taken.length < want && !c.exclude.has(worker) && !heldBack) {
        taken.push(c.task)
      } else {
        rest.push(c)
      }
    }
    this.queue = rest
    return taken
  }

  /**
   * A check that was out comes back to the queue: `failedBy` (it expired on that worker, or the
   * worker could not run it) is excluded and it goes to the back with its wait started again; with
   * no `failedBy` (it could not be sent) it goes to the front.
   */
  putBack(now: number, task: number, failedBy?: string): void {
    const check = this.checks.get(task)
    if (check == null) {
      return
    }
    if (failedBy == null) {
      this.queue.unshift(check)
      return
    }
    check.exclude.add(failedBy)
    check.queuedAt = now
    this.queue.push(check)
  }

  /** The check of `task` is answered or no longer needed. */
  remove(task: number): void {
    const check = this.checks.get(task)
    if (check == null) {
      return
    }
    this.checks.delete(task)
    if (this.queue.includes(check)) {
      this.queue = this.queue.filter((c) => c !== check)
    }
  }

  /**
   * §7.2: queued checks nobody took within `checkWaitMs`, or that no worker around could take (a
   * job with a single worker does not wait for a second one that never comes), are given up.
   */
  expire(now: number, presence: Presence): number[] {
    const givenUp = (c: Check) => now - c.queuedAt >= this.checkWaitMs || !presence.checkerAround(c.exclude, now)
    if (!this.queue.some(givenUp)) {
      return []
    }
    const dropped: number[] = []
    const keep: Check[] = []
    for (const c of this.queue) {
      if (givenUp(c)) {
        this.checks.delete(c.task)
        dropped.push(c.task)
      } else {
        keep.push(c)
      }
    }
    this.queue = keep
    return dropped
  }

  /** When the oldest queued check is given up (undefined: none queued). */
  nextExpiry(): number | undefined {
    let at: number | undefined
    for (const c of this.queue) {
      at = Math.min(at ?? Number.POSITIVE_INFINITY, c.queuedAt + this.checkWaitMs)
    }
    return at
  }

  /** The job closed: queued checks are dropped (checks out on a lease may still be answered). */
  clearQueue(): void {
    for (const c of this.queue) {
      this.checks.delete(c.task)
    }
    this.queue = []
  }
}
