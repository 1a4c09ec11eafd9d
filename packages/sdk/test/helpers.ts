/** Shared helpers of the SDK's tests. */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'

/** `p`, or a rejection naming `what` after `ms`. */
export async function within<T>(what: string, p: Promise<T>, ms = 60_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms)))
    ])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A temporary directory, removed when the whole test file has run. Not at the end of the test that
 * made it: hooks run in the order they were registered, so removing it there would race the peers
 * still writing to it (ENOTEMPTY), and a failing hook skips the hooks after it — the peers' stop()
 * — which once left a test file hanging until CI's time ran out.
 */
export async function tempDir(prefix = 'openbatch-sdk-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}
const tempDirs: string[] = []
after(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5 }))))
