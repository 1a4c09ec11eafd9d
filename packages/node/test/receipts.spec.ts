/**
 * A worker's receipts (spec §3.6): the receipts of one acknowledgement are verified and kept in one
 * transaction; one that does not verify is refused with a named error and the others are kept.
 */

import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { peerIdBytes, STATEMENTS, seal, sha256 } from '@openbatch/protocol'
import { ReceiptStore } from '../src/index.js'
import { tempDir } from './helpers.js'

async function receipt(requester: PrivateKey, worker: PrivateKey, n: number, reward = 5n): Promise<Uint8Array> {
  return seal(
    STATEMENTS.receipt,
    {
      jobId: sha256(new TextEncoder().encode('job')),
      taskId: sha256(new TextEncoder().encode(`task ${n}`)),
      worker: peerIdBytes(peerIdFromPrivateKey(worker)),
      requester: peerIdBytes(peerIdFromPrivateKey(requester)),
      resultDigest: sha256(new TextEncoder().encode(`result ${n}`)),
      reward,
      issuedAtMs: BigInt(Date.now())
    },
    requester
  )
}

describe('ReceiptStore (§3.6)', () => {
  it("keeps only receipts bound to the result envelopes submitted, for the job's reward", async () => {
    const [requester, worker] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const store = new ReceiptStore(join(await tempDir(), 'receipts.db'))
    const result = (n: number) => new TextEncoder().encode(`result ${n}`) // what receipt(n) acknowledges
    const [r0, r1, r2] = await Promise.all([0, 1, 2].map((n) => receipt(requester, worker, n)))
    const { kept, rejected } = await store.addAll([r0, r1, r2] as Uint8Array[], peerIdFromPrivateKey(worker), [
      { result: result(0), reward: 5n },
      { result: result(7), reward: 5n },
      { result: result(2), reward: 0n }
    ])
    assert.deepEqual(kept, [r0])
    assert.deepEqual(
      rejected.map((r) => [r.envelope, r.error.name, /another result envelope|pays 5/.test(r.error.message)]),
      [
        [r1, 'InvalidReceiptError', true],
        [r2, 'InvalidReceiptError', true]
      ]
    )
    store.close()
  })

  it("keeps an acknowledgement's valid receipts at once, refuses another worker's by name, ignores repeats", async () => {
    const [requester, worker, other] = await Promise.all([
      generateKeyPair('Ed25519'),
      generateKeyPair('Ed25519'),
      generateKeyPair('Ed25519')
    ])
    const path = join(await tempDir(), 'receipts.db')
    const store = new ReceiptStore(path)
    const mine = await Promise.all([0, 1, 2].map((n) => receipt(requester, worker, n)))
    const foreign = await receipt(requester, other, 9)
    const { kept, rejected } = await store.addAll(
      [mine[0] as Uint8Array, foreign, mine[1] as Uint8Array, mine[2] as Uint8Array],
      peerIdFromPrivateKey(worker)
    )
    assert.equal(kept.length, 3, 'the valid ones are kept although one in the middle is not')
    assert.deepEqual(
      rejected.map((r) => [r.envelope, r.error.name]),
      [[foreign, 'InvalidReceiptError']]
    )
    const again = await store.addAll(mine, peerIdFromPrivateKey(worker))
    assert.deepEqual([again.kept.length, again.rejected.length], [0, 0], 'a receipt kept once is not kept twice')
    assert.deepEqual(store.totals(), [{ requester: peerIdFromPrivateKey(requester).toString(), receipts: 3, reward: 15n }])
    await assert.rejects(store.add(foreign, peerIdFromPrivateKey(worker)), { name: 'InvalidReceiptError' })
    store.close()
    // Durable: a reopened store holds them.
    const reopened = new ReceiptStore(path)
    assert.equal(reopened.envelopes().length, 3)
    reopened.close()
  })
})
