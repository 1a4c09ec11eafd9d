/** `pnpm bench <name>`: runs one benchmark. Each prints its figures and, last, one JSON line. */

const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  runtime: async () => (await import('./runtime.js')).main(),
  overlay: async () => (await import('./overlay.js')).main(),
  verification: async () => (await import('./verification.js')).main(),
  discovery: async () => (await import('./discovery.js')).main(),
  liveness: async () => (await import('./liveness.js')).main(),
  testnet: async () => (await import('./testnet.js')).main(),
  engines: async () => (await import('./engines.js')).main(),
  dispatch: async () => (await import('./dispatch.js')).main(),
  store: async () => (await import('./store.js')).main()
}

const name = process.argv[2]
const bench = name == null ? undefined : BENCHMARKS[name]
if (bench == null) {
  console.error(`usage: pnpm bench <${Object.keys(BENCHMARKS).join('|')}>`)
  process.exit(2)
}
await bench()
