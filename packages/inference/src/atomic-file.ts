import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/**
 * Writes `bytes` to `path` atomically: a temporary file beside it is written, fsynced and renamed
 * over `path`, so a crash leaves either the old file or the new one, never a torn one.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, options: { mode?: number; dirMode?: number } = {}): Promise<void> {
  const mode = options.mode ?? 0o644
  await mkdir(dirname(path), { recursive: true, ...(options.dirMode == null ? {} : { mode: options.dirMode }) })
  const tmp = join(dirname(path), `.tmp-${randomBytes(8).toString('hex')}`)
  const fh = await open(tmp, 'wx', mode)
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await chmod(tmp, mode) // the umask may have narrowed it
  await rename(tmp, path)
}
