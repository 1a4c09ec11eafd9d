/** `pnpm study`: runs the full determinism study and writes packages/runtime-onnx/DETERMINISM.md's table. */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { runDeterminismStudy, toMarkdown } from './determinism.js'

const DOC = fileURLToPath(new URL('../../DETERMINISM.md', import.meta.url))
const BEGIN = '<!-- study:begin -->'
const END = '<!-- study:end -->'

const drifts = await runDeterminismStudy()
const doc = await readFile(DOC, 'utf8')
const table = `${BEGIN}\n${toMarkdown(drifts)}\n${END}`
await writeFile(DOC, doc.slice(0, doc.indexOf(BEGIN)) + table + doc.slice(doc.indexOf(END) + END.length))
console.log(toMarkdown(drifts))
console.log(
  JSON.stringify({
    study: 'determinism',
    maxAbs: Math.max(...drifts.map((d) => d.maxAbs)),
    maxRel: Math.max(...drifts.map((d) => d.maxRel)),
    argmaxFlips: drifts.reduce((n, d) => n + d.argmaxFlips, 0),
    allAgree: drifts.every((d) => d.agreesByDefault)
  })
)
