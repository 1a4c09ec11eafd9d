/** Images as model inputs (issue #16): presets, resize modes, channel order, layouts, dtypes. */

import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DType, type Tensor, type TensorSpec, toFloat64Array } from '@openbatch/sdk'
import { Jimp, type JimpInstance } from 'jimp'
import { imagePrep } from '../src/commands.js'
import { type ImagePrep, type ImageTarget, PRESETS, parseNormalisation, pixelsToTensor } from '../src/images.js'
import { readInputs } from '../src/inputs.js'
import { tempDir } from './helpers.js'

/** A `width`×`height` image whose pixel (x, y) is red x·10+1, green y·10+2, blue 200. */
function image(width: number, height: number): JimpInstance {
  const img = new Jimp({ width, height, color: 0x000000ff })
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4
      img.bitmap.data[p] = x * 10 + 1
      img.bitmap.data[p + 1] = y * 10 + 2
      img.bitmap.data[p + 2] = 200
    }
  }
  return img as unknown as JimpInstance
}

const RAW: ImagePrep = { channels: 'rgb', mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255], resize: 'stretch' }
const target = (height: number, width: number, layout: ImageTarget['layout'] = 'nchw', dtype: ImageTarget['dtype'] = DType.FLOAT32) => ({
  height,
  width,
  layout,
  dtype
})
const values = (t: Tensor) => Array.from(toFloat64Array(t), (v) => Math.round(v * 1000) / 1000)

describe('images as model inputs (issue #16)', () => {
  it('RGB or BGR, NCHW or NHWC, float32 per-channel normalised or uint8 as it is', () => {
    const img = image(2, 1)
    // RGB, NCHW: the red plane, the green plane, the blue plane (std 1/255 keeps byte values).
    assert.deepEqual(values(pixelsToTensor(img, 'x', target(1, 2), RAW)), [1, 11, 2, 2, 200, 200])
    const bgr = pixelsToTensor(img, 'x', target(1, 2), { ...RAW, channels: 'bgr' })
    assert.deepEqual(values(bgr), [200, 200, 2, 2, 1, 11])
    const nhwc = pixelsToTensor(img, 'x', target(1, 2, 'nhwc'), RAW)
    assert.deepEqual(nhwc.dims, [1n, 1n, 2n, 3n])
    assert.deepEqual(values(nhwc), [1, 2, 200, 11, 2, 200])
    const u8 = pixelsToTensor(img, 'x', target(1, 2, 'nhwc', DType.UINT8), PRESETS.imagenet as ImagePrep)
    assert.equal(u8.dtype, DType.UINT8)
    assert.equal(u8.data.byteLength, 6, 'a byte per value: a quarter of float32')
    assert.deepEqual(Array.from(u8.data), [1, 2, 200, 11, 2, 200], 'uint8 inputs carry the pixels, not normalised')
    // ImageNet's statistics, per channel.
    const imagenet = pixelsToTensor(img, 'x', target(1, 2), { ...(PRESETS.imagenet as ImagePrep), resize: 'stretch' })
    const r0 = (1 / 255 - 0.485) / 0.229
    const b0 = (200 / 255 - 0.406) / 0.225
    assert.ok(Math.abs((toFloat64Array(imagenet)[0] as number) - r0) < 1e-6)
    assert.ok(Math.abs((toFloat64Array(imagenet)[4] as number) - b0) < 1e-6)
  })

  it('resize modes: stretch, fit-pad (right padding), letterbox (grey borders), centre crop', () => {
    const img = image(4, 2)
    const at = (t: Tensor, width: number, y: number, x: number) => toFloat64Array(t)[y * width + x] as number // red plane
    // fit-pad into 2×8: the image keeps its 2:1 aspect (4 wide) and the rest is 0.
    const fit = pixelsToTensor(img, 'x', target(2, 8), { ...RAW, resize: 'fit-pad' })
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((x) => Math.round(at(fit, 8, 0, x))),
      [1, 11, 21, 31, 0, 0, 0, 0]
    )
    // letterbox into 4×4: the 4×2 image in the middle rows, grey 114 above and below.
    const box = pixelsToTensor(img, 'x', target(4, 4), { ...RAW, resize: 'letterbox' })
    assert.deepEqual(
      [0, 1, 2, 3].map((y) => Math.round(at(box, 4, y, 0))),
      [114, 1, 1, 114]
    )
    // centre crop to 2×2: the short side fits, the middle two columns stay.
    const crop = pixelsToTensor(img, 'x', target(2, 2), { ...RAW, resize: 'center-crop' })
    assert.deepEqual(
      [0, 1].map((x) => Math.round(at(crop, 2, 0, x))),
      [11, 21]
    )
    // stretch to 2×2: every column of the target samples the whole width.
    const stretched = pixelsToTensor(img, 'x', target(2, 2), RAW)
    assert.equal(stretched.dims.join(','), '1,3,2,2')
  })

  it('settings: presets, --normalize with one or three per channel, wrong arity and bad values are errors', () => {
    assert.deepEqual(parseNormalisation('0.5,0.5'), { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] })
    assert.deepEqual(parseNormalisation('0.485,0.456,0.406,0.229,0.224,0.225'), {
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225]
    })
    assert.throws(
      () => parseNormalisation('0.485,0.456,0.406'),
      /takes "mean,std" .* or three means and three stds .*got "0.485,0.456,0.406" \(3 numbers\)/
    )
    assert.throws(() => parseNormalisation('a,b'), /not all numbers/)
    assert.throws(() => parseNormalisation('0.5,0'), /a std of 0 divides by zero/)
    assert.deepEqual(imagePrep({ preset: 'yolo' }).size, [640, 640])
    assert.equal(imagePrep({}).size, undefined, "the default preset's size counts only when asked for")
    assert.equal(imagePrep({ preset: 'imagenet', channels: 'bgr' }).channels, 'bgr')
    assert.deepEqual(imagePrep({ imageSize: '32x64' }).size, [32, 64])
    assert.throws(() => imagePrep({ imageSize: '32' }), /--image-size takes HxW .*got "32"/)
    assert.throws(() => imagePrep({ resize: 'zoom' }), /--resize must be one of stretch, fit-pad, letterbox, center-crop/)
    assert.throws(() => imagePrep({ preset: 'vgg' }), /--preset must be one of paddleocr-cls, imagenet, yolo/)
  })

  it('a directory of images for NHWC and uint8 models; an open size names every way to give it', async () => {
    const dir = join(await tempDir(), 'images')
    await mkdir(dir)
    await writeFile(
      join(dir, 'a.png'),
      await (image(8, 4) as unknown as { getBuffer: (m: string) => Promise<Buffer> }).getBuffer('image/png')
    )
    const nhwc: TensorSpec[] = [{ name: 'images', dtype: DType.UINT8, shape: ['N', 'h', 'w', 3] }]
    const source = await readInputs(dir, nhwc, imagePrep({ preset: 'yolo', imageSize: '4x4' }))
    const items = []
    for await (const item of source.items()) {
      items.push(item)
    }
    assert.deepEqual(items[0]?.[0]?.dims, [1n, 4n, 4n, 3n])
    assert.equal(items[0]?.[0]?.dtype, DType.UINT8)
    await assert.rejects(
      readInputs(dir, nhwc, imagePrep({})),
      /leaves its height or width open; give --image-size HxW, or a --preset whose size fits the model \(paddleocr-cls: 48x192, imagenet: 224x224, yolo: 640x640\)/
    )
    await assert.rejects(
      readInputs(dir, [{ name: 'x', dtype: DType.FLOAT32, shape: ['N', 4, 8] }], imagePrep({})),
      /one image input, \[N,3,H,W\] \(NCHW\) or \[N,H,W,3\] \(NHWC\)/
    )
    await assert.rejects(
      readInputs(dir, [{ name: 'x', dtype: DType.INT32, shape: ['N', 3, 4, 4] }], imagePrep({})),
      /is int32; images become float32 or uint8/
    )
  })
})
