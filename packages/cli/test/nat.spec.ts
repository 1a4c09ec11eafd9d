/**
 * Issue #17 in real network namespaces (spec §4.4): a "public" namespace (a bridge standing for the
 * internet, with a relay and bootstrap peer on it) and two homes, each behind its own NAT router
 * (a namespace with `iptables … MASQUERADE` between the home's private /24 and the public bridge).
 * The worker and the requester join with no network flags — each data directory's bootstrap.txt
 * names the relay — learn they are behind a NAT, reserve relay slots, and complete a job through
 * the relay. The public addresses (11.11.0.0/24) exist only inside the test's namespaces.
 */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it, type TestContext } from 'node:test'
import { BIN, embeddingFiles, netnsUnavailable, systemTool, tempDir } from './helpers.js'

const children: ChildProcess[] = []
after(() => {
  for (const c of children) {
    c.kill('SIGKILL')
  }
})

/** `openbatch …` inside namespace `ns`, its stderr's JSON log lines and stdout collected. */
function inNamespace(ns: string, args: string[]) {
  const child = spawn(systemTool('ip'), ['netns', 'exec', ns, process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const lines: Record<string, unknown>[] = []
  let out = ''
  const waiters = new Set<() => void>()
  const collect = (line: string) => {
    try {
      lines.push(JSON.parse(line))
    } catch {
      return
    }
    for (const w of waiters) {
      w()
    }
  }
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', collect)
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    out += `${l}\n`
    collect(l)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const next = (predicate: (l: Record<string, unknown>) => boolean, what: string, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(predicate)
        if (hit != null) {
          clearTimeout(timer)
          waiters.delete(check)
          resolve(hit)
        }
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`${what} did not come within ${timeoutMs} ms; lines: ${JSON.stringify(lines.slice(-8))}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  return { child, lines, next, exited, output: () => out }
}

/** One NAT router per home; `symmetric` maps each destination to a fresh random port (`--random-fully`). */
type NatKind = 'port-preserving' | 'symmetric'

/** The namespaces: pub (bridge 11.11.0.1/24), routers rA/rB (11.11.0.2/.3, NAT), homes hA/hB (192.168.2.2, 192.168.3.2). */
function makeInternet(kind: NatKind, options: { upnpDir?: string } = {}) {
  const t = `ob${process.pid % 10000}`
  const ns = { pub: `${t}pub`, rA: `${t}rA`, rB: `${t}rB`, hA: `${t}hA`, hB: `${t}hB` }
  const sh = (cmd: string, ...args: string[]) => {
    const r = spawnSync(systemTool(cmd), args, { encoding: 'utf8' })
    if (r.status !== 0) {
      throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`)
    }
    return r.stdout
  }
  const remove = () => {
    for (const n of Object.values(ns)) {
      spawnSync(systemTool('ip'), ['netns', 'del', n])
    }
  }
  remove()
  for (const n of Object.values(ns)) {
    sh('ip', 'netns', 'add', n)
    sh('ip', '-n', n, 'link', 'set', 'lo', 'up')
  }
  sh('ip', '-n', ns.pub, 'link', 'add', 'br0', 'type', 'bridge')
  sh('ip', '-n', ns.pub, 'addr', 'add', '11.11.0.1/24', 'dev', 'br0')
  sh('ip', '-n', ns.pub, 'link', 'set', 'br0', 'up')
  for (const [x, i] of [
    ['A', 2],
    ['B', 3]
  ] as const) {
    const router = ns[`r${x}`]
    const home = ns[`h${x}`]
    const wan = `${t}${x}p`
    sh('ip', 'link', 'add', wan, 'type', 'veth', 'peer', 'name', `${t}${x}b`)
    sh('ip', 'link', 'set', wan, 'netns', router)
    sh('ip', 'link', 'set', `${t}${x}b`, 'netns', ns.pub)
    sh('ip', '-n', ns.pub, 'link', 'set', `${t}${x}b`, 'master', 'br0')
    sh('ip', '-n', ns.pub, 'link', 'set', `${t}${x}b`, 'up')
    sh('ip', '-n', router, 'addr', 'add', `11.11.0.${i}/24`, 'dev', wan)
    sh('ip', '-n', router, 'link', 'set', wan, 'up')
    sh('ip', 'link', 'add', `${t}${x}l`, 'type', 'veth', 'peer', 'name', `${t}${x}h`)
    sh('ip', 'link', 'set', `${t}${x}l`, 'netns', router)
    sh('ip', 'link', 'set', `${t}${x}h`, 'netns', home)
    sh('ip', '-n', router, 'addr', 'add', `192.168.${i}.1/24`, 'dev', `${t}${x}l`)
    sh('ip', '-n', router, 'link', 'set', `${t}${x}l`, 'up')
    sh('ip', '-n', home, 'addr', 'add', `192.168.${i}.2/24`, 'dev', `${t}${x}h`)
    sh('ip', '-n', home, 'link', 'set', `${t}${x}h`, 'up')
    sh('ip', '-n', home, 'route', 'add', 'default', 'via', `192.168.${i}.1`)
    // Inside `ip netns exec` a tool is found on PATH, which may lack /usr/sbin: named by path.
    const ipt = (...args: string[]) => sh('ip', 'netns', 'exec', router, systemTool('iptables'), ...args)
    sh('ip', 'netns', 'exec', router, systemTool('sysctl'), '-q', '-w', 'net.ipv4.ip_forward=1')
    ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', wan, '-j', 'MASQUERADE', ...(kind === 'symmetric' ? ['--random-fully'] : []))
    // A home router's firewall: the router itself answers nothing from outside. (Without it, a
    // peer's first packet to the router's mapped port makes a conntrack entry that takes that port
    // from the home's own mapping, and no hole is ever punched.)
    ipt('-A', 'INPUT', '-i', wan, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
    ipt('-A', 'INPUT', '-i', wan, '-j', 'DROP')
    if (x === 'A' && options.upnpDir != null) {
      // Home A's router runs a UPnP IGD (miniupnpd, on the legacy iptables its libiptc edits).
      for (const rule of [
        ['-t', 'nat', '-N', 'MINIUPNPD'],
        ['-t', 'nat', '-I', 'PREROUTING', '-i', wan, '-j', 'MINIUPNPD'],
        ['-t', 'nat', '-N', 'MINIUPNPD-POSTROUTING'],
        ['-t', 'nat', '-I', 'POSTROUTING', '-o', wan, '-j', 'MINIUPNPD-POSTROUTING'],
        ['-t', 'mangle', '-N', 'MINIUPNPD'],
        ['-t', 'mangle', '-I', 'PREROUTING', '-i', wan, '-j', 'MINIUPNPD'],
        ['-t', 'filter', '-N', 'MINIUPNPD'],
        ['-t', 'filter', '-I', 'FORWARD', '-i', wan, '!', '-o', wan, '-j', 'MINIUPNPD']
      ]) {
        sh('ip', 'netns', 'exec', router, systemTool('iptables-legacy'), ...rule)
      }
      const conf = join(options.upnpDir, 'miniupnpd.conf')
      writeFileSync(
        conf,
        [
          `ext_ifname=${wan}`,
          `listening_ip=${t}${x}l`,
          'port=5000',
          'enable_upnp=yes',
          'enable_natpmp=yes',
          'secure_mode=yes',
          'system_uptime=yes',
          'uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b',
          `allow 1024-65535 192.168.${i}.0/24 1024-65535`,
          'deny 0-65535 0.0.0.0/0 0-65535',
          ''
        ].join('\n')
      )
      const igd = spawn(systemTool('ip'), ['netns', 'exec', router, systemTool('miniupnpd'), '-d', '-f', conf], { stdio: 'ignore' })
      children.push(igd)
    }
    // Byte counters (rules without a target): to and from the relay, and the other home.
    for (const peer of ['11.11.0.1', `11.11.0.${5 - i}`]) {
      ipt('-A', 'FORWARD', '-o', wan, '-d', peer)
      ipt('-A', 'FORWARD', '-i', wan, '-s', peer)
    }
  }
  /**
   * Bytes home `x`'s router forwarded between the home and the relay, between the two homes, and
   * from the other home into this one (what got through: attempts that a NAT drops count only
   * on the way out).
   */
  const bytes = (x: 'A' | 'B') => {
    const lines = sh('ip', 'netns', 'exec', ns[`r${x}`], systemTool('iptables'), '-nvx', '-L', 'FORWARD').split('\n')
    const other = `11.11.0.${x === 'A' ? 3 : 2}`
    // Columns: pkts bytes target prot opt in out source destination (no target on counting rules).
    const sum = (pick: (source: string, destination: string) => boolean) =>
      lines
        .map((l) => l.trim().split(/\s+/))
        .filter((c) => c.length >= 8 && pick(c.at(-2) as string, c.at(-1) as string))
        .reduce((n, c) => n + Number(c[1]), 0)
    return {
      relay: sum((src, dst) => src === '11.11.0.1' || dst === '11.11.0.1'),
      direct: sum((src, dst) => src === other || dst === other),
      directIn: sum((src) => src === other)
    }
  }
  return { ns, remove, bytes }
}

function needsNetns(t: TestContext, needs: { miniupnpd?: boolean } = {}): boolean {
  let why = netnsUnavailable({ iptables: true })
  if (why == null && needs.miniupnpd === true && spawnSync(systemTool('miniupnpd'), ['--version']).error != null) {
    why = 'no miniupnpd (Debian: apt-get install miniupnpd-iptables)'
  }
  if (why == null) {
    return true
  }
  if (process.env.CI === 'true') {
    assert.fail(`this test needs Linux network namespaces and iptables (root): ${why}`)
  }
  t.skip(`needs Linux network namespaces and iptables (root): ${why}`)
  return false
}

/** The network's bootstrap peer in the public namespace: relay (`limited` unless told) and STUN server. */
async function startBootstrap(net: ReturnType<typeof makeInternet>, dir: string, relay: 'limited' | 'unlimited' | 'off') {
  const proc = inNamespace(net.ns.pub, [
    'peer',
    '--json',
    '--no-worker',
    '--data-dir',
    dir,
    '--listen',
    '/ip4/0.0.0.0/tcp/4001',
    '/ip4/0.0.0.0/udp/4001/quic-v1',
    '--announce',
    '/ip4/11.11.0.1/tcp/4001',
    '/ip4/11.11.0.1/udp/4001/quic-v1',
    '--relay-service',
    relay,
    '--stun-service',
    '3478',
    '--no-upnp'
  ])
  const ready = await proc.next((l) => l.event === 'ready', 'the bootstrap peer ready line')
  return { proc, id: ready.peerId as string }
}

/** A household's data directory as its network's operator hands it out: the bootstrap list and the STUN server. */
async function household(dir: string, bootstrapId: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'bootstrap.txt'), `# this network's bootstrap peers\n/ip4/11.11.0.1/tcp/4001/p2p/${bootstrapId}\n`)
  await writeFile(join(dir, 'config.json'), JSON.stringify({ stun: ['stun:11.11.0.1:3478'] }))
  return dir
}

/** Two homes behind symmetric NATs, a bootstrap peer relaying as told, and a worker in home A holding a relay slot. */
async function symmetricHomes(relay: 'limited' | 'unlimited') {
  const net = makeInternet('symmetric')
  after(() => net.remove())
  const dir = await tempDir()
  const items = 24
  const { model, inputs } = await embeddingFiles(dir, items)
  const boot = await startBootstrap(net, join(dir, 'boot'), relay)
  const workerDir = await household(join(dir, 'worker'), boot.id)
  const requesterDir = await household(join(dir, 'requester'), boot.id)
  const worker = inNamespace(net.ns.hA, ['peer', '--data-dir', workerDir, '--model', model, '--threads', '1', '--no-benchmark', '--json'])
  await worker.next((l) => l.event === 'reachability' && l.reachability === 'relayed', 'the worker reserving a relay slot')
  const stop = async () => {
    worker.child.kill('SIGTERM')
    boot.proc.child.kill('SIGTERM')
    await Promise.all([worker.exited, boot.proc.exited])
  }
  return { net, items, model, inputs, requesterDir, worker, stop }
}

/** The exit code of `proc`, or 'timeout' after `ms`. */
function exitedWithin(proc: ReturnType<typeof inNamespace>, ms: number): Promise<number | null | 'timeout'> {
  return Promise.race([proc.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())])
}

describe('households behind NAT routers (issue #17, spec §4.4)', () => {
  it('behind port-preserving NATs a worker and a requester that join with no network flags connect over WebRTC; the relay carries only signalling, and its loss mid-job costs no task', async (t: TestContext) => {
    if (!needsNetns(t)) {
      return
    }
    const net = makeInternet('port-preserving')
    after(() => net.remove())
    const dir = await tempDir()
    const items = 600
    const { model, inputs } = await embeddingFiles(dir, items)
    const boot = await startBootstrap(net, join(dir, 'boot'), 'limited')
    const workerDir = await household(join(dir, 'worker'), boot.id)
    const requesterDir = await household(join(dir, 'requester'), boot.id)

    const worker = inNamespace(net.ns.hA, ['peer', '--data-dir', workerDir, '--model', model, '--threads', '1', '--no-benchmark', '--json'])
    const relayed = await worker.next(
      (l) => l.event === 'reachability' && l.reachability === 'relayed',
      'the worker reserving a relay slot'
    )
    assert.deepEqual(relayed.relays, [boot.id])
    assert.ok(
      (relayed.addresses as string[]).some((a) => a.includes(`/p2p/${boot.id}/p2p-circuit/webrtc/`)),
      `the worker advertises a WebRTC address through the relay: ${JSON.stringify(relayed.addresses)}`
    )

    // `openbatch network` in the same home says the same, with the relay in use.
    const probe = inNamespace(net.ns.hA, ['network', '--data-dir', workerDir, '--json', '--wait', '30'])
    assert.equal(await probe.exited, 0, probe.output())
    const report = JSON.parse(probe.output().trim().split('\n').at(-1) as string)
    assert.equal(report.reachability, 'relayed', probe.output())
    assert.deepEqual(report.relays, [boot.id])

    const before = net.bytes('A')
    // Debug lines: should the job make no progress, the failure shows the requester's background errors.
    const submit = inNamespace(net.ns.hB, [
      'submit',
      model,
      inputs,
      '--data-dir',
      requesterDir,
      '--json',
      '--discovery-timeout',
      '60',
      '--log-level',
      'debug'
    ])
    // Once work flows, the relay (and bootstrap, and STUN server) goes away: the direct connection stays.
    await submit
      .next((l) => l.event === 'progress' && Number(l.settled) > 0, 'the first settled task', 120_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}; the worker's last lines: ${JSON.stringify(worker.lines.slice(-10))}`)
      })
    boot.proc.child.kill('SIGKILL')
    await boot.proc.exited
    const code = await Promise.race([
      submit.exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 180_000).unref())
    ])
    assert.equal(code, 0, submit.output())
    const summary = JSON.parse(submit.output().trim().split('\n').at(-1) as string)
    assert.equal(summary.settled, items, submit.output())
    assert.equal(summary.failed, 0, submit.output())
    assert.equal(summary.missing, 0, submit.output())

    const bytes = net.bytes('A')
    const direct = bytes.direct - before.direct
    const relay = bytes.relay - before.relay
    t.diagnostic(
      `home A's router during the job: ${direct} bytes directly to and from home B, ${relay} with the relay (inputs file: ${(await readFile(inputs)).byteLength} bytes)`
    )
    assert.ok(direct > (await readFile(inputs)).byteLength, `the inputs went directly: ${direct} bytes direct, ${relay} through the relay`)
    assert.ok(bytes.directIn - before.directIn > 0, 'home B answered directly')
    assert.ok(relay < direct, `the relay carried less than the direct path: ${relay} vs ${direct}`)
    worker.child.kill('SIGTERM')
    await worker.exited
    // The worker earned receipts signed by the requester it reached through the NATs.
    const receipts = inNamespace(net.ns.hA, ['receipts', '--data-dir', workerDir, '--json'])
    assert.equal(await receipts.exited, 0, receipts.output())
    const totals = JSON.parse(receipts.output().trim()) as { requester: string; receipts: number }[]
    assert.equal(totals.length, 1, receipts.output())
    assert.ok((totals[0]?.receipts ?? 0) >= summary.taskCount, receipts.output())
    t.diagnostic(`the worker holds ${totals[0]?.receipts} receipts from requester ${totals[0]?.requester}`)
  })

  it('behind symmetric NATs no direct connection forms, and a limited relay carries no work', async (t: TestContext) => {
    if (!needsNetns(t)) {
      return
    }
    const { net, items, model, inputs, requesterDir, stop } = await symmetricHomes('limited')
    const before = net.bytes('A')
    // 45 s: the worker is found (its record is in the DHT), but no connection between the homes
    // can carry a claim — WebRTC's ICE finds no pair through two symmetric NATs.
    const submit = inNamespace(net.ns.hB, ['submit', model, inputs, '--data-dir', requesterDir, '--json', '--deadline', '0.75'])
    assert.equal(await exitedWithin(submit, 120_000), 1, submit.output())
    const nothing = JSON.parse(submit.output().trim().split('\n').at(-1) as string)
    assert.deepEqual([nothing.event, nothing.settled, nothing.missing], ['summary', 0, items], submit.output())
    assert.equal(net.bytes('A').directIn - before.directIn, 0, 'nothing came through directly between symmetric NATs')
    await stop()
  })

  it("behind symmetric NATs an operator's unlimited relay carries the job, and DCUtR leaves that connection alone", async (t: TestContext) => {
    if (!needsNetns(t)) {
      return
    }
    const { net, items, model, inputs, requesterDir, worker, stop } = await symmetricHomes('unlimited')
    const before = net.bytes('A')
    // Before the DCUtR patch the worker's DCUtR took the requester's `/p2p-circuit/webrtc` address
    // for a public one, reached the relay itself and closed the relayed connection every few
    // seconds, and a claim then failed with a non-Error that stopped the worker: 3 of 6 runs under
    // two CPU hogs stalled after 'submitted'. After: 5 of 5 done in 14–25 s.
    const submit = inNamespace(net.ns.hB, ['submit', model, inputs, '--data-dir', requesterDir, '--json', '--discovery-timeout', '60'])
    assert.equal(await exitedWithin(submit, 180_000), 0, `${submit.output()}\nworker: ${JSON.stringify(worker.lines.slice(-12))}`)
    const summary = JSON.parse(submit.output().trim().split('\n').at(-1) as string)
    assert.equal(summary.settled, items, submit.output())
    const bytes = net.bytes('A')
    t.diagnostic(
      `home A's router during the job: ${bytes.direct - before.direct} bytes directly with home B, ${bytes.relay - before.relay} through the relay`
    )
    assert.equal(bytes.directIn - before.directIn, 0, 'nothing came through directly between symmetric NATs')
    assert.ok(bytes.relay - before.relay > (await readFile(inputs)).byteLength, 'the job went through the relay')
    assert.ok(!worker.lines.some((l) => l.msg === 'uncaught exception'), JSON.stringify(worker.lines.filter((l) => l.level === 'error')))
    await stop()
  })

  it('a NATed worker reserves a slot on a relay it found through the DHT, not on its bootstrap peer (§4.4)', async (t: TestContext) => {
    if (!needsNetns(t)) {
      return
    }
    const net = makeInternet('port-preserving')
    after(() => net.remove())
    const dir = await tempDir()
    const { model } = await embeddingFiles(dir, 1)
    // The bootstrap peer relays for nobody; a second public peer does, and no household is told of it.
    const boot = await startBootstrap(net, join(dir, 'boot'), 'off')
    const relay = inNamespace(net.ns.pub, [
      'peer',
      '--json',
      '--no-worker',
      '--data-dir',
      join(dir, 'relay'),
      '--listen',
      '/ip4/0.0.0.0/tcp/4002',
      '--announce',
      '/ip4/11.11.0.1/tcp/4002',
      '--relay-service',
      'limited',
      '--no-upnp',
      '--bootstrap',
      `/ip4/11.11.0.1/tcp/4001/p2p/${boot.id}`
    ])
    const relayId = (await relay.next((l) => l.event === 'ready', 'the relay peer ready line')).peerId as string
    const workerDir = await household(join(dir, 'worker'), boot.id)
    const worker = inNamespace(net.ns.hA, ['peer', '--data-dir', workerDir, '--model', model, '--threads', '1', '--no-benchmark', '--json'])
    const relayed = await worker.next(
      (l) => l.event === 'reachability' && l.reachability === 'relayed',
      'the worker reserving a relay slot on the relay the DHT names',
      120_000
    )
    assert.deepEqual(relayed.relays, [relayId], JSON.stringify(relayed))
    assert.ok(!(relayed.relays as string[]).includes(boot.id))
    worker.child.kill('SIGTERM')
    relay.child.kill('SIGTERM')
    boot.proc.child.kill('SIGTERM')
    await Promise.all([worker.exited, relay.exited, boot.proc.exited])
  })

  it("a home router with UPnP maps the worker's ports: the worker is public and a requester behind a symmetric NAT reaches it directly", async (t: TestContext) => {
    if (!needsNetns(t, { miniupnpd: true })) {
      return
    }
    const dir = await tempDir()
    const net = makeInternet('symmetric', { upnpDir: dir })
    after(() => net.remove())
    const items = 24
    const { model, inputs } = await embeddingFiles(dir, items)
    const boot = await startBootstrap(net, join(dir, 'boot'), 'limited')
    const workerDir = await household(join(dir, 'worker'), boot.id)
    const requesterDir = await household(join(dir, 'requester'), boot.id)
    const worker = inNamespace(net.ns.hA, ['peer', '--data-dir', workerDir, '--model', model, '--threads', '1', '--no-benchmark', '--json'])
    const mapped = await worker.next(
      (l) => l.event === 'reachability' && l.reachability === 'public',
      'the worker mapping its ports by UPnP',
      90_000
    )
    assert.ok(
      (mapped.addresses as string[]).some((a) => a.startsWith('/ip4/11.11.0.2/')),
      `the worker advertises its router's public address: ${JSON.stringify(mapped.addresses)}`
    )
    const before = net.bytes('A')
    const submit = inNamespace(net.ns.hB, ['submit', model, inputs, '--data-dir', requesterDir, '--json', '--discovery-timeout', '60'])
    // The requester first reaches the worker through the limited relay (the DHT names its relay
    // address); DCUtR then has the requester dial the worker's mapped address (§4.4). Before the
    // dcutr patch sent its Sync here, nothing did until the relay's 2-minute limit (~148 s).
    assert.equal(await exitedWithin(submit, 180_000), 0, submit.output())
    const summary = JSON.parse(submit.output().trim().split('\n').at(-1) as string)
    assert.equal(summary.settled, items, submit.output())
    const bytes = net.bytes('A')
    t.diagnostic(
      `home A's router during the job: ${bytes.direct - before.direct} bytes directly with home B, ${bytes.relay - before.relay} with the relay`
    )
    assert.ok(bytes.directIn - before.directIn > 0, 'home B reached the mapped port directly')
    worker.child.kill('SIGTERM')
    boot.proc.child.kill('SIGTERM')
    await Promise.all([worker.exited, boot.proc.exited])
  })
})
