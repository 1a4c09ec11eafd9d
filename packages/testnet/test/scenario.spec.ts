import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { checkAssertions, parseScenario, SCENARIOS_DIR, simulate } from '../src/index.js'

const load = async (name: string) => parseScenario(await readFile(join(SCENARIOS_DIR, `${name}.yaml`), 'utf8'), `${name}.yaml`)

describe('scenarios', () => {
  it('the same scenario and seed give a byte-identical report; another seed another run', async () => {
    const scenario = await load('cheaters')
    const a = JSON.stringify(simulate(scenario))
    const b = JSON.stringify(simulate(scenario))
    assert.equal(a, b)
    const other = JSON.stringify(simulate(scenario, { seed: scenario.seed + 1 }))
    assert.notEqual(a, other)
    assert.equal(JSON.parse(other).seed, scenario.seed + 1)
  })

  it('every shipped scenario passes its own assertions (scale-* run in `pnpm bench testnet`)', async () => {
    const names = (await readdir(SCENARIOS_DIR)).filter((f) => f.endsWith('.yaml') && !f.startsWith('scale-')).map((f) => f.slice(0, -5))
    assert.ok(names.length >= 4, names.join(', '))
    for (const name of names) {
      const scenario = await load(name)
      const report = simulate(scenario)
      const failed = checkAssertions(report, scenario).filter((a) => !a.ok)
      assert.deepEqual(failed, [], `${name}: ${JSON.stringify(failed)}`)
      assert.equal(report.totals.lost, 0, name)
      assert.equal(report.totals.doubleCredits, 0, name)
    }
  })

  it('bad scenarios get an error naming the file, the line and the field', () => {
    const base = `name: t
seed: 1
duration: 60
groups:
  - { id: honest, count: 2, behaviour: honest }
requesters:
  - id: alice
    jobs:
      - { tasks: 10 }
`
    assert.doesNotThrow(() => parseScenario(base, 't.yaml'))
    const cases: [string, RegExp][] = [
      [
        base.replace('behaviour: honest', 'behaviour: saint'),
        /^t\.yaml:5: groups\.0\.behaviour: Invalid option: expected one of "honest"\|/
      ],
      [base.replace('tasks: 10', 'tasks: -1'), /^t\.yaml:9: requesters\.0\.jobs\.0\.tasks: Too small/],
      [base.replace('seed: 1', 'seed: one'), /^t\.yaml:2: seed: Invalid input: expected number/],
      [`${base}timeline:\n  - { at: 5, event: leave, group: nobody, count: 1 }\n`, /^t\.yaml:11: timeline\.0\.group: no group "nobody"/],
      [`${base}colour: blue\n`, /^t\.yaml:1: \(top level\): Unrecognized key: "colour"/],
      [
        base.replace('duration: 60', 'duration: [60'),
        /^t\.yaml:4: Flow sequence in block collection must be sufficiently indented and end with a \]/
      ],
      [`${base}assertions:\n  - { metric: totals.lost }\n`, /^t\.yaml:11: assertions\.0: an assertion needs min or max/]
    ]
    for (const [text, pattern] of cases) {
      assert.throws(
        () => parseScenario(text, 't.yaml'),
        (err: Error) => {
          assert.equal(err.name, 'ScenarioError')
          assert.match(err.message, pattern)
          return true
        }
      )
    }
  })
})
