/** `openbatch completion` (issue #16): bash completes commands, subcommands and each command's options. */

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { assertOneLineError, run, tempDir } from './helpers.js'

/** What bash offers for the words of a command line, the last one being completed. */
async function complete(script: string, words: string[]): Promise<string[]> {
  const line = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _openbatch; printf '%s\\n' "\${COMPREPLY[@]}"`
  const out = await new Promise<string>((resolve, reject) =>
    execFile('bash', ['-c', line], { timeout: 10_000 }, (err, stdout, stderr) =>
      err == null ? resolve(stdout) : reject(new Error(stderr))
    )
  )
  return out.split('\n').filter((w) => w !== '')
}

describe('openbatch completion (issue #16)', () => {
  it('bash completes commands, subcommands and the options of the command being typed', async () => {
    const r = await run(['completion', 'bash'])
    assert.equal(r.code, 0, r.stderr)
    const script = join(await tempDir(), 'openbatch.bash')
    await writeFile(script, r.stdout)
    assert.deepEqual(await complete(script, ['openbatch', 'su']), ['submit'])
    assert.deepEqual((await complete(script, ['openbatch', 're'])).sort(), ['receipts', 'results', 'resume'])
    assert.deepEqual(await complete(script, ['openbatch', 'models', '']), [
      'add',
      'list',
      'rm',
      '--help',
      '--data-dir',
      '--json',
      '--debug',
      '--log-level'
    ])
    assert.deepEqual(await complete(script, ['openbatch', 'submit', 'model.onnx', '--top']), ['--top-k'])
    // An option's value is not a command: `--data-dir jobs` stays in `submit`.
    assert.deepEqual(await complete(script, ['openbatch', 'submit', '--data-dir', 'jobs', '--pre']), ['--preset'])
    assert.deepEqual(await complete(script, ['openbatch', 'peer', '--pri']), ['--price', '--print-config'])
    const zsh = await run(['completion', 'zsh'])
    assert.match(zsh.stdout, /bashcompinit/)
    assertOneLineError(await run(['completion', 'fish']), 2, /completion scripts are for bash and zsh; got "fish"/)
  })
})
