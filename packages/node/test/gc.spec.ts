import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { paceGcToExternalMemory } from '../src/index.js'

const run = promisify(execFile)

/**
 * A child process that allocates 1 GiB of 64 KiB buffers, 16 alive at a time (as a peer's encrypted
 * messages are), and prints how many full (major) collections it saw: paced with `paced`, or with
 * V8's defaults.
 */
async function majorCollections(paced: boolean): Promise<number> {
  const script = `
    import { PerformanceObserver, constants } from 'node:perf_hooks'
    import { paceGcToExternalMemory } from ${JSON.stringify(new URL('../src/gc.js', import.meta.url).href)}
    if (${paced} && !paceGcToExternalMemory()) throw new Error('not set')
    let major = 0
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++
    })
    observer.observe({ entryTypes: ['gc'] })
    const alive = []
    for (let i = 0; i < 16384; i++) {
      alive[i % 16] = new Uint8Array(65536)
      if (i % 256 === 0) await new Promise(setImmediate)
    }
    // GC entries are delivered on a later turn of the event loop.
    await new Promise(setImmediate)
    observer.disconnect()
    console.log(major)
  `
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 })
  return Number(stdout.trim())
}

describe('garbage collection paced to the data plane', () => {
  it('collects the whole heap far less often while a peer churns through buffers', async () => {
    const defaults = await majorCollections(false)
    const paced = await majorCollections(true)
    // V8 13's default: a full collection per 64 MiB of buffers (~10 here); paced: about 1.
    assert.ok(defaults >= 6, `V8's defaults collected ${defaults} times`)
    assert.ok(paced * 3 <= defaults, `paced: ${paced} full collections, defaults: ${defaults}`)
  })

  it('leaves a V8 without the flag alone', () => {
    assert.equal(paceGcToExternalMemory('12.4.254.21-node.33'), false)
  })
})
