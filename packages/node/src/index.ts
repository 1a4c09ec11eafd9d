/**
 * @packageDocumentation
 *
 * `@openbatch/node` is the libp2p glue of an openbatch peer: {@link createOpenbatchPeer} builds libp2p 3
 * with TCP and/or the memory transport, noise, yamux, identify, ping, a private kad-dht (protocol
 * `/openbatch/kad/1.0.0`) carrying the spec's capacity-record validator and selector, and
 * gossipsub; the identity key and datastore persist in `dataDir`.
 * {@link publishCapacity} and {@link findWorkers} advertise and discover workers (spec §4).
 *
 * @example
 *
 * ```ts
 * import { createOpenbatchPeer, publishCapacity, findWorkers } from '@openbatch/node'
 *
 * const worker = await createOpenbatchPeer({ dataDir: './worker', bootstrap: [addr] })
 * await worker.start()
 * await publishCapacity(worker, { devices, models: [{ model: cid.bytes, itemsPerSecond: 1100, maxBatch: 32, pricePerItem: 5n }] })
 *
 * for await (const w of findWorkers(requester, cid.toString())) {
 *   console.log(w.peerId.toString(), w.record.models)
 * }
 * ```
 */

export { inLocalNetwork, isNonPublicIp, isUsableAddress, localNetworks, usableAddressesMapper } from './addresses.js'
export {
  type CapacityComponents,
  type CapacityInit,
  CapacityPublisher,
  type DiscoverWorkersOptions,
  discoverWorkers,
  type FindWorkersOptions,
  fetchCapacity,
  findWorkers,
  getCapacity,
  publishCapacity,
  type WorkerInfo
} from './capacity.js'
export type {
  JobListing,
  OpenbatchComponents,
  OpenbatchLibp2p,
  PeerServices,
  PubSubComponents
} from './components.js'
export {
  DEFAULT_MDNS_SERVICE_TAG,
  DEFAULT_STUN,
  type PeerConfig,
  type RelayReservation,
  type RelayService,
  type ResolvedConfig,
  resolveConfig,
  TRANSPORTS,
  type TransportName
} from './config.js'
export { isCorruption, openDatabase, StoreCorruptError } from './database.js'
export { connectDirect, type DialDirectOptions, dialDirect } from './direct.js'
export {
  asError,
  ConfigError,
  FraudProofError,
  IdentityKeyError,
  InputsRefusedError,
  InvalidJobError,
  InvalidReceiptError,
  JobCancelledError,
  JobDeadlineError,
  NoDirectConnectionError,
  NonErrorThrownError,
  NoWorkersError,
  ProtocolViolationError,
  UnknownJobError
} from './errors.js'
export { AnswerTimeoutError, frameStream } from './framing.js'
export { FraudBoard, type FraudBoardInit, publishFraudProof } from './fraud.js'
export { EXTERNAL_MEMORY_FLAG, paceGcToExternalMemory } from './gc.js'
export { OPENBATCH_TOPIC_SCORE, scoreTopic, toTopicValidatorResult } from './gossip-validation.js'
export { loadOrCreateIdentity } from './identity.js'
export {
  type AcceptedRun,
  type CountedEvent,
  type JobRecord,
  type JobStore,
  MemoryJobStore,
  type StageOptions,
  type StoredJob,
  type StoredPolicy,
  type StoredResult,
  type StoredTask,
  WRITE_BEHIND_MS
} from './job-store.js'
export {
  type AnnounceOptions,
  announcedAddresses,
  announceJob,
  JobAnnouncer,
  type JobAnnouncerInit,
  JobBoard,
  type JobBoardInit,
  type JobComponents,
  JobDirectory,
  type JobDirectoryInit,
  learnRequesterAddresses,
  queryJobs
} from './jobs.js'
export { type FetchModelOptions, fetchModel, ModelFetchError, ModelServer, type ModelSource } from './models.js'
export { createOpenbatchPeer, libp2pOptions, listenAddresses, OpenbatchPeer, type PeerComponents } from './peer.js'
export {
  isRelayAddress,
  type NetworkReport,
  ObservedAddresses,
  type Reachability,
  reachabilityOf
} from './reachability.js'
export { ReceiptStore, type ReceiptTotals } from './receipts.js'
export { BANNED_APP_SCORE, REPUTATION_WRITE_BEHIND_MS, Reputation } from './reputation.js'
export {
  type AddJobInit,
  ASSIGNMENT_OVERHEAD_BYTES,
  DEFAULT_ASSIGNMENT_BYTES,
  type FraudEvent,
  type JobProgress,
  networkGroup,
  type RequesterComponents,
  RequesterService,
  type RequesterServiceInit,
  secureRandom,
  taskBytes,
  type VerdictEvent
} from './requester.js'
export { type CheckedResult, checkResult, PROVABLY_BAD, type ResultJob } from './result-checks.js'
export { type Deadline, deadline, LOOP_SLICE_MS, loopTurn, sleep, withDeadline } from './signals.js'
export { SqliteJobStore, STAGED_INPUT_CACHE_BYTES } from './sqlite-store.js'
export { type StunServer, startStunServer, stunBindingResponse } from './stun.js'
export {
  type ClaimOptions,
  claimTasks,
  fetchInputs,
  submitResults,
  type WorkHandlers,
  WorkServer,
  type WorkServerInit
} from './work.js'
export {
  classifyFailure,
  submissions,
  type WorkerComponents,
  type WorkerJobEvent,
  WorkerService,
  type WorkerServiceInit
} from './worker.js'
export { createWorker, WorkerNode, type WorkerNodeComponents, type WorkerNodeInit } from './worker-node.js'
