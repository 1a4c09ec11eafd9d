/**
 * Output: results for people on stdout (or JSON with --json), structured logs as JSON lines on
 * stderr, and a live progress line on a TTY (plain lines otherwise).
 */

import type { BatchJob, BatchProgress, BatchSummary } from '@openbatch/sdk'

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type Level = (typeof LEVELS)[number]

let threshold: Level = 'info'

/** Log lines below `level` are left out (`--log-level`; `--debug` means debug). */
export function setLogLevel(level: Level): void {
  threshold = level
}

/** Also given every log line written (the dashboard keeps the recent ones). */
const listeners = new Set<(line: string) => void>()

export function onLog(listener: (line: string) => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** One JSON log line on stderr: {"time","level","msg",...fields}, when `level` is at or above the threshold. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (LEVELS.indexOf(level) < LEVELS.indexOf(threshold)) {
    return
  }
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, bigintReplacer)
  process.stderr.write(`${line}\n`)
  for (const listener of listeners) {
    listener(line)
  }
}

export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, bigintReplacer)}\n`)
}

const duration = (ms: number | undefined) =>
  ms === undefined || !Number.isFinite(ms) ? '–' : ms < 60_000 ? `${Math.ceil(ms / 1000)} s` : `${Math.ceil(ms / 60_000)} min`

export interface ProgressCounts extends BatchProgress {
  verified: number
  disputed: number
}

/**
 * A progress view: on a TTY one line redrawn in place (bar, items done / verified / disputed,
 * rate, ETA); otherwise a plain line at most every two seconds and at the end; with `--json` that
 * line is JSON (`{"event":"progress",…}`).
 */
export class ProgressView {
  private lastPlain = 0
  private drawn = false

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = stream.isTTY === true,
    private readonly json = false
  ) {}

  update(p: ProgressCounts, force = false): void {
    // §6.8: with several items per task, counts are of tasks; the items they carry are named once.
    const items = p.itemCount === p.taskCount ? '' : ` tasks (${p.itemCount} items)`
    const text = `${p.settled}/${p.taskCount}${items} done · ${p.verified} verified · ${p.disputed} disputed · ${p.itemsPerSecond.toFixed(0)} items/s · ETA ${duration(p.etaMs)}`
    if (this.json) {
      if (force || Date.now() - this.lastPlain >= 2000) {
        this.lastPlain = Date.now()
        this.stream.write(`${JSON.stringify({ event: 'progress', ...p })}\n`)
      }
    } else if (this.tty) {
      const width = 24
      const filled = Math.round((p.settled / Math.max(1, p.taskCount)) * width)
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\u001b[K`)
      this.drawn = true
    } else if (force || Date.now() - this.lastPlain >= 2000) {
      this.lastPlain = Date.now()
      this.stream.write(`progress: ${text}\n`)
    }
  }

  end(): void {
    if (this.tty && this.drawn && !this.json) {
      this.stream.write('\n')
    }
  }

  /** Draws `job`'s progress as it comes. */
  follow(job: BatchJob): void {
    job.addEventListener('progress', (e) => {
      const s = job.summary()
      this.update({ ...e.detail, verified: s.agreed, disputed: s.disputed })
    })
  }

  /** Draws the final state and ends the view. */
  finish(job: BatchJob, summary: BatchSummary): void {
    const { settled, itemsPerSecond, agreed, disputed } = summary
    this.update(
      {
        jobId: job.id,
        taskCount: job.taskCount,
        itemCount: job.itemCount,
        done: settled,
        settled,
        itemsPerSecond,
        verified: agreed,
        disputed
      },
      true
    )
    this.end()
  }
}
