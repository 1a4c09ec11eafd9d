/**
 * Protocol constants and default parameters. Every value here appears in the Parameters table of
 * protocol-spec/README.md; change both together.
 */

/** Version of the wire protocol these constants describe (spec header). */
export const PROTOCOL_VERSION = '1.0.0'

// --- §6 Stream protocol ids ------------------------------------------------------------------
export const WORK_PROTOCOL = '/openbatch/work/1.0.0'
export const RESULT_PROTOCOL = '/openbatch/result/1.0.0'
export const MODEL_PROTOCOL = '/openbatch/model/1.0.0'
/** A worker's own capacity record, fetched from the worker itself (§4.3). */
export const CAPACITY_PROTOCOL = '/openbatch/capacity/1.0.0'
/** Job discovery: a worker asks a peer for the open jobs it knows of (§6.7). */
export const JOB_QUERY_PROTOCOL = '/openbatch/job-query/1.0.0'
/** §6.9 A proven task's inputs, from its requester. */
export const INPUTS_PROTOCOL = '/openbatch/inputs/1.0.0'
/** kad-dht protocol prefix: `${DHT_PROTOCOL_PREFIX}/kad/1.0.0`, a private DHT (§4.1). */
export const DHT_PROTOCOL_PREFIX = '/openbatch'

// --- §5 Gossip topics ------------------------------------------------------------------------
/** Job announcements for one model: `${JOBS_TOPIC_PREFIX}<model CID, base32>` (§5.1). */
export const JOBS_TOPIC_PREFIX = '/openbatch/jobs/1.0.0/'
/** Fraud proofs, one network-wide topic (§5.2). */
export const FRAUD_TOPIC = '/openbatch/fraud/1.0.0'

// --- §4 DHT --------------------------------------------------------------------------------
/** Namespace of capacity records: key = `/openbatch-capacity/` + peer id bytes (§4.2). */
export const CAPACITY_NAMESPACE = 'openbatch-capacity'
/** Preimage of the worker rendezvous CID every worker provides (§4.3). */
export const WORKER_RENDEZVOUS_PREIMAGE = 'openbatch/rendezvous/workers/v1'
/** Prefix of the preimages of a model's worker shard CIDs: `${prefix}${model CID}/${shard}` (§4.3). */
export const WORKER_SHARD_PREFIX = 'openbatch/workers/v1/'
/** Shards of a model's workers in the DHT: one provider search finds ~20, so 8 keep listings complete to ~160 (§4.3). */
export const WORKER_SHARDS = 8

// --- §1 Signed envelopes: one domain and payload type per statement kind -----------------------
export const DOMAINS = {
  capacity: 'openbatch-capacity-record-v1',
  job: 'openbatch-job-announcement-v1',
  result: 'openbatch-task-result-v1',
  receipt: 'openbatch-receipt-v1',
  fraud: 'openbatch-fraud-proof-v1'
} as const

/**
 * Multicodec codes in the private-use range (0x300000–0x3fffff), written as unsigned varints in
 * the envelope's payload_type field (§1.2).
 */
export const PAYLOAD_CODES = {
  capacity: 0x300b01,
  job: 0x300b02,
  result: 0x300b03,
  receipt: 0x300b04,
  fraud: 0x300b05
} as const

// --- §3.1 Size limits (bytes unless named otherwise) -----------------------------------------
export const MAX_TENSOR_BYTES = 16 * 1024 * 1024
export const MAX_TENSOR_RANK = 8
/** Largest value of one dimension: dims are uint32 in the canonical encoding's range checks. */
export const MAX_TENSOR_DIM = 2 ** 32 - 1
export const MAX_TENSORS_PER_SET = 16
export const MAX_TENSOR_NAME_BYTES = 256
export const MAX_CAPACITY_RECORD_BYTES = 16 * 1024
export const MAX_JOB_ANNOUNCEMENT_BYTES = 8 * 1024
export const MAX_TASK_CLAIM_BYTES = 256
export const MAX_RESULT_BYTES = 20 * 1024 * 1024
export const MAX_RECEIPT_BYTES = 2 * 1024
export const MAX_FRAUD_PROOF_BYTES = 1024 * 1024
/** One stream frame (assignment, result submission, ack, model chunk). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024
export const MAX_MODEL_CHUNK_BYTES = 1024 * 1024
export const MAX_MODEL_BYTES = 2 * 1024 * 1024 * 1024
export const MAX_TASKS_PER_CLAIM = 256
export const MAX_TASKS_PER_JOB = 2 ** 40
export const MIN_NONCE_BYTES = 16
export const MAX_NONCE_BYTES = 32
export const MAX_TEXT_BYTES = 1024
/** One multiaddr in a job announcement's `addresses` (§3.3). */
export const MAX_ADDRESS_BYTES = 256
/** A JobQuery frame: up to 64 model ids (§6.7). */
export const MAX_JOB_QUERY_BYTES = 4096
/** A JobList frame: up to 64 announcements of at most MAX_JOB_ANNOUNCEMENT_BYTES each (§6.7). */
export const MAX_JOB_LIST_BYTES = 64 * (8 * 1024 + 4)
/** Largest ModelRequest frame (§6.4). */
export const MAX_MODEL_REQUEST_BYTES = 128
/** Largest InputRequest frame (§6.9). */
export const MAX_INPUT_REQUEST_BYTES = 128

// --- §4, §5, §6 Times (milliseconds) ---------------------------------------------------------
export const CAPACITY_TTL_MS = 60 * 60 * 1000
export const MAX_CAPACITY_TTL_MS = 24 * 60 * 60 * 1000
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
export const MAX_JOB_DURATION_MS = 30 * 24 * 60 * 60 * 1000
export const STREAM_TIMEOUT_MS = 30 * 1000
export const DEFAULT_LEASE_MS = 60 * 1000
export const FRAUD_PROOF_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000
/** A requester begins its answer to a claim within this; a worker may give up after it (§6.2). */
export const CLAIM_TIMEOUT_MS = 5 * 1000
/**
 * How long a peer waits for hole punching to upgrade a limited relay connection before a bulk
 * protocol gives up on the peer (§4.4).
 */
export const DIRECT_UPGRADE_TIMEOUT_MS = 30 * 1000
/** A requester re-announces each open job at this interval with a fresh issued_at_ms (§5.1). */
export const REANNOUNCE_INTERVAL_MS = 30 * 1000
/** Receivers ignore a re-announcement issued less than this after the last one they accepted (§5.1). */
export const MIN_REANNOUNCE_INTERVAL_MS = 10 * 1000

// --- §6.6 Task failures ------------------------------------------------------------------------
/** A task that failed transiently on this many distinct workers settles as failed (§6.6). */
export const MAX_TRANSIENT_FAILURES = 3
/** FailureKind codes below this are deterministic, the rest transient (§6.6). */
export const FIRST_TRANSIENT_FAILURE = 16

// --- §7 Verification defaults ----------------------------------------------------------------
export const DEFAULT_INITIAL_RATE = 1
export const DEFAULT_MIN_RATE = 0.05
export const DEFAULT_TRUST_HORIZON = 10
export const DEFAULT_CANARY_RATE = 0.01
/** Multiplier on the Proof-of-Sampling floor C/(R+S), so honest play wins by a margin (§7.3). */
export const POS_SAFETY_MARGIN = 2
/** A fraud proof needs at least this many agreeing results from distinct signers (§7.5). */
export const MIN_FRAUD_WITNESSES = 2
export const MAX_FRAUD_WITNESSES = 8

/** Default float agreement: |a−b| ≤ atol + rtol·max(|a|,|b|) (§7.1); calibrated in runtime-onnx. */
export const DEFAULT_ATOL = 1e-4
export const DEFAULT_RTOL = 1e-3
export const DEFAULT_MIN_COSINE = 0.999
export const DEFAULT_TIE_TOLERANCE = 1e-4

// --- §7.6 Reputation -------------------------------------------------------------------------
export const REPUTATION_WEIGHTS = {
  agreement: 1,
  disagreement: 5,
  timeout: 0.5
} as const
export const BAN_BASE_MS = 24 * 60 * 60 * 1000
export const BAN_MAX_MS = 30 * 24 * 60 * 60 * 1000
export const PERMANENT_BAN_OFFENCES = 3
