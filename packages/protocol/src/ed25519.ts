/**
 * Ed25519 signing and verification for envelopes (spec §1.1, §1.2) through node:crypto with cached
 * KeyObjects. The libp2p key classes import the key into a KeyObject on every call, which costs
 * more than the signature itself at a few thousand statements a second.
 *
 * Verification follows §1.1's rule, not whatever the linked OpenSSL does: OpenSSL 3.0 (Node 20)
 * accepts small-order and non-canonical public keys and small-order R, which OpenSSL 3.5 (Node 24)
 * rejects — peers on the two would disagree about the same statement. The encoding checks below
 * run first, so every Node version accepts exactly the same signatures; OpenSSL then checks the
 * cofactorless equation [S]B = R + [k]A by encoding, which every version does alike.
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

/** Little-endian bytes of `n`, 32 of them. */
function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    out[i] = Number((n >> BigInt(8 * i)) & 0xffn)
  }
  return out
}

/** The field prime p = 2^255 − 19 and the group order L (§1.1), little-endian. */
const FIELD_PRIME = le32(2n ** 255n - 19n)
const GROUP_ORDER = le32(2n ** 252n + 27742317777372353535851937790883648493n)

/**
 * The y coordinates of the eight points of small order (the 8-torsion subgroup: the identity,
 * the point of order 2, two of order 4 with y = 0 and four of order 8), x's sign bit cleared.
 */
const SMALL_ORDER_Y = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'
].map((h) => Uint8Array.from(Buffer.from(h, 'hex')))

/** a < b for 32-byte little-endian numbers; `top` masks a's last byte (7f drops a point's sign bit). */
function lessThan(a: Uint8Array, b: Uint8Array, top = 0xff): boolean {
  for (let i = 31; i >= 0; i--) {
    const x = i === 31 ? (a[i] as number) & top : (a[i] as number)
    const y = b[i] as number
    if (x !== y) {
      return x < y
    }
  }
  return false
}

/**
 * §1.1: a point encoding a verifier accepts as A or R — canonical (y < p; the x = 0, sign 1
 * encodings are the small-order points ±1 and fall to the next test) and not of small order.
 */
export function acceptablePoint(bytes: Uint8Array): boolean {
  if (bytes.byteLength !== 32 || !lessThan(bytes, FIELD_PRIME, 0x7f)) {
    return false
  }
  return !SMALL_ORDER_Y.some((y) => {
    for (let i = 0; i < 32; i++) {
      if ((i === 31 ? (bytes[i] as number) & 0x7f : bytes[i]) !== y[i]) {
        return false
      }
    }
    return true
  })
}

/** §1.1: a signature's shape — 64 bytes, R acceptable, S < L (canonical). */
function acceptableSignature(signature: Uint8Array): boolean {
  return signature.byteLength === 64 && acceptablePoint(signature.subarray(0, 32)) && lessThan(signature.subarray(32), GROUP_ORDER)
}

/**
 * §1.1's verification rule: the key and R canonical and not of small order, S < L, then the
 * cofactorless equation [S]B = R + [k]A (OpenSSL compares the encoding of [S]B − [k]A with R).
 */
export function ed25519Verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  return acceptablePoint(key.raw) && verifyByAcceptableKey(key, data, signature)
}

/** `ed25519Verify` for a key that already passed `acceptablePoint` (`open` checks it first, to name the failure). */
export function verifyByAcceptableKey(key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  if (!acceptableSignature(signature)) {
    return false
  }
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
