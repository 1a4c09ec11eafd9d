/**
 * Images as model inputs, with Jimp (pure JavaScript: PNG, JPEG, BMP, GIF, TIFF): decode, resize to
 * the input's height keeping the aspect ratio (at most its width; the rest padded with zeros, the
 * PaddleOCR convention for text lines), normalise each channel as (x/255 − mean)/std, lay out
 * as CHW in BGR order (PaddleOCR and OpenCV-trained models read BGR). Also draws the demo's text
 * lines.
 */

import type { Tensor } from '@openbatch/sdk'
import { tensor } from '@openbatch/sdk'
import { Jimp, type JimpInstance, loadFont, measureText } from 'jimp'
import { SANS_32_BLACK } from 'jimp/fonts'
import { UsageError } from './errors.js'

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff']

export interface Normalisation {
  mean: number
  std: number
}

/** PaddleOCR's: pixels to [-1, 1]. */
export const PADDLE_NORMALISATION: Normalisation = { mean: 0.5, std: 0.5 }

export function parseNormalisation(value: string): Normalisation {
  const [mean, std] = value.split(',').map(Number)
  if (mean === undefined || std === undefined || !Number.isFinite(mean) || !Number.isFinite(std) || std === 0) {
    throw new UsageError(`--normalize takes "mean,std" (e.g. 0.5,0.5), got "${value}"`)
  }
  return { mean, std }
}

/** A decoded image as a [1,3,height,width] float32 tensor. */
export function pixelsToTensor(img: JimpInstance, name: string, height: number, width: number, n: Normalisation): Tensor {
  const ratio = img.bitmap.width / img.bitmap.height
  const w = Math.max(1, Math.min(width, Math.ceil(height * ratio)))
  const resized = img.clone().resize({ w, h: height })
  const out = new Float32Array(3 * height * width)
  const d = resized.bitmap.data
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 4
      for (let c = 0; c < 3; c++) {
        out[c * height * width + y * width + x] = ((d[p + (2 - c)] as number) / 255 - n.mean) / n.std
      }
    }
  }
  return tensor(name, out, [1, 3, height, width])
}

export async function imageTensor(
  bytes: Uint8Array,
  name: string,
  height: number,
  width: number,
  n: Normalisation,
  where: string
): Promise<Tensor> {
  let img: JimpInstance
  try {
    img = (await Jimp.read(Buffer.from(bytes))) as JimpInstance
  } catch (err) {
    throw new UsageError(`${where}: cannot decode the image (${(err as Error).message})`)
  }
  return pixelsToTensor(img, name, height, width, n)
}

const WORDS = [
  'openbatch',
  'household',
  'inference',
  'verified',
  'sampling',
  'gossip',
  'kademlia',
  'receipt',
  'tensor',
  'worker',
  'batch',
  'trust',
  'peer',
  'signed',
  'result',
  'classifier',
  'network',
  'proof',
  'honest',
  'quorum'
]

/** Text-line images like OCR crops: black text on white, a known `rotatedShare` turned 180°. */
export async function textLines(
  count: number,
  rotatedShare: number,
  random: () => number
): Promise<{ image: JimpInstance; text: string; rotated: boolean }[]> {
  const font = await loadFont(SANS_32_BLACK)
  const lines = []
  for (let i = 0; i < count; i++) {
    const words = 1 + Math.floor(random() * 3)
    const text = Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ')
    const image = new Jimp({ width: measureText(font, text) + 16, height: 44, color: 0xffffffff })
    image.print({ font, x: 8, y: 4, text })
    const rotated = random() < rotatedShare
    if (rotated) {
      image.rotate(180)
    }
    lines.push({ image: image as unknown as JimpInstance, text, rotated })
  }
  return lines
}
