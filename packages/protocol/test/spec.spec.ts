/** The normative spec and the code say the same thing: parameters, statement kinds, error codes. */

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import * as constants from '../src/constants.js'
import { ErrorCode, STATEMENTS, toHex, uvarint } from '../src/index.js'

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

  it('every message of the schema is described', () => {
    const missing = [...proto.matchAll(/^message (\w+)/gm)].map((m) => m[1]).filter((name) => !spec.includes(`\`${name}\``))
    assert.deepEqual(missing, [])
  })

  it('published text has no TODO', () => {
    assert.ok(!/TODO|TBD/.test(spec))
  })
})
