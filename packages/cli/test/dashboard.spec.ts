/**
 * The household dashboard (issue #16): `openbatch peer --ui` serves a page that loads in headless
 * Chromium with no console error and no request beyond the peer, and shows live numbers that
 * change while a job runs; a token guards it when asked for.
 */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { parseUiAddress } from '../src/dashboard.js'
import { BIN, embeddingFiles, startPeer, tempDir } from './helpers.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Polls `read` until `accept` takes its value; fails after `timeoutMs` naming `what`. */
async function until<T>(what: string, read: () => Promise<T>, accept: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await read()
    if (accept(v)) {
      return v
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(v)})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('the dashboard (openbatch peer --ui, issue #16)', () => {
  it('loads in headless Chromium with no console error and shows live numbers that change as a job runs', async (t) => {
    if (!existsSync(CHROMIUM)) {
      const why = `needs Chromium at ${CHROMIUM} (Debian's chromium package)`
      if (process.env.CI === 'true') {
        assert.fail(`this test ${why}`)
      }
      t.skip(why)
      return
    }
    const dir = await tempDir()
    const { model, inputs } = await embeddingFiles(dir, 3000)
    const peer = await startPeer([
      '--data-dir',
      join(dir, 'w'),
      '--model',
      model,
      '--threads',
      '1',
      '--capacity',
      '2',
      '--ui',
      '127.0.0.1:0'
    ])
    const ui = peer.ready.ui as string
    assert.match(ui, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'on loopback: no token')

    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    })
    after(() => browser.close())
    const context = await browser.newContext({ viewport: { width: 1200, height: 1500 } })
    // Served by the peer alone: a request anywhere else is a failure.
    const elsewhere: string[] = []
    await context.route('**/*', (route) => {
      if (!route.request().url().startsWith(ui)) {
        elsewhere.push(route.request().url())
        return route.abort()
      }
      return route.continue()
    })
    const tab = await context.newPage()
    const errors: string[] = []
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    tab.on('pageerror', (e) => errors.push(e.message))
    await tab.goto(ui)
    await tab.waitForSelector('body[data-polls]', { timeout: 30_000 })
    assert.equal(await tab.textContent('#peer-id'), peer.ready.peerId)
    assert.equal(await tab.textContent('#tasks'), '0')
    assert.match((await tab.textContent('#models')) ?? '', new RegExp((peer.ready.models[0] as string).slice(0, 8)))

    // A job: the numbers move while it runs.
    const submit = spawn(
      process.execPath,
      [
        BIN,
        'submit',
        model,
        inputs,
        '--items-per-task',
        '1',
        '--no-mdns',
        '--bootstrap',
        peer.ready.addresses[0] as string,
        '--data-dir',
        join(dir, 'me')
      ],
      { stdio: 'ignore' }
    )
    after(() => submit.kill('SIGKILL'))
    const tasks = async () => Number(await tab.textContent('#tasks'))
    const first = await until('tasks run to show', tasks, (n) => n > 0)
    await until('the count to move on', tasks, (n) => n > first)
    await until(
      'the job in the jobs table',
      async () => (await tab.textContent('#jobs')) ?? '',
      (s) => /working|left/.test(s)
    )
    await until(
      'receipts',
      async () => Number(await tab.textContent('#receipts')),
      (n) => n > 0
    )
    await until(
      'the chart to draw',
      async () => (await tab.getAttribute('#chart-items path.line', 'd')) ?? '',
      (d) => d.includes('L')
    )
    assert.match((await tab.textContent('#log')) ?? '', /joined a job/)
    const shot = join(dir, 'dashboard.png')
    await tab.screenshot({ path: shot, fullPage: true })
    assert.ok((await stat(shot)).size > 20_000)
    if (process.env.OPENBATCH_SCREENSHOT != null) {
      await tab.screenshot({ path: process.env.OPENBATCH_SCREENSHOT, fullPage: true })
    }
    assert.deepEqual(errors, [])
    assert.deepEqual(elsewhere, [])
    await new Promise<void>((resolve) => {
      submit.once('exit', () => resolve())
      submit.kill('SIGINT')
    })
    assert.equal(await peer.stop(), 0)
  })

  it('asks for its token when it has one; --ui takes host:port or a port', async () => {
    const dir = await tempDir()
    const { model } = await embeddingFiles(dir, 1)
    const peer = await startPeer([
      '--data-dir',
      join(dir, 'w'),
      '--model',
      model,
      '--threads',
      '1',
      '--no-benchmark',
      '--ui',
      '127.0.0.1:0',
      '--ui-token',
      's3cret'
    ])
    const ui = new URL(peer.ready.ui as string)
    assert.equal(ui.searchParams.get('token'), 's3cret', 'the printed URL carries the token')
    const base = `${ui.origin}/api/state`
    assert.equal((await fetch(base)).status, 401)
    assert.equal((await fetch(`${base}?token=wrong`)).status, 401)
    assert.equal((await fetch(base, { headers: { authorization: 'Bearer s3cret' } })).status, 200)
    const page = await fetch(`${ui.origin}/?token=s3cret`)
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/)
    assert.equal((await fetch(`${ui.origin}/api/state?token=s3cret`, { method: 'POST' })).status, 405)
    assert.equal(await peer.stop(), 0)

    assert.deepEqual(parseUiAddress('7464'), { host: '127.0.0.1', port: 7464 })
    assert.deepEqual(parseUiAddress('0.0.0.0:80'), { host: '0.0.0.0', port: 80 })
    assert.deepEqual(parseUiAddress('[::1]:8080'), { host: '::1', port: 8080 })
    assert.throws(() => parseUiAddress('nowhere:99999'), /--ui takes host:port or a port/)
  })
})
