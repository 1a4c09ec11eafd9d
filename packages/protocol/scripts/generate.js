// Regenerates src/pb/ from the spec's .proto files (the single source of truth) with protons.
// Run from anywhere: `pnpm generate` at the repository root. CI regenerates and fails on a diff.
//
// protons resolves neither a `package` nor imports, so it reads each schema without those lines:
// the package names no bytes on the wire, and the one import (protons.proto) declares the limit
// option protons knows natively. Stock compilers read the files as they are (`buf build`).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const protons = fileURLToPath(new URL('../node_modules/.bin/protons', import.meta.url))
const specs = fileURLToPath(new URL('../../../protocol-spec/proto/', import.meta.url))
const out = fileURLToPath(new URL('../src/pb/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'openbatch-proto-'))
try {
  for (const name of ['openbatch.proto', 'envelope.proto']) {
    const schema = readFileSync(join(specs, name), 'utf8')
      .split('\n')
      .filter((line) => !/^(package|import) /.test(line))
      .join('\n')
    writeFileSync(join(dir, name), schema)
    execFileSync(protons, ['--output', out, join(dir, name)], { stdio: 'inherit' })
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
