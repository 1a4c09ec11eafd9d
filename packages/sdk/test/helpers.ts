/** Shared helpers of the SDK's tests. */

/** `p`, or a rejection naming `what` after `ms`. */
export async function within<T>(what: string, p: Promise<T>, ms = 60_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms)))
    ])
  } finally {
    clearTimeout(timer)
  }
}
