/** Writes protocol-spec/vectors/openbatch-v1.json. Run with `pnpm vectors` (spec §9). */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildVectors } from './vectors-data.js'

export const VECTORS_PATH = fileURLToPath(new URL('../../../../protocol-spec/vectors/openbatch-v1.json', import.meta.url))

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(VECTORS_PATH, `${JSON.stringify(await buildVectors(), null, 2)}\n`)
  console.log(`wrote ${VECTORS_PATH}`)
}
