/**
 * §6.3's first check answers an unopenable result with §1.3's code for its error: every invalid
 * result envelope of the spec's vectors gets the code the table names.
 */

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import * as protocol from '@openbatch/protocol'
import { checkResult } from '../src/index.js'

const vectors = JSON.parse(readFileSync(new URL('../../../../protocol-spec/vectors/openbatch-v1.json', import.meta.url), 'utf8')) as {
  invalid_envelopes: { kind: string; envelope: string; error: string; why: string }[]
}

describe('result checks (§6.3): an unopenable result is answered with its error code (§1.3)', () => {
  it("every invalid result envelope of the vectors gets its error's code", async () => {
    const sender = peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')
    const cases = vectors.invalid_envelopes.filter((v) => v.kind === 'result')
    assert.ok(cases.length >= 8)
    const seen = new Set<string>()
    for (const v of cases) {
      const ErrorClass = (protocol as unknown as Record<string, new (a: string, b: number, c: number) => { code: string }>)[v.error]
      assert.ok(ErrorClass != null, v.error)
      const expected = new ErrorClass('', 0, 0).code
      const checked = await checkResult(Buffer.from(v.envelope, 'hex'), sender, () => undefined)
      assert.equal(checked.ok, false)
      assert.equal(checked.ok ? undefined : checked.code, expected, v.why)
      seen.add(expected)
    }
    assert.deepEqual([...seen].sort(), ['BAD_SIGNATURE', 'MALFORMED', 'TOO_LARGE', 'WRONG_SIGNER'])
  })
})
