#!/usr/bin/env node
// Architecture checks run by CI (issue #14):
// 1. no import cycle inside packages/*/src, type-only imports included (dpdm);
// 2. the sans-IO core reads no clock, sets no timer, draws no randomness and does no I/O: time and
//    randomness are passed in, so the same code runs in a peer, a test and the simulator.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCircular, parseDependencyTree, prettyCircular } from 'dpdm'

const root = new URL('..', import.meta.url).pathname
const entries = readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src', 'index.ts'))
let failed = false

const tree = await parseDependencyTree(entries, { context: root, transform: false, skipDynamicImports: false })
const cycles = parseCircular(tree)
if (cycles.length > 0) {
  failed = true
  console.error(`import cycles in packages/*/src (${cycles.length}):\n${prettyCircular(cycles)}`)
} else {
  console.log(`no import cycles among ${Object.keys(tree).filter((f) => f.startsWith('packages/')).length} source files`)
}

const FORBIDDEN = [
  [/\bDate\.now\s*\(/, 'reads the wall clock (Date.now): pass the time in'],
  [/\bnew Date\s*\(\s*\)/, 'reads the wall clock (new Date()): pass the time in'],
  [/\bperformance\.now\s*\(/, 'reads a clock (performance.now): pass the time in'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'sets a timer: return a timer action instead'],
  [/\bMath\.random\s*\(/, 'draws randomness (Math.random): take a random source as a parameter'],
  [/\bcrypto\.(getRandomValues|randomUUID)\s*\(/, 'draws randomness: take a random source as a parameter'],
  [
    /from\s+['"](node:)?(fs|fs\/promises|net|http|https|dgram|child_process|worker_threads|os|crypto|timers|timers\/promises|sqlite)['"]/,
    'does I/O: the core is sans-IO'
  ],
  [/\b(fetch|require)\s*\(/, 'does I/O: the core is sans-IO'],
  [/\bprocess\.\w+/, 'touches the process: the core is sans-IO']
]
const coreSrc = join(root, 'packages', 'core', 'src')
for (const file of readdirSync(coreSrc).filter((f) => f.endsWith('.ts'))) {
  const lines = readFileSync(join(coreSrc, file), 'utf8').split('\n')
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '')
    for (const [pattern, why] of FORBIDDEN) {
      if (pattern.test(code)) {
        failed = true
        console.error(`packages/core/src/${file}:${i + 1}: ${why}\n  ${line.trim()}`)
      }
    }
  })
}
if (!failed) {
  console.log('packages/core/src is sans-IO: no clock, timer, randomness or I/O')
}
process.exit(failed ? 1 : 0)
