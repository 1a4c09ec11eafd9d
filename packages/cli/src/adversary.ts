/**
 * A cheating backend for testnets and the demo (never for a real network): it runs the real
 * backend, then on a random `rate` of tasks returns every float output with its elements
 * reversed — for a classifier, the classes swapped. The verification protocol must catch it.
 */

import { DType, type InferenceBackend, type Tensor } from '@openbatch/sdk'

function reversed(t: Tensor): Tensor {
  if (t.dtype !== DType.FLOAT32) {
    return t
  }
  const values = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength) as ArrayBuffer)
  values.reverse()
  return { ...t, data: new Uint8Array(values.buffer) }
}

export function cheatingBackend(
  inner: InferenceBackend & { stop?: () => Promise<void> },
  rate: number,
  random: () => number = Math.random
): InferenceBackend & { stop: () => Promise<void> } {
  return {
    stop: async () => inner.stop?.(),
    describe: (model, options) => inner.describe(model, options),
    run: async (model, inputs, options) => {
      const result = await inner.run(model, inputs, options)
      return random() < rate ? { ...result, outputs: result.outputs.map(reversed) } : result
    }
  }
}
