/** A job's lifecycle from the shell (issue #16): id first, Ctrl-C keeps what arrived, jobs, results, resume, cancel. */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import { assertOneLineError, BIN, embeddingFiles, run, startPeer, tempDir } from './helpers.js'

/** A running `openbatch submit --json`: its JSON lines as they come, and its exit. */
function submit(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'submit', '--json', '--no-mdns', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  after(() => child.kill('SIGKILL'))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const stdout: Record<string, unknown>[] = []
  const stderr: Record<string, unknown>[] = []
  const waiters: (() => void)[] = []
  const collect = (stream: NodeJS.ReadableStream, into: Record<string, unknown>[]) =>
    createInterface({ input: stream }).on('line', (line) => {
      into.push(JSON.parse(line) as Record<string, unknown>)
      for (const w of waiters.splice(0)) {
        w()
      }
    })
  collect(child.stdout, stdout)
  collect(child.stderr, stderr)
  /** Waits (at most 60 s) for a line of stdout or stderr that `match` accepts. */
  const line = async (what: string, match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 60_000
    while (true) {
      const found = [...stdout, ...stderr].find(match)
      if (found != null) {
        return found
      }
      if (child.exitCode != null || Date.now() > deadline) {
        throw new Error(`no ${what}: ${JSON.stringify({ stdout, stderr, exit: child.exitCode })}`)
      }
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        setTimeout(resolve, 1000)
      })
    }
  }
  return { child, exited, stdout, stderr, line }
}

/** Polls `condition` (every 100 ms) until it holds; fails after `timeoutMs` naming `what`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function jsonLines(path: string): Promise<{ index: number; outputs: Record<string, { data: number[] }> }[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l))
}

describe('a job from the shell: id first, Ctrl-C, jobs, results, resume, cancel (issue #16)', () => {
  let dir: string
  let tiny: { model: string; inputs: string }
  // A tiny model (an embedding lookup) and enough one-item tasks that a job is still running when it
  // is interrupted, however fast the machine: item i's ids repeat every 5 items.
  const ITEMS = 2000

  before(async () => {
    dir = await tempDir()
    tiny = await embeddingFiles(dir, ITEMS)
  })

  it('Ctrl-C keeps what arrived and says how to resume; resume finishes it; jobs and results read it back', async () => {
    const out = join(dir, 'results.jsonl')
    const data = join(dir, 'me')
    const w1 = await startPeer(['--data-dir', join(dir, 'w1'), '--model', tiny.model, '--threads', '1', '--no-benchmark'])
    const bootstrap = w1.ready.addresses[0] as string
    const s = submit([tiny.model, tiny.inputs, '--bootstrap', bootstrap, '--data-dir', data, '--out', out, '--items-per-task', '1'])
    // The job id comes first, before any result.
    const submitted = await s.line('submitted line', (l) => l.event === 'submitted')
    assert.equal(s.stdout[0], submitted)
    const jobId = submitted.jobId as string
    assert.match(jobId, /^[0-9a-f]{64}$/)
    assert.equal(submitted.itemCount, ITEMS)
    // --json: progress is JSON too.
    await s.line('progress with a settled task', (l) => l.event === 'progress' && (l.settled as number) > 0)
    s.child.kill('SIGINT')
    assert.equal(await s.exited, 130)
    const interrupted = await s.line('interrupted line', (l) => l.event === 'interrupted')
    assert.equal(interrupted.jobId, jobId)
    const settled = interrupted.settled as number
    assert.ok(settled > 0 && settled < ITEMS, `interrupted mid-job: ${settled}/${ITEMS}`)
    assert.equal(interrupted.resume, `openbatch resume ${jobId} --out ${out}`)
    const partial = await jsonLines(out)
    assert.equal(partial.length, settled, 'every settled result was written')

    const listed = JSON.parse((await run(['jobs', '--json', '--data-dir', data])).stdout) as {
      jobId: string
      state: string
      settled: number
    }[]
    assert.deepEqual(
      listed.map((j) => [j.jobId, j.state, j.settled]),
      [[jobId, 'unfinished', settled]]
    )
    const table = await run(['jobs', '--data-dir', data])
    assert.match(table.stdout, new RegExp(`^${jobId.slice(0, 16)}\\s+unfinished\\s+${settled}/${ITEMS} tasks settled`))

    // A prefix of the id is enough.
    const resumed = await run(
      ['resume', jobId.slice(0, 10), '--json', '--no-mdns', '--bootstrap', bootstrap, '--data-dir', data, '--out', out],
      {
        timeoutMs: 120_000
      }
    )
    assert.equal(resumed.code, 0, resumed.stderr)
    const lines = resumed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(lines[0], { event: 'resumed', jobId, taskCount: ITEMS, itemCount: ITEMS })
    const summary = lines.at(-1)
    assert.equal(summary.event, 'summary')
    assert.equal(summary.settled, ITEMS)
    assert.equal(summary.missing, 0)
    const all = await jsonLines(out)
    assert.deepEqual(
      all.map((r) => r.index),
      Array.from({ length: ITEMS }, (_, i) => i)
    )
    // Item i has the ids of item i % 5: the same vectors wherever it ran, before or after the interruption.
    const vectors = (r: (typeof all)[number]) => r.outputs.vectors?.data
    for (const r of all) {
      assert.equal(vectors(r)?.length, 8, 'four ids, two numbers each')
      assert.deepEqual(vectors(r), vectors(all[r.index % 5] as (typeof all)[number]))
    }
    // --top-k with --labels: each row's best classes, named, instead of every value (issue #16).
    await writeFile(join(dir, 'labels.txt'), 'low\nhigh\n')
    const top = await run(['results', jobId.slice(0, 12), '--top-k', '1', '--labels', join(dir, 'labels.txt'), '--data-dir', data])
    assert.equal(top.code, 0, top.stderr)
    const first = JSON.parse(top.stdout.split('\n')[0] as string)
    // Item 0's first id is 0: the table's row [0, 0.1], whose best is the second, "high".
    assert.deepEqual(first.outputs.vectors.top[0], [{ index: 1, label: 'high', score: 0.10000000149011612 }], JSON.stringify(first))
    assert.equal(first.outputs.vectors.top.length, 4, 'a best class per row (per id)')
    assert.equal(first.outputs.vectors.data, undefined)
    await writeFile(join(dir, 'three.txt'), 'a\nb\nc\n')
    assertOneLineError(
      await run(['results', jobId, '--top-k', '1', '--labels', join(dir, 'three.txt'), '--data-dir', data]),
      1,
      /--labels has 3 labels, output "vectors" has 2 classes per row/
    )
    assertOneLineError(await run(['results', jobId, '--labels', join(dir, 'labels.txt'), '--data-dir', data]), 2, /give --top-k too/)
    assertOneLineError(
      await run(['results', jobId, '--top-k', '1', '--out', join(dir, 'r.npy'), '--data-dir', data]),
      2,
      /--top-k writes JSON lines/
    )

    const finished = JSON.parse((await run(['jobs', '--json', '--data-dir', data])).stdout) as { state: string }[]
    assert.deepEqual(
      finished.map((j) => j.state),
      ['finished']
    )
    const read = await run(['results', jobId.slice(0, 12), '--data-dir', data])
    assert.equal(read.code, 0, read.stderr)
    assert.equal(read.stdout.trim().split('\n').length, ITEMS, 'JSON lines on stdout without --out')
    assertOneLineError(await run(['cancel', jobId, '--data-dir', data]), 1, /has finished: nothing to cancel/)
  })

  it('openbatch cancel stops a job another process runs; it is not resumed; its results stay readable', async () => {
    const data = join(dir, 'me2')
    // 20,000 one-item tasks of a tiny model, one at a time: far from done when it is cancelled.
    const big = await embeddingFiles(dir, 20_000)
    const w2 = await startPeer([
      '--data-dir',
      join(dir, 'w2'),
      '--model',
      big.model,
      '--threads',
      '1',
      '--capacity',
      '1',
      '--no-benchmark',
      '--report-every',
      '1'
    ])
    const bootstrap = w2.ready.addresses[0] as string
    const s = submit([big.model, big.inputs, '--bootstrap', bootstrap, '--data-dir', data, '--items-per-task', '1'])
    const { jobId } = (await s.line('submitted line', (l) => l.event === 'submitted')) as { jobId: string }
    await s.line('progress with a settled task', (l) => l.event === 'progress' && (l.settled as number) > 0)
    const cancelled = await run(['cancel', jobId.slice(0, 8), '--json', '--data-dir', data])
    assert.equal(cancelled.code, 0, cancelled.stderr)
    assert.equal(JSON.parse(cancelled.stdout).cancelled, jobId)
    // The submitting process sees it within CANCEL_POLL_MS and ends with the reason.
    assert.equal(await s.exited, 1)
    const error = await s.line('error line', (l) => l.level === 'error')
    assert.match(error.msg as string, new RegExp(`job ${jobId} was cancelled with \\d+/20000 tasks settled`))
    const [listed] = JSON.parse((await run(['jobs', '--json', '--data-dir', data])).stdout) as { state: string; settled: number }[]
    assert.equal(listed?.state, 'cancelled')
    assert.ok((listed?.settled ?? 0) < 20_000)
    assertOneLineError(
      await run(['resume', jobId, '--no-mdns', '--bootstrap', bootstrap, '--data-dir', data]),
      1,
      /was cancelled: it cannot go on; read its \d+ settled tasks with `openbatch results/
    )
    const read = await run(['results', jobId, '--data-dir', data])
    assert.equal(read.stdout.trim().split('\n').length, listed?.settled)
    // The worker told its owner: it joined the job, worked (a report line), and left it when it closed.
    const events = w2.log().filter((l) => l.job === jobId || l.event === 'work-report')
    assert.deepEqual(events[0]?.event, 'job-joined', JSON.stringify(w2.log()))
    const worked = w2.log().find((l) => l.event === 'work-report')
    assert.ok(worked != null && (worked.tasks as number) > 0 && (worked.items as number) > 0, JSON.stringify(worked))
    // It leaves when it next claims (JOB_CLOSED) or, if the requester is gone, once the result it
    // holds gave up being submitted (the lease, 60 s) and its claims went unanswered.
    await waitFor('the worker to leave the cancelled job', () => w2.log().some((l) => l.event === 'job-left' && l.job === jobId), 120_000)
  })

  it('bad job ids and paths get one line that says what to do', async () => {
    const data = join(dir, 'me')
    assertOneLineError(
      await run(['results', 'not-an-id', '--data-dir', data]),
      1,
      /not a job id \(8 to 64 hex digits\): not-an-id.*openbatch jobs/
    )
    assertOneLineError(
      await run(['results', 'deadbeef00', '--data-dir', data]),
      1,
      /no job deadbeef00 in this data directory; list jobs with `openbatch jobs`/
    )
    assertOneLineError(await run(['cancel', 'deadbeef00', '--data-dir', join(dir, 'nothing-here')]), 1, /no job deadbeef00/)
    assertOneLineError(
      await run(['results', 'deadbeef00', '--data-dir', data, '--out', join(dir, 'missing', 'r.jsonl')]),
      2,
      /folder .* does not exist/
    )
    const json = await run(['results', 'deadbeef00', '--json', '--data-dir', data])
    assert.equal(json.code, 1)
    const error = JSON.parse(json.stderr.trim())
    assert.equal(error.level, 'error')
    assert.equal(error.error, 'JobNotFoundError')
    assert.equal(error.exitCode, 1)
    const empty = await run(['jobs', '--data-dir', join(dir, 'nothing-here')])
    assert.match(empty.stdout, /no jobs in .*; submit one with `openbatch submit <model> <inputs>`/)
  })
})
