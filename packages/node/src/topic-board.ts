/**
 * What JobBoard and FraudBoard share: a set of gossip topics whose messages are validated before
 * gossipsub forwards them (the verdict mapped in one place), de-duplicated by a key, and — once
 * accepted — handed to the caller without validating twice.
 */

import type { Message } from '@libp2p/gossipsub'
import type { GossipAction } from '@openbatch/protocol'
import type { PubSubComponents } from './components.js'
import { scoreTopic, toTopicValidatorResult } from './gossip-validation.js'

export interface BoardVerdict<T> {
  action: GossipAction
  value?: T
  /** Messages with a key already accepted are ignored (spec §5: [IGNORE] duplicates). */
  key?: string
}

export class TopicBoard<T> {
  private readonly seen = new Set<string>()
  private readonly accepted = new WeakMap<Uint8Array, T>()
  private started = false

  constructor(
    private readonly components: PubSubComponents,
    private readonly topics: string[],
    private readonly validate: (topic: string, data: Uint8Array) => Promise<BoardVerdict<T>>,
    private readonly deliver: (value: T) => void,
    private readonly seenLimit = 10_000
  ) {}

  private readonly onMessage = (evt: CustomEvent<Message>) => {
    if (!this.topics.includes(evt.detail.topic)) {
      return
    }
    const value = this.accepted.get(evt.detail.data)
    if (value !== undefined) {
      this.deliver(value)
    }
  }

  start(): void {
    if (this.started) {
      return
    }
    this.started = true
    const { pubsub } = this.components
    for (const topic of this.topics) {
      scoreTopic(this.components, topic)
      pubsub.topicValidators.set(topic, async (_from, msg) => {
        const verdict = await this.validate(topic, msg.data)
        if (verdict.action !== 'accept' || verdict.value === undefined) {
          return toTopicValidatorResult(verdict.action)
        }
        if (verdict.key !== undefined) {
          if (this.seen.has(verdict.key)) {
            return toTopicValidatorResult('ignore')
          }
          this.seen.add(verdict.key)
          if (this.seen.size > this.seenLimit) {
            this.seen.delete(this.seen.values().next().value as string)
          }
        }
        this.accepted.set(msg.data, verdict.value)
        return toTopicValidatorResult('accept')
      })
      pubsub.subscribe(topic)
    }
    pubsub.addEventListener('message', this.onMessage)
  }

  stop(): void {
    if (!this.started) {
      return
    }
    this.started = false
    const { pubsub } = this.components
    pubsub.removeEventListener('message', this.onMessage)
    for (const topic of this.topics) {
      pubsub.unsubscribe(topic)
      pubsub.topicValidators.delete(topic)
    }
  }
}
