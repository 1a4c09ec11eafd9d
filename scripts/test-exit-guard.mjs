/**
 * Loaded into every test file's process by `pnpm test` (`node --import`): a file whose process is
 * still running EXIT_GUARD_MS after its tests ended (a server, a timer or a child process its
 * tests left open) fails, naming what is still open, instead of stalling the suite.
 *
 * It replaces `--test-force-exit`, which ended each file's process as soon as its tests had run —
 * sometimes before the process had written its last results (nodejs/node#64833): the run passed
 * with tests missing from its count.
 */

import { after } from 'node:test'

// OPENBATCH_TEST_EXIT_GUARD_MS: for the guard's own test.
const EXIT_GUARD_MS = Number(process.env.OPENBATCH_TEST_EXIT_GUARD_MS ?? 120_000)

after(() => {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap')
    process.stderr.write(
      `${process.argv[1] ?? 'this test file'}: still running ${EXIT_GUARD_MS / 1000} s after its tests ended; open: ${open.join(', ')}\n`
    )
    process.exit(1)
  }, EXIT_GUARD_MS).unref()
})
