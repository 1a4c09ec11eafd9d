/**
 * A child process of the live engine (`processes` > 1): it runs a share of the workers on TCP
 * loopback, reports what they do to the engine over IPC, and applies the timeline events and
 * convictions the engine sends it.
 */

import { seededRandom } from '@openbatch/core'
import { unitHash } from './adversaries/index.js'
import { WorkerHost, type WorkerSink } from './live-workers.js'
import type { Scenario } from './scenario.js'

/** Engine → child. */
export type ToChild =
  | { type: 'init'; index: number; seed: number; scenario: Scenario; bootstrap: string; groups: { group: number; count: number }[] }
  | { type: 'job'; envelope: Uint8Array; seq: number }
  | { type: 'timeline'; event: number; count: number }
  | { type: 'convicted'; name: string }
  | { type: 'stop' }

/** Child → engine. */
export type FromChild =
  | { type: 'ready' }
  | { type: 'registered'; name: string; group: string }
  | { type: 'gone'; name: string }
  | { type: 'result'; group: string; worker: string; key: string; faked: boolean }
  | { type: 'receipt'; key: string }
  | { type: 'delay'; ms: number }
  | { type: 'proofAccepted'; accused: string; reporter: string }
  | { type: 'forged' }
  | { type: 'stopped'; rssBytes: number }
  | { type: 'failed'; message: string }

const send = (m: FromChild) => process.send?.(m)

let host: WorkerHost | undefined
let scenario: Scenario | undefined
let job: { envelope: Uint8Array; seq: number } | undefined
let random: () => number = Math.random
const started = Date.now()

const sink: WorkerSink = {
  registered: (name, group) => send({ type: 'registered', name, group }),
  gone: (name) => send({ type: 'gone', name }),
  result: (group, worker, key, faked) => send({ type: 'result', group, worker, key, faked }),
  receipt: (key) => send({ type: 'receipt', key }),
  delay: (ms) => send({ type: 'delay', ms }),
  proofAccepted: (accused, reporter) => send({ type: 'proofAccepted', accused, reporter }),
  forged: () => send({ type: 'forged' })
}

// The engine gone (it ended, or failed): this process ends too, whatever its peers hold.
process.on('disconnect', () => {
  void host?.close().finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 5000).unref()
})

process.on('message', (m: ToChild) => {
  void handle(m).catch((err: Error) => send({ type: 'failed', message: err.message }))
})

async function handle(m: ToChild): Promise<void> {
  switch (m.type) {
    case 'init': {
      scenario = m.scenario
      random = seededRandom((m.seed ^ (unitHash(`child:${m.index}`) * 4294967296)) >>> 0)
      const h = new WorkerHost({ seed: m.seed, transport: 'tcp', prefix: `child${m.index}`, bootstrap: m.bootstrap, sink, job: () => job })
      host = h
      const pending = m.groups.flatMap(({ group, count }) => Array.from({ length: count }, () => m.scenario.groups[group]))
      for (let i = 0; i < pending.length; i += 10) {
        await Promise.all(pending.slice(i, i + 10).map((g) => (g == null ? undefined : h.start(g))))
      }
      send({ type: 'ready' })
      return
    }
    case 'job':
      job = { envelope: m.envelope, seq: m.seq }
      return
    case 'timeline': {
      const e = scenario?.timeline[m.event]
      if (host != null && scenario != null && e != null) {
        host.apply(e, m.count, scenario, random, () => Date.now() - started)
      }
      return
    }
    case 'convicted':
      await host?.convicted(m.name)
      return
    case 'stop':
      await host?.close()
      send({ type: 'stopped', rssBytes: process.memoryUsage().rss })
      process.disconnect?.()
      // Anything a stopped peer left behind must not keep this process alive.
      setTimeout(() => process.exit(0), 1000).unref()
      return
  }
}
