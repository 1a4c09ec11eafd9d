import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { parseScenario, reportHtml, SCENARIOS_DIR, simulate } from '../src/index.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

describe('the HTML report', () => {
  it('renders its six charts in headless Chromium with no network and no console error, and is screenshotted', async (t) => {
    if (!existsSync(CHROMIUM)) {
      const why = `needs Chromium at ${CHROMIUM} (Debian's chromium package)`
      if (process.env.CI === 'true') {
        assert.fail(`this test ${why}`)
      }
      t.skip(why)
      return
    }
    const dir = await mkdtemp(join(tmpdir(), 'openbatch-html-'))
    const scenario = parseScenario(await readFile(join(SCENARIOS_DIR, 'cheaters.yaml'), 'utf8'), 'cheaters.yaml')
    const page = join(dir, 'report.html')
    await writeFile(page, reportHtml(simulate(scenario)))
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    })
    // One hook, the browser first: a failing hook skips those after it, and an open browser would
    // keep the test file running.
    after(async () => {
      await browser.close()
      await rm(dir, { recursive: true, force: true })
    })
    const context = await browser.newContext({ viewport: { width: 1000, height: 2600 } })
    const requests: string[] = []
    // The page is self-contained: any request beyond the file itself is a failure.
    await context.route('**/*', (route) => {
      if (!route.request().url().startsWith('file://')) {
        requests.push(route.request().url())
        return route.abort()
      }
      return route.continue()
    })
    const tab = await context.newPage()
    const errors: string[] = []
    tab.on('console', (m) => {
      if (m.type() === 'error') {
        errors.push(m.text())
      }
    })
    tab.on('pageerror', (e) => errors.push(e.message))
    await tab.goto(`file://${page}`)
    await tab.waitForSelector('body[data-rendered]', { timeout: 30_000 })
    assert.equal(await tab.getAttribute('body', 'data-rendered'), '6')
    assert.equal(await tab.locator('.chart svg').count(), 6)
    // Each chart drew marks, not just axes.
    for (const id of ['throughput', 'queue', 'overhead', 'detection', 'trust', 'totals']) {
      assert.ok(
        (await tab
          .locator(`#${id} svg .mark-line path, #${id} svg .mark-rect path, #${id} svg .mark-area path, #${id} svg .mark-symbol path`)
          .count()) > 0,
        id
      )
    }
    assert.deepEqual(errors, [])
    assert.deepEqual(requests, [])
    const shot = join(dir, 'report.png')
    await tab.screenshot({ path: shot, fullPage: true })
    assert.ok((await stat(shot)).size > 20_000)
    if (process.env.OPENBATCH_SCREENSHOT != null) {
      await tab.screenshot({ path: process.env.OPENBATCH_SCREENSHOT, fullPage: true })
    }
  })
})
