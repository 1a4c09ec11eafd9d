/** Shared helpers of the CLI's tests: run the real `openbatch` binary and read what it says. */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { after } from 'node:test'
import { fileURLToPath } from 'node:url'
import { seededRandom } from '@openbatch/core'
import { DType } from '@openbatch/protocol'
import { buildOnnxModel } from '@openbatch/runtime-onnx'
import { dump } from 'npyjs'
import { textLines } from '../src/images.js'

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'bin.js')

/**
 * A temporary directory, removed when the whole test file has run. Not at the end of the test that
 * made it: hooks run in the order they were registered, so removing it there would race the peers
 * still writing to it (ENOTEMPTY), and a failing hook skips the hooks after it — the peers' stop()
 * — which once left a test file hanging until CI's time ran out.
 */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-cli-'))
  tempDirs.push(dir)
  return dir
}
const tempDirs: string[] = []
after(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5 }))))

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `openbatch …` to completion (killed after `timeoutMs`). */
export function run(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`openbatch ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\n${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

export interface RunningPeer {
  child: ChildProcess
  ready: {
    peerId: string
    addresses: string[]
    models: string[]
    metrics?: string
    device?: { provider: string; device: string; reason: string }
    offers?: { model: string; itemsPerSecond: number; maxBatch: number; pricePerItem: string }[]
    ui?: string
  }
  /** Its log so far (JSON lines on stderr). */
  log: () => Record<string, unknown>[]
  stop: () => Promise<number | null>
}

/**
 * Starts `openbatch peer --json …` and waits for its ready line. `command`: how to start
 * `openbatch` (default: this checkout's build with this Node).
 */
export async function startPeer(
  args: string[],
  options: { command?: string[]; env?: Record<string, string>; cwd?: string } = {}
): Promise<RunningPeer> {
  const [exe, ...pre] = options.command ?? [process.execPath, BIN]
  const child = spawn(exe as string, [...pre, 'peer', '--json', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  let stderr = ''
  child.stderr?.on('data', (d) => (stderr += d))
  after(() => child.kill('SIGKILL'))
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  const timeout = AbortSignal.timeout(60_000)
  const first = await Promise.race([
    lines.next(),
    exited.then((code) => Promise.reject(new Error(`peer exited (${code}) before it was ready: ${stderr}`))),
    new Promise<never>((_, reject) => timeout.addEventListener('abort', () => reject(new Error(`peer not ready within 60 s: ${stderr}`))))
  ])
  return {
    child,
    ready: JSON.parse(String(first.value)),
    log: () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
    stop: async () => {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      const code = await exited
      clearTimeout(killer)
      return code
    }
  }
}

/** One line on stderr saying what is wrong, no stack trace. */
export function assertOneLineError(r: Run, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`)
  // Structured log lines (JSON) may come before it; the error itself is one line.
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('{'))
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`)
  assert.match(lines[0] as string, pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
}

/** `n` text-line images as a float32 .npy [n,3,48,192] (PaddleOCR's normalisation). */
export async function npyOfTextLines(path: string, n: number): Promise<boolean[]> {
  const { pixelsToTensor, PADDLE_PREP, PADDLE_TARGET } = await import('../src/images.js')
  const lines = await textLines(n, 0.5, seededRandom(3))
  const values = new Float32Array(n * 3 * 48 * 192)
  lines.forEach((l, i) => {
    const t = pixelsToTensor(l.image, 'x', PADDLE_TARGET, PADDLE_PREP)
    values.set(new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4), i * 3 * 48 * 192)
  })
  await writeFile(path, new Uint8Array(dump(values, [n, 3, 48, 192])))
  return lines.map((l) => l.rotated)
}

/** A real embedding lookup: Gather over a 10-row table. An id outside 0..9 makes onnxruntime fail. */
export const EMBEDDING = buildOnnxModel({
  inputs: [{ name: 'ids', dtype: DType.INT64, shape: ['N', 4] }],
  outputs: [{ name: 'vectors', dtype: DType.FLOAT32, shape: ['N', 4, 2] }],
  nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['vectors'], attrs: { axis: 0 } }],
  initializers: [{ name: 'table', dims: [10, 2], values: Array.from({ length: 20 }, (_, i) => i / 10) }]
})

/** The embedding model and `items` inputs of it (every `badEvery`-th one fails the model) in `dir`. */
export async function embeddingFiles(dir: string, items: number, badEvery = 0) {
  const model = join(dir, 'embedding.onnx')
  await writeFile(model, EMBEDDING)
  const ids = new BigInt64Array(items * 4).map((_, i) => BigInt(i % 10))
  for (let item = badEvery; badEvery > 0 && item < items; item += badEvery) {
    ids[item * 4 + 1] = 7592n // outside the vocabulary
  }
  const inputs = join(dir, `ids-${items}-${badEvery}.npy`)
  await writeFile(inputs, new Uint8Array(dump(ids, [items, 4])))
  return { model, inputs }
}

/**
 * The path of a system tool, looked up on PATH and in the sbin directories a non-login shell's PATH
 * may lack (iptables, sysctl and miniupnpd live in /usr/sbin); the bare name when it is nowhere.
 */
export function systemTool(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin']
  return dirs.map((d) => join(d, name)).find((p) => isFile(p)) ?? name
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Why Linux network namespaces (and, with `iptables`, NAT routers) cannot be made here, or undefined when they can. */
export function netnsUnavailable(needs: { iptables?: boolean } = {}): string | undefined {
  if (process.platform !== 'linux') {
    return `not Linux (${process.platform})`
  }
  if (process.getuid?.() !== 0) {
    return 'not running as root'
  }
  const ip = spawnSync(systemTool('ip'), ['netns', 'list'], { encoding: 'utf8' })
  if (ip.error != null || ip.status !== 0) {
    return `\`ip netns list\` failed: ${ip.error?.message ?? ip.stderr}`
  }
  if (needs.iptables === true) {
    const t = spawnSync(systemTool('iptables'), ['--version'], { encoding: 'utf8' })
    if (t.error != null || t.status !== 0) {
      return `\`iptables --version\` failed: ${t.error?.message ?? t.stderr} (Debian: apt-get install iptables)`
    }
  }
  return undefined
}
