#!/usr/bin/env node
/**
 * `pnpm pack:all [--out <dir>]`: packs every package of `packages/` into `<dir>` (default
 * `dist-pack/`) as the npm registry would get it — `workspace:*` dependencies become the packages'
 * versions — so that, until they are published, a project outside this workspace installs them
 * with `npm install <dir>/*.tgz` (the SDK alone for a requester: `openbatch-sdk`, and the
 * `openbatch-{core,inference,node,protocol,testnet}` it depends on; `openbatch-cli` and
 * `openbatch-runtime-onnx` for a peer).
 *
 * Run `pnpm build` (or `tsc --build`) first; `pnpm pack:all` does. Prints one JSON line last:
 * `{ "out": …, "tarballs": [...] }`.
 */

import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const at = process.argv.indexOf('--out')
const out = resolve(at >= 0 && process.argv[at + 1] != null ? process.argv[at + 1] : join(ROOT, 'dist-pack'))

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const packages = readdirSync(join(ROOT, 'packages')).filter((name) => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8'))
  return manifest.private !== true
})
for (const name of packages) {
  // pnpm rewrites workspace:* to the version; npm pack would not.
  execFileSync('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', out], {
    cwd: join(ROOT, 'packages', name),
    stdio: ['ignore', 'ignore', 'inherit']
  })
}
const tarballs = readdirSync(out)
  .filter((f) => f.endsWith('.tgz'))
  .sort()
for (const t of tarballs) {
  console.log(join(out, t))
}
console.log(JSON.stringify({ out, tarballs }))
