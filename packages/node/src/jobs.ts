/**
 * Jobs over gossip (spec §5.1): a requester publishes its signed announcement on the model's jobs
 * topic; a worker's JobBoard subscribes to the topics of the models it serves, validates every
 * message before it is forwarded, and hands valid, new announcements to the caller.
 */

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
import type { OpenbatchPeer } from './peer.js'
import { TopicBoard } from './topic-board.js'

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
  /** Requesters whose announcements are ignored (spec §5.1 [IGNORE], banned). @default the peer's Reputation */
  isBanned?: (requester: PeerId) => boolean
  /** How many job ids to remember for de-duplication. @default 10000 */
  seenLimit?: number
}

export class JobBoard {
  private readonly board: TopicBoard<Opened<JobAnnouncement>>

  constructor(peer: OpenbatchPeer, init: JobBoardInit) {
    const topics = init.models.map((m) => jobsTopic(parseModelCid(m)))
    this.board = new TopicBoard(
      peer,
      topics,
      async (topic, data) => {
        const verdict = await validateJobMessage(topic, data, Date.now())
        const job = verdict.value
        // [IGNORE] a banned requester; [IGNORE] a job id already seen (spec §5.1).
        const banned = init.isBanned ?? ((p: PeerId) => peer.reputation.isBanned(p))
        if (job != null && banned(job.signer)) {
          return { action: 'ignore' }
        }
        return { action: verdict.action, value: job, key: job == null ? undefined : toHex(job.message.jobId) }
      },
      (job) => init.onJob(job, job.signer),
      init.seenLimit
    )
  }

  start(): void {
    this.board.start()
  }

  stop(): void {
    this.board.stop()
  }
}
