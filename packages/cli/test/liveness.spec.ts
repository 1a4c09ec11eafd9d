/**
 * Issue #11 with the real binary, in real processes: a task that cannot run reaches the submitter
 * with its reason; a submit never resumes an unrelated job; a peer stops within 3 s of SIGTERM
 * even when its requester froze; peers on a LAN find each other by mDNS with no bootstrap (two
 * Linux network namespaces joined by a veth pair, made and removed by the test).
 */

import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it, type TestContext } from 'node:test'
import { BIN, embeddingFiles as files, netnsUnavailable, run, startPeer, tempDir } from './helpers.js'

/** Spawns `openbatch …` and resolves once a stderr line matches `pattern` (the process keeps running). */
function spawnUntil(args: string[], pattern: RegExp, timeoutMs = 60_000) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  after(() => child.kill('SIGKILL'))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  let stderr = ''
  const seen = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${stderr}`)), timeoutMs)
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      stderr += `${line}\n`
      if (pattern.test(line)) {
        clearTimeout(timer)
        resolve()
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited (${code}) before a line matched ${pattern}:\n${stderr}`))
    })
  })
  seen.catch(() => {})
  return { child, seen, exited }
}

describe('issue #11 — real processes', () => {
  it('a task that cannot run comes back with its reason: listed, written to --out, exit code 1 (§6.6)', async () => {
    const dir = await tempDir()
    const { model, inputs } = await files(dir, 6, 2)
    const worker = await startPeer(['--data-dir', join(dir, 'w'), '--model', model, '--threads', '1', '--no-benchmark'])
    const out = join(dir, 'results.jsonl')
    const r = await run(
      [
        'submit',
        model,
        inputs,
        '--data-dir',
        join(dir, 'me'),
        '--bootstrap',
        worker.ready.addresses[0] as string,
        '--no-mdns',
        '--out',
        out
      ],
      { timeoutMs: 90_000 }
    )
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stdout, /failed: 2 item\(s\) could not run/)
    assert.match(r.stderr, /openbatch: 2 of 6 items could not run: INFERENCE_FAILED ×2 \(first: item 2: .*7592/)
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(lines.length, 6)
    for (const l of lines) {
      if (l.index === 2 || l.index === 4) {
        assert.equal(l.failure.kind, 'INFERENCE_FAILED')
        assert.equal(l.failure.transient, false)
        assert.deepEqual(l.outputs, {})
      } else {
        assert.equal(l.failure, undefined)
        assert.deepEqual(l.outputs.vectors.dims, [1, 4, 2])
      }
    }
    assert.equal(await worker.stop(), 0)
  })

  it('a submit never resumes an unrelated job stored by an earlier one', async () => {
    const dir = await tempDir()
    const big = await files(dir, 20_000)
    const small = await files(dir, 4)
    const worker = await startPeer([
      '--data-dir',
      join(dir, 'w'),
      '--model',
      big.model,
      '--threads',
      '1',
      '--no-benchmark',
      '--capacity',
      '4'
    ])
    const me = ['--data-dir', join(dir, 'me'), '--bootstrap', worker.ready.addresses[0] as string, '--no-mdns']
    // A big job interrupted half-way stays stored, unfinished.
    const first = spawnUntil(['submit', big.model, big.inputs, ...me], /progress: [1-9]\d*\//, 120_000)
    await first.seen
    first.child.kill('SIGKILL')
    await first.exited
    const before = JSON.parse((await run(['status', '--json', ...me.slice(0, 2)])).stdout)
    const stored = before.jobs.find((j: { taskCount: number }) => j.taskCount === 20_000)
    assert.ok(stored != null && stored.settled < 20_000, 'the first job is stored unfinished')
    const second = await run(['submit', small.model, small.inputs, ...me], { timeoutMs: 90_000 })
    assert.equal(second.code, 0, second.stderr)
    const afterwards = JSON.parse((await run(['status', '--json', ...me.slice(0, 2)])).stdout)
    const same = afterwards.jobs.find((j: { jobId: string }) => j.jobId === stored.jobId)
    assert.equal(same.settled, stored.settled, 'the unrelated job made no progress: it was not resumed')
    assert.equal(await worker.stop(), 0)
  })

  it('SIGTERM stops a worker within 3 s even when its requester stopped answering mid-job (connections open)', async () => {
    const dir = await tempDir()
    const { model, inputs } = await files(dir, 20_000)
    const worker = await startPeer(['--data-dir', join(dir, 'w'), '--model', model, '--threads', '1', '--no-benchmark'])
    const submit = spawnUntil(
      ['submit', model, inputs, '--data-dir', join(dir, 'me'), '--bootstrap', worker.ready.addresses[0] as string, '--no-mdns'],
      /progress: [1-9]\d*\//,
      120_000
    )
    await submit.seen
    submit.child.kill('SIGSTOP') // frozen: its connections stay open, nothing answers
    after(() => submit.child.kill('SIGCONT'))
    const started = Date.now()
    const code = await worker.stop()
    const took = Date.now() - started
    assert.equal(code, 0)
    assert.ok(took < 3000, `the worker took ${took} ms to exit`)
  })

  it('peers on a LAN find each other by mDNS with no bootstrap address (two network namespaces, §4.1)', async (t: TestContext) => {
    const why = netnsUnavailable()
    if (why != null) {
      if (process.env.CI === 'true') {
        assert.fail(`this test needs Linux network namespaces (root and iproute2): ${why}`)
      }
      t.skip(`needs Linux network namespaces (root and iproute2): ${why}`)
      return
    }
    const lan = makeLan()
    after(() => lan.remove())
    const dir = await tempDir()
    const { model, inputs } = await files(dir, 8)
    const worker = spawn(
      'ip',
      [
        'netns',
        'exec',
        lan.a,
        process.execPath,
        BIN,
        'peer',
        '--json',
        '--data-dir',
        join(dir, 'w'),
        '--model',
        model,
        '--threads',
        '1',
        '--no-benchmark'
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    )
    after(() => worker.kill('SIGKILL'))
    const exited = new Promise((resolve) => worker.once('exit', resolve))
    const ready = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the worker was not ready within 60 s')), 60_000)
      createInterface({ input: worker.stdout as NodeJS.ReadableStream }).once('line', (line) => {
        clearTimeout(timer)
        resolve(line)
      })
    })
    assert.ok(
      JSON.parse(ready).addresses.some((a: string) => a.includes(`/ip4/${lan.addressA}/`)),
      ready
    )
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(
        'ip',
        ['netns', 'exec', lan.b, process.execPath, BIN, 'submit', model, inputs, '--data-dir', join(dir, 'me'), '--json'],
        {
          stdio: ['ignore', 'pipe', 'pipe']
        }
      )
      let out = ''
      c.stdout.on('data', (d) => (out += d))
      c.stderr.on('data', (d) => (out += d))
      const timer = setTimeout(() => c.kill('SIGKILL'), 90_000)
      c.once('exit', (code) => {
        clearTimeout(timer)
        resolve({ code, out })
      })
    })
    assert.equal(r.code, 0, r.out)
    const summary = JSON.parse(r.out.trim().split('\n').at(-1) as string)
    assert.equal(summary.settled, 8)
    worker.kill('SIGTERM')
    await exited
  })
})

/** Two namespaces on one private /24 joined by a veth pair, with a multicast route as on a home LAN. */
function makeLan() {
  const tag = `${process.pid % 100000}`
  const a = `oblan${tag}a`
  const b = `oblan${tag}b`
  const va = `obv${tag}a`
  const vb = `obv${tag}b`
  const addressA = '10.211.0.1'
  const addressB = '10.211.0.2'
  const sh = (...args: string[]) => {
    const r = spawnSync('ip', args, { encoding: 'utf8' })
    if (r.status !== 0) {
      throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
    }
  }
  const remove = () => {
    spawnSync('ip', ['netns', 'del', a])
    spawnSync('ip', ['netns', 'del', b])
  }
  remove()
  sh('netns', 'add', a)
  sh('netns', 'add', b)
  sh('link', 'add', va, 'type', 'veth', 'peer', 'name', vb)
  sh('link', 'set', va, 'netns', a)
  sh('link', 'set', vb, 'netns', b)
  for (const [ns, dev, address] of [
    [a, va, addressA],
    [b, vb, addressB]
  ] as const) {
    sh('-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev)
    sh('-n', ns, 'link', 'set', dev, 'up')
    sh('-n', ns, 'link', 'set', 'lo', 'up')
    sh('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev)
  }
  return { a, b, addressA, addressB, remove }
}
