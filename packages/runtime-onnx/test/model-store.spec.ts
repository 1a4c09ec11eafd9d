import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { modelCid } from '@openbatch/protocol'
import { ModelStore } from '../src/index.js'
import { tempDir } from './fixtures.js'
import { CLASSIFIER, MLP } from './models.js'

describe('model store', () => {
  it('stores models under their CID and lists, sizes and removes them', async () => {
    const store = new ModelStore(await tempDir())
    const a = await store.add(MLP)
    const b = await store.add(CLASSIFIER)
    assert.equal(a, modelCid(MLP).toString())
    assert.equal(await store.add(MLP), a, 'adding the same bytes again is a no-op')
    assert.ok(await store.has(a))
    assert.deepEqual(
      (await store.list()).map((m) => m.model),
      [a, b].sort()
    )
    assert.equal(await store.size(), MLP.byteLength + CLASSIFIER.byteLength)
    assert.deepEqual(await store.get(a), new Uint8Array(MLP))
    assert.equal(await store.remove(a), true)
    assert.equal(await store.remove(a), false)
    assert.equal(await store.has(a), false)
    assert.equal(await store.size(), CLASSIFIER.byteLength)
  })

  it('leaves no temporary files behind', async () => {
    const dir = await tempDir()
    const store = new ModelStore(dir)
    await Promise.all([store.add(MLP), store.add(CLASSIFIER), store.add(MLP)])
    const names = await readdir(join(dir, 'models'))
    assert.deepEqual(
      names.filter((n) => n.startsWith('.tmp')),
      []
    )
    assert.equal(names.length, 2)
  })

  it('quarantines a file whose bytes no longer match its CID and never returns it', async () => {
    const dir = await tempDir()
    const store = new ModelStore(dir)
    const model = await store.add(MLP)
    const tampered = new Uint8Array(MLP)
    tampered[100] = (tampered[100] as number) ^ 0xff
    await writeFile(join(dir, 'models', `${model}.onnx`), tampered)
    await assert.rejects(store.get(model), { name: 'CorruptModelError', message: /do not match the CID/ })
    assert.equal(await store.has(model), false)
    assert.equal((await readdir(join(dir, 'quarantine'))).length, 1)
    await assert.rejects(store.get(model), { name: 'ModelNotFoundError' })
  })

  it('rejects ids that are not model CIDs', async () => {
    const store = new ModelStore(await tempDir())
    await assert.rejects(store.get('../../etc/passwd'), { name: 'InvalidCidError' })
    await assert.rejects(store.has('bafy-not-a-cid'), { name: 'InvalidCidError' })
  })
})
