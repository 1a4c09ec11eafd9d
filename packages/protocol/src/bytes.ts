/** Byte helpers for the canonical encodings of spec §2 (all integers are unsigned LEB128). */

import { InvalidParameterError } from './errors.js'

const MAX_U64 = 2n ** 64n - 1n

/** Unsigned LEB128 of a uint64 (the protobuf varint), minimal length. */
export function uvarint(value: bigint | number): Uint8Array<ArrayBuffer> {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0x7fffffff) {
    // Lengths and indexes, most of the calls: the same bytes without BigInt arithmetic.
    const out: number[] = []
    let n = value
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80)
      n >>>= 7
    }
    out.push(n)
    return Uint8Array.from(out)
  }
  let v = BigInt(value)
  if (v < 0n || v > MAX_U64) {
    throw new InvalidParameterError(`${v} is not a uint64`)
  }
  const out: number[] = []
  do {
    const byte = Number(v & 0x7fn)
    v >>= 7n
    out.push(v === 0n ? byte : byte | 0x80)
  } while (v !== 0n)
  return Uint8Array.from(out)
}

/** Concatenates byte strings into one new buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0
  for (const p of parts) {
    length += p.byteLength
  }
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

/** `uvarint(len(bytes)) || bytes`: the length prefix of every variable field in §2. */
export function lengthPrefixed(bytes: Uint8Array): Uint8Array[] {
  return [uvarint(bytes.byteLength), bytes]
}

/** Lexicographic comparison of byte strings (a proper prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) {
      return d
    }
  }
  return a.byteLength - b.byteLength
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

/** Lower-case hex, for messages and test vectors. */
export function toHex(bytes: Uint8Array): string {
  let hex = ''
  for (const b of bytes) {
    hex += HEX[b] as string
  }
  return hex
}

/** Parses lower- or upper-case hex; throws InvalidParameterError for odd lengths or other characters. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new InvalidParameterError(`not a hex string: ${hex.slice(0, 40)}`)
  }
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) {
    out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  }
  return out
}
