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
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it, type TestContext } from 'node:test'
import { BIN, embeddingFiles, netnsUnavailable, tempDir } from './helpers.js'

const children: ChildProcess[] = []
after(() => {
  for (const c of children) {
    c.kill('SIGKILL')
  }
})

/** `openbatch …` inside namespace `ns`, its stderr's JSON log lines and stdout collected. */
function inNamespace(ns: string, args: string[]) {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
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

/** The namespaces: pub (bridge 11.11.0.1/24), routers rA/rB (11.11.0.2/.3, NAT), homes hA/hB (192.168.2.2, 192.168.3.2). */
function makeInternet() {
  const t = `ob${process.pid % 10000}`
  const ns = { pub: `${t}pub`, rA: `${t}rA`, rB: `${t}rB`, hA: `${t}hA`, hB: `${t}hB` }
  const sh = (cmd: string, ...args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' })
    if (r.status !== 0) {
      throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`)
    }
    return r.stdout
  }
  const remove = () => {
    for (const n of Object.values(ns)) {
      spawnSync('ip', ['netns', 'del', n])
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
    sh('ip', 'link', 'add', `${t}${x}p`, 'type', 'veth', 'peer', 'name', `${t}${x}b`)
    sh('ip', 'link', 'set', `${t}${x}p`, 'netns', router)
    sh('ip', 'link', 'set', `${t}${x}b`, 'netns', ns.pub)
    sh('ip', '-n', ns.pub, 'link', 'set', `${t}${x}b`, 'master', 'br0')
    sh('ip', '-n', ns.pub, 'link', 'set', `${t}${x}b`, 'up')
    sh('ip', '-n', router, 'addr', 'add', `11.11.0.${i}/24`, 'dev', `${t}${x}p`)
    sh('ip', '-n', router, 'link', 'set', `${t}${x}p`, 'up')
    sh('ip', 'link', 'add', `${t}${x}l`, 'type', 'veth', 'peer', 'name', `${t}${x}h`)
    sh('ip', 'link', 'set', `${t}${x}l`, 'netns', router)
    sh('ip', 'link', 'set', `${t}${x}h`, 'netns', home)
    sh('ip', '-n', router, 'addr', 'add', `192.168.${i}.1/24`, 'dev', `${t}${x}l`)
    sh('ip', '-n', router, 'link', 'set', `${t}${x}l`, 'up')
    sh('ip', '-n', home, 'addr', 'add', `192.168.${i}.2/24`, 'dev', `${t}${x}h`)
    sh('ip', '-n', home, 'link', 'set', `${t}${x}h`, 'up')
    sh('ip', '-n', home, 'route', 'add', 'default', 'via', `192.168.${i}.1`)
    sh('ip', 'netns', 'exec', router, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1')
    sh('ip', 'netns', 'exec', router, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', `${t}${x}p`, '-j', 'MASQUERADE')
  }
  /** Bytes each home's router sent to and received from the public bridge. */
  const bytes = (x: 'A' | 'B') => {
    const stat = (dir: string) =>
      Number(sh('ip', 'netns', 'exec', ns[`r${x}`], 'cat', `/sys/class/net/${t}${x}p/statistics/${dir}_bytes`).trim())
    return { sent: stat('tx'), received: stat('rx') }
  }
  return { ns, remove, bytes }
}

describe('households behind NAT routers (issue #17, spec §4.4)', () => {
  it('a NATed worker and a NATed requester that join with no network flags complete a job through a relay', async (t: TestContext) => {
    const why = netnsUnavailable({ iptables: true })
    if (why != null) {
      if (process.env.CI === 'true') {
        assert.fail(`this test needs Linux network namespaces and iptables (root): ${why}`)
      }
      t.skip(`needs Linux network namespaces and iptables (root): ${why}`)
      return
    }
    const net = makeInternet()
    after(() => net.remove())
    const dir = await tempDir()
    const items = 24
    const { model, inputs } = await embeddingFiles(dir, items)

    // The public peer: bootstrap and relay; its operator knows its address and lets bulk data through.
    const relay = inNamespace(net.ns.pub, [
      'peer',
      '--json',
      '--no-worker',
      '--data-dir',
      join(dir, 'relay'),
      '--listen',
      '/ip4/0.0.0.0/tcp/4001',
      '/ip4/0.0.0.0/udp/4001/quic-v1',
      '--announce',
      '/ip4/11.11.0.1/tcp/4001',
      '/ip4/11.11.0.1/udp/4001/quic-v1',
      '--relay-service',
      'unlimited',
      '--no-upnp'
    ])
    const ready = await relay.next((l) => l.event === 'ready', 'the relay ready line')
    const relayId = ready.peerId as string
    const relayAddr = `/ip4/11.11.0.1/tcp/4001/p2p/${relayId}`

    // Each household's data directory names the network's bootstrap peer; nothing else is set.
    for (const home of ['worker', 'requester']) {
      await mkdir(join(dir, home), { recursive: true })
      await writeFile(join(dir, home, 'bootstrap.txt'), `# this network's bootstrap peers\n${relayAddr}\n`)
    }
    const before = { A: net.bytes('A'), B: net.bytes('B') }
    const worker = inNamespace(net.ns.hA, [
      'peer',
      '--data-dir',
      join(dir, 'worker'),
      '--model',
      model,
      '--threads',
      '1',
      '--no-benchmark',
      '--json'
    ])
    const relayed = await worker.next(
      (l) => l.event === 'reachability' && l.reachability === 'relayed',
      'the worker reserving a relay slot'
    )
    assert.deepEqual(relayed.relays, [relayId])
    assert.ok(
      (relayed.addresses as string[]).some((a) => a.includes(`/p2p/${relayId}/p2p-circuit/`)),
      `the worker advertises a relay address: ${JSON.stringify(relayed.addresses)}`
    )

    // `openbatch network` in the same home says the same, with the relay in use.
    const probe = inNamespace(net.ns.hA, ['network', '--data-dir', join(dir, 'worker'), '--json', '--wait', '30'])
    assert.equal(await probe.exited, 0, probe.output())
    const report = JSON.parse(probe.output().trim().split('\n').at(-1) as string)
    assert.equal(report.reachability, 'relayed', probe.output())
    assert.deepEqual(report.relays, [relayId])
    assert.ok(
      report.connections.some((c: { peer: string }) => c.peer === relayId),
      probe.output()
    )

    const submit = inNamespace(net.ns.hB, [
      'submit',
      model,
      inputs,
      '--data-dir',
      join(dir, 'requester'),
      '--json',
      '--discovery-timeout',
      '60'
    ])
    const code = await Promise.race([
      submit.exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 180_000).unref())
    ])
    assert.equal(code, 0, submit.output())
    const summary = JSON.parse(submit.output().trim().split('\n').at(-1) as string)
    assert.equal(summary.settled, items, submit.output())
    assert.equal(summary.failed ?? 0, 0, submit.output())

    const after_ = { A: net.bytes('A'), B: net.bytes('B') }
    const inputBytes = (await readFile(inputs)).byteLength
    t.diagnostic(
      `bytes through home A's router: ${after_.A.sent - before.A.sent} out, ${after_.A.received - before.A.received} in; home B's: ${after_.B.sent - before.B.sent} out, ${after_.B.received - before.B.received} in (inputs file: ${inputBytes} B) — every byte between the homes crossed the relay`
    )
    worker.child.kill('SIGTERM')
    relay.child.kill('SIGTERM')
    await Promise.all([worker.exited, relay.exited])
  })
})
