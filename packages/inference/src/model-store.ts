import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_MODEL_BYTES, modelCid, modelMatchesCid, parseModelCid } from '@openbatch/protocol'
import { writeFileAtomic } from './atomic-file.js'
import { CorruptModelError, ModelNotFoundError } from './errors.js'

export interface StoredModel {
  /** CID string. */
  model: string
  sizeBytes: number
}

export class ModelStore {
  readonly dir: string
  private readonly models: string
  private readonly quarantine: string
  private ready?: Promise<void>

  constructor(dir: string) {
    this.dir = dir
    this.models = join(dir, 'models')
    this.quarantine = join(dir, 'quarantine')
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.models, { recursive: true })
      await mkdir(this.quarantine, { recursive: true })
    })()
    return this.ready
  }

  private path(model: string): string {
    // parseModelCid rejects anything but a CIDv1 raw sha2-256, so the name is safe as a file name
    return join(this.models, `${parseModelCid(model).toString()}.onnx`)
  }

  /** Stores model bytes under their CID and returns it; storing the same bytes twice is a no-op. */
  async add(bytes: Uint8Array): Promise<string> {
    if (bytes.byteLength > MAX_MODEL_BYTES) {
      throw new RangeError(`model of ${bytes.byteLength} bytes exceeds the ${MAX_MODEL_BYTES}-byte limit`)
    }
    await this.init()
    const model = modelCid(bytes).toString()
    const target = this.path(model)
    if (await this.has(model)) {
      return model
    }
    await writeFileAtomic(target, bytes)
    return model
  }

  /** Stores the model file at `path`. */
  async addFile(path: string): Promise<string> {
    return this.add(await readFile(path))
  }

  async has(model: string): Promise<boolean> {
    await this.init()
    try {
      return (await stat(this.path(model))).isFile()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return false
      }
      throw err
    }
  }

  /**
   * The model's bytes, verified against the CID. A mismatch moves the file to quarantine and
   * throws CorruptModelError.
   */
  async get(model: string): Promise<Uint8Array> {
    await this.init()
    const cid = parseModelCid(model)
    const path = this.path(model)
    let bytes: Uint8Array
    try {
      const buffer = await readFile(path)
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ModelNotFoundError(`model ${model} is not in the store`)
      }
      throw err
    }
    if (!modelMatchesCid(bytes, cid)) {
      const moved = join(this.quarantine, `${cid.toString()}.${Date.now()}.onnx`)
      await rename(path, moved)
      throw new CorruptModelError(`model ${model}: stored bytes do not match the CID; moved to ${moved}`)
    }
    return bytes
  }

  async list(): Promise<StoredModel[]> {
    await this.init()
    const out: StoredModel[] = []
    for (const name of await readdir(this.models)) {
      if (!name.endsWith('.onnx') || name.startsWith('.')) {
        continue
      }
      const s = await stat(join(this.models, name))
      out.push({ model: name.slice(0, -'.onnx'.length), sizeBytes: s.size })
    }
    return out.sort((a, b) => a.model.localeCompare(b.model))
  }

  /** Removes a model; false when it was not there. */
  async remove(model: string): Promise<boolean> {
    const had = await this.has(model)
    await rm(this.path(model), { force: true })
    return had
  }

  /** Total bytes of stored models. */
  async size(): Promise<number> {
    return (await this.list()).reduce((n, m) => n + m.sizeBytes, 0)
  }
}
