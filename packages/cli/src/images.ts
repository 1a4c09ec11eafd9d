/**
 * Images as model inputs, with Jimp (pure JavaScript: PNG, JPEG, BMP, GIF, TIFF): decode, resize
 * (stretch, fit the height and pad the right — PaddleOCR's text lines —, letterbox — YOLO's —, or
 * resize the short side and crop the centre — ImageNet's), take the channels in RGB or BGR order,
 * and lay them out NCHW or NHWC: float32 normalised per channel as (x/255 − mean)/std, or uint8 as
 * they are (a quarter of the bytes on a household link). Presets hold the common models'
 * settings. Also draws the demo's text lines.
 */

import type { Tensor } from '@openbatch/sdk'
import { DType, tensor } from '@openbatch/sdk'
import { Jimp, type JimpInstance, loadFont, measureText } from 'jimp'
import { SANS_32_BLACK } from 'jimp/fonts'
import { UsageError } from './errors.js'

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff']

export type ResizeMode = 'stretch' | 'fit-pad' | 'letterbox' | 'center-crop'
export const RESIZE_MODES: ResizeMode[] = ['stretch', 'fit-pad', 'letterbox', 'center-crop']

/** How images become a model's input. */
export interface ImagePrep {
  /** Channel order the model reads. */
  channels: 'rgb' | 'bgr'
  /** Per channel, in the model's channel order, on pixels scaled to 0…1 (float32 inputs only). */
  mean: [number, number, number]
  std: [number, number, number]
  resize: ResizeMode
  /** The input's height × width where the model leaves them open. */
  size?: [number, number]
}

/** Settings of common models (`--preset`). */
export const PRESETS: Record<string, ImagePrep> = {
  // PaddleOCR's text-direction classifier: BGR, 48 high, padded on the right, pixels to [-1, 1].
  'paddleocr-cls': { channels: 'bgr', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'fit-pad', size: [48, 192] },
  // torchvision's ImageNet classifiers: RGB, short side resized, centre 224×224, ImageNet statistics.
  imagenet: { channels: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'center-crop', size: [224, 224] },
  // Ultralytics YOLO: RGB in 0…1, letterboxed to 640×640 with grey (114) borders.
  yolo: { channels: 'rgb', mean: [0, 0, 0], std: [1, 1, 1], resize: 'letterbox', size: [640, 640] }
}

/** PaddleOCR's: pixels to [-1, 1] (the demo's). */
export const PADDLE_PREP: ImagePrep = PRESETS['paddleocr-cls'] as ImagePrep

/**
 * `--normalize`: "mean,std" for every channel, or "m1,m2,m3,s1,s2,s3" per channel (in the model's
 * channel order); anything else is an error that says so.
 */
export function parseNormalisation(value: string): Pick<ImagePrep, 'mean' | 'std'> {
  const numbers = value.split(',').map((x) => Number(x.trim()))
  const bad = numbers.some((x) => !Number.isFinite(x))
  if (bad || (numbers.length !== 2 && numbers.length !== 6)) {
    throw new UsageError(
      `--normalize takes "mean,std" (e.g. 0.5,0.5) or three means and three stds (e.g. ImageNet's 0.485,0.456,0.406,0.229,0.224,0.225); got "${value}" (${numbers.length} ${bad ? 'values, not all numbers' : 'numbers'})`
    )
  }
  const [m1, m2, m3, s1, s2, s3] = numbers.length === 2 ? [numbers[0], numbers[0], numbers[0], numbers[1], numbers[1], numbers[1]] : numbers
  const std = [s1, s2, s3] as [number, number, number]
  if (std.some((x) => x === 0)) {
    throw new UsageError(`--normalize: a std of 0 divides by zero; got "${value}"`)
  }
  return { mean: [m1, m2, m3] as [number, number, number], std }
}

/** Where the model wants the image: its size, layout and element type. */
export interface ImageTarget {
  height: number
  width: number
  layout: 'nchw' | 'nhwc'
  dtype: DType.FLOAT32 | DType.UINT8
}

/** The PaddleOCR text-direction classifier's input: float32 [1,3,48,192]. */
export const PADDLE_TARGET: ImageTarget = { height: 48, width: 192, layout: 'nchw', dtype: DType.FLOAT32 }

/**
 * The image resized as `prep.resize` says, as [1,3,H,W] (NCHW) or [1,H,W,3] (NHWC). Pixels outside
 * the image (padding) are 0 in the model's units for fit-pad (PaddleOCR pads after normalising)
 * and grey 114 for letterbox (YOLO's).
 */
export function pixelsToTensor(img: JimpInstance, name: string, target: ImageTarget, prep: ImagePrep): Tensor {
  const { height, width } = target
  const iw = img.bitmap.width
  const ih = img.bitmap.height
  // The resized image's size, and where it lands in the target (dx, dy; negative: cropped).
  let rw = width
  let rh = height
  if (prep.resize === 'fit-pad') {
    rh = height
    rw = Math.max(1, Math.min(width, Math.ceil((height * iw) / ih)))
  } else if (prep.resize === 'letterbox') {
    const scale = Math.min(width / iw, height / ih)
    rw = Math.max(1, Math.round(iw * scale))
    rh = Math.max(1, Math.round(ih * scale))
  } else if (prep.resize === 'center-crop') {
    const scale = Math.max(width / iw, height / ih)
    rw = Math.max(width, Math.round(iw * scale))
    rh = Math.max(height, Math.round(ih * scale))
  }
  const dx = prep.resize === 'fit-pad' ? 0 : Math.floor((width - rw) / 2)
  const dy = prep.resize === 'fit-pad' ? 0 : Math.floor((height - rh) / 2)
  const resized = img.clone().resize({ w: rw, h: rh })
  const d = resized.bitmap.data
  const uint8 = target.dtype === DType.UINT8
  const out = uint8 ? new Uint8Array(3 * height * width) : new Float32Array(3 * height * width)
  const at = (y: number, x: number, c: number) => (target.layout === 'nchw' ? c * height * width + y * width + x : (y * width + x) * 3 + c)
  const value = (byte: number, c: number) => (uint8 ? byte : (byte / 255 - (prep.mean[c] as number)) / (prep.std[c] as number))
  if (prep.resize === 'letterbox') {
    for (let i = 0; i < height * width; i++) {
      for (let c = 0; c < 3; c++) {
        out[at(Math.floor(i / width), i % width, c)] = value(114, c)
      }
    }
  }
  for (let y = Math.max(0, dy); y < Math.min(height, dy + rh); y++) {
    for (let x = Math.max(0, dx); x < Math.min(width, dx + rw); x++) {
      const p = ((y - dy) * rw + (x - dx)) * 4
      for (let c = 0; c < 3; c++) {
        // Jimp's bitmap is RGBA.
        out[at(y, x, c)] = value(d[p + (prep.channels === 'bgr' ? 2 - c : c)] as number, c)
      }
    }
  }
  return tensor(name, out, target.layout === 'nchw' ? [1, 3, height, width] : [1, height, width, 3])
}

export async function imageTensor(bytes: Uint8Array, name: string, target: ImageTarget, prep: ImagePrep, where: string): Promise<Tensor> {
  let img: JimpInstance
  try {
    img = (await Jimp.read(Buffer.from(bytes))) as JimpInstance
  } catch (err) {
    throw new UsageError(`${where}: cannot decode the image (${(err as Error).message})`)
  }
  return pixelsToTensor(img, name, target, prep)
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
