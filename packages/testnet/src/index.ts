/**
 * @packageDocumentation
 *
 * `@openbatch/testnet` runs openbatch networks from a scenario (YAML: peers by group and behaviour,
 * requesters and jobs, a timeline of joins, leaves and crashes, assertions) in two engines: `sim`,
 * a discrete-event engine driving the real sans-IO core of `@openbatch/core` in virtual time (10^5
 * peers; the same scenario and seed give a byte-identical report), and `live`, real openbatch
 * peers (libp2p, DHT, gossipsub, the work protocols) in one process on the memory transport, with
 * a simulated inference backend (a few hundred peers). The adversary library decides how each
 * worker answers in both.
 *
 * @example
 *
 * ```ts
 * import { reportHtml, runTestnet } from '@openbatch/testnet'
 *
 * const { report, assertions } = await runTestnet('cheaters', { engine: 'sim', seed: 7 })
 * console.log(report.totals, report.groups)
 * const failed = assertions.filter((a) => !a.ok)
 * await writeFile('report.html', reportHtml(report)) // self-contained: opens with no network
 *
 * // the same scenario with 200 real peers in this process
 * const live = await runTestnet('cheaters', { engine: 'live', peers: 200 })
 * ```
 */

export { type Answer, BEHAVIOURS, type Behaviour, type BehaviourFactory, type Params, unitHash } from './adversaries/index.js'
export { type AssertionResult, checkAssertions, metric, wilsonInterval } from './assertions.js'
export { type DhtParams, type DhtReport, simulateDht } from './dht.js'
export { EventQueue } from './events.js'
export { reportHtml } from './html.js'
export { type LiveOptions, runLive, scaleScenario } from './live.js'
export { type Engine, listScenarios, loadScenario, type RunTestnetOptions, runTestnet, SCENARIOS_DIR } from './run.js'
export { type GroupSpec, type JobSpec, parseScenario, Scenario, ScenarioError } from './scenario.js'
export { type GroupReport, type Report, type SimulateOptions, simulate } from './simulate.js'
