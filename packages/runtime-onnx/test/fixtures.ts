import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, type TestContext } from 'node:test'
import { type DeviceInfo, detectDevices } from '../src/index.js'

/**
 * A temporary directory, removed when the whole test file has run. Not at the end of the test that
 * made it: hooks run in the order they were registered, so removing it there would race the peers
 * still writing to it (ENOTEMPTY), and a failing hook skips the hooks after it — the peers' stop()
 * — which once left a test file hanging until CI's time ran out.
 */
export async function tempDir(prefix = 'openbatch-runtime-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}
const tempDirs: string[] = []
after(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5 }))))

export { PADDLE_CLS_PATH } from './paths.js'

let adapter: Promise<DeviceInfo> | undefined

/**
 * The machine's devices with a WebGPU adapter (a software one counts), for tests of the WebGPU
 * path. Without one the test is skipped with the reason on a developer's machine, and fails under
 * `CI=true` (`.ci/run` installs Mesa's Vulkan drivers, whose lavapipe is such an adapter).
 */
export async function webgpuDevices(t: TestContext): Promise<DeviceInfo | undefined> {
  adapter ??= detectDevices({ nvidiaSmi: '/nonexistent' })
  const devices = await adapter
  if (devices.webgpu != null) {
    return devices
  }
  const why = `needs a WebGPU adapter (Mesa's lavapipe from bookworm-backports will do): ${devices.webgpuProbe}`
  if (process.env.CI === 'true') {
    assert.fail(`this test ${why}`)
  }
  t.skip(why)
  return undefined
}
