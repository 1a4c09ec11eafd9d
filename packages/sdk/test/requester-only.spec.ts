/**
 * Issue #14: the worker runtime is an optional dependency — a requester installs and loads no
 * onnxruntime. A child process runs the SDK with `@openbatch/runtime-onnx` and `onnxruntime-node`
 * made unresolvable (as on a machine that never installed them): a client starts, joins and
 * stops; asking for a worker without a backend of its own fails with WorkerRuntimeMissingError;
 * and no module of the SDK's graph ever asked for either package.
 */

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { tempDir } from './helpers.js'

const HOOK = `
import { registerHooks } from 'node:module'
const blocked = ['@openbatch/runtime-onnx', 'onnxruntime-node', 'onnxruntime-common']
globalThis.__askedFor = []
registerHooks({
  resolve(specifier, context, next) {
    if (blocked.some((b) => specifier === b || specifier.startsWith(b + '/'))) {
      globalThis.__askedFor.push(specifier)
      throw Object.assign(new Error('Cannot find package ' + JSON.stringify(specifier)), { code: 'ERR_MODULE_NOT_FOUND' })
    }
    return next(specifier, context)
  }
})
`

const SCRIPT = (sdk: string) => `
const sdk = await import(${JSON.stringify(sdk)})
const askedAtImport = [...globalThis.__askedFor]
const client = await sdk.createClient({ transports: ['memory'], listen: ['/memory/requester-only-' + process.pid], local: true })
const started = typeof client.peerId === 'string'
await client.stop()
let workerError
try {
  const peer = await sdk.createPeer({ transports: ['memory'], listen: ['/memory/requester-only-w-' + process.pid], local: true, worker: { models: [] } })
  await peer.stop()
} catch (err) {
  workerError = { name: err.name, message: err.message }
}
console.log(JSON.stringify({ askedAtImport, started, workerError }))
`

describe('a requester installs no onnxruntime (issue #14)', () => {
  it('the SDK imports, a client runs, and a worker without a backend names the missing runtime', async () => {
    const dir = await tempDir('openbatch-requester-only-')
    const sdk = pathToFileURL(fileURLToPath(new URL('../src/index.js', import.meta.url))).href
    await writeFile(join(dir, 'hook.mjs'), HOOK)
    await writeFile(join(dir, 'run.mjs'), SCRIPT(sdk))
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', pathToFileURL(join(dir, 'hook.mjs')).href, join(dir, 'run.mjs')],
        { timeout: 60_000 },
        (err, stdout, stderr) => (err == null ? resolve(stdout) : reject(new Error(`${err.message}\n${stderr}`)))
      )
    })
    const result = JSON.parse(out.trim().split('\n').at(-1) as string) as {
      askedAtImport: string[]
      started: boolean
      workerError?: { name: string; message: string }
    }
    assert.deepEqual(result.askedAtImport, [], 'importing the SDK asks for no onnxruntime package')
    assert.equal(result.started, true, 'a client starts and stops without it')
    assert.equal(result.workerError?.name, 'WorkerRuntimeMissingError')
    assert.match(result.workerError?.message ?? '', /@openbatch\/runtime-onnx/)
  })
})
