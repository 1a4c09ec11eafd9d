import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { assertOneLineError, run, tempDir } from './helpers.js'

describe('openbatch testnet', () => {
  it('runs a shipped scenario in the simulator, prints the seed, writes the report; --seed replays it to the byte', async () => {
    const dir = await tempDir()
    const first = await run(['testnet', 'run', 'smoke', '--out', join(dir, 'a')])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /^scenario smoke \(sim\), seed 1 \(replay: --seed 1\)/)
    assert.match(first.stdout, /tasks 2000\/2000 settled · lost 0 · credited twice 0/)
    assert.match(first.stdout, /^✔ totals\.lost = 0 ≤ 0$/m)
    assert.match(await readFile(join(dir, 'a', 'report.html'), 'utf8'), /^<!doctype html>/i)
    const again = await run(['testnet', 'run', 'smoke', '--engine', 'sim', '--seed', '1', '--out', join(dir, 'b')])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(await readFile(join(dir, 'a', 'report.json'), 'utf8'), await readFile(join(dir, 'b', 'report.json'), 'utf8'))
  })

  it('runs smoke with real peers (--engine live), scaled by --peers', async () => {
    const live = await run(['testnet', 'run', 'smoke', '--engine', 'live', '--peers', '8', '--json'], { timeoutMs: 240_000 })
    assert.equal(live.code, 0, live.stderr)
    const { report, assertions } = JSON.parse(live.stdout)
    assert.equal(report.engine, 'live')
    assert.equal(report.live.peers, 8)
    assert.equal(report.totals.settled, 2000)
    assert.equal(report.totals.lost, 0)
    assert.equal(report.totals.doubleCredits, 0)
    assert.ok(report.announcementDelayMs.n >= 7, 'every worker got the announcement by gossip')
    assert.ok(report.dht.lookups > 0)
    assert.deepEqual(
      assertions.filter((a: { ok: boolean }) => !a.ok),
      []
    )
  })

  it('lists the shipped scenarios', async () => {
    const list = await run(['testnet', 'list'])
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
      ['cheaters', 'churn', 'colluders', 'partition', 'scale-100k', 'smoke']
    )
    assert.match(list.stdout, /^smoke\s+20 workers\s+1 requesters\s+2000 tasks\s+honest$/m)
  })

  it('exits 1 when an assertion fails, and 2 with the line for a bad scenario', async () => {
    const dir = await tempDir()
    const scenario = `name: strict
seed: 5
duration: 60
groups:
  - { id: cheats, count: 3, behaviour: cheater, params: { rate: 0.5 } }
  - { id: honest, count: 3, behaviour: honest }
requesters:
  - id: alice
    jobs:
      - { tasks: 100 }
assertions:
  - { metric: totals.fraudProofs, max: 0 }
`
    await writeFile(join(dir, 'strict.yaml'), scenario)
    const failed = await run(['testnet', 'run', join(dir, 'strict.yaml'), '--json'])
    assert.equal(failed.code, 1, failed.stderr)
    const { assertions } = JSON.parse(failed.stdout)
    assert.equal(assertions[0].ok, false)
    await writeFile(join(dir, 'bad.yaml'), scenario.replace('count: 3, behaviour: honest', 'count: 0, behaviour: honest'))
    assertOneLineError(await run(['testnet', 'run', join(dir, 'bad.yaml')]), 2, /bad\.yaml:6: groups\.1\.count: Too small/)
    assertOneLineError(
      await run(['testnet', 'run', 'no-such-scenario']),
      2,
      /no scenario file no-such-scenario; give a \.yaml path or one of: cheaters, churn, colluders, partition, scale-100k, smoke/
    )
    assertOneLineError(await run(['testnet', 'run', 'smoke', '--seed', '-1']), 2, /--seed must be an integer in 0\.\.4294967295/)
    assertOneLineError(await run(['testnet', 'run', 'smoke', '--engine', 'fast']), 2, /--engine must be live or sim, got fast/)
    assertOneLineError(
      await run(['testnet', 'run', 'smoke', '--engine', 'live', '--transport', 'udp']),
      2,
      /--transport must be memory or tcp, got udp/
    )
    assertOneLineError(await run(['testnet', 'run', 'smoke', '--peers', '1']), 2, /--peers must be an integer in 2\.\.1000000, got 1/)
  })
})
