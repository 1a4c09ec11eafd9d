/**
 * A worker peer's parts, assembled: the WorkerService (jobs over gossip and queries, claims, runs,
 * signed results), its ReceiptStore (the provable earnings, §3.6), the CapacityPublisher that keeps
 * its capacity record in the DHT (§4.2), and model fetching by CID from providers (§6.4) into the
 * worker's ModelStore. Startable: `start()` registers everything, `stop()` undoes it in reverse.
 * Any InferenceBackend runs the tasks (onnxruntime's comes from `@openbatch/runtime-onnx`).
 */

import type { InferenceBackend, ModelStore } from '@openbatch/inference'
import { type Device, type ModelCapacity, parseModelCid } from '@openbatch/protocol'
import { CapacityPublisher } from './capacity.js'
import type { OpenbatchComponents } from './components.js'
import { fetchModel } from './models.js'
import { ReceiptStore } from './receipts.js'
import { withDeadline } from './signals.js'
import { WorkerService, type WorkerServiceInit } from './worker.js'

/** What a worker uses of a peer. */
export type WorkerNodeComponents = Pick<OpenbatchComponents, 'libp2p' | 'peerId' | 'privateKey' | 'reputation' | 'jobs'>

export interface WorkerNodeInit
  extends Pick<WorkerServiceInit, 'capacity' | 'onRun' | 'onError' | 'onReceipt' | 'onUnresponsive' | 'onJob'> {
  /** Runs the tasks. */
  backend: InferenceBackend
  /** The models served (every model in it) and where fetched ones go. */
  models: ModelStore
  /** The receipts database file, or ':memory:'. @default ':memory:' */
  receiptsPath?: string
  /** What the capacity record advertises: devices, and one offer per model (none: no record is published). */
  devices?: Device[]
  offers?: ModelCapacity[]
  /** How long fetching a model from its providers may take. @default 120_000 */
  modelFetchTimeoutMs?: number
}

export class WorkerNode {
  readonly receipts: ReceiptStore
  private service?: WorkerService
  private publisher?: CapacityPublisher
  private running = false

  constructor(
    private readonly components: WorkerNodeComponents,
    private readonly init: WorkerNodeInit
  ) {
    this.receipts = new ReceiptStore(init.receiptsPath ?? ':memory:')
  }

  /** The running WorkerService (its job board and agent), once started. */
  get worker(): WorkerService | undefined {
    return this.service
  }

  async start(): Promise<void> {
    if (this.running) {
      return
    }
    this.running = true
    const { models } = this.init
    const served = (await models.list()).map((m) => m.model)
    const fetchTimeout = this.init.modelFetchTimeoutMs ?? 120_000
    this.service = new WorkerService(this.components, {
      backend: this.init.backend,
      models: served,
      capacity: this.init.capacity,
      receiptStore: this.receipts,
      onRun: this.init.onRun,
      onError: this.init.onError,
      onReceipt: this.init.onReceipt,
      onUnresponsive: this.init.onUnresponsive,
      onJob: this.init.onJob,
      // §6.2: its price per item, by model, as the capacity record offers it.
      prices: Object.fromEntries((this.init.offers ?? []).map((o) => [parseModelCid(o.model).toString(), o.pricePerItem])),
      // §6.4: the job's requester holds its model; the DHT's providers are asked when it fails.
      ensureModel: async (model, requester) => {
        if (!(await models.has(model))) {
          await models.add(await withDeadline(fetchTimeout, (signal) => fetchModel(this.components, model, { signal, first: requester })))
        }
      }
    })
    this.service.start()
    const offers = this.init.offers ?? []
    if (offers.length > 0) {
      this.publisher = new CapacityPublisher(this.components, { devices: this.init.devices ?? [], models: offers }, (err) =>
        this.init.onError?.(err)
      )
      await this.publisher.start().catch((err: Error) => this.init.onError?.(err))
    }
  }

  /**
   * Stops publishing capacity and claiming; tasks in flight get `graceMs` to be submitted (see
   * WorkerService.stop). The receipts stay open until `close()`.
   */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.running) {
      return
    }
    this.running = false
    this.publisher?.stop()
    await this.service?.stop(graceMs)
  }

  /** Closes the receipts database (after `stop()`). */
  close(): void {
    this.receipts.close()
  }
}

/** A worker serving every model of `init.models` through `init.backend` (start it to join). */
export function createWorker(components: WorkerNodeComponents, init: WorkerNodeInit): WorkerNode {
  return new WorkerNode(components, init)
}
