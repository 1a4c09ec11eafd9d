// Regenerates src/pb/openbatch.ts from the spec's .proto (the single source of truth) with protons.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const proto = fileURLToPath(new URL('../../../protocol-spec/proto/openbatch.proto', import.meta.url))
const out = fileURLToPath(new URL('../src/pb/', import.meta.url))
execFileSync('protons', ['--output', out, proto], { stdio: 'inherit' })
