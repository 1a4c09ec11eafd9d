/**
 * Jobs over gossip (spec §5.1): a requester publishes its signed announcement on the model's jobs
 * topic; a worker's JobBoard subscribes to the topics of the models it serves, validates every
 * message before it is forwarded, and hands valid, new announcements to the caller.
 */

import type { Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import {
  type JobAnnouncement,
  jobsTopic,
  type Opened,
  open,
  parseModelCid,
  STATEMENTS,
  toHex,
  validateJobMessage
} from '@openbatch/protocol'
import { scoreTopic, toTopicValidatorResult } from './gossip-validation.js'
import type { OpenbatchPeer } from './peer.js'

/** Publishes a signed job announcement (an envelope from `seal(STATEMENTS.job, …)`). */
export async function announceJob(peer: OpenbatchPeer, envelope: Uint8Array): Promise<void> {
  const { message } = await open(STATEMENTS.job, envelope)
  await peer.libp2p.services.pubsub.publish(jobsTopic(message.model), envelope)
}

export interface JobBoardInit {
  /** Model CIDs (strings) this worker serves. */
  models: string[]
  /** Called once per new, valid announcement. */
  onJob: (job: Opened<JobAnnouncement>, from: PeerId) => void
  /** Requesters whose announcements are ignored (spec §5.1 [IGNORE], banned). */
  isBanned?: (requester: PeerId) => boolean
  /** How many job ids to remember for de-duplication. @default 10000 */
  seenLimit?: number
}

export class JobBoard {
  private readonly topics: string[]
  private readonly seen = new Set<string>()
  private readonly validated = new WeakMap<Uint8Array, Opened<JobAnnouncement>>()
  private started = false

  constructor(
    private readonly peer: OpenbatchPeer,
    private readonly init: JobBoardInit
  ) {
    this.topics = init.models.map((m) => jobsTopic(parseModelCid(m)))
  }

  private readonly onMessage = (evt: CustomEvent<Message>) => {
    const { topic, data } = evt.detail
    if (!this.topics.includes(topic)) {
      return
    }
    const opened = this.validated.get(data)
    if (opened != null) {
      this.init.onJob(opened, opened.signer)
    }
  }

  start(): void {
    if (this.started) {
      return
    }
    this.started = true
    const pubsub = this.peer.libp2p.services.pubsub
    for (const topic of this.topics) {
      scoreTopic(this.peer, topic)
      pubsub.topicValidators.set(topic, async (_from, msg) => {
        const verdict = await validateJobMessage(topic, msg.data, Date.now())
        if (verdict.action !== 'accept' || verdict.value == null) {
          return toTopicValidatorResult(verdict.action)
        }
        const job = verdict.value
        // [IGNORE] banned requester; [IGNORE] a job id already seen (spec §5.1).
        if (this.init.isBanned?.(job.signer) === true) {
          return toTopicValidatorResult('ignore')
        }
        const id = toHex(job.message.jobId)
        if (this.seen.has(id)) {
          return toTopicValidatorResult('ignore')
        }
        this.remember(id)
        this.validated.set(msg.data, job)
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
    const pubsub = this.peer.libp2p.services.pubsub
    pubsub.removeEventListener('message', this.onMessage)
    for (const topic of this.topics) {
      pubsub.unsubscribe(topic)
      pubsub.topicValidators.delete(topic)
    }
  }

  private remember(id: string): void {
    this.seen.add(id)
    if (this.seen.size > (this.init.seenLimit ?? 10_000)) {
      const oldest = this.seen.values().next().value as string
      this.seen.delete(oldest)
    }
  }
}
