/**
 * The one place that maps protocol verdicts (spec §5: [REJECT] / [IGNORE]) to gossipsub's
 * validator results, and gives openbatch topics their score parameters.
 */

import { TopicValidatorResult } from '@libp2p/gossipsub'
import { createTopicScoreParams, type PeerScoreParams } from '@libp2p/gossipsub/score'
import type { GossipAction } from '@openbatch/protocol'
import type { PubSubComponents } from './components.js'

export function toTopicValidatorResult(action: GossipAction): TopicValidatorResult {
  switch (action) {
    case 'accept':
      return TopicValidatorResult.Accept
    case 'ignore':
      return TopicValidatorResult.Ignore
    default:
      return TopicValidatorResult.Reject
  }
}

/**
 * Score parameters for openbatch topics: messages are rare (a job announcement, a fraud proof), so
 * delivery-rate penalties stay off; an invalid message costs its sender heavily (spec §5: a
 * [REJECT] lowers the sender's score until it is pruned).
 */
export const OPENBATCH_TOPIC_SCORE = createTopicScoreParams({
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 100,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 10,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -100,
  invalidMessageDeliveriesDecay: 0.99
})

/**
 * Registers OPENBATCH_TOPIC_SCORE for `topic` (gossipsub reads topic parameters when scoring).
 * Job topics are per model and known only at run time, and gossipsub copies `scoreParams.topics`
 * at construction and offers no method to add one later: its service object's public `score`
 * member (on the class, absent from the exported interface) is the one way in.
 */
export function scoreTopic({ pubsub }: PubSubComponents, topic: string): void {
  const score = (pubsub as unknown as { score?: { params: PeerScoreParams } }).score
  if (score != null) {
    score.params.topics[topic] ??= OPENBATCH_TOPIC_SCORE
  }
}
