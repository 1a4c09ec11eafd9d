/** The normative spec and the code say the same thing: parameters, statement kinds, error codes. */

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { RecordEnvelope } from '@libp2p/peer-record'
import * as constants from '../src/constants.js'
import * as errors from '../src/errors.js'
import { ErrorCode, STATEMENTS, toHex, uvarint } from '../src/index.js'
import { Envelope, KeyType } from '../src/pb/envelope.js'
import { VECTORS_PATH } from './generate-vectors.js'

const spec = readFileSync(new URL('../../../../protocol-spec/README.md', import.meta.url), 'utf8')
const proto = readFileSync(new URL('../../../../protocol-spec/proto/openbatch.proto', import.meta.url), 'utf8')
const rows = (re: RegExp) => [...spec.matchAll(re)]

describe('protocol-spec/README.md agrees with the code', () => {
  it('every numeric constant is in the Parameters table with the same value, and vice versa', () => {
    const table = new Map(rows(/^\|\s*`([A-Z0-9_]+)`\s*\|[^|]+\|\s*`([^`]+)`\s*\|/gm).map((m) => [m[1], Number(m[2])]))
    const numeric = Object.entries(constants).filter(([, v]) => typeof v === 'number') as [string, number][]
    for (const [name, value] of numeric) {
      assert.equal(table.get(name), value, `${name}: spec says ${table.get(name)}, code says ${value}`)
    }
    for (const name of table.keys()) {
      assert.ok(name != null && name in constants, `${name} is in the spec but not in constants.ts`)
    }
  })

  it("the statement-kind table lists each kind's domain and payload type", () => {
    const table = rows(/^\|\s*(\w+)\s*\|\s*`(\w+)`\s*\|\s*`([\w-]+)`\s*\|\s*`0x([0-9a-f]+)`\s*\|/gm)
    assert.equal(table.length, Object.keys(STATEMENTS).length)
    for (const [, kind, message, domain, code] of table) {
      const k = STATEMENTS[kind as keyof typeof STATEMENTS]
      assert.equal(k.name, message)
      assert.equal(k.domain, domain)
      assert.equal(toHex(k.payloadType), toHex(uvarint(Number.parseInt(code as string, 16))))
    }
  })

  it('the error-code table matches the .proto enum, number for number', () => {
    const table = rows(/^\|\s*(\d+)\s*\|\s*`([A-Z_]+)`\s*\|/gm).map((m) => [m[2], Number(m[1])])
    const protoEnum = proto.slice(proto.indexOf('enum ErrorCode'), proto.indexOf('}', proto.indexOf('enum ErrorCode')))
    const fromProto = [...protoEnum.matchAll(/^\s+([A-Z_]+) = (\d+);/gm)].map((m) => [m[1], Number(m[2])])
    assert.deepEqual(table, fromProto)
    assert.deepEqual(
      table.map(([n]) => n),
      Object.values(ErrorCode).filter((v) => typeof v === 'string')
    )
  })

  it("§1.3's table of errors and codes is the code's", () => {
    const table = rows(/^\|\s*`(\w+Error)`\s*\|\s*`([A-Z_]+)`\s*\|/gm)
    assert.equal(table.length, 8)
    for (const [, name, code] of table) {
      // Every error class takes (string, …) and ignores what it does not use.
      const Class = (errors as unknown as Record<string, new (a: string, b: number, c: number) => { code: string }>)[name as string]
      assert.ok(Class != null, `${name} is not an error of the code`)
      assert.equal(new Class('', 0, 0).code, code, name)
    }
  })

  it('every message of the schema is described', () => {
    const missing = [...proto.matchAll(/^message (\w+)/gm)].map((m) => m[1]).filter((name) => !spec.includes(`\`${name}\``))
    assert.deepEqual(missing, [])
  })

  it('the schema compiles on its own with buf (§3.1): imports resolved, no protons-only syntax', async () => {
    // buf comes with the package's devDependencies (a platform binary from the npm registry).
    const buf = fileURLToPath(new URL('../../node_modules/.bin/buf', import.meta.url))
    const dir = fileURLToPath(new URL('../../../../protocol-spec/proto/', import.meta.url))
    const { stdout } = await promisify(execFile)(buf, ['build', dir, '--output', '-#format=json'], { maxBuffer: 64 * 1024 * 1024 })
    const files = (JSON.parse(stdout) as { file: { name: string; package?: string }[] }).file
    const own = files.filter((f) => !f.name.startsWith('google/'))
    assert.deepEqual(own.map((f) => [f.name, f.package]).sort(), [
      ['envelope.proto', 'openbatch.v1'],
      ['openbatch.proto', 'openbatch.v1'],
      ['protons.proto', 'protons']
    ])
  })

  it("envelope.proto describes libp2p's envelope: every vector envelope decodes and re-encodes to its bytes (§1.2)", () => {
    const vectors = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as { envelopes: { envelope: string }[] }
    assert.ok(vectors.envelopes.length > 0)
    for (const v of vectors.envelopes) {
      const bytes = Uint8Array.from(Buffer.from(v.envelope, 'hex'))
      const decoded = Envelope.decode(bytes)
      const libp2p = RecordEnvelope.createFromProtobuf(bytes)
      assert.equal(decoded.publicKey?.type, KeyType.Ed25519)
      assert.equal(toHex(decoded.publicKey?.data ?? new Uint8Array()), toHex(libp2p.publicKey.raw))
      assert.equal(toHex(decoded.payloadType), toHex(libp2p.payloadType))
      assert.equal(toHex(decoded.payload), toHex(libp2p.payload))
      assert.equal(toHex(decoded.signature), toHex(libp2p.signature))
      assert.equal(toHex(Envelope.encode(decoded)), v.envelope)
    }
  })

  it('published text has no TODO', () => {
    assert.ok(!/TODO|TBD/.test(spec))
  })
})
