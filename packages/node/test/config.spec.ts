import assert from 'node:assert/strict'
import { chmod, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createOpenbatchPeer, DEFAULT_STUN, listenAddresses, loadOrCreateIdentity, resolveConfig } from '../src/index.js'
import { tempDir } from './helpers.js'

describe('peer configuration', () => {
  it('fills documented defaults', () => {
    assert.deepEqual(resolveConfig({}), {
      dataDir: undefined,
      listen: ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/udp/0/quic-v1'],
      announce: [],
      bootstrap: [],
      transports: ['tcp', 'quic', 'webrtc'],
      stun: DEFAULT_STUN,
      relay: { serve: 'limited', reserve: 'auto' },
      holePunch: true,
      autonat: true,
      upnp: true,
      local: false,
      mdns: { serviceTag: '_openbatch._udp.local', intervalMs: 10_000 },
      privateKey: undefined,
      dht: { alpha: 3, disjointPaths: 3, kBucketSize: 20 },
      maxConnections: 300,
      inboundConnectionsPerSecond: 5,
      connectionMonitor: true,
      paceGc: true
    })
    assert.deepEqual(resolveConfig({ dht: { alpha: 5 } }).dht, { alpha: 5, disjointPaths: 3, kBucketSize: 20 })
    assert.deepEqual(resolveConfig({ transports: ['memory'] }).listen, [])
    assert.equal(resolveConfig({ transports: ['memory'] }).mdns, false, 'no LAN discovery without a LAN transport')
    // §4.4: NAT traversal is for peers on a network; loopback and memory peers (tests, testnets) pay nothing for it.
    const loopback = resolveConfig({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    assert.deepEqual(
      [loopback.relay, loopback.holePunch, loopback.autonat, loopback.upnp],
      [{ serve: false, reserve: false }, false, false, false]
    )
    assert.deepEqual(resolveConfig({ transports: ['websockets'] }).listen, ['/ip4/0.0.0.0/tcp/0/ws'])
    // A peer that announces a public address reserves no relay slot; one behind a NAT does.
    assert.deepEqual(listenAddresses(resolveConfig({})).slice(-2), ['/p2p-circuit', '/webrtc'])
    assert.ok(!listenAddresses(resolveConfig({ announce: ['/ip4/11.11.0.1/tcp/4001'] })).includes('/p2p-circuit'))
    assert.ok(listenAddresses(resolveConfig({ announce: ['/ip4/192.168.1.2/tcp/4001'] })).includes('/p2p-circuit'))
  })

  it('names the bad option and what to do', async () => {
    const cases: [Parameters<typeof resolveConfig>[0], RegExp][] = [
      [{ transports: [] }, /^transports: name at least one/],
      [{ transports: ['udp' as never] }, /^transports: unknown transport "udp"; use "tcp", "quic", "websockets", "webrtc", "memory"/],
      [{ transports: ['webrtc'] }, /^transports: webrtc is signalled through a relay reached over TCP, QUIC or WebSockets/],
      [{ stun: ['stun.example.org'] }, /^stun: "stun.example.org" is not a STUN server URL/],
      [{ transports: ['tcp'], listen: ['/ip4/0.0.0.0/udp/0/quic-v1'] }, /^listen: .* needs the quic transport; add it to transports/],
      [{ relay: { serve: 'yes' as never } }, /^relay.serve: must be false, "limited" or "unlimited"/],
      [{ relay: { reserve: 'always' }, transports: ['memory'] }, /^relay.reserve: a relay is reached over TCP, QUIC or WebSockets/],
      [{ announce: ['nowhere'] }, /^announce: "nowhere" is not a multiaddr/],
      [{ listen: ['not an address'] }, /^listen: "not an address" is not a multiaddr/],
      [{ bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }, /^bootstrap: .* has no \/p2p\/<peer id>/],
      [{ dataDir: '' }, /^dataDir: must be a directory path/],
      [{ privateKey: await generateKeyPair('secp256k1') }, /^privateKey: must be an Ed25519 key/],
      [{ mdns: { serviceTag: 'openbatch' } }, /^mdns.serviceTag: "openbatch" is not a DNS-SD service name/],
      [{ mdns: { intervalMs: 5 } }, /^mdns.intervalMs: must be an integer ≥ 100/],
      [{ dht: { alpha: 0 } }, /^dht.alpha: must be an integer in 1..64, got 0/],
      [{ dht: { kBucketSize: 2.5 } }, /^dht.kBucketSize: must be an integer in 1..64, got 2.5/],
      [{ maxConnections: -1 }, /^maxConnections: must be a positive integer, got -1/],
      [{ inboundConnectionsPerSecond: 0 }, /^inboundConnectionsPerSecond: must be a positive integer, got 0/],
      [{ paceGc: 'yes' as never }, /^paceGc: must be true or false, got "yes"/]
    ]
    for (const [config, message] of cases) {
      assert.throws(() => resolveConfig(config), { name: 'ConfigError', message })
    }
  })
})

describe('persistent identity', () => {
  it('creates an Ed25519 key with mode 0600 and loads the same one again', async () => {
    const path = join(await tempDir(), 'sub', 'identity.key')
    const a = await loadOrCreateIdentity(path)
    assert.equal(a.type, 'Ed25519')
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.ok((await loadOrCreateIdentity(path)).equals(a))
  })

  it('refuses a key file others can read, a corrupt one, and a non-Ed25519 one', async () => {
    const dir = await tempDir()
    const path = join(dir, 'identity.key')
    await loadOrCreateIdentity(path)
    await chmod(path, 0o644)
    await assert.rejects(loadOrCreateIdentity(path), {
      name: 'IdentityKeyError',
      message: /accessible by other users \(mode 644\); run: chmod 600/
    })
    await writeFile(path, new Uint8Array([1, 2, 3]), { mode: 0o600 })
    await chmod(path, 0o600)
    await assert.rejects(loadOrCreateIdentity(path), { name: 'IdentityKeyError', message: /is corrupt/ })
    const { privateKeyToProtobuf } = await import('@libp2p/crypto/keys')
    await writeFile(path, privateKeyToProtobuf(await generateKeyPair('secp256k1')))
    await assert.rejects(loadOrCreateIdentity(path), { name: 'IdentityKeyError', message: /is secp256k1; openbatch peers need Ed25519/ })
  })

  it('a peer with a dataDir keeps its peer id across restarts', async () => {
    const dataDir = await tempDir()
    const first = await createOpenbatchPeer({ dataDir, transports: ['memory'] })
    await first.start()
    const id = first.peerId.toString()
    await first.stop()
    const second = await createOpenbatchPeer({ dataDir, transports: ['memory'] })
    await second.start()
    assert.equal(second.peerId.toString(), id)
    await second.stop()
  })
})
