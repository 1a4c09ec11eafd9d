/**
 * Fraud proofs over gossip (spec §5.2, §7.5): every peer validates a proof itself before it is
 * forwarded — an invalid one is [REJECT]ed, which costs its sender gossipsub score — and hands
 * each valid, new proof to the caller (to lower the culprit's reputation and ban it, §7.6).
 */

import type { PeerId } from '@libp2p/interface'
import { type CheckedFraudProof, FRAUD_TOPIC, sha256, toHex, validateFraudMessage } from '@openbatch/protocol'
import type { OpenbatchComponents, PubSubComponents } from './components.js'
import { TopicBoard } from './topic-board.js'

/** Publishes a signed fraud proof (from `createFraudProof`). */
export async function publishFraudProof(peer: Pick<OpenbatchComponents, 'libp2p'>, envelope: Uint8Array): Promise<void> {
  await peer.libp2p.services.pubsub.publish(FRAUD_TOPIC, envelope)
}

export interface FraudBoardInit {
  /** Called once per valid proof against a given result. */
  onProof: (proof: CheckedFraudProof, reporter: PeerId) => void
  /** How many accused results to remember for de-duplication. @default 10000 */
  seenLimit?: number
}

export class FraudBoard {
  private readonly board: TopicBoard<CheckedFraudProof & { reporter: PeerId }>

  constructor(components: PubSubComponents, init: FraudBoardInit) {
    this.board = new TopicBoard(
      components,
      [FRAUD_TOPIC],
      async (_topic, data) => {
        const verdict = await validateFraudMessage(data, Date.now())
        // [IGNORE] a proof against a result already proven (spec §5.2).
        return { ...verdict, key: verdict.value == null ? undefined : toHex(sha256(verdict.value.accused.envelope)) }
      },
      (proof) => init.onProof(proof, proof.reporter),
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
