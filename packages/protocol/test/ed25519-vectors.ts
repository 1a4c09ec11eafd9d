/**
 * Ed25519 edge cases for §1.1's verification rule, built with @noble/curves' point arithmetic
 * (test-only): signatures that a cofactored (ZIP-215) verifier, or a lax one such as OpenSSL 3.0,
 * accepts and §1.1 rejects — and two odd ones it accepts. Each case says which rule decides it.
 */

import { createHash } from 'node:crypto'
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { toHex } from '../src/index.js'
import type { Identity } from './fixtures.js'

const Point = ed25519.Point
const B = Point.BASE
const L = Point.Fn.ORDER
const P = 2n ** 255n - 19n

const le32 = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))
const fromLe = (b: Uint8Array): bigint => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n)
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts))
/** RFC 8032's k = SHA-512(R ‖ A ‖ M) mod L. */
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array) =>
  fromLe(
    createHash('sha512')
      .update(concat(r, a, m))
      .digest()
  ) % L

export interface Ed25519Vector {
  public_key: string
  message: string
  signature: string
  valid: boolean
  why: string
}

export function ed25519Vectors(signer: Identity, sign: (m: Uint8Array) => Uint8Array): Ed25519Vector[] {
  const message = new TextEncoder().encode('openbatch §1.1')
  const publicKey = signer.key.publicKey.raw
  const good = sign(message)
  const S = fromLe(good.subarray(32))
  const identity = le32(1n)
  const base = B.toBytes()
  // A mixed-order key: 12345·B plus a point of order 8. Its signatures satisfy the cofactored
  // equation always, the cofactorless one only when 8 divides k.
  const a = 12345n
  const mixed = B.multiply(a)
    .add(Point.fromHex(ED25519_TORSION_SUBGROUP[3] as string))
    .toBytes()
  const mixedSignature = (wantDivisible: boolean) => {
    for (let r = 1n; ; r++) {
      const R = B.multiply(r).toBytes()
      const k = challenge(R, mixed, message)
      if ((k % 8n === 0n) === wantDivisible) {
        return concat(R, le32((r + k * a) % L))
      }
    }
  }
  const v = (key: Uint8Array, signature: Uint8Array, valid: boolean, why: string): Ed25519Vector => ({
    public_key: toHex(key),
    message: toHex(message),
    signature: toHex(signature),
    valid,
    why
  })
  return [
    v(publicKey, good, true, 'an ordinary signature'),
    v(publicKey, concat(good.subarray(0, 32), le32(S + L)), false, 'S + L: the same signature with a non-canonical S (S ≥ L)'),
    v(
      identity,
      concat(base, le32(1n)),
      false,
      'a small-order key (the identity): [1]B = B + [k]O holds for every message, so it signs anything'
    ),
    v(base, concat(identity, le32(challenge(identity, base, message))), false, 'a small-order R (the identity); the equation holds'),
    v(base, concat(le32(P + 1n), le32(challenge(le32(P + 1n), base, message))), false, 'R encoded non-canonically (y = p + 1)'),
    v(
      mixed,
      mixedSignature(false),
      false,
      'a mixed-order key, k not divisible by 8: the cofactored (ZIP-215) equation holds, the cofactorless one does not'
    ),
    v(mixed, mixedSignature(true), true, 'a mixed-order key (not of small order), k divisible by 8: the cofactorless equation holds'),
    v(base, concat(base, le32((1n + challenge(base, base, message)) % L)), true, 'the key B (private scalar 1): odd but valid'),
    v(publicKey, good.subarray(0, 63), false, 'a signature of 63 bytes')
  ]
}
