/**
 * Settings come from, in order of precedence: command-line flags, `OPENBATCH_*` environment
 * variables (commander's `Option.env`), a JSON config file (`--config`, else
 * `<data-dir>/config.json` when it exists), then the defaults. Keys in the file are the flags'
 * camelCase names (`"bootstrap": [...]`, `"threads": 2`).
 */

import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { UsageError } from './errors.js'

export const DEFAULT_DATA_DIR = join(homedir(), '.openbatch')

/** Reads the config file, if any, and fills options that came from neither flags nor env. */
export function applyConfigFile(cmd: Command): string | undefined {
  const opts = cmd.optsWithGlobals() as { config?: string; dataDir?: string }
  const explicit = opts.config
  const path = explicit ?? join(opts.dataDir ?? DEFAULT_DATA_DIR, 'config.json')
  if (!existsSync(path)) {
    if (explicit != null) {
      throw new UsageError(`config file ${path} does not exist`)
    }
    return undefined
  }
  let values: Record<string, unknown>
  try {
    values = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`)
  }
  if (values == null || typeof values !== 'object' || Array.isArray(values)) {
    throw new UsageError(`config file ${path} must hold a JSON object`)
  }
  const known = new Map(cmd.options.map((o) => [o.attributeName(), o]))
  for (const [key, value] of Object.entries(values)) {
    const option = known.get(key)
    if (option == null) {
      throw new UsageError(
        `config file ${path}: unknown setting "${key}" for \`openbatch ${cmd.name()}\` (known: ${[...known.keys()].join(', ')})`
      )
    }
    const source = cmd.getOptionValueSource(key)
    if (source === 'cli' || source === 'env') {
      continue // flags and environment win over the file
    }
    cmd.setOptionValueWithSource(
      key,
      option.parseArg != null && typeof value === 'string' ? option.parseArg(value, undefined) : value,
      'config'
    )
  }
  return path
}

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER, why = '') {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError(`${name} must be a whole number ≥ 1, got "${value}"`)
    }
    if (n > max) {
      throw new UsageError(`${name} must be at most ${max}${why}, got "${value}"`)
    }
    return n
  }
}

/** A whole number ≥ 0 that fits a uint64 (protobuf would wrap anything else, spec §3.3). */
export function uint64(name: string) {
  return (value: string): bigint => {
    if (!/^\d+$/.test(value.trim())) {
      throw new UsageError(`${name} must be a whole number ≥ 0, got "${value}"`)
    }
    const n = BigInt(value.trim())
    if (n >= 1n << 64n) {
      throw new UsageError(`${name} must be below 2^64 (18446744073709551616), got "${value}"`)
    }
    return n
  }
}

/** A number of seconds ≥ 0. */
export function seconds(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!(n >= 0) || !Number.isFinite(n)) {
      throw new UsageError(`${name} must be a number of seconds ≥ 0, got "${value}"`)
    }
    return n
  }
}

export function share(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!(n > 0 && n <= 1)) {
      throw new UsageError(`${name} must be a fraction in (0, 1], got "${value}"`)
    }
    return n
  }
}

export function positive(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!(n > 0) || !Number.isFinite(n)) {
      throw new UsageError(`${name} must be a number > 0, got "${value}"`)
    }
    return n
  }
}

export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(',').filter((v) => v !== '')
]
