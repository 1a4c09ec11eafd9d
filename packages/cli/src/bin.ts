#!/usr/bin/env node
/**
 * The `openbatch` binary. Errors a person can act on are printed as one line (`openbatch: …`) with
 * a non-zero exit code — 2 for usage mistakes, 1 for everything else; stack traces only with
 * --debug.
 */

import { CommanderError } from 'commander'
import { buildProgram } from './commands.js'
import { registerCompletion } from './completion.js'
import { registerDemo } from './demo.js'
import { registerDeviceCheck } from './device-check.js'
import { ACTIONABLE, InterruptedError, UsageError } from './errors.js'
import { registerTestnet } from './testnet.js'

const program = buildProgram()
registerDemo(program)
registerDeviceCheck(program)
registerTestnet(program)
registerCompletion(program)
const debug = process.argv.includes('--debug')
const json = process.argv.includes('--json')

try {
  await program.parseAsync(process.argv)
  process.exitCode ??= 0
} catch (err) {
  if (err instanceof CommanderError) {
    // commander printed its message (unknown option, missing argument, --help, --version).
    process.exitCode = err.exitCode === 0 ? 0 : 2
  } else {
    const e = err as Error
    const code = e instanceof UsageError ? e.code : 1
    const known = e instanceof UsageError || ACTIONABLE.has(e.name)
    if (e instanceof InterruptedError) {
      // The job's line (what was kept, how to resume) is already out.
    } else if (json) {
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: 'error', error: e.name, msg: e.message, exitCode: code })}\n`
      )
    } else {
      process.stderr.write(`openbatch: ${known ? '' : `${e.name}: `}${e.message}\n`)
    }
    if (debug) {
      process.stderr.write(`${e.stack}\n`)
    } else if (!known && !json) {
      process.stderr.write('(run with --debug for details)\n')
    }
    process.exitCode = code
  }
}
// Timers of libp2p or onnxruntime must not keep a finished command alive.
setTimeout(() => process.exit(), 1000).unref()
