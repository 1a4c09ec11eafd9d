/**
 * Ed25519 signing and verification for envelopes (spec §1.2) through node:crypto with cached
 * KeyObjects. The libp2p key classes import the key into a KeyObject on every call, which costs
 * more than the signature itself at a few thousand statements a second.
 */

import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { concatBytes } from './bytes.js'

const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const MAX_CACHED_PUBLIC_KEYS = 4096

const privateKeys = new WeakMap<PrivateKey, KeyObject>()
const publicKeys = new Map<string, KeyObject>()

export function ed25519Sign(key: PrivateKey, data: Uint8Array): Uint8Array {
  let k = privateKeys.get(key)
  if (k == null) {
    // libp2p's raw Ed25519 private key is seed ‖ public key; PKCS#8 wants the 32-byte seed.
    k = createPrivateKey({ key: Buffer.from(concatBytes([PKCS8_PREFIX, key.raw.subarray(0, 32)])), format: 'der', type: 'pkcs8' })
    privateKeys.set(key, k)
  }
  return new Uint8Array(sign(null, data, k))
}

export function ed25519Verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  const id = Buffer.from(key.raw).toString('base64')
  try {
    let k = publicKeys.get(id)
    if (k == null) {
      k = createPublicKey({ key: Buffer.from(concatBytes([SPKI_PREFIX, key.raw])), format: 'der', type: 'spki' })
      if (publicKeys.size >= MAX_CACHED_PUBLIC_KEYS) {
        publicKeys.delete(publicKeys.keys().next().value as string)
      }
      publicKeys.set(id, k)
    }
    return verify(null, data, k, signature)
  } catch {
    return false // a key node:crypto cannot import verifies nothing
  }
}
