/**
 * The scenario format (YAML), validated with zod: an error names the field and its line. Times are
 * in seconds of virtual time, latencies in milliseconds.
 */

import type { VerificationPolicy } from '@openbatch/protocol'
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml'
import { z } from 'zod'
import { BEHAVIOURS } from './adversaries/index.js'

const seconds = z.number().nonnegative()
const probability = z.number().min(0).max(1)

const Policy = z
  .object({
    /** Sampling rate of a newcomer (§7.2). */
    initialRate: probability.optional(),
    minRate: probability.optional(),
    trustHorizon: z.number().int().nonnegative().optional(),
    canaryRate: probability.optional()
  })
  .strict()

const Job = z
  .object({
    /** When the requester submits it (s). */
    at: seconds.default(0),
    tasks: z.number().int().min(1).max(10_000_000),
    maxBatch: z.number().int().min(1).max(1024).default(16),
    leaseMs: z.number().int().min(100).default(30_000),
    /** Bytes of one task's inputs (sent in the claim's answer) and of its result; with `network.uplinkMbps` they take time. */
    inputBytes: z.number().int().nonnegative().default(0),
    outputBytes: z.number().int().nonnegative().default(0),
    /** How long after `at` the deadline falls (s). */
    deadline: seconds.default(3600),
    policy: Policy.default({})
  })
  .strict()

const Group = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes, starting with a letter'),
    count: z.number().int().min(1).max(1_000_000),
    behaviour: z.enum(Object.keys(BEHAVIOURS) as [string, ...string[]]),
    /** Behaviour parameters (see the adversary library). */
    params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
    /** Tasks a worker holds at once. */
    capacity: z.number().int().min(1).max(1024).default(8),
    /** Mean service time of one task (ms); each run draws from an exponential around it. */
    serviceMs: z.number().positive().default(50),
    /** Network group (e.g. a /24): workers sharing one are not chosen to check each other (§7.2). @default one per worker */
    network: z.string().optional()
  })
  .strict()

const Requester = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes, starting with a letter'),
    jobs: z.array(Job).min(1),
    /** An announcement spammer: it announces its jobs and never answers a claim (§6.2). */
    unresponsive: z.boolean().default(false)
  })
  .strict()

const TimelineEvent = z
  .object({
    at: seconds,
    /**
     * join: `count` more workers of `group` come online (they ask for the open jobs, §6.7); leave:
     * `count` go gracefully; crash: `count` vanish holding their tasks; partition: `count` of `group`
     * are cut off from every requester (messages lost) until heal; heal: the cut-off workers of
     * `group` (all, without one) reach the requesters again; churn: from `at` to `until`, each
     * worker of `group` crashes after an exponential session of mean `sessionS` and a newcomer
     * takes its place.
     */
    event: z.enum(['join', 'leave', 'crash', 'partition', 'heal', 'churn']),
    group: z.string().optional(),
    count: z.number().int().min(1).optional(),
    sessionS: z.number().positive().optional(),
    until: seconds.optional()
  })
  .strict()
  .superRefine((e, ctx) => {
    const need = (field: 'group' | 'count' | 'sessionS' | 'until') => {
      if (e[field] == null) {
        ctx.addIssue({ code: 'custom', path: [field], message: `a ${e.event} event needs ${field}` })
      }
    }
    if (e.event !== 'heal') {
      need('group')
    }
    if (['join', 'leave', 'crash', 'partition'].includes(e.event)) {
      need('count')
    }
    if (e.event === 'churn') {
      need('sessionS')
      need('until')
    }
  })

const Assertion = z
  .object({
    /** A metric of the report, as a dotted path (e.g. `totals.lost`, `groups.cheaters.detected`). */
    metric: z.string(),
    min: z.number().optional(),
    max: z.number().optional(),
    /**
     * For a rate: the confidence (e.g. 0.95) at which the bound must hold — the rate's Wilson
     * interval over `of` trials must lie inside the bounds, not only the rate measured.
     */
    confidence: z.number().gt(0).lt(1).optional(),
    /** With `confidence`: the metric that counts the rate's trials (e.g. `groups.cheaters.workers`). */
    of: z.string().optional()
  })
  .strict()
  .refine((a) => a.min != null || a.max != null, { message: 'an assertion needs min or max' })
  .refine((a) => (a.confidence == null) === (a.of == null), {
    message: 'confidence and of go together: a rate, the confidence its bound must hold at, and the metric counting its trials'
  })

export const Scenario = z
  .object({
    name: z.string().min(1),
    seed: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 32 - 1),
    /** Virtual time the run lasts at most (s); it ends earlier when every job has ended. */
    duration: z.number().positive(),
    /** Seconds after the first job's start left out of the steady-state figures (`report.steady`). */
    warmUp: seconds.default(0),
    /** Seconds before the run's end left out of the steady-state figures. */
    coolDown: seconds.default(0),
    network: z
      .object({
        /** One-way latency: log-normal with this median (ms) and shape sigma. */
        latencyMs: z.number().nonnegative().default(40),
        jitter: z.number().nonnegative().default(0.5),
        /** Probability that a message is lost (the sender's timeout handles it). */
        loss: probability.default(0),
        /**
         * Every peer's upload bandwidth (Mbit/s): what a peer sends (a requester's task inputs, a
         * worker's results) leaves one message after another at this rate. Unlimited when absent.
         */
        uplinkMbps: z.number().positive().optional()
      })
      .strict()
      .default({ latencyMs: 40, jitter: 0.5, loss: 0 }),
    groups: z.array(Group).min(1),
    requesters: z.array(Requester).min(1),
    timeline: z.array(TimelineEvent).default([]),
    /** Random lookups in a Kademlia DHT of every peer of the scenario, for the hop histogram. */
    dht: z
      .object({
        lookups: z.number().int().min(1).max(100_000),
        k: z.number().int().min(1).max(64).default(20),
        alpha: z.number().int().min(1).max(32).default(3)
      })
      .strict()
      .optional(),
    assertions: z.array(Assertion).default([])
  })
  .strict()
  .superRefine((s, ctx) => {
    const ids = new Set<string>()
    s.groups.forEach((g, i) => {
      if (ids.has(g.id)) {
        ctx.addIssue({ code: 'custom', path: ['groups', i, 'id'], message: `group id "${g.id}" is used twice` })
      }
      ids.add(g.id)
    })
    s.timeline.forEach((e, i) => {
      if (e.group != null && !ids.has(e.group)) {
        ctx.addIssue({ code: 'custom', path: ['timeline', i, 'group'], message: `no group "${e.group}"` })
      }
    })
  })

export type Scenario = z.infer<typeof Scenario>
export type GroupSpec = Scenario['groups'][number]
export type JobSpec = Scenario['requesters'][number]['jobs'][number]

/** A job's verification policy for its announcement: what the scenario leaves out is 0, the spec's "default" (§3.3). */
export function jobPolicy(spec: JobSpec): VerificationPolicy {
  return {
    initialRate: spec.policy.initialRate ?? 0,
    minRate: spec.policy.minRate ?? 0,
    trustHorizon: spec.policy.trustHorizon ?? 0,
    canaryRate: spec.policy.canaryRate ?? 0,
    penalty: 0n,
    cost: 0n,
    agreement: []
  }
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError'
}

/** The YAML node at `path`, for its line. */
function nodeAt(root: Node | null | undefined, path: PropertyKey[]): Node | undefined {
  let node: Node | null | undefined = root
  let found: Node | undefined = root ?? undefined
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key)
      node = pair?.value as Node | undefined
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key] as Node | undefined
    } else {
      break
    }
    if (node == null) {
      break
    }
    found = node
  }
  return found
}

/** Parses and validates a scenario; errors name the field and the line (`file:line: field: message`). */
export function parseScenario(text: string, file = 'scenario'): Scenario {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  if (doc.errors.length > 0) {
    const e = doc.errors[0] as { message: string; pos: [number, number] }
    throw new ScenarioError(`${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`)
  }
  const parsed = Scenario.safeParse(doc.toJS())
  if (parsed.success) {
    return parsed.data
  }
  const issue = parsed.error.issues[0] as z.core.$ZodIssue
  const node = nodeAt(doc.contents, issue.path)
  const line = node?.range == null ? 1 : lines.linePos(node.range[0]).line
  const field = issue.path.length === 0 ? '(top level)' : issue.path.join('.')
  throw new ScenarioError(`${file}:${line}: ${field}: ${issue.message}`)
}
