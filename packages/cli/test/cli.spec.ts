import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { seededRandom } from '@openbatch/core'
import { dump, parse } from 'npyjs'
import { PADDLE_CLS } from '../src/demo.js'
import { textLines } from '../src/images.js'
import { assertOneLineError, npyOfTextLines, run, startPeer, tempDir } from './helpers.js'

describe('openbatch CLI — real processes over TCP loopback', () => {
  it('two workers and a requester: submit .npy and an image directory, results files, summary, receipts, status; clean shutdown', async () => {
    const dir = await tempDir()
    const w1 = await startPeer(['--data-dir', join(dir, 'w1'), '--model', PADDLE_CLS, '--threads', '1', '--no-benchmark'])
    const w2 = await startPeer([
      '--data-dir',
      join(dir, 'w2'),
      '--model',
      PADDLE_CLS,
      '--threads',
      '1',
      '--bootstrap',
      w1.ready.addresses[0] as string
    ])
    assert.equal(w1.ready.models.length, 1)
    const bootstrap = [w1.ready.addresses[0], w2.ready.addresses[0]].join(',')

    const rotated = await npyOfTextLines(join(dir, 'inputs.npy'), 8)
    const r = await run(
      [
        'submit',
        PADDLE_CLS,
        join(dir, 'inputs.npy'),
        '--bootstrap',
        bootstrap,
        '--no-mdns',
        '--json',
        '--agreement',
        'argmax',
        '--data-dir',
        join(dir, 'me'),
        '--out',
        join(dir, 'results.jsonl')
      ],
      { timeoutMs: 120_000 }
    )
    assert.equal(r.code, 0, r.stderr)
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) as string)
    // Items travel several to a task when a worker measured its speed (w2 did, §6.8): counts are of tasks.
    assert.equal(summary.itemCount, 8)
    assert.ok(summary.taskCount >= 1 && summary.taskCount <= 8)
    assert.equal(summary.settled, summary.taskCount)
    assert.equal(summary.missing, 0)
    assert.equal(summary.agreed + summary.unsampled, summary.taskCount)
    // --json: every line is JSON, progress on stderr included; the job id comes first on stdout.
    const progress = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((l) => l.event === 'progress')
    assert.deepEqual(
      [progress.at(-1)?.settled, progress.at(-1)?.taskCount, progress.at(-1)?.itemCount],
      [summary.taskCount, summary.taskCount, 8],
      'the last progress line is the end'
    )
    assert.deepEqual(JSON.parse(r.stdout.split('\n')[0] as string), {
      event: 'submitted',
      jobId: summary.jobId,
      taskCount: summary.taskCount,
      itemCount: 8
    })
    const lines = (await readFile(join(dir, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      lines.map((l) => l.index),
      [0, 1, 2, 3, 4, 5, 6, 7]
    )
    for (const [i, l] of lines.entries()) {
      const [p0, p1] = (Object.values(l.outputs)[0] as { data: number[] }).data as [number, number]
      assert.equal(p1 > p0, rotated[i], `item ${i}: the classifier's answer`)
      assert.ok(['agreed', 'unsampled'].includes(l.verification.status))
      assert.ok([w1.ready.peerId, w2.ready.peerId].includes(l.verification.worker))
    }

    // A directory of images, resized for the model; results as .npy.
    const images = join(dir, 'images')
    await mkdir(images)
    const pics = await textLines(3, 0.5, seededRandom(9))
    for (const [i, p] of pics.entries()) {
      await p.image.write(join(images, `line-${i}.png`) as `${string}.${string}`)
    }
    const r2 = await run(
      [
        'submit',
        PADDLE_CLS,
        images,
        '--image-size',
        '48x192',
        '--bootstrap',
        bootstrap,
        '--no-mdns',
        '--data-dir',
        join(dir, 'me'),
        '--out',
        join(dir, 'results.npy')
      ],
      { timeoutMs: 120_000 }
    )
    assert.equal(r2.code, 0, r2.stderr)
    assert.match(r2.stdout, /3\/3 results|(\d+)\/\1 tasks \(of 3 items\)/)
    assert.match(r2.stdout, /verification: /)
    const npy = parse((await readFile(join(dir, 'results.npy'))).buffer as ArrayBuffer)
    assert.deepEqual(npy.shape, [3, 2])
    const probs = Array.from(npy.data as Float32Array)
    for (const [i, p] of pics.entries()) {
      assert.equal((probs[2 * i + 1] as number) > (probs[2 * i] as number), p.rotated, `image ${i}`)
    }

    // The workers' receipts add up to the work they did; the requester's status lists its jobs.
    let receipts = 0
    for (const w of ['w1', 'w2']) {
      const rr = await run(['receipts', '--json', '--data-dir', join(dir, w)])
      assert.equal(rr.code, 0, rr.stderr)
      receipts += (JSON.parse(rr.stdout) as { receipts: number }[]).reduce((a, t) => a + t.receipts, 0)
    }
    const s = JSON.parse((await run(['status', '--json', '--data-dir', join(dir, 'me')])).stdout)
    const tasks = s.jobs.reduce((a: number, j: { taskCount: number }) => a + j.taskCount, 0)
    assert.ok(receipts >= tasks, `receipts: ${receipts} for ${tasks} tasks`)
    assert.equal(s.jobs.length, 2)
    assert.deepEqual(s.jobs.map((j: { itemCount: number }) => j.itemCount).sort(), [3, 8])
    assert.ok(s.jobs.every((j: { settled: number; taskCount: number }) => j.settled === j.taskCount))
    // Each job with its state, in the human form too (issue #16).
    assert.ok(s.jobs.every((j: { state: string }) => j.state === 'finished'))
    assert.match((await run(['status', '--data-dir', join(dir, 'me')])).stdout, /^ {2}[0-9a-f]{16}… {2}finished {2}/m)
    // The peer tells its owner what it offers at start: the measured speed and the price (issue #16).
    const offer = w2.ready.offers?.[0]
    assert.ok(
      offer != null && offer.model === w2.ready.models[0] && offer.itemsPerSecond > 1 && offer.pricePerItem === '0',
      JSON.stringify(offer)
    )

    // SIGTERM: tasks in flight finish, the peer stops cleanly.
    assert.equal(await w2.stop(), 0)
    assert.equal(await w1.stop(), 0)
  })

  it('bad input: one line that says what to do, a non-zero exit code, no stack trace', async () => {
    const dir = await tempDir()
    const me = ['--data-dir', join(dir, 'me')]
    assertOneLineError(
      await run(['submit', join(dir, 'missing.onnx'), join(dir, 'x.npy'), ...me]),
      1,
      /^openbatch: model file .*missing\.onnx does not exist/
    )
    await writeFile(join(dir, 'wrong.npy'), new Uint8Array(dump(new Float32Array(2 * 3 * 4), [2, 3, 4])))
    assertOneLineError(
      await run(['submit', PADDLE_CLS, join(dir, 'wrong.npy'), ...me]),
      2,
      /wrong\.npy: each item has shape \[3,4\], the model's input "x" expects/
    )
    assertOneLineError(await run(['submit', PADDLE_CLS, join(dir, 'nothing-here'), ...me]), 2, /inputs .* do not exist/)
    await npyOfTextLines(join(dir, 'ok.npy'), 1)
    assertOneLineError(
      await run([
        'submit',
        PADDLE_CLS,
        join(dir, 'ok.npy'),
        ...me,
        '--no-mdns',
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--discovery-timeout',
        '1'
      ]),
      1,
      // Alone (no bootstrap, no mDNS): it says so, and how to join (issue #16).
      /^openbatch: no workers serve model \S+: this peer is connected to no other peer \(searched for 1 s\); give the address of a running peer with --bootstrap/
    )
    assertOneLineError(
      await run([
        'submit',
        PADDLE_CLS,
        join(dir, 'ok.npy'),
        ...me,
        '--bootstrap',
        '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
      ]),
      1,
      /^openbatch: could not reach any bootstrap peer/
    )
    assertOneLineError(await run(['peer', '--threads', 'many']), 2, /^openbatch: --threads must be a whole number/)
    // Issue #11: numbers that do not fit are errors, not wrapped or accepted; --out is checked first.
    assertOneLineError(await run(['peer', '--threads', '100000']), 2, /^openbatch: --threads must be at most 256/)
    assertOneLineError(
      await run(['submit', PADDLE_CLS, join(dir, 'ok.npy'), '--reward', '-1', ...me]),
      2,
      /--reward must be a whole number ≥ 0/
    )
    assertOneLineError(
      await run(['submit', PADDLE_CLS, join(dir, 'ok.npy'), '--reward', String(2n ** 70n), ...me]),
      2,
      /--reward must be below 2\^64/
    )
    assertOneLineError(
      await run(['submit', PADDLE_CLS, join(dir, 'ok.npy'), '--check-wait', 'soon', ...me]),
      2,
      /--check-wait must be a number of seconds/
    )
    const started = Date.now()
    assertOneLineError(
      await run(['submit', PADDLE_CLS, join(dir, 'ok.npy'), '--out', join(dir, 'no', 'such', 'folder', 'r.jsonl'), ...me]),
      2,
      /--out .*: folder .* does not exist; create it first/
    )
    assert.ok(Date.now() - started < 20_000, 'refused before looking for workers')
    const unknown = await run(['submit', '--frobnicate'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown option '--frobnicate'/)
  })

  it('settings: flags win over OPENBATCH_* variables, which win over the config file, then defaults', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'config.json'), JSON.stringify({ threads: 3, capacity: 5, hours: 2 }))
    const r = await run(['peer', '--data-dir', dir, '--threads', '2', '--print-config'], { env: { OPENBATCH_CAPACITY: '7' } })
    assert.equal(r.code, 0, r.stderr)
    const { settings, configFile } = JSON.parse(r.stdout)
    assert.equal(configFile, join(dir, 'config.json'))
    assert.deepEqual(settings.threads, { value: 2, from: 'cli' })
    assert.deepEqual(settings.capacity, { value: 7, from: 'env' })
    assert.deepEqual(settings.hours, { value: 2, from: 'config' })
    assert.deepEqual(settings.worker, { value: true, from: 'default' })
    await writeFile(join(dir, 'config.json'), JSON.stringify({ thread: 3 }))
    assertOneLineError(await run(['peer', '--data-dir', dir, '--print-config']), 2, /unknown setting "thread"/)
  })

  it('models add / list / rm and keys, each with --json', async () => {
    const dir = await tempDir()
    const added = await run(['models', 'add', PADDLE_CLS, '--json', '--data-dir', dir])
    assert.equal(added.code, 0, added.stderr)
    const { model } = JSON.parse(added.stdout)
    const list = JSON.parse((await run(['models', 'list', '--json', '--data-dir', dir])).stdout)
    assert.deepEqual(
      list.map((m: { model: string }) => m.model),
      [model]
    )
    await writeFile(join(dir, 'junk.onnx'), 'not a model')
    assertOneLineError(await run(['models', 'add', join(dir, 'junk.onnx'), '--data-dir', dir]), 1, /is not a model onnxruntime can load/)
    assert.equal((await run(['models', 'rm', model, '--data-dir', dir])).code, 0)
    assertOneLineError(await run(['models', 'rm', model, '--data-dir', dir]), 1, /no model .* see `openbatch models list`/)
    const k1 = JSON.parse((await run(['keys', '--json', '--data-dir', dir])).stdout)
    const k2 = JSON.parse((await run(['keys', '--json', '--data-dir', dir])).stdout)
    assert.equal(k1.peerId, k2.peerId, 'the identity persists')
    assert.equal(k1.type, 'Ed25519')
  })

  it("--metrics serves libp2p's and openbatch's metrics for Prometheus", async () => {
    const dir = await tempDir()
    const peer = await startPeer(['--data-dir', dir, '--model', PADDLE_CLS, '--threads', '1', '--no-benchmark', '--metrics', '127.0.0.1:0'])
    assert.match(peer.ready.metrics ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const text = await (await fetch(peer.ready.metrics as string, { signal: AbortSignal.timeout(10_000) })).text()
    assert.match(text, /^openbatch_reputation_peers\{kind="known"\} \d+$/m)
    assert.match(text, /^openbatch_worker_receipts \d+$/m)
    // Every metric is named <project>_<subsystem>_<thing>_<unit>.
    assert.match(text, /^# TYPE openbatch_requester_tasks gauge$/m)
    assert.match(text, /^# TYPE openbatch_peer_errors_total counter$/m)
    assert.match(text, /^libp2p_/m)
    assert.equal(await peer.stop(), 0)
  })

  it('the demo, reduced: the cheater is caught, honest workers untouched, nothing lost (exit code 0)', async () => {
    // The cheater fakes half of its results: the chance it fakes none of its ~20 tasks is ~1e-6.
    const r = await run(['demo', '--items', '60', '--workers', '3', '--cheat-rate', '0.5', '--json'], { timeoutMs: 180_000 })
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) as string)
    assert.equal(report.ok, true)
    assert.deepEqual(report.checks, {
      nothingLost: true,
      accurate: true,
      cheaterCaught: true,
      honestUntouched: true,
      noWrongVerified: true
    })
    assert.ok(report.fraudProofs >= 1)
  })
})
