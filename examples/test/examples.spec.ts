import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..')
const SRC = join(DIST, '..')

/** Each example says what its last line looks like in its header: ` * Expect: a last line "…"` (… = anything). */
function expected(file: string): RegExp {
  const m = /\* Expect: a last line "(.*)"/.exec(readFileSync(join(SRC, file.replace(/\.js$/, '.ts')), 'utf8'))
  assert.ok(m != null, `${file} declares its expected output`)
  const pattern = (m[1] as string)
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${pattern}$`)
}

describe('examples/ — every example runs and prints its expected line', () => {
  for (const file of readdirSync(DIST)
    .filter((f) => /^\d\d-.*\.js$/.test(f))
    .sort()) {
    it(file, async () => {
      const child = spawn(process.execPath, [join(DIST, file)], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (err += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
      clearTimeout(timer)
      assert.equal(code, 0, `${file} exited ${code}\n${out}\n${err}`)
      const last = out.trim().split('\n').at(-1) as string
      assert.match(last, expected(file), `${file} printed:\n${out}`)
    })
  }
})
