/**
 * Garbage collection paced to the data plane. A peer moves tensors: every encrypted message of a
 * connection is a fresh ArrayBuffer (Node's ciphers write no caller buffer), so a peer allocates
 * several times the bytes it moves. V8 13 by default answers each 64 MiB of ArrayBuffer memory with a
 * full mark-compact of the JavaScript heap — a libp2p peer's ~30 MB heap, ~20–40 ms of CPU on the
 * main thread and its helpers each time: 25–35 full collections per 512 MB through one libp2p stream
 * (`--trace-gc`). With `--external-memory-accounted-in-global-limit` V8 counts ArrayBuffer memory
 * within its heap's growing limit instead, and the same 512 MB costs 5–14 full collections
 * (the issue #15 note has the measurements).
 */

import { setFlagsFromString } from 'node:v8'

/** The V8 flag a peer sets (once per process; V8's flags are the process's). */
export const EXTERNAL_MEMORY_FLAG = '--external-memory-accounted-in-global-limit'

/** The first V8 major version known to have the flag (Node 24's 13.6); older ones are left alone. */
const FIRST_V8_WITH_FLAG = 13

let applied = false

/**
 * Sets EXTERNAL_MEMORY_FLAG for this process, once; later calls do nothing. Returns whether the
 * flag is set: false on a V8 older than 13, which would print "unrecognized flag" for it (the
 * peer works the same there, with more collections).
 */
export function paceGcToExternalMemory(v8Version: string = process.versions.v8): boolean {
  if (!(Number.parseInt(v8Version, 10) >= FIRST_V8_WITH_FLAG)) {
    return false
  }
  if (applied) {
    return true
  }
  setFlagsFromString(EXTERNAL_MEMORY_FLAG)
  applied = true
  return true
}
