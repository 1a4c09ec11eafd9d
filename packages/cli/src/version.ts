/** This release's version; `test/cli.spec.ts` checks that it is package.json's (the bundled CLI has no package.json to read). */
export const VERSION = '0.1.0'
