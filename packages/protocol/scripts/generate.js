// Regenerates src/pb/openbatch.ts from the spec's .proto (the single source of truth) with protons.
// Run from anywhere: `pnpm generate` at the repository root. CI regenerates and fails on a diff.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const protons = fileURLToPath(new URL('../node_modules/.bin/protons', import.meta.url))
const proto = fileURLToPath(new URL('../../../protocol-spec/proto/openbatch.proto', import.meta.url))
const out = fileURLToPath(new URL('../src/pb/', import.meta.url))
execFileSync(protons, ['--output', out, proto], { stdio: 'inherit' })
