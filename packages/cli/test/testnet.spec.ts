import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { assertOneLineError, run, tempDir } from './helpers.js'

describe('openbatch testnet', () => {
  it('runs a shipped scenario, prints the seed, writes the report; --seed replays it to the byte', async () => {
    const dir = await tempDir()
    const first = await run(['testnet', 'smoke', '--out', join(dir, 'a.json')])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /^scenario smoke, seed 1 \(replay: --seed 1\)/)
    assert.match(first.stdout, /tasks 2000\/2000 settled · lost 0 · credited twice 0/)
    assert.match(first.stdout, /^✔ totals\.lost = 0 ≤ 0$/m)
    const again = await run(['testnet', 'smoke', '--seed', '1', '--out', join(dir, 'b.json')])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(await readFile(join(dir, 'a.json'), 'utf8'), await readFile(join(dir, 'b.json'), 'utf8'))
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
    const failed = await run(['testnet', join(dir, 'strict.yaml'), '--json'])
    assert.equal(failed.code, 1, failed.stderr)
    const { assertions } = JSON.parse(failed.stdout)
    assert.equal(assertions[0].ok, false)
    await writeFile(join(dir, 'bad.yaml'), scenario.replace('count: 3, behaviour: honest', 'count: 0, behaviour: honest'))
    assertOneLineError(await run(['testnet', join(dir, 'bad.yaml')]), 2, /bad\.yaml:6: groups\.1\.count: Too small/)
    assertOneLineError(
      await run(['testnet', 'no-such-scenario']),
      2,
      /no scenario file no-such-scenario; give a \.yaml path or one of: cheaters, churn, colluders, partition, scale-100k, smoke/
    )
    assertOneLineError(await run(['testnet', 'smoke', '--seed', '-1']), 2, /--seed must be an integer in 0\.\.4294967295/)
  })
})
