/**
 * The test line's exit guard (`scripts/test-exit-guard.mjs`): a test file whose process outlives its
 * tests fails and names what it left open; the other files' results all count.
 */

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { tempDir } from './helpers.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
const GUARD = join(ROOT, 'scripts', 'test-exit-guard.mjs')

/** `node --import <guard> --test` on `files` (name → source) in a fresh folder, as `pnpm test` runs; a 300 ms guard. */
async function runGuarded(files: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await tempDir()
  for (const [name, source] of Object.entries(files)) {
    await writeFile(join(dir, name), source)
  }
  // Not a child of this test run: the nested runner must report, not stream to a parent.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', GUARD, '--test', '--test-reporter=tap', '*.spec.mjs'],
      { cwd: dir, env: { ...env, OPENBATCH_TEST_EXIT_GUARD_MS: '300' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err == null ? 0 : ((err as { code?: number }).code ?? -1), stdout, stderr })
    )
  })
}

const CLEAN = `import { it } from 'node:test'\nit('one', () => {})\nit('two', () => {})\n`

describe('the test exit guard (pnpm test)', () => {
  it('a file that leaves a timer running fails, naming it; every other result still counts', async () => {
    const r = await runGuarded({
      'clean.spec.mjs': CLEAN,
      'leaky.spec.mjs': `import { it } from 'node:test'\nit('starts a timer it never stops', () => { setInterval(() => {}, 1000) })\n`
    })
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout + r.stderr, /leaky\.spec\.mjs: still running 0\.3 s after its tests ended; open: .*Timeout/)
    // Three tests ran and passed; the leaky file itself is the one failure.
    assert.match(r.stdout, /^# pass 3$/m, r.stdout)
    assert.match(r.stdout, /^# fail 1$/m, r.stdout)
  })

  it('files that close what they open pass, with no wait for the guard', async () => {
    const r = await runGuarded({ 'clean.spec.mjs': CLEAN })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^# pass 2$/m, r.stdout)
  })
})
