import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum DType {
  DTYPE_UNSPECIFIED = 'DTYPE_UNSPECIFIED',
  FLOAT32 = 'FLOAT32',
  UINT8 = 'UINT8',
  INT8 = 'INT8',
  UINT16 = 'UINT16',
  INT16 = 'INT16',
  INT32 = 'INT32',
  INT64 = 'INT64',
  BOOL = 'BOOL',
  FLOAT16 = 'FLOAT16',
  FLOAT64 = 'FLOAT64',
  UINT32 = 'UINT32',
  UINT64 = 'UINT64'
}

enum __DTypeValues {
  DTYPE_UNSPECIFIED = 0,
  FLOAT32 = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  FLOAT16 = 10,
  FLOAT64 = 11,
  UINT32 = 12,
  UINT64 = 13
}

export namespace DType {
  export const codec = (): Codec<DType> => {
    return enumeration<DType>(__DTypeValues)
  }
}

export interface Tensor {
  name: string
  dtype: DType
  dims: bigint[]
  data: Uint8Array<ArrayBuffer>
}

export namespace Tensor {
  let _codec: Codec<Tensor>

  export const codec = (): Codec<Tensor> => {
    if (_codec == null) {
      _codec = message<Tensor>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if (obj.dtype != null && __DTypeValues[obj.dtype] !== 0) {
          w.uint32(16)
          DType.codec().encode(obj.dtype, w)
        }

        if (obj.dims != null && obj.dims.length > 0) {
          for (const value of obj.dims) {
            w.uint32(24)
            w.uint64(value)
          }
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          dtype: DType.DTYPE_UNSPECIFIED,
          dims: [],
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.dtype = DType.codec().decode(reader)
              break
            }
            case 3: {
              if (opts.limits?.dims != null && obj.dims.length === opts.limits.dims) {
                throw new MaxLengthError('Decode error - repeated field "dims" had too many elements')
              }

              if (obj.dims.length === 8) {
                throw new MaxLengthError('Decode error - repeated field "dims" had too many elements')
              }

              obj.dims.push(reader.uint64())
              break
            }
            case 4: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          dims: 8
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.dtype`,
                value: DType.codec().decode(reader)
              }
              break
            }
            case 3: {
              if (opts.limits?.dims != null && obj.dims === opts.limits.dims) {
                throw new MaxLengthError('Streaming decode error - repeated field "dims" had too many elements')
              }

              if (obj.dims === 8) {
                throw new MaxLengthError('Streaming decode error - repeated field "dims" had too many elements')
              }

              yield {
                field: `${prefix}.dims[]`,
                index: obj.dims,
                value: reader.uint64()
              }

              obj.dims++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TensorNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface TensorDtypeFieldEvent {
    field: '$.dtype'
    value: DType
  }

  export interface TensorDimsFieldEvent {
    field: '$.dims[]'
    index: number
    value: bigint
  }

  export interface TensorDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Tensor>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Tensor.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tensor>): Tensor {
    return decodeMessage(buf, Tensor.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tensor>): Generator<TensorNameFieldEvent | TensorDtypeFieldEvent | TensorDimsFieldEvent | TensorDataFieldEvent> {
    return streamMessage(buf, Tensor.codec(), opts)
  }
}

export enum ErrorCode {
  OK = 'OK',
  MALFORMED = 'MALFORMED',
  TOO_LARGE = 'TOO_LARGE',
  UNKNOWN_JOB = 'UNKNOWN_JOB',
  NO_TASKS = 'NO_TASKS',
  LEASE_EXPIRED = 'LEASE_EXPIRED',
  NOT_ASSIGNED = 'NOT_ASSIGNED',
  WRONG_MODEL = 'WRONG_MODEL',
  WRONG_INPUT_DIGEST = 'WRONG_INPUT_DIGEST',
  BAD_SIGNATURE = 'BAD_SIGNATURE',
  WRONG_SIGNER = 'WRONG_SIGNER',
  RATE_LIMITED = 'RATE_LIMITED',
  BANNED = 'BANNED',
  INTERNAL = 'INTERNAL',
  TIMEOUT = 'TIMEOUT',
  MODEL_NOT_FOUND = 'MODEL_NOT_FOUND',
  DUPLICATE = 'DUPLICATE',
  JOB_CLOSED = 'JOB_CLOSED',
  RETRY_ELSEWHERE = 'RETRY_ELSEWHERE'
}

enum __ErrorCodeValues {
  OK = 0,
  MALFORMED = 1,
  TOO_LARGE = 2,
  UNKNOWN_JOB = 3,
  NO_TASKS = 4,
  LEASE_EXPIRED = 5,
  NOT_ASSIGNED = 6,
  WRONG_MODEL = 7,
  WRONG_INPUT_DIGEST = 8,
  BAD_SIGNATURE = 9,
  WRONG_SIGNER = 10,
  RATE_LIMITED = 11,
  BANNED = 12,
  INTERNAL = 13,
  TIMEOUT = 14,
  MODEL_NOT_FOUND = 15,
  DUPLICATE = 16,
  JOB_CLOSED = 17,
  RETRY_ELSEWHERE = 18
}

export namespace ErrorCode {
  export const codec = (): Codec<ErrorCode> => {
    return enumeration<ErrorCode>(__ErrorCodeValues)
  }
}

export enum FailureKind {
  FAILURE_UNSPECIFIED = 'FAILURE_UNSPECIFIED',
  INPUT_REJECTED = 'INPUT_REJECTED',
  INFERENCE_FAILED = 'INFERENCE_FAILED',
  UNSUPPORTED_MODEL = 'UNSUPPORTED_MODEL',
  RESOURCE_EXHAUSTED = 'RESOURCE_EXHAUSTED',
  DEVICE_LOST = 'DEVICE_LOST',
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  WORKER_STOPPING = 'WORKER_STOPPING'
}

enum __FailureKindValues {
  FAILURE_UNSPECIFIED = 0,
  INPUT_REJECTED = 1,
  INFERENCE_FAILED = 2,
  UNSUPPORTED_MODEL = 3,
  RESOURCE_EXHAUSTED = 16,
  DEVICE_LOST = 17,
  MODEL_UNAVAILABLE = 18,
  WORKER_STOPPING = 19
}

export namespace FailureKind {
  export const codec = (): Codec<FailureKind> => {
    return enumeration<FailureKind>(__FailureKindValues)
  }
}

export interface TaskFailure {
  kind: FailureKind
  message: string
}

export namespace TaskFailure {
  let _codec: Codec<TaskFailure>

  export const codec = (): Codec<TaskFailure> => {
    if (_codec == null) {
      _codec = message<TaskFailure>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __FailureKindValues[obj.kind] !== 0) {
          w.uint32(8)
          FailureKind.codec().encode(obj.kind, w)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: FailureKind.FAILURE_UNSPECIFIED,
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = FailureKind.codec().decode(reader)
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: FailureKind.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TaskFailureKindFieldEvent {
    field: '$.kind'
    value: FailureKind
  }

  export interface TaskFailureMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<TaskFailure>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskFailure.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskFailure>): TaskFailure {
    return decodeMessage(buf, TaskFailure.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskFailure>): Generator<TaskFailureKindFieldEvent | TaskFailureMessageFieldEvent> {
    return streamMessage(buf, TaskFailure.codec(), opts)
  }
}

export interface Device {
  kind: string
  name: string
  memoryBytes: bigint
}

export namespace Device {
  let _codec: Codec<Device>

  export const codec = (): Codec<Device> => {
    if (_codec == null) {
      _codec = message<Device>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.kind != null && obj.kind !== '')) {
          w.uint32(10)
          w.string(obj.kind)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.memoryBytes != null && obj.memoryBytes !== 0n)) {
          w.uint32(24)
          w.uint64(obj.memoryBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: '',
          name: '',
          memoryBytes: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = reader.string()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.memoryBytes = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.memoryBytes`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface DeviceKindFieldEvent {
    field: '$.kind'
    value: string
  }

  export interface DeviceNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface DeviceMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: bigint
  }

  export function encode (obj: Partial<Device>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Device.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Device>): Device {
    return decodeMessage(buf, Device.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Device>): Generator<DeviceKindFieldEvent | DeviceNameFieldEvent | DeviceMemoryBytesFieldEvent> {
    return streamMessage(buf, Device.codec(), opts)
  }
}

export interface ModelCapacity {
  model: Uint8Array<ArrayBuffer>
  itemsPerSecond: number
  maxBatch: number
  pricePerItem: bigint
}

export namespace ModelCapacity {
  let _codec: Codec<ModelCapacity>

  export const codec = (): Codec<ModelCapacity> => {
    if (_codec == null) {
      _codec = message<ModelCapacity>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.model != null && obj.model.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.model)
        }

        if ((obj.itemsPerSecond != null && obj.itemsPerSecond !== 0)) {
          w.uint32(17)
          w.double(obj.itemsPerSecond)
        }

        if ((obj.maxBatch != null && obj.maxBatch !== 0)) {
          w.uint32(24)
          w.uint32(obj.maxBatch)
        }

        if ((obj.pricePerItem != null && obj.pricePerItem !== 0n)) {
          w.uint32(32)
          w.uint64(obj.pricePerItem)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          model: uint8ArrayAlloc(0),
          itemsPerSecond: 0,
          maxBatch: 0,
          pricePerItem: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.model = reader.bytes()
              break
            }
            case 2: {
              obj.itemsPerSecond = reader.double()
              break
            }
            case 3: {
              obj.maxBatch = reader.uint32()
              break
            }
            case 4: {
              obj.pricePerItem = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.model`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.itemsPerSecond`,
                value: reader.double()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.maxBatch`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.pricePerItem`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ModelCapacityModelFieldEvent {
    field: '$.model'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ModelCapacityItemsPerSecondFieldEvent {
    field: '$.itemsPerSecond'
    value: number
  }

  export interface ModelCapacityMaxBatchFieldEvent {
    field: '$.maxBatch'
    value: number
  }

  export interface ModelCapacityPricePerItemFieldEvent {
    field: '$.pricePerItem'
    value: bigint
  }

  export function encode (obj: Partial<ModelCapacity>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ModelCapacity.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelCapacity>): ModelCapacity {
    return decodeMessage(buf, ModelCapacity.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelCapacity>): Generator<ModelCapacityModelFieldEvent | ModelCapacityItemsPerSecondFieldEvent | ModelCapacityMaxBatchFieldEvent | ModelCapacityPricePerItemFieldEvent> {
    return streamMessage(buf, ModelCapacity.codec(), opts)
  }
}

export interface CapacityRecord {
  worker: Uint8Array<ArrayBuffer>
  seq: bigint
  issuedAtMs: bigint
  expiresAtMs: bigint
  devices: Device[]
  models: ModelCapacity[]
}

export namespace CapacityRecord {
  let _codec: Codec<CapacityRecord>

  export const codec = (): Codec<CapacityRecord> => {
    if (_codec == null) {
      _codec = message<CapacityRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.worker != null && obj.worker.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.worker)
        }

        if ((obj.seq != null && obj.seq !== 0n)) {
          w.uint32(16)
          w.uint64(obj.seq)
        }

        if ((obj.issuedAtMs != null && obj.issuedAtMs !== 0n)) {
          w.uint32(24)
          w.uint64(obj.issuedAtMs)
        }

        if ((obj.expiresAtMs != null && obj.expiresAtMs !== 0n)) {
          w.uint32(32)
          w.uint64(obj.expiresAtMs)
        }

        if (obj.devices != null && obj.devices.length > 0) {
          for (const value of obj.devices) {
            w.uint32(42)
            Device.codec().encode(value, w)
          }
        }

        if (obj.models != null && obj.models.length > 0) {
          for (const value of obj.models) {
            w.uint32(50)
            ModelCapacity.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          worker: uint8ArrayAlloc(0),
          seq: 0n,
          issuedAtMs: 0n,
          expiresAtMs: 0n,
          devices: [],
          models: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.worker = reader.bytes()
              break
            }
            case 2: {
              obj.seq = reader.uint64()
              break
            }
            case 3: {
              obj.issuedAtMs = reader.uint64()
              break
            }
            case 4: {
              obj.expiresAtMs = reader.uint64()
              break
            }
            case 5: {
              if (opts.limits?.devices != null && obj.devices.length === opts.limits.devices) {
                throw new MaxLengthError('Decode error - repeated field "devices" had too many elements')
              }

              if (obj.devices.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "devices" had too many elements')
              }

              obj.devices.push(Device.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.devices$
              }))
              break
            }
            case 6: {
              if (opts.limits?.models != null && obj.models.length === opts.limits.models) {
                throw new MaxLengthError('Decode error - repeated field "models" had too many elements')
              }

              if (obj.models.length === 64) {
                throw new MaxLengthError('Decode error - repeated field "models" had too many elements')
              }

              obj.models.push(ModelCapacity.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.models$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          devices: 16,
          models: 64
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.worker`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.issuedAtMs`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.expiresAtMs`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              if (opts.limits?.devices != null && obj.devices === opts.limits.devices) {
                throw new MaxLengthError('Streaming decode error - repeated field "devices" had too many elements')
              }

              if (obj.devices === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "devices" had too many elements')
              }

              for (const evt of Device.codec().stream(reader, reader.uint32(), `${prefix}.devices[]`, {
                limits: opts.limits?.devices$
              })) {
                yield {
                  ...evt,
                  index: obj.devices
                }
              }

              obj.devices++

              break
            }
            case 6: {
              if (opts.limits?.models != null && obj.models === opts.limits.models) {
                throw new MaxLengthError('Streaming decode error - repeated field "models" had too many elements')
              }

              if (obj.models === 64) {
                throw new MaxLengthError('Streaming decode error - repeated field "models" had too many elements')
              }

              for (const evt of ModelCapacity.codec().stream(reader, reader.uint32(), `${prefix}.models[]`, {
                limits: opts.limits?.models$
              })) {
                yield {
                  ...evt,
                  index: obj.models
                }
              }

              obj.models++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CapacityRecordWorkerFieldEvent {
    field: '$.worker'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CapacityRecordSeqFieldEvent {
    field: '$.seq'
    value: bigint
  }

  export interface CapacityRecordIssuedAtMsFieldEvent {
    field: '$.issuedAtMs'
    value: bigint
  }

  export interface CapacityRecordExpiresAtMsFieldEvent {
    field: '$.expiresAtMs'
    value: bigint
  }

  export interface CapacityRecordDevicesKindFieldEvent {
    field: '$.devices[].kind'
    value: string
    index: number
  }

  export interface CapacityRecordDevicesNameFieldEvent {
    field: '$.devices[].name'
    value: string
    index: number
  }

  export interface CapacityRecordDevicesMemoryBytesFieldEvent {
    field: '$.devices[].memoryBytes'
    value: bigint
    index: number
  }

  export interface CapacityRecordModelsModelFieldEvent {
    field: '$.models[].model'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface CapacityRecordModelsItemsPerSecondFieldEvent {
    field: '$.models[].itemsPerSecond'
    value: number
    index: number
  }

  export interface CapacityRecordModelsMaxBatchFieldEvent {
    field: '$.models[].maxBatch'
    value: number
    index: number
  }

  export interface CapacityRecordModelsPricePerItemFieldEvent {
    field: '$.models[].pricePerItem'
    value: bigint
    index: number
  }

  export function encode (obj: Partial<CapacityRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CapacityRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapacityRecord>): CapacityRecord {
    return decodeMessage(buf, CapacityRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapacityRecord>): Generator<CapacityRecordWorkerFieldEvent | CapacityRecordSeqFieldEvent | CapacityRecordIssuedAtMsFieldEvent | CapacityRecordExpiresAtMsFieldEvent | CapacityRecordDevicesKindFieldEvent | CapacityRecordDevicesNameFieldEvent | CapacityRecordDevicesMemoryBytesFieldEvent | CapacityRecordModelsModelFieldEvent | CapacityRecordModelsItemsPerSecondFieldEvent | CapacityRecordModelsMaxBatchFieldEvent | CapacityRecordModelsPricePerItemFieldEvent> {
    return streamMessage(buf, CapacityRecord.codec(), opts)
  }
}

export enum AgreementKind {
  AGREEMENT_UNSPECIFIED = 'AGREEMENT_UNSPECIFIED',
  EXACT = 'EXACT',
  ARGMAX = 'ARGMAX',
  TOP_K = 'TOP_K',
  ALLCLOSE = 'ALLCLOSE',
  COSINE = 'COSINE'
}

enum __AgreementKindValues {
  AGREEMENT_UNSPECIFIED = 0,
  EXACT = 1,
  ARGMAX = 2,
  TOP_K = 3,
  ALLCLOSE = 4,
  COSINE = 5
}

export namespace AgreementKind {
  export const codec = (): Codec<AgreementKind> => {
    return enumeration<AgreementKind>(__AgreementKindValues)
  }
}

export interface AgreementRule {
  output: string
  kind: AgreementKind
  atol: number
  rtol: number
  minCosine: number
  k: number
  tieTolerance: number
}

export namespace AgreementRule {
  let _codec: Codec<AgreementRule>

  export const codec = (): Codec<AgreementRule> => {
    if (_codec == null) {
      _codec = message<AgreementRule>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.output != null && obj.output !== '')) {
          w.uint32(10)
          w.string(obj.output)
        }

        if (obj.kind != null && __AgreementKindValues[obj.kind] !== 0) {
          w.uint32(16)
          AgreementKind.codec().encode(obj.kind, w)
        }

        if ((obj.atol != null && obj.atol !== 0)) {
          w.uint32(25)
          w.double(obj.atol)
        }

        if ((obj.rtol != null && obj.rtol !== 0)) {
          w.uint32(33)
          w.double(obj.rtol)
        }

        if ((obj.minCosine != null && obj.minCosine !== 0)) {
          w.uint32(41)
          w.double(obj.minCosine)
        }

        if ((obj.k != null && obj.k !== 0)) {
          w.uint32(48)
          w.uint32(obj.k)
        }

        if ((obj.tieTolerance != null && obj.tieTolerance !== 0)) {
          w.uint32(57)
          w.double(obj.tieTolerance)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          output: '',
          kind: AgreementKind.AGREEMENT_UNSPECIFIED,
          atol: 0,
          rtol: 0,
          minCosine: 0,
          k: 0,
          tieTolerance: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.output = reader.string()
              break
            }
            case 2: {
              obj.kind = AgreementKind.codec().decode(reader)
              break
            }
            case 3: {
              obj.atol = reader.double()
              break
            }
            case 4: {
              obj.rtol = reader.double()
              break
            }
            case 5: {
              obj.minCosine = reader.double()
              break
            }
            case 6: {
              obj.k = reader.uint32()
              break
            }
            case 7: {
              obj.tieTolerance = reader.double()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.output`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.kind`,
                value: AgreementKind.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.atol`,
                value: reader.double()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.rtol`,
                value: reader.double()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.minCosine`,
                value: reader.double()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.k`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.tieTolerance`,
                value: reader.double()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AgreementRuleOutputFieldEvent {
    field: '$.output'
    value: string
  }

  export interface AgreementRuleKindFieldEvent {
    field: '$.kind'
    value: AgreementKind
  }

  export interface AgreementRuleAtolFieldEvent {
    field: '$.atol'
    value: number
  }

  export interface AgreementRuleRtolFieldEvent {
    field: '$.rtol'
    value: number
  }

  export interface AgreementRuleMinCosineFieldEvent {
    field: '$.minCosine'
    value: number
  }

  export interface AgreementRuleKFieldEvent {
    field: '$.k'
    value: number
  }

  export interface AgreementRuleTieToleranceFieldEvent {
    field: '$.tieTolerance'
    value: number
  }

  export function encode (obj: Partial<AgreementRule>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AgreementRule.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AgreementRule>): AgreementRule {
    return decodeMessage(buf, AgreementRule.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AgreementRule>): Generator<AgreementRuleOutputFieldEvent | AgreementRuleKindFieldEvent | AgreementRuleAtolFieldEvent | AgreementRuleRtolFieldEvent | AgreementRuleMinCosineFieldEvent | AgreementRuleKFieldEvent | AgreementRuleTieToleranceFieldEvent> {
    return streamMessage(buf, AgreementRule.codec(), opts)
  }
}

export interface VerificationPolicy {
  initialRate: number
  minRate: number
  trustHorizon: number
  canaryRate: number
  penalty: bigint
  cost: bigint
  agreement: AgreementRule[]
}

export namespace VerificationPolicy {
  let _codec: Codec<VerificationPolicy>

  export const codec = (): Codec<VerificationPolicy> => {
    if (_codec == null) {
      _codec = message<VerificationPolicy>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.initialRate != null && obj.initialRate !== 0)) {
          w.uint32(9)
          w.double(obj.initialRate)
        }

        if ((obj.minRate != null && obj.minRate !== 0)) {
          w.uint32(17)
          w.double(obj.minRate)
        }

        if ((obj.trustHorizon != null && obj.trustHorizon !== 0)) {
          w.uint32(24)
          w.uint32(obj.trustHorizon)
        }

        if ((obj.canaryRate != null && obj.canaryRate !== 0)) {
          w.uint32(33)
          w.double(obj.canaryRate)
        }

        if ((obj.penalty != null && obj.penalty !== 0n)) {
          w.uint32(40)
          w.uint64(obj.penalty)
        }

        if ((obj.cost != null && obj.cost !== 0n)) {
          w.uint32(48)
          w.uint64(obj.cost)
        }

        if (obj.agreement != null && obj.agreement.length > 0) {
          for (const value of obj.agreement) {
            w.uint32(58)
            AgreementRule.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          initialRate: 0,
          minRate: 0,
          trustHorizon: 0,
          canaryRate: 0,
          penalty: 0n,
          cost: 0n,
          agreement: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.initialRate = reader.double()
              break
            }
            case 2: {
              obj.minRate = reader.double()
              break
            }
            case 3: {
              obj.trustHorizon = reader.uint32()
              break
            }
            case 4: {
              obj.canaryRate = reader.double()
              break
            }
            case 5: {
              obj.penalty = reader.uint64()
              break
            }
            case 6: {
              obj.cost = reader.uint64()
              break
            }
            case 7: {
              if (opts.limits?.agreement != null && obj.agreement.length === opts.limits.agreement) {
                throw new MaxLengthError('Decode error - repeated field "agreement" had too many elements')
              }

              if (obj.agreement.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "agreement" had too many elements')
              }

              obj.agreement.push(AgreementRule.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.agreement$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          agreement: 16
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.initialRate`,
                value: reader.double()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.minRate`,
                value: reader.double()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.trustHorizon`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.canaryRate`,
                value: reader.double()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.penalty`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.cost`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              if (opts.limits?.agreement != null && obj.agreement === opts.limits.agreement) {
                throw new MaxLengthError('Streaming decode error - repeated field "agreement" had too many elements')
              }

              if (obj.agreement === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "agreement" had too many elements')
              }

              for (const evt of AgreementRule.codec().stream(reader, reader.uint32(), `${prefix}.agreement[]`, {
                limits: opts.limits?.agreement$
              })) {
                yield {
                  ...evt,
                  index: obj.agreement
                }
              }

              obj.agreement++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface VerificationPolicyInitialRateFieldEvent {
    field: '$.initialRate'
    value: number
  }

  export interface VerificationPolicyMinRateFieldEvent {
    field: '$.minRate'
    value: number
  }

  export interface VerificationPolicyTrustHorizonFieldEvent {
    field: '$.trustHorizon'
    value: number
  }

  export interface VerificationPolicyCanaryRateFieldEvent {
    field: '$.canaryRate'
    value: number
  }

  export interface VerificationPolicyPenaltyFieldEvent {
    field: '$.penalty'
    value: bigint
  }

  export interface VerificationPolicyCostFieldEvent {
    field: '$.cost'
    value: bigint
  }

  export interface VerificationPolicyAgreementOutputFieldEvent {
    field: '$.agreement[].output'
    value: string
    index: number
  }

  export interface VerificationPolicyAgreementKindFieldEvent {
    field: '$.agreement[].kind'
    value: AgreementKind
    index: number
  }

  export interface VerificationPolicyAgreementAtolFieldEvent {
    field: '$.agreement[].atol'
    value: number
    index: number
  }

  export interface VerificationPolicyAgreementRtolFieldEvent {
    field: '$.agreement[].rtol'
    value: number
    index: number
  }

  export interface VerificationPolicyAgreementMinCosineFieldEvent {
    field: '$.agreement[].minCosine'
    value: number
    index: number
  }

  export interface VerificationPolicyAgreementKFieldEvent {
    field: '$.agreement[].k'
    value: number
    index: number
  }

  export interface VerificationPolicyAgreementTieToleranceFieldEvent {
    field: '$.agreement[].tieTolerance'
    value: number
    index: number
  }

  export function encode (obj: Partial<VerificationPolicy>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, VerificationPolicy.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VerificationPolicy>): VerificationPolicy {
    return decodeMessage(buf, VerificationPolicy.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VerificationPolicy>): Generator<VerificationPolicyInitialRateFieldEvent | VerificationPolicyMinRateFieldEvent | VerificationPolicyTrustHorizonFieldEvent | VerificationPolicyCanaryRateFieldEvent | VerificationPolicyPenaltyFieldEvent | VerificationPolicyCostFieldEvent | VerificationPolicyAgreementOutputFieldEvent | VerificationPolicyAgreementKindFieldEvent | VerificationPolicyAgreementAtolFieldEvent | VerificationPolicyAgreementRtolFieldEvent | VerificationPolicyAgreementMinCosineFieldEvent | VerificationPolicyAgreementKFieldEvent | VerificationPolicyAgreementTieToleranceFieldEvent> {
    return streamMessage(buf, VerificationPolicy.codec(), opts)
  }
}

export interface JobAnnouncement {
  jobId: Uint8Array<ArrayBuffer>
  requester: Uint8Array<ArrayBuffer>
  nonce: Uint8Array<ArrayBuffer>
  model: Uint8Array<ArrayBuffer>
  taskCount: bigint
  verification?: VerificationPolicy
  rewardPerTask: bigint
  issuedAtMs: bigint
  deadlineMs: bigint
  maxBatch: number
  addresses: Uint8Array<ArrayBuffer>[]
  itemsPerTask?: number
}

export namespace JobAnnouncement {
  let _codec: Codec<JobAnnouncement>

  export const codec = (): Codec<JobAnnouncement> => {
    if (_codec == null) {
      _codec = message<JobAnnouncement>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.jobId)
        }

        if ((obj.requester != null && obj.requester.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.requester)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.nonce)
        }

        if ((obj.model != null && obj.model.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.model)
        }

        if ((obj.taskCount != null && obj.taskCount !== 0n)) {
          w.uint32(40)
          w.uint64(obj.taskCount)
        }

        if (obj.verification != null) {
          w.uint32(50)
          VerificationPolicy.codec().encode(obj.verification, w)
        }

        if ((obj.rewardPerTask != null && obj.rewardPerTask !== 0n)) {
          w.uint32(56)
          w.uint64(obj.rewardPerTask)
        }

        if ((obj.issuedAtMs != null && obj.issuedAtMs !== 0n)) {
          w.uint32(64)
          w.uint64(obj.issuedAtMs)
        }

        if ((obj.deadlineMs != null && obj.deadlineMs !== 0n)) {
          w.uint32(72)
          w.uint64(obj.deadlineMs)
        }

        if ((obj.maxBatch != null && obj.maxBatch !== 0)) {
          w.uint32(80)
          w.uint32(obj.maxBatch)
        }

        if (obj.addresses != null && obj.addresses.length > 0) {
          for (const value of obj.addresses) {
            w.uint32(90)
            w.bytes(value)
          }
        }

        if (obj.itemsPerTask != null) {
          w.uint32(96)
          w.uint32(obj.itemsPerTask)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: uint8ArrayAlloc(0),
          requester: uint8ArrayAlloc(0),
          nonce: uint8ArrayAlloc(0),
          model: uint8ArrayAlloc(0),
          taskCount: 0n,
          rewardPerTask: 0n,
          issuedAtMs: 0n,
          deadlineMs: 0n,
          maxBatch: 0,
          addresses: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.bytes()
              break
            }
            case 2: {
              obj.requester = reader.bytes()
              break
            }
            case 3: {
              obj.nonce = reader.bytes()
              break
            }
            case 4: {
              obj.model = reader.bytes()
              break
            }
            case 5: {
              obj.taskCount = reader.uint64()
              break
            }
            case 6: {
              obj.verification = VerificationPolicy.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.verification
              })
              break
            }
            case 7: {
              obj.rewardPerTask = reader.uint64()
              break
            }
            case 8: {
              obj.issuedAtMs = reader.uint64()
              break
            }
            case 9: {
              obj.deadlineMs = reader.uint64()
              break
            }
            case 10: {
              obj.maxBatch = reader.uint32()
              break
            }
            case 11: {
              if (opts.limits?.addresses != null && obj.addresses.length === opts.limits.addresses) {
                throw new MaxLengthError('Decode error - repeated field "addresses" had too many elements')
              }

              if (obj.addresses.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "addresses" had too many elements')
              }

              obj.addresses.push(reader.bytes())
              break
            }
            case 12: {
              obj.itemsPerTask = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addresses: 16
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.requester`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.model`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.taskCount`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield * VerificationPolicy.codec().stream(reader, reader.uint32(), `${prefix}.verification`, {
                limits: opts.limits?.verification
              })

              break
            }
            case 7: {
              yield {
                field: `${prefix}.rewardPerTask`,
                value: reader.uint64()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.issuedAtMs`,
                value: reader.uint64()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.deadlineMs`,
                value: reader.uint64()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.maxBatch`,
                value: reader.uint32()
              }
              break
            }
            case 11: {
              if (opts.limits?.addresses != null && obj.addresses === opts.limits.addresses) {
                throw new MaxLengthError('Streaming decode error - repeated field "addresses" had too many elements')
              }

              if (obj.addresses === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "addresses" had too many elements')
              }

              yield {
                field: `${prefix}.addresses[]`,
                index: obj.addresses,
                value: reader.bytes()
              }

              obj.addresses++

              break
            }
            case 12: {
              yield {
                field: `${prefix}.itemsPerTask`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface JobAnnouncementJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobAnnouncementRequesterFieldEvent {
    field: '$.requester'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobAnnouncementNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobAnnouncementModelFieldEvent {
    field: '$.model'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobAnnouncementTaskCountFieldEvent {
    field: '$.taskCount'
    value: bigint
  }

  export interface JobAnnouncementVerificationInitialRateFieldEvent {
    field: '$.verification.initialRate'
    value: number
  }

  export interface JobAnnouncementVerificationMinRateFieldEvent {
    field: '$.verification.minRate'
    value: number
  }

  export interface JobAnnouncementVerificationTrustHorizonFieldEvent {
    field: '$.verification.trustHorizon'
    value: number
  }

  export interface JobAnnouncementVerificationCanaryRateFieldEvent {
    field: '$.verification.canaryRate'
    value: number
  }

  export interface JobAnnouncementVerificationPenaltyFieldEvent {
    field: '$.verification.penalty'
    value: bigint
  }

  export interface JobAnnouncementVerificationCostFieldEvent {
    field: '$.verification.cost'
    value: bigint
  }

  export interface JobAnnouncementVerificationAgreementOutputFieldEvent {
    field: '$.verification.agreement[].output'
    value: string
    index: number
  }

  export interface JobAnnouncementVerificationAgreementKindFieldEvent {
    field: '$.verification.agreement[].kind'
    value: AgreementKind
    index: number
  }

  export interface JobAnnouncementVerificationAgreementAtolFieldEvent {
    field: '$.verification.agreement[].atol'
    value: number
    index: number
  }

  export interface JobAnnouncementVerificationAgreementRtolFieldEvent {
    field: '$.verification.agreement[].rtol'
    value: number
    index: number
  }

  export interface JobAnnouncementVerificationAgreementMinCosineFieldEvent {
    field: '$.verification.agreement[].minCosine'
    value: number
    index: number
  }

  export interface JobAnnouncementVerificationAgreementKFieldEvent {
    field: '$.verification.agreement[].k'
    value: number
    index: number
  }

  export interface JobAnnouncementVerificationAgreementTieToleranceFieldEvent {
    field: '$.verification.agreement[].tieTolerance'
    value: number
    index: number
  }

  export interface JobAnnouncementRewardPerTaskFieldEvent {
    field: '$.rewardPerTask'
    value: bigint
  }

  export interface JobAnnouncementIssuedAtMsFieldEvent {
    field: '$.issuedAtMs'
    value: bigint
  }

  export interface JobAnnouncementDeadlineMsFieldEvent {
    field: '$.deadlineMs'
    value: bigint
  }

  export interface JobAnnouncementMaxBatchFieldEvent {
    field: '$.maxBatch'
    value: number
  }

  export interface JobAnnouncementAddressesFieldEvent {
    field: '$.addresses[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobAnnouncementItemsPerTaskFieldEvent {
    field: '$.itemsPerTask'
    value: number
  }

  export function encode (obj: Partial<JobAnnouncement>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobAnnouncement.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAnnouncement>): JobAnnouncement {
    return decodeMessage(buf, JobAnnouncement.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAnnouncement>): Generator<JobAnnouncementJobIdFieldEvent | JobAnnouncementRequesterFieldEvent | JobAnnouncementNonceFieldEvent | JobAnnouncementModelFieldEvent | JobAnnouncementTaskCountFieldEvent | JobAnnouncementVerificationInitialRateFieldEvent | JobAnnouncementVerificationMinRateFieldEvent | JobAnnouncementVerificationTrustHorizonFieldEvent | JobAnnouncementVerificationCanaryRateFieldEvent | JobAnnouncementVerificationPenaltyFieldEvent | JobAnnouncementVerificationCostFieldEvent | JobAnnouncementVerificationAgreementOutputFieldEvent | JobAnnouncementVerificationAgreementKindFieldEvent | JobAnnouncementVerificationAgreementAtolFieldEvent | JobAnnouncementVerificationAgreementRtolFieldEvent | JobAnnouncementVerificationAgreementMinCosineFieldEvent | JobAnnouncementVerificationAgreementKFieldEvent | JobAnnouncementVerificationAgreementTieToleranceFieldEvent | JobAnnouncementRewardPerTaskFieldEvent | JobAnnouncementIssuedAtMsFieldEvent | JobAnnouncementDeadlineMsFieldEvent | JobAnnouncementMaxBatchFieldEvent | JobAnnouncementAddressesFieldEvent | JobAnnouncementItemsPerTaskFieldEvent> {
    return streamMessage(buf, JobAnnouncement.codec(), opts)
  }
}

export interface JobQuery {
  models: Uint8Array<ArrayBuffer>[]
}

export namespace JobQuery {
  let _codec: Codec<JobQuery>

  export const codec = (): Codec<JobQuery> => {
    if (_codec == null) {
      _codec = message<JobQuery>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.models != null && obj.models.length > 0) {
          for (const value of obj.models) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          models: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.models != null && obj.models.length === opts.limits.models) {
                throw new MaxLengthError('Decode error - repeated field "models" had too many elements')
              }

              if (obj.models.length === 64) {
                throw new MaxLengthError('Decode error - repeated field "models" had too many elements')
              }

              obj.models.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          models: 64
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.models != null && obj.models === opts.limits.models) {
                throw new MaxLengthError('Streaming decode error - repeated field "models" had too many elements')
              }

              if (obj.models === 64) {
                throw new MaxLengthError('Streaming decode error - repeated field "models" had too many elements')
              }

              yield {
                field: `${prefix}.models[]`,
                index: obj.models,
                value: reader.bytes()
              }

              obj.models++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface JobQueryModelsFieldEvent {
    field: '$.models[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<JobQuery>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobQuery.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobQuery>): JobQuery {
    return decodeMessage(buf, JobQuery.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobQuery>): Generator<JobQueryModelsFieldEvent> {
    return streamMessage(buf, JobQuery.codec(), opts)
  }
}

export interface JobList {
  announcements: Uint8Array<ArrayBuffer>[]
}

export namespace JobList {
  let _codec: Codec<JobList>

  export const codec = (): Codec<JobList> => {
    if (_codec == null) {
      _codec = message<JobList>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.announcements != null && obj.announcements.length > 0) {
          for (const value of obj.announcements) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          announcements: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.announcements != null && obj.announcements.length === opts.limits.announcements) {
                throw new MaxLengthError('Decode error - repeated field "announcements" had too many elements')
              }

              if (obj.announcements.length === 64) {
                throw new MaxLengthError('Decode error - repeated field "announcements" had too many elements')
              }

              obj.announcements.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          announcements: 64
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.announcements != null && obj.announcements === opts.limits.announcements) {
                throw new MaxLengthError('Streaming decode error - repeated field "announcements" had too many elements')
              }

              if (obj.announcements === 64) {
                throw new MaxLengthError('Streaming decode error - repeated field "announcements" had too many elements')
              }

              yield {
                field: `${prefix}.announcements[]`,
                index: obj.announcements,
                value: reader.bytes()
              }

              obj.announcements++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface JobListAnnouncementsFieldEvent {
    field: '$.announcements[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<JobList>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobList.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobList>): JobList {
    return decodeMessage(buf, JobList.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobList>): Generator<JobListAnnouncementsFieldEvent> {
    return streamMessage(buf, JobList.codec(), opts)
  }
}

export interface TaskClaim {
  jobId: Uint8Array<ArrayBuffer>
  maxTasks: number
}

export namespace TaskClaim {
  let _codec: Codec<TaskClaim>

  export const codec = (): Codec<TaskClaim> => {
    if (_codec == null) {
      _codec = message<TaskClaim>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.jobId)
        }

        if ((obj.maxTasks != null && obj.maxTasks !== 0)) {
          w.uint32(16)
          w.uint32(obj.maxTasks)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: uint8ArrayAlloc(0),
          maxTasks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.bytes()
              break
            }
            case 2: {
              obj.maxTasks = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.maxTasks`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TaskClaimJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskClaimMaxTasksFieldEvent {
    field: '$.maxTasks'
    value: number
  }

  export function encode (obj: Partial<TaskClaim>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskClaim.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskClaim>): TaskClaim {
    return decodeMessage(buf, TaskClaim.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskClaim>): Generator<TaskClaimJobIdFieldEvent | TaskClaimMaxTasksFieldEvent> {
    return streamMessage(buf, TaskClaim.codec(), opts)
  }
}

export interface Task {
  taskId: Uint8Array<ArrayBuffer>
  index: bigint
  inputs: Tensor[]
}

export namespace Task {
  let _codec: Codec<Task>

  export const codec = (): Codec<Task> => {
    if (_codec == null) {
      _codec = message<Task>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.taskId)
        }

        if ((obj.index != null && obj.index !== 0n)) {
          w.uint32(16)
          w.uint64(obj.index)
        }

        if (obj.inputs != null && obj.inputs.length > 0) {
          for (const value of obj.inputs) {
            w.uint32(26)
            Tensor.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: uint8ArrayAlloc(0),
          index: 0n,
          inputs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.bytes()
              break
            }
            case 2: {
              obj.index = reader.uint64()
              break
            }
            case 3: {
              if (opts.limits?.inputs != null && obj.inputs.length === opts.limits.inputs) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              if (obj.inputs.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              obj.inputs.push(Tensor.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.inputs$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          inputs: 16
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              if (opts.limits?.inputs != null && obj.inputs === opts.limits.inputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              if (obj.inputs === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              for (const evt of Tensor.codec().stream(reader, reader.uint32(), `${prefix}.inputs[]`, {
                limits: opts.limits?.inputs$
              })) {
                yield {
                  ...evt,
                  index: obj.inputs
                }
              }

              obj.inputs++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TaskTaskIdFieldEvent {
    field: '$.taskId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskIndexFieldEvent {
    field: '$.index'
    value: bigint
  }

  export interface TaskInputsNameFieldEvent {
    field: '$.inputs[].name'
    value: string
    index: number
  }

  export interface TaskInputsDtypeFieldEvent {
    field: '$.inputs[].dtype'
    value: DType
    index: number
  }

  export interface TaskInputsDimsFieldEvent {
    field: '$.inputs[].dims[]'
    index: number
    value: bigint
  }

  export interface TaskInputsDataFieldEvent {
    field: '$.inputs[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<Task>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Task.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Task>): Task {
    return decodeMessage(buf, Task.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Task>): Generator<TaskTaskIdFieldEvent | TaskIndexFieldEvent | TaskInputsNameFieldEvent | TaskInputsDtypeFieldEvent | TaskInputsDimsFieldEvent | TaskInputsDataFieldEvent> {
    return streamMessage(buf, Task.codec(), opts)
  }
}

export interface Assignment {
  code: ErrorCode
  jobId: Uint8Array<ArrayBuffer>
  model: Uint8Array<ArrayBuffer>
  tasks: Task[]
  leaseExpiresAtMs: bigint
  message: string
}

export namespace Assignment {
  let _codec: Codec<Assignment>

  export const codec = (): Codec<Assignment> => {
    if (_codec == null) {
      _codec = message<Assignment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __ErrorCodeValues[obj.code] !== 0) {
          w.uint32(8)
          ErrorCode.codec().encode(obj.code, w)
        }

        if ((obj.jobId != null && obj.jobId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.jobId)
        }

        if ((obj.model != null && obj.model.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.model)
        }

        if (obj.tasks != null && obj.tasks.length > 0) {
          for (const value of obj.tasks) {
            w.uint32(34)
            Task.codec().encode(value, w)
          }
        }

        if ((obj.leaseExpiresAtMs != null && obj.leaseExpiresAtMs !== 0n)) {
          w.uint32(40)
          w.uint64(obj.leaseExpiresAtMs)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(50)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: ErrorCode.OK,
          jobId: uint8ArrayAlloc(0),
          model: uint8ArrayAlloc(0),
          tasks: [],
          leaseExpiresAtMs: 0n,
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = ErrorCode.codec().decode(reader)
              break
            }
            case 2: {
              obj.jobId = reader.bytes()
              break
            }
            case 3: {
              obj.model = reader.bytes()
              break
            }
            case 4: {
              if (opts.limits?.tasks != null && obj.tasks.length === opts.limits.tasks) {
                throw new MaxLengthError('Decode error - repeated field "tasks" had too many elements')
              }

              if (obj.tasks.length === 256) {
                throw new MaxLengthError('Decode error - repeated field "tasks" had too many elements')
              }

              obj.tasks.push(Task.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tasks$
              }))
              break
            }
            case 5: {
              obj.leaseExpiresAtMs = reader.uint64()
              break
            }
            case 6: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          tasks: 256
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: ErrorCode.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.model`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              if (opts.limits?.tasks != null && obj.tasks === opts.limits.tasks) {
                throw new MaxLengthError('Streaming decode error - repeated field "tasks" had too many elements')
              }

              if (obj.tasks === 256) {
                throw new MaxLengthError('Streaming decode error - repeated field "tasks" had too many elements')
              }

              for (const evt of Task.codec().stream(reader, reader.uint32(), `${prefix}.tasks[]`, {
                limits: opts.limits?.tasks$
              })) {
                yield {
                  ...evt,
                  index: obj.tasks
                }
              }

              obj.tasks++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.leaseExpiresAtMs`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AssignmentCodeFieldEvent {
    field: '$.code'
    value: ErrorCode
  }

  export interface AssignmentJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AssignmentModelFieldEvent {
    field: '$.model'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AssignmentTasksTaskIdFieldEvent {
    field: '$.tasks[].taskId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface AssignmentTasksIndexFieldEvent {
    field: '$.tasks[].index'
    value: bigint
    index: number
  }

  export interface AssignmentTasksInputsNameFieldEvent {
    field: '$.tasks[].inputs[].name'
    value: string
    index: number
  }

  export interface AssignmentTasksInputsDtypeFieldEvent {
    field: '$.tasks[].inputs[].dtype'
    value: DType
    index: number
  }

  export interface AssignmentTasksInputsDimsFieldEvent {
    field: '$.tasks[].inputs[].dims[]'
    index: number
    value: bigint
  }

  export interface AssignmentTasksInputsDataFieldEvent {
    field: '$.tasks[].inputs[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface AssignmentLeaseExpiresAtMsFieldEvent {
    field: '$.leaseExpiresAtMs'
    value: bigint
  }

  export interface AssignmentMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<Assignment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Assignment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Assignment>): Assignment {
    return decodeMessage(buf, Assignment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Assignment>): Generator<AssignmentCodeFieldEvent | AssignmentJobIdFieldEvent | AssignmentModelFieldEvent | AssignmentTasksTaskIdFieldEvent | AssignmentTasksIndexFieldEvent | AssignmentTasksInputsNameFieldEvent | AssignmentTasksInputsDtypeFieldEvent | AssignmentTasksInputsDimsFieldEvent | AssignmentTasksInputsDataFieldEvent | AssignmentLeaseExpiresAtMsFieldEvent | AssignmentMessageFieldEvent> {
    return streamMessage(buf, Assignment.codec(), opts)
  }
}

export interface ExecutionProfile {
  runtime: string
  provider: string
  device: string
  intraOpThreads: number
  graphOptimization: string
  batchSize: number
}

export namespace ExecutionProfile {
  let _codec: Codec<ExecutionProfile>

  export const codec = (): Codec<ExecutionProfile> => {
    if (_codec == null) {
      _codec = message<ExecutionProfile>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.runtime != null && obj.runtime !== '')) {
          w.uint32(10)
          w.string(obj.runtime)
        }

        if ((obj.provider != null && obj.provider !== '')) {
          w.uint32(18)
          w.string(obj.provider)
        }

        if ((obj.device != null && obj.device !== '')) {
          w.uint32(26)
          w.string(obj.device)
        }

        if ((obj.intraOpThreads != null && obj.intraOpThreads !== 0)) {
          w.uint32(32)
          w.uint32(obj.intraOpThreads)
        }

        if ((obj.graphOptimization != null && obj.graphOptimization !== '')) {
          w.uint32(42)
          w.string(obj.graphOptimization)
        }

        if ((obj.batchSize != null && obj.batchSize !== 0)) {
          w.uint32(48)
          w.uint32(obj.batchSize)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          runtime: '',
          provider: '',
          device: '',
          intraOpThreads: 0,
          graphOptimization: '',
          batchSize: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.runtime = reader.string()
              break
            }
            case 2: {
              obj.provider = reader.string()
              break
            }
            case 3: {
              obj.device = reader.string()
              break
            }
            case 4: {
              obj.intraOpThreads = reader.uint32()
              break
            }
            case 5: {
              obj.graphOptimization = reader.string()
              break
            }
            case 6: {
              obj.batchSize = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.runtime`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.provider`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.device`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.intraOpThreads`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.graphOptimization`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.batchSize`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ExecutionProfileRuntimeFieldEvent {
    field: '$.runtime'
    value: string
  }

  export interface ExecutionProfileProviderFieldEvent {
    field: '$.provider'
    value: string
  }

  export interface ExecutionProfileDeviceFieldEvent {
    field: '$.device'
    value: string
  }

  export interface ExecutionProfileIntraOpThreadsFieldEvent {
    field: '$.intraOpThreads'
    value: number
  }

  export interface ExecutionProfileGraphOptimizationFieldEvent {
    field: '$.graphOptimization'
    value: string
  }

  export interface ExecutionProfileBatchSizeFieldEvent {
    field: '$.batchSize'
    value: number
  }

  export function encode (obj: Partial<ExecutionProfile>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ExecutionProfile.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ExecutionProfile>): ExecutionProfile {
    return decodeMessage(buf, ExecutionProfile.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ExecutionProfile>): Generator<ExecutionProfileRuntimeFieldEvent | ExecutionProfileProviderFieldEvent | ExecutionProfileDeviceFieldEvent | ExecutionProfileIntraOpThreadsFieldEvent | ExecutionProfileGraphOptimizationFieldEvent | ExecutionProfileBatchSizeFieldEvent> {
    return streamMessage(buf, ExecutionProfile.codec(), opts)
  }
}

export interface TaskResult {
  taskId: Uint8Array<ArrayBuffer>
  jobId: Uint8Array<ArrayBuffer>
  index: bigint
  model: Uint8Array<ArrayBuffer>
  inputDigest: Uint8Array<ArrayBuffer>
  outputDigest: Uint8Array<ArrayBuffer>
  outputs: Tensor[]
  worker: Uint8Array<ArrayBuffer>
  startedAtMs: bigint
  durationUs: bigint
  profile?: ExecutionProfile
  failure?: TaskFailure
}

export namespace TaskResult {
  let _codec: Codec<TaskResult>

  export const codec = (): Codec<TaskResult> => {
    if (_codec == null) {
      _codec = message<TaskResult>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.taskId)
        }

        if ((obj.jobId != null && obj.jobId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.jobId)
        }

        if ((obj.index != null && obj.index !== 0n)) {
          w.uint32(24)
          w.uint64(obj.index)
        }

        if ((obj.model != null && obj.model.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.model)
        }

        if ((obj.inputDigest != null && obj.inputDigest.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.inputDigest)
        }

        if ((obj.outputDigest != null && obj.outputDigest.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.outputDigest)
        }

        if (obj.outputs != null && obj.outputs.length > 0) {
          for (const value of obj.outputs) {
            w.uint32(58)
            Tensor.codec().encode(value, w)
          }
        }

        if ((obj.worker != null && obj.worker.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.worker)
        }

        if ((obj.startedAtMs != null && obj.startedAtMs !== 0n)) {
          w.uint32(72)
          w.uint64(obj.startedAtMs)
        }

        if ((obj.durationUs != null && obj.durationUs !== 0n)) {
          w.uint32(80)
          w.uint64(obj.durationUs)
        }

        if (obj.profile != null) {
          w.uint32(90)
          ExecutionProfile.codec().encode(obj.profile, w)
        }

        if (obj.failure != null) {
          w.uint32(98)
          TaskFailure.codec().encode(obj.failure, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: uint8ArrayAlloc(0),
          jobId: uint8ArrayAlloc(0),
          index: 0n,
          model: uint8ArrayAlloc(0),
          inputDigest: uint8ArrayAlloc(0),
          outputDigest: uint8ArrayAlloc(0),
          outputs: [],
          worker: uint8ArrayAlloc(0),
          startedAtMs: 0n,
          durationUs: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.bytes()
              break
            }
            case 2: {
              obj.jobId = reader.bytes()
              break
            }
            case 3: {
              obj.index = reader.uint64()
              break
            }
            case 4: {
              obj.model = reader.bytes()
              break
            }
            case 5: {
              obj.inputDigest = reader.bytes()
              break
            }
            case 6: {
              obj.outputDigest = reader.bytes()
              break
            }
            case 7: {
              if (opts.limits?.outputs != null && obj.outputs.length === opts.limits.outputs) {
                throw new MaxLengthError('Decode error - repeated field "outputs" had too many elements')
              }

              if (obj.outputs.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "outputs" had too many elements')
              }

              obj.outputs.push(Tensor.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.outputs$
              }))
              break
            }
            case 8: {
              obj.worker = reader.bytes()
              break
            }
            case 9: {
              obj.startedAtMs = reader.uint64()
              break
            }
            case 10: {
              obj.durationUs = reader.uint64()
              break
            }
            case 11: {
              obj.profile = ExecutionProfile.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.profile
              })
              break
            }
            case 12: {
              obj.failure = TaskFailure.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.failure
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          outputs: 16
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.model`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.inputDigest`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.outputDigest`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              if (opts.limits?.outputs != null && obj.outputs === opts.limits.outputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "outputs" had too many elements')
              }

              if (obj.outputs === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "outputs" had too many elements')
              }

              for (const evt of Tensor.codec().stream(reader, reader.uint32(), `${prefix}.outputs[]`, {
                limits: opts.limits?.outputs$
              })) {
                yield {
                  ...evt,
                  index: obj.outputs
                }
              }

              obj.outputs++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.worker`,
                value: reader.bytes()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.startedAtMs`,
                value: reader.uint64()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.durationUs`,
                value: reader.uint64()
              }
              break
            }
            case 11: {
              yield * ExecutionProfile.codec().stream(reader, reader.uint32(), `${prefix}.profile`, {
                limits: opts.limits?.profile
              })

              break
            }
            case 12: {
              yield * TaskFailure.codec().stream(reader, reader.uint32(), `${prefix}.failure`, {
                limits: opts.limits?.failure
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TaskResultTaskIdFieldEvent {
    field: '$.taskId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskResultJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskResultIndexFieldEvent {
    field: '$.index'
    value: bigint
  }

  export interface TaskResultModelFieldEvent {
    field: '$.model'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskResultInputDigestFieldEvent {
    field: '$.inputDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskResultOutputDigestFieldEvent {
    field: '$.outputDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskResultOutputsNameFieldEvent {
    field: '$.outputs[].name'
    value: string
    index: number
  }

  export interface TaskResultOutputsDtypeFieldEvent {
    field: '$.outputs[].dtype'
    value: DType
    index: number
  }

  export interface TaskResultOutputsDimsFieldEvent {
    field: '$.outputs[].dims[]'
    index: number
    value: bigint
  }

  export interface TaskResultOutputsDataFieldEvent {
    field: '$.outputs[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface TaskResultWorkerFieldEvent {
    field: '$.worker'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskResultStartedAtMsFieldEvent {
    field: '$.startedAtMs'
    value: bigint
  }

  export interface TaskResultDurationUsFieldEvent {
    field: '$.durationUs'
    value: bigint
  }

  export interface TaskResultProfileRuntimeFieldEvent {
    field: '$.profile.runtime'
    value: string
  }

  export interface TaskResultProfileProviderFieldEvent {
    field: '$.profile.provider'
    value: string
  }

  export interface TaskResultProfileDeviceFieldEvent {
    field: '$.profile.device'
    value: string
  }

  export interface TaskResultProfileIntraOpThreadsFieldEvent {
    field: '$.profile.intraOpThreads'
    value: number
  }

  export interface TaskResultProfileGraphOptimizationFieldEvent {
    field: '$.profile.graphOptimization'
    value: string
  }

  export interface TaskResultProfileBatchSizeFieldEvent {
    field: '$.profile.batchSize'
    value: number
  }

  export interface TaskResultFailureKindFieldEvent {
    field: '$.failure.kind'
    value: FailureKind
  }

  export interface TaskResultFailureMessageFieldEvent {
    field: '$.failure.message'
    value: string
  }

  export function encode (obj: Partial<TaskResult>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskResult.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskResult>): TaskResult {
    return decodeMessage(buf, TaskResult.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskResult>): Generator<TaskResultTaskIdFieldEvent | TaskResultJobIdFieldEvent | TaskResultIndexFieldEvent | TaskResultModelFieldEvent | TaskResultInputDigestFieldEvent | TaskResultOutputDigestFieldEvent | TaskResultOutputsNameFieldEvent | TaskResultOutputsDtypeFieldEvent | TaskResultOutputsDimsFieldEvent | TaskResultOutputsDataFieldEvent | TaskResultWorkerFieldEvent | TaskResultStartedAtMsFieldEvent | TaskResultDurationUsFieldEvent | TaskResultProfileRuntimeFieldEvent | TaskResultProfileProviderFieldEvent | TaskResultProfileDeviceFieldEvent | TaskResultProfileIntraOpThreadsFieldEvent | TaskResultProfileGraphOptimizationFieldEvent | TaskResultProfileBatchSizeFieldEvent | TaskResultFailureKindFieldEvent | TaskResultFailureMessageFieldEvent> {
    return streamMessage(buf, TaskResult.codec(), opts)
  }
}

export interface ResultSubmission {
  results: Uint8Array<ArrayBuffer>[]
}

export namespace ResultSubmission {
  let _codec: Codec<ResultSubmission>

  export const codec = (): Codec<ResultSubmission> => {
    if (_codec == null) {
      _codec = message<ResultSubmission>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.results != null && obj.results.length > 0) {
          for (const value of obj.results) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          results: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.results != null && obj.results.length === opts.limits.results) {
                throw new MaxLengthError('Decode error - repeated field "results" had too many elements')
              }

              if (obj.results.length === 256) {
                throw new MaxLengthError('Decode error - repeated field "results" had too many elements')
              }

              obj.results.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          results: 256
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.results != null && obj.results === opts.limits.results) {
                throw new MaxLengthError('Streaming decode error - repeated field "results" had too many elements')
              }

              if (obj.results === 256) {
                throw new MaxLengthError('Streaming decode error - repeated field "results" had too many elements')
              }

              yield {
                field: `${prefix}.results[]`,
                index: obj.results,
                value: reader.bytes()
              }

              obj.results++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ResultSubmissionResultsFieldEvent {
    field: '$.results[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ResultSubmission>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ResultSubmission.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultSubmission>): ResultSubmission {
    return decodeMessage(buf, ResultSubmission.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultSubmission>): Generator<ResultSubmissionResultsFieldEvent> {
    return streamMessage(buf, ResultSubmission.codec(), opts)
  }
}

export interface ResultStatus {
  code: ErrorCode
  receipt: Uint8Array<ArrayBuffer>
  message: string
}

export namespace ResultStatus {
  let _codec: Codec<ResultStatus>

  export const codec = (): Codec<ResultStatus> => {
    if (_codec == null) {
      _codec = message<ResultStatus>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __ErrorCodeValues[obj.code] !== 0) {
          w.uint32(8)
          ErrorCode.codec().encode(obj.code, w)
        }

        if ((obj.receipt != null && obj.receipt.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.receipt)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(26)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: ErrorCode.OK,
          receipt: uint8ArrayAlloc(0),
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = ErrorCode.codec().decode(reader)
              break
            }
            case 2: {
              obj.receipt = reader.bytes()
              break
            }
            case 3: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: ErrorCode.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.receipt`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ResultStatusCodeFieldEvent {
    field: '$.code'
    value: ErrorCode
  }

  export interface ResultStatusReceiptFieldEvent {
    field: '$.receipt'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ResultStatusMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<ResultStatus>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ResultStatus.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultStatus>): ResultStatus {
    return decodeMessage(buf, ResultStatus.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultStatus>): Generator<ResultStatusCodeFieldEvent | ResultStatusReceiptFieldEvent | ResultStatusMessageFieldEvent> {
    return streamMessage(buf, ResultStatus.codec(), opts)
  }
}

export interface ResultAck {
  statuses: ResultStatus[]
}

export namespace ResultAck {
  let _codec: Codec<ResultAck>

  export const codec = (): Codec<ResultAck> => {
    if (_codec == null) {
      _codec = message<ResultAck>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.statuses != null && obj.statuses.length > 0) {
          for (const value of obj.statuses) {
            w.uint32(10)
            ResultStatus.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          statuses: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.statuses != null && obj.statuses.length === opts.limits.statuses) {
                throw new MaxLengthError('Decode error - repeated field "statuses" had too many elements')
              }

              if (obj.statuses.length === 256) {
                throw new MaxLengthError('Decode error - repeated field "statuses" had too many elements')
              }

              obj.statuses.push(ResultStatus.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.statuses$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          statuses: 256
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.statuses != null && obj.statuses === opts.limits.statuses) {
                throw new MaxLengthError('Streaming decode error - repeated field "statuses" had too many elements')
              }

              if (obj.statuses === 256) {
                throw new MaxLengthError('Streaming decode error - repeated field "statuses" had too many elements')
              }

              for (const evt of ResultStatus.codec().stream(reader, reader.uint32(), `${prefix}.statuses[]`, {
                limits: opts.limits?.statuses$
              })) {
                yield {
                  ...evt,
                  index: obj.statuses
                }
              }

              obj.statuses++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ResultAckStatusesCodeFieldEvent {
    field: '$.statuses[].code'
    value: ErrorCode
    index: number
  }

  export interface ResultAckStatusesReceiptFieldEvent {
    field: '$.statuses[].receipt'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResultAckStatusesMessageFieldEvent {
    field: '$.statuses[].message'
    value: string
    index: number
  }

  export function encode (obj: Partial<ResultAck>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ResultAck.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultAck>): ResultAck {
    return decodeMessage(buf, ResultAck.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultAck>): Generator<ResultAckStatusesCodeFieldEvent | ResultAckStatusesReceiptFieldEvent | ResultAckStatusesMessageFieldEvent> {
    return streamMessage(buf, ResultAck.codec(), opts)
  }
}

export interface Receipt {
  jobId: Uint8Array<ArrayBuffer>
  taskId: Uint8Array<ArrayBuffer>
  worker: Uint8Array<ArrayBuffer>
  requester: Uint8Array<ArrayBuffer>
  resultDigest: Uint8Array<ArrayBuffer>
  reward: bigint
  issuedAtMs: bigint
}

export namespace Receipt {
  let _codec: Codec<Receipt>

  export const codec = (): Codec<Receipt> => {
    if (_codec == null) {
      _codec = message<Receipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.jobId)
        }

        if ((obj.taskId != null && obj.taskId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.taskId)
        }

        if ((obj.worker != null && obj.worker.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.worker)
        }

        if ((obj.requester != null && obj.requester.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.requester)
        }

        if ((obj.resultDigest != null && obj.resultDigest.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.resultDigest)
        }

        if ((obj.reward != null && obj.reward !== 0n)) {
          w.uint32(48)
          w.uint64(obj.reward)
        }

        if ((obj.issuedAtMs != null && obj.issuedAtMs !== 0n)) {
          w.uint32(56)
          w.uint64(obj.issuedAtMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: uint8ArrayAlloc(0),
          taskId: uint8ArrayAlloc(0),
          worker: uint8ArrayAlloc(0),
          requester: uint8ArrayAlloc(0),
          resultDigest: uint8ArrayAlloc(0),
          reward: 0n,
          issuedAtMs: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.bytes()
              break
            }
            case 2: {
              obj.taskId = reader.bytes()
              break
            }
            case 3: {
              obj.worker = reader.bytes()
              break
            }
            case 4: {
              obj.requester = reader.bytes()
              break
            }
            case 5: {
              obj.resultDigest = reader.bytes()
              break
            }
            case 6: {
              obj.reward = reader.uint64()
              break
            }
            case 7: {
              obj.issuedAtMs = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.worker`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.requester`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.resultDigest`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.reward`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.issuedAtMs`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ReceiptJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptTaskIdFieldEvent {
    field: '$.taskId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptWorkerFieldEvent {
    field: '$.worker'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptRequesterFieldEvent {
    field: '$.requester'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptResultDigestFieldEvent {
    field: '$.resultDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptRewardFieldEvent {
    field: '$.reward'
    value: bigint
  }

  export interface ReceiptIssuedAtMsFieldEvent {
    field: '$.issuedAtMs'
    value: bigint
  }

  export function encode (obj: Partial<Receipt>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Receipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Receipt {
    return decodeMessage(buf, Receipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Generator<ReceiptJobIdFieldEvent | ReceiptTaskIdFieldEvent | ReceiptWorkerFieldEvent | ReceiptRequesterFieldEvent | ReceiptResultDigestFieldEvent | ReceiptRewardFieldEvent | ReceiptIssuedAtMsFieldEvent> {
    return streamMessage(buf, Receipt.codec(), opts)
  }
}

export interface FraudProof {
  announcement: Uint8Array<ArrayBuffer>
  accused: Uint8Array<ArrayBuffer>
  agreeing: Uint8Array<ArrayBuffer>[]
  inputs: Tensor[]
  reporter: Uint8Array<ArrayBuffer>
  issuedAtMs: bigint
}

export namespace FraudProof {
  let _codec: Codec<FraudProof>

  export const codec = (): Codec<FraudProof> => {
    if (_codec == null) {
      _codec = message<FraudProof>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.announcement != null && obj.announcement.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.announcement)
        }

        if ((obj.accused != null && obj.accused.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.accused)
        }

        if (obj.agreeing != null && obj.agreeing.length > 0) {
          for (const value of obj.agreeing) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if (obj.inputs != null && obj.inputs.length > 0) {
          for (const value of obj.inputs) {
            w.uint32(34)
            Tensor.codec().encode(value, w)
          }
        }

        if ((obj.reporter != null && obj.reporter.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.reporter)
        }

        if ((obj.issuedAtMs != null && obj.issuedAtMs !== 0n)) {
          w.uint32(48)
          w.uint64(obj.issuedAtMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          announcement: uint8ArrayAlloc(0),
          accused: uint8ArrayAlloc(0),
          agreeing: [],
          inputs: [],
          reporter: uint8ArrayAlloc(0),
          issuedAtMs: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.announcement = reader.bytes()
              break
            }
            case 2: {
              obj.accused = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.agreeing != null && obj.agreeing.length === opts.limits.agreeing) {
                throw new MaxLengthError('Decode error - repeated field "agreeing" had too many elements')
              }

              if (obj.agreeing.length === 8) {
                throw new MaxLengthError('Decode error - repeated field "agreeing" had too many elements')
              }

              obj.agreeing.push(reader.bytes())
              break
            }
            case 4: {
              if (opts.limits?.inputs != null && obj.inputs.length === opts.limits.inputs) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              if (obj.inputs.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              obj.inputs.push(Tensor.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.inputs$
              }))
              break
            }
            case 5: {
              obj.reporter = reader.bytes()
              break
            }
            case 6: {
              obj.issuedAtMs = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          agreeing: 8,
          inputs: 16
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.announcement`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.accused`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.agreeing != null && obj.agreeing === opts.limits.agreeing) {
                throw new MaxLengthError('Streaming decode error - repeated field "agreeing" had too many elements')
              }

              if (obj.agreeing === 8) {
                throw new MaxLengthError('Streaming decode error - repeated field "agreeing" had too many elements')
              }

              yield {
                field: `${prefix}.agreeing[]`,
                index: obj.agreeing,
                value: reader.bytes()
              }

              obj.agreeing++

              break
            }
            case 4: {
              if (opts.limits?.inputs != null && obj.inputs === opts.limits.inputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              if (obj.inputs === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              for (const evt of Tensor.codec().stream(reader, reader.uint32(), `${prefix}.inputs[]`, {
                limits: opts.limits?.inputs$
              })) {
                yield {
                  ...evt,
                  index: obj.inputs
                }
              }

              obj.inputs++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.reporter`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.issuedAtMs`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FraudProofAnnouncementFieldEvent {
    field: '$.announcement'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FraudProofAccusedFieldEvent {
    field: '$.accused'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FraudProofAgreeingFieldEvent {
    field: '$.agreeing[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface FraudProofInputsNameFieldEvent {
    field: '$.inputs[].name'
    value: string
    index: number
  }

  export interface FraudProofInputsDtypeFieldEvent {
    field: '$.inputs[].dtype'
    value: DType
    index: number
  }

  export interface FraudProofInputsDimsFieldEvent {
    field: '$.inputs[].dims[]'
    index: number
    value: bigint
  }

  export interface FraudProofInputsDataFieldEvent {
    field: '$.inputs[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface FraudProofReporterFieldEvent {
    field: '$.reporter'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FraudProofIssuedAtMsFieldEvent {
    field: '$.issuedAtMs'
    value: bigint
  }

  export function encode (obj: Partial<FraudProof>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FraudProof.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FraudProof>): FraudProof {
    return decodeMessage(buf, FraudProof.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FraudProof>): Generator<FraudProofAnnouncementFieldEvent | FraudProofAccusedFieldEvent | FraudProofAgreeingFieldEvent | FraudProofInputsNameFieldEvent | FraudProofInputsDtypeFieldEvent | FraudProofInputsDimsFieldEvent | FraudProofInputsDataFieldEvent | FraudProofReporterFieldEvent | FraudProofIssuedAtMsFieldEvent> {
    return streamMessage(buf, FraudProof.codec(), opts)
  }
}

export interface InputRequest {
  jobId: Uint8Array<ArrayBuffer>
  index: bigint
}

export namespace InputRequest {
  let _codec: Codec<InputRequest>

  export const codec = (): Codec<InputRequest> => {
    if (_codec == null) {
      _codec = message<InputRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.jobId)
        }

        if ((obj.index != null && obj.index !== 0n)) {
          w.uint32(16)
          w.uint64(obj.index)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: uint8ArrayAlloc(0),
          index: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.bytes()
              break
            }
            case 2: {
              obj.index = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface InputRequestJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InputRequestIndexFieldEvent {
    field: '$.index'
    value: bigint
  }

  export function encode (obj: Partial<InputRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, InputRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputRequest>): InputRequest {
    return decodeMessage(buf, InputRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputRequest>): Generator<InputRequestJobIdFieldEvent | InputRequestIndexFieldEvent> {
    return streamMessage(buf, InputRequest.codec(), opts)
  }
}

export interface InputResponse {
  code: ErrorCode
  inputs: Tensor[]
  message: string
}

export namespace InputResponse {
  let _codec: Codec<InputResponse>

  export const codec = (): Codec<InputResponse> => {
    if (_codec == null) {
      _codec = message<InputResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __ErrorCodeValues[obj.code] !== 0) {
          w.uint32(8)
          ErrorCode.codec().encode(obj.code, w)
        }

        if (obj.inputs != null && obj.inputs.length > 0) {
          for (const value of obj.inputs) {
            w.uint32(18)
            Tensor.codec().encode(value, w)
          }
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(26)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: ErrorCode.OK,
          inputs: [],
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = ErrorCode.codec().decode(reader)
              break
            }
            case 2: {
              if (opts.limits?.inputs != null && obj.inputs.length === opts.limits.inputs) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              if (obj.inputs.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              obj.inputs.push(Tensor.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.inputs$
              }))
              break
            }
            case 3: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          inputs: 16
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: ErrorCode.codec().decode(reader)
              }
              break
            }
            case 2: {
              if (opts.limits?.inputs != null && obj.inputs === opts.limits.inputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              if (obj.inputs === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              for (const evt of Tensor.codec().stream(reader, reader.uint32(), `${prefix}.inputs[]`, {
                limits: opts.limits?.inputs$
              })) {
                yield {
                  ...evt,
                  index: obj.inputs
                }
              }

              obj.inputs++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface InputResponseCodeFieldEvent {
    field: '$.code'
    value: ErrorCode
  }

  export interface InputResponseInputsNameFieldEvent {
    field: '$.inputs[].name'
    value: string
    index: number
  }

  export interface InputResponseInputsDtypeFieldEvent {
    field: '$.inputs[].dtype'
    value: DType
    index: number
  }

  export interface InputResponseInputsDimsFieldEvent {
    field: '$.inputs[].dims[]'
    index: number
    value: bigint
  }

  export interface InputResponseInputsDataFieldEvent {
    field: '$.inputs[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface InputResponseMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<InputResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, InputResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputResponse>): InputResponse {
    return decodeMessage(buf, InputResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputResponse>): Generator<InputResponseCodeFieldEvent | InputResponseInputsNameFieldEvent | InputResponseInputsDtypeFieldEvent | InputResponseInputsDimsFieldEvent | InputResponseInputsDataFieldEvent | InputResponseMessageFieldEvent> {
    return streamMessage(buf, InputResponse.codec(), opts)
  }
}

export interface ModelRequest {
  model: Uint8Array<ArrayBuffer>
  offset: bigint
  length: number
}

export namespace ModelRequest {
  let _codec: Codec<ModelRequest>

  export const codec = (): Codec<ModelRequest> => {
    if (_codec == null) {
      _codec = message<ModelRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.model != null && obj.model.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.model)
        }

        if ((obj.offset != null && obj.offset !== 0n)) {
          w.uint32(16)
          w.uint64(obj.offset)
        }

        if ((obj.length != null && obj.length !== 0)) {
          w.uint32(24)
          w.uint32(obj.length)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          model: uint8ArrayAlloc(0),
          offset: 0n,
          length: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.model = reader.bytes()
              break
            }
            case 2: {
              obj.offset = reader.uint64()
              break
            }
            case 3: {
              obj.length = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.model`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.length`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ModelRequestModelFieldEvent {
    field: '$.model'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ModelRequestOffsetFieldEvent {
    field: '$.offset'
    value: bigint
  }

  export interface ModelRequestLengthFieldEvent {
    field: '$.length'
    value: number
  }

  export function encode (obj: Partial<ModelRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ModelRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelRequest>): ModelRequest {
    return decodeMessage(buf, ModelRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelRequest>): Generator<ModelRequestModelFieldEvent | ModelRequestOffsetFieldEvent | ModelRequestLengthFieldEvent> {
    return streamMessage(buf, ModelRequest.codec(), opts)
  }
}

export interface ModelChunk {
  code: ErrorCode
  totalSize: bigint
  offset: bigint
  data: Uint8Array<ArrayBuffer>
}

export namespace ModelChunk {
  let _codec: Codec<ModelChunk>

  export const codec = (): Codec<ModelChunk> => {
    if (_codec == null) {
      _codec = message<ModelChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __ErrorCodeValues[obj.code] !== 0) {
          w.uint32(8)
          ErrorCode.codec().encode(obj.code, w)
        }

        if ((obj.totalSize != null && obj.totalSize !== 0n)) {
          w.uint32(16)
          w.uint64(obj.totalSize)
        }

        if ((obj.offset != null && obj.offset !== 0n)) {
          w.uint32(24)
          w.uint64(obj.offset)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: ErrorCode.OK,
          totalSize: 0n,
          offset: 0n,
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = ErrorCode.codec().decode(reader)
              break
            }
            case 2: {
              obj.totalSize = reader.uint64()
              break
            }
            case 3: {
              obj.offset = reader.uint64()
              break
            }
            case 4: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: ErrorCode.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.totalSize`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ModelChunkCodeFieldEvent {
    field: '$.code'
    value: ErrorCode
  }

  export interface ModelChunkTotalSizeFieldEvent {
    field: '$.totalSize'
    value: bigint
  }

  export interface ModelChunkOffsetFieldEvent {
    field: '$.offset'
    value: bigint
  }

  export interface ModelChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ModelChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ModelChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelChunk>): ModelChunk {
    return decodeMessage(buf, ModelChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelChunk>): Generator<ModelChunkCodeFieldEvent | ModelChunkTotalSizeFieldEvent | ModelChunkOffsetFieldEvent | ModelChunkDataFieldEvent> {
    return streamMessage(buf, ModelChunk.codec(), opts)
  }
}
