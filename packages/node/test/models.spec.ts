import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { modelCid } from '@openbatch/protocol'
import { fetchModel, ModelServer } from '../src/index.js'
import { network } from './helpers.js'

// 2.5 MiB: three chunks.
const MODEL_BYTES = Uint8Array.from({ length: 2.5 * 2 ** 20 }, (_, i) => (i * 31) % 251)
const MODEL = modelCid(MODEL_BYTES)

describe('model transfer (spec §6.4) — real libp2p peers', () => {
  it('fetches a model in chunks, skipping a provider whose bytes do not match the CID', async () => {
    const [fetcher, liar, honest, empty] = await network(4, { mesh: true })
    assert.ok(fetcher && liar && honest && empty)
    const tampered = Uint8Array.from(MODEL_BYTES)
    tampered[12345] = (tampered[12345] as number) ^ 1
    await new ModelServer(liar, { get: async () => tampered }).start()
    await new ModelServer(honest, { get: async (m) => (m === MODEL.toString() ? MODEL_BYTES : undefined) }).start()
    await new ModelServer(empty, { get: async () => undefined }).start()

    const bytes = await fetchModel(fetcher, MODEL.toString(), {
      providers: [liar.peerId, empty.peerId, honest.peerId],
      signal: AbortSignal.timeout(30_000)
    })
    assert.equal(bytes.byteLength, MODEL_BYTES.byteLength)
    assert.ok(Buffer.from(bytes).equals(Buffer.from(MODEL_BYTES)))

    await assert.rejects(
      fetchModel(fetcher, MODEL.toString(), { providers: [liar.peerId, empty.peerId], signal: AbortSignal.timeout(30_000) }),
      (err: Error & { failures?: { reason: string }[] }) => {
        assert.equal(err.name, 'ModelFetchError')
        assert.deepEqual(
          err.failures?.map((f) => f.reason),
          ['sent bytes that do not hash to the model CID', 'answered MODEL_NOT_FOUND']
        )
        return true
      }
    )
    await assert.rejects(
      fetchModel(fetcher, MODEL.toString(), { providers: [honest.peerId], maxBytes: 2 ** 20, signal: AbortSignal.timeout(30_000) }),
      {
        name: 'ModelFetchError',
        message: /no provider delivered/
      }
    )
  })

  it('asks `first` (the job’s requester) before the providers, each peer once', async () => {
    const [fetcher, requester, honest, empty] = await network(4, { mesh: true })
    assert.ok(fetcher && requester && honest && empty)
    let asked = 0
    await new ModelServer(requester, {
      get: async () => {
        asked++
        return MODEL_BYTES
      }
    }).start()
    await new ModelServer(honest, { get: async () => MODEL_BYTES }).start()
    await new ModelServer(empty, { get: async () => undefined }).start()
    // Found at the requester: the providers (here one that would fail) are not asked.
    const bytes = await fetchModel(fetcher, MODEL.toString(), {
      first: requester.peerId,
      providers: [empty.peerId],
      signal: AbortSignal.timeout(30_000)
    })
    assert.ok(Buffer.from(bytes).equals(Buffer.from(MODEL_BYTES)))
    assert.ok(asked > 0)
    // A requester without it: the providers are asked next, and a provider listed again is not.
    const fallback = await fetchModel(fetcher, MODEL.toString(), {
      first: empty.peerId,
      providers: [empty.peerId, honest.peerId],
      signal: AbortSignal.timeout(30_000)
    })
    assert.equal(fallback.byteLength, MODEL_BYTES.byteLength)
    await assert.rejects(
      fetchModel(fetcher, MODEL.toString(), { first: empty.peerId, providers: [empty.peerId], signal: AbortSignal.timeout(30_000) }),
      (err: Error & { failures?: { reason: string }[] }) => {
        assert.deepEqual(
          err.failures?.map((f) => f.reason),
          ['answered MODEL_NOT_FOUND']
        )
        return true
      }
    )
  })

  it('finds providers in the DHT when none are given', async () => {
    const [fetcher, , provider] = await network(3)
    assert.ok(fetcher && provider)
    await new ModelServer(provider, { get: async () => MODEL_BYTES }).start()
    await provider.libp2p.contentRouting.provide(MODEL, { signal: AbortSignal.timeout(10_000) })
    const bytes = await fetchModel(fetcher, MODEL.toString(), { signal: AbortSignal.timeout(30_000) })
    assert.equal(bytes.byteLength, MODEL_BYTES.byteLength)
    const unknown = modelCid(new Uint8Array([1]))
    await assert.rejects(fetchModel(fetcher, unknown.toString(), { signal: AbortSignal.timeout(30_000) }), {
      name: 'ModelFetchError',
      message: /no provider of model .* was found/
    })
  })
})
