/**
 * The peer's persistent identity: an Ed25519 key (protocol §1.1) stored as a libp2p protobuf
 * private key in a file of mode 0600, written atomically.
 */

import { readFile, stat } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { writeFileAtomic } from '@openbatch/inference'
import { IdentityKeyError } from './errors.js'

/**
 * Loads the key at `path`, or creates one there. Refuses a file other users can read (like ssh),
 * a corrupt file, or a key that is not Ed25519 — each with an IdentityKeyError saying what to do.
 */
export async function loadOrCreateIdentity(path: string): Promise<PrivateKey> {
  let bytes: Uint8Array
  try {
    const s = await stat(path)
    if (process.platform !== 'win32' && (s.mode & 0o077) !== 0) {
      throw new IdentityKeyError(
        `identity key ${path} is accessible by other users (mode ${(s.mode & 0o777).toString(8)}); run: chmod 600 ${path}`
      )
    }
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err instanceof IdentityKeyError ? err : new IdentityKeyError(`cannot read identity key ${path}: ${(err as Error).message}`)
    }
    const key = await generateKeyPair('Ed25519')
    await writeKey(path, privateKeyToProtobuf(key))
    return key
  }
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new IdentityKeyError(`identity key ${path} is corrupt (${(err as Error).message}); move it away to create a new identity`)
  }
  if (key.type !== 'Ed25519') {
    throw new IdentityKeyError(`identity key ${path} is ${key.type}; openbatch peers need Ed25519`)
  }
  return key
}

async function writeKey(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, bytes, { mode: 0o600, dirMode: 0o700 })
}
