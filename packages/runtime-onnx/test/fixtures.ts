import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'

/** A temporary directory removed after the test file finishes. */
export async function tempDir(prefix = 'openbatch-runtime-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export { PADDLE_CLS_PATH } from './paths.js'
