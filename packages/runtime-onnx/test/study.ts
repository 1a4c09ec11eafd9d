/** `pnpm study`: runs the full determinism study and writes packages/runtime-onnx/DETERMINISM.md's table. */
import { execFileSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { detectDevices } from '../src/index.js'
import { CROSS_DEVICE, runDeterminismStudy, SETTINGS, toMarkdown } from './determinism.js'

const DOC = fileURLToPath(new URL('../../DETERMINISM.md', import.meta.url))
const BEGIN = '<!-- study:begin -->'
const END = '<!-- study:end -->'

// CPU vs WebGPU needs an adapter (a software one here: Mesa's lavapipe; on a GPU machine its own).
const devices = await detectDevices({ nvidiaSmi: '/nonexistent' })
if (devices.webgpu == null) {
  console.error(`no WebGPU adapter (${devices.webgpuProbe}): the cross-device part is left out`)
}
const drifts = await runDeterminismStudy(devices.webgpu == null ? SETTINGS : [...SETTINGS, ...CROSS_DEVICE])
const doc = await readFile(DOC, 'utf8')
const table = `${BEGIN}\n${toMarkdown(drifts)}\n${END}`
await writeFile(DOC, doc.slice(0, doc.indexOf(BEGIN)) + table + doc.slice(doc.indexOf(END) + END.length))
// The table's columns padded as the repository's formatter (and CI's lint) wants them.
execFileSync(fileURLToPath(new URL('../../../../node_modules/.bin/biome', import.meta.url)), ['format', '--write', DOC], {
  stdio: 'ignore'
})
console.log(toMarkdown(drifts))
console.log(
  JSON.stringify({
    study: 'determinism',
    maxAbs: Math.max(...drifts.map((d) => d.maxAbs)),
    maxRel: Math.max(...drifts.map((d) => d.maxRel)),
    toleranceUsed: Math.max(...drifts.map((d) => d.toleranceUsed)),
    argmaxFlips: drifts.reduce((n, d) => n + d.argmaxFlips, 0),
    allAgree: drifts.every((d) => d.agreesByDefault),
    crossDevice:
      devices.webgpu == null
        ? null
        : {
            adapter: devices.webgpu.description,
            software: devices.webgpu.fallback,
            maxAbs: Math.max(...drifts.filter((d) => d.setting.device === 'webgpu').map((d) => d.maxAbs)),
            maxRel: Math.max(...drifts.filter((d) => d.setting.device === 'webgpu').map((d) => d.maxRel)),
            toleranceUsed: Math.max(...drifts.filter((d) => d.setting.device === 'webgpu').map((d) => d.toleranceUsed)),
            argmaxFlips: drifts.filter((d) => d.setting.device === 'webgpu').reduce((n, d) => n + d.argmaxFlips, 0)
          }
  })
)
