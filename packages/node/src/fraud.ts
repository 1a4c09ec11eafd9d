/**
 * Fraud proofs over gossip (spec §5.2, §7.5): every peer validates a proof itself before it is
 * forwarded — an invalid one is [REJECT]ed, which costs its sender gossipsub score — and hands
 * each valid, new proof to the caller (to lower the culprit's reputation and ban it, §7.6).
 */

import type { Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { type CheckedFraudProof, FRAUD_TOPIC, sha256, toHex, validateFraudMessage } from '@openbatch/protocol'
import { scoreTopic, toTopicValidatorResult } from './gossip-validation.js'
import type { OpenbatchPeer } from './peer.js'

/** Publishes a signed fraud proof (from `createFraudProof`). */
export async function publishFraudProof(peer: OpenbatchPeer, envelope: Uint8Array): Promise<void> {
  await peer.libp2p.services.pubsub.publish(FRAUD_TOPIC, envelope)
}

export interface FraudBoardInit {
  /** Called once per valid proof against a given result. */
  onProof: (proof: CheckedFraudProof, reporter: PeerId) => void
  /** How many accused results to remember for de-duplication. @default 10000 */
  seenLimit?: number
}

export class FraudBoard {
  private readonly seen = new Set<string>()
  private readonly validated = new WeakMap<Uint8Array, CheckedFraudProof & { reporter: PeerId }>()
  private started = false

  constructor(
    private readonly peer: OpenbatchPeer,
    private readonly init: FraudBoardInit
  ) {}

  private readonly onMessage = (evt: CustomEvent<Message>) => {
    if (evt.detail.topic !== FRAUD_TOPIC) {
      return
    }
    const proof = this.validated.get(evt.detail.data)
    if (proof != null) {
      this.init.onProof(proof, proof.reporter)
    }
  }

  start(): void {
    if (this.started) {
      return
    }
    this.started = true
    const pubsub = this.peer.libp2p.services.pubsub
    scoreTopic(this.peer, FRAUD_TOPIC)
    pubsub.topicValidators.set(FRAUD_TOPIC, async (_from, msg) => {
      const verdict = await validateFraudMessage(msg.data, Date.now())
      if (verdict.action !== 'accept' || verdict.value == null) {
        return toTopicValidatorResult(verdict.action)
      }
      // [IGNORE] a proof against a result already proven (spec §5.2).
      const id = toHex(sha256(verdict.value.accused.envelope))
      if (this.seen.has(id)) {
        return toTopicValidatorResult('ignore')
      }
      this.seen.add(id)
      if (this.seen.size > (this.init.seenLimit ?? 10_000)) {
        this.seen.delete(this.seen.values().next().value as string)
      }
      this.validated.set(msg.data, verdict.value)
      return toTopicValidatorResult('accept')
    })
    pubsub.subscribe(FRAUD_TOPIC)
    pubsub.addEventListener('message', this.onMessage)
  }

  stop(): void {
    if (!this.started) {
      return
    }
    this.started = false
    const pubsub = this.peer.libp2p.services.pubsub
    pubsub.removeEventListener('message', this.onMessage)
    pubsub.unsubscribe(FRAUD_TOPIC)
    pubsub.topicValidators.delete(FRAUD_TOPIC)
  }
}
