/**
 * The `openbatch` commands (git/kubo/docker conventions): `peer`, `submit`, `status`,
 * `models add|list|rm`, `keys`, `receipts`, `demo`. Each takes `--json` for scripts; settings
 * follow flags > OPENBATCH_* > config file > defaults (config.ts).
 */

import { existsSync, statSync } from 'node:fs'
import { open as openFile, readFile, writeFile } from 'node:fs/promises'
import { totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import {
  AgreementKind,
  type BatchJob,
  type BatchResult,
  type BatchSummary,
  CANCEL_POLL_MS,
  createClient,
  createPeer,
  type ExecutionProvider,
  type InferenceBackend,
  identity,
  inspectDataDir,
  listStoredJobs,
  loadWorkerRuntime,
  MAX_ITEMS_PER_TASK,
  MAX_TASKS_PER_CLAIM,
  ModelStore,
  modelStore,
  type Output,
  openStoredJob,
  type Peer,
  type PeerOptions,
  type Prediction,
  receiptTotals,
  rows,
  verificationPolicy as sdkPolicy,
  startStunServer,
  sumReceipts,
  type TensorSpec,
  type TransportName,
  toFloat64Array,
  topK,
  type VerificationPolicy
} from '@openbatch/sdk'
import { Command, Option } from 'commander'
import { dump as dumpNpy } from 'npyjs'
import { cheatingBackend } from './adversary.js'
import { applyConfigFile, collect, DEFAULT_DATA_DIR, positive, positiveInt, seconds, share, uint64 } from './config.js'
import { DEFAULT_UI, startDashboard } from './dashboard.js'
import { InterruptedError, UsageError } from './errors.js'
import { type ImagePrep, PRESETS, parseNormalisation, RESIZE_MODES, type ResizeMode } from './images.js'
import { readInputs } from './inputs.js'
import { startMetrics } from './metrics.js'
import { LEVELS, type Level, log, ProgressView, printJson, setLogLevel } from './out.js'
import { VERSION } from './version.js'

const env = (name: string) => `OPENBATCH_${name}`

/** Most inference threads (or intra-op threads) a peer takes: far above any household machine's cores. */
const MAX_THREADS = 256

/** How long `openbatch peer` may take to stop after SIGINT/SIGTERM before it exits regardless. */
const STOP_DEADLINE_MS = 2500

/** Socket errors a remote peer can cause: never a reason for a peer to end. */
const REMOTE_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL'
])

/**
 * A long-running peer must outlive what remote peers do: a socket error no library code caught
 * (a reset in the middle of a dial, say) is logged and the peer keeps running; an unhandled
 * rejection is logged; anything else is a bug of this process, logged before it exits with 1.
 */
function keepRunningOnRemoteErrors(): void {
  process.on('unhandledRejection', (reason) => {
    const err = reason as Error
    log('error', 'unhandled rejection (the peer keeps running)', { error: err?.name, message: err?.message ?? String(reason) })
  })
  process.on('uncaughtException', (err) => {
    const code = (err as NodeJS.ErrnoException).code
    if (code != null && REMOTE_ERRORS.has(code)) {
      log('warn', 'a connection to a remote peer failed (the peer keeps running)', { code, message: err.message })
      return
    }
    log('error', 'uncaught exception', { error: err.name, message: err.message, stack: err.stack })
    process.exit(1)
  })
}

function networkOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--listen <multiaddr...>', 'addresses to listen on').env(env('LISTEN')).argParser(collect))
    .addOption(new Option('--bootstrap <multiaddr...>', 'peers to join through (…/p2p/<id>)').env(env('BOOTSTRAP')).argParser(collect))
    .addOption(
      new Option('--bootstrap-file <file>', 'a list of bootstrap peers, one multiaddr a line (default: <data-dir>/bootstrap.txt)').env(
        env('BOOTSTRAP_FILE')
      )
    )
    .addOption(
      new Option('--transports <list>', 'tcp, quic, websockets, webrtc (comma-separated; default tcp,quic,webrtc)')
        .env(env('TRANSPORTS'))
        .argParser(collect)
    )
    .addOption(
      new Option('--stun <url...>', "STUN servers WebRTC asks for this peer's NAT mapping (stun:host:port)")
        .env(env('STUN'))
        .argParser(collect)
    )
    .addOption(
      new Option('--announce <multiaddr...>', 'public addresses to announce (a public peer that knows its address)').argParser(collect)
    )
    .addOption(
      new Option('--relay-service <mode>', 'relay for other peers: limited (control and hole punching only), unlimited, off').choices([
        'limited',
        'unlimited',
        'off'
      ])
    )
    .addOption(
      new Option('--relay-reservation <when>', 'reserve a slot on a relay: auto (when behind a NAT), always, never').choices([
        'auto',
        'always',
        'never'
      ])
    )
    .addOption(new Option('--no-upnp', 'do not map ports on the home router (UPnP)'))
    .addOption(new Option('--no-autonat', 'do not ask peers whether this peer is reachable (AutoNAT)'))
    .addOption(new Option('--no-hole-punch', 'do not upgrade relayed connections to direct ones (DCUtR)'))
    .addOption(new Option('--local', "dial private addresses of any network, not only this host's (containers, VPNs)").env(env('LOCAL')))
    .addOption(new Option('--no-mdns', 'do not look for peers on the LAN (multicast DNS)'))
    .addOption(new Option('--metrics <host:port>', 'serve Prometheus metrics at http://host:port/metrics').env(env('METRICS')))
    .option('--config <file>', 'JSON config file (default: <data-dir>/config.json)')
}

/**
 * The network settings of `peer`, `submit`, `resume` and `network` (spec §4.4). With no
 * `--bootstrap`, the peers listed in the bootstrap file (`--bootstrap-file`, else
 * `<data-dir>/bootstrap.txt` when it exists) are used: an operator replaces that file to point
 * every peer of a data directory at their network.
 */
export async function networkSettings(
  o: Record<string, unknown>
): Promise<
  Pick<
    PeerOptions,
    'listen' | 'bootstrap' | 'local' | 'mdns' | 'transports' | 'stun' | 'announce' | 'relay' | 'holePunch' | 'autonat' | 'upnp'
  >
> {
  let bootstrap = o.bootstrap as string[] | undefined
  if (bootstrap == null) {
    const file = (o.bootstrapFile as string | undefined) ?? join(o.dataDir as string, 'bootstrap.txt')
    let text: string | undefined
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if (o.bootstrapFile != null || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new UsageError(`cannot read the bootstrap file ${file}: ${(err as Error).message}`)
      }
    }
    if (text != null) {
      bootstrap = text
        .split('\n')
        .map((l) => l.replace(/#.*/, '').trim())
        .filter((l) => l !== '')
    }
  }
  const serve = o.relayService as string | undefined
  const reserve = o.relayReservation as string | undefined
  const relay: PeerOptions['relay'] = {}
  if (serve != null) {
    relay.serve = serve === 'off' ? false : (serve as 'limited' | 'unlimited')
  }
  if (reserve != null) {
    relay.reserve = reserve === 'never' ? false : (reserve as 'auto' | 'always')
  }
  return {
    listen: o.listen as string[] | undefined,
    bootstrap,
    local: o.local === true,
    mdns: o.mdns !== false,
    transports: o.transports as TransportName[] | undefined,
    stun: o.stun as string[] | undefined,
    announce: o.announce as string[] | undefined,
    relay,
    // Commander's --no-x flags default to true: only an explicit "off" is passed on.
    ...(o.upnp === false ? { upnp: false } : {}),
    ...(o.autonat === false ? { autonat: false } : {}),
    ...(o.holePunch === false ? { holePunch: false } : {})
  }
}

/**
 * Writes a finished job's final results (read back from the job store, so verdicts revised by an
 * audit are the ones written): JSON lines streamed, or one .npy of the model's single output.
 */
async function writeResults(
  path: string,
  results: AsyncIterable<BatchResult>,
  count: number,
  labels: string[],
  format: OutputFormat = {}
): Promise<void> {
  if (path.endsWith('.npy')) {
    let values: Float32Array | undefined
    let itemDims: number[] = []
    let name = ''
    let n = 0
    for await (const r of results) {
      if (r.failure != null) {
        throw new UsageError(`item ${r.index} could not run (${r.failure.kind}: ${r.failure.message}); .npy cannot hold it: use .jsonl`, 1)
      }
      if (values === undefined) {
        const names = Object.keys(r.outputs)
        if (names.length !== 1) {
          throw new UsageError(`--out .npy holds one output; this model has ${names.length} (${names.join(', ')}): use .jsonl`)
        }
        name = names[0] as string
        itemDims = (r.outputs[name] as Output).dims.slice(1)
        values = new Float32Array(count * itemDims.reduce((a, b) => a * b, 1))
      }
      const v = toFloat64Array((r.outputs[name] as Output).tensor)
      values.set(v, n * v.length)
      n++
    }
    await writeFile(
      path,
      new Uint8Array(dumpNpy((values ?? new Float32Array()).subarray(0, n * itemDims.reduce((a, b) => a * b, 1)), [n, ...itemDims]))
    )
    return
  }
  const file =
    path === '-'
      ? {
          write: (line: string) => new Promise<void>((done) => (process.stdout.write(line) ? done() : process.stdout.once('drain', done))),
          close: async () => {}
        }
      : await openFile(path, 'w')
  try {
    for await (const r of results) {
      const outputs = Object.fromEntries(
        Object.entries(r.outputs).map(([name, t]) => [
          name,
          format.topK == null
            ? { dtype: t.dtype, dims: t.dims, data: Array.from(t.data, Number) }
            : { dtype: t.dtype, dims: t.dims, top: topClasses(name, t, format.topK, format.classes) }
        ])
      )
      await file.write(
        `${JSON.stringify({ index: r.index, input: labels[r.index], outputs, ...(r.failure == null ? {} : { failure: r.failure }), verification: r.verification })}\n`
      )
    }
  } finally {
    await file.close()
  }
}

function verificationPolicy(agreement: string): VerificationPolicy | undefined {
  const kinds: Record<string, AgreementKind | undefined> = {
    default: undefined,
    argmax: AgreementKind.ARGMAX,
    exact: AgreementKind.EXACT,
    cosine: AgreementKind.COSINE,
    allclose: AgreementKind.ALLCLOSE
  }
  if (!(agreement in kinds)) {
    throw new UsageError(`--agreement must be one of ${Object.keys(kinds).join(', ')}; got "${agreement}"`)
  }
  const kind = kinds[agreement]
  return kind === undefined ? undefined : sdkPolicy({ agreement: kind })
}

export function buildProgram(): Command {
  const program = new Command('openbatch')
    .description('batch AI inference on household GPUs, verified by redundant sampling')
    .version(VERSION, '-V, --version', 'print the version')
    .option(
      '--data-dir <dir>',
      'where identity, jobs, models, reputation and receipts live',
      process.env.OPENBATCH_DATA_DIR ?? DEFAULT_DATA_DIR
    )
    .option('--json', 'machine-readable output')
    .option('--debug', 'print stack traces and debug logs')
    .addOption(
      new Option('--log-level <level>', 'leave out log lines below this level').choices(LEVELS).env('OPENBATCH_LOG_LEVEL').default('info')
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride()
    .hook('preAction', (_program, action) => {
      const o = action.optsWithGlobals() as { debug?: boolean; logLevel: Level }
      setLogLevel(o.debug === true ? 'debug' : o.logLevel)
    })

  // ── openbatch peer ───────────────────────────────────────────────────────────────────────
  networkOptions(program.command('peer'))
    .description('run a peer: a worker serving models (and a requester for its own jobs) until SIGINT/SIGTERM')
    .addOption(new Option('--model <file...>', '.onnx files to serve (added to the model store)').env(env('MODELS')).argParser(collect))
    .addOption(new Option('--no-worker', 'serve no models (requester only)'))
    .addOption(
      new Option('--device <device>', 'where inference runs: auto (a GPU through WebGPU or CUDA when there is one), webgpu, cuda or cpu')
        .env(env('DEVICE'))
        .choices(['auto', 'webgpu', 'cuda', 'cpu'])
        .default('auto')
    )
    .addOption(
      new Option('--threads <n>', 'inference threads (each holds its own sessions, ~22 MB and up)')
        .env(env('THREADS'))
        .argParser(positiveInt('--threads', MAX_THREADS, ' (each thread holds its own copy of the models)'))
    )
    .addOption(
      new Option('--intra-op-threads <n>', 'onnxruntime threads per inference thread')
        .env(env('INTRA_OP_THREADS'))
        .argParser(positiveInt('--intra-op-threads', MAX_THREADS))
    )
    .addOption(
      new Option('--capacity <n>', 'tasks held at once').env(env('CAPACITY')).argParser(positiveInt('--capacity', MAX_TASKS_PER_CLAIM * 16))
    )
    .addOption(
      new Option('--max-ram-share <fraction>', 'share of RAM for loaded models')
        .env(env('MAX_RAM_SHARE'))
        .argParser(share('--max-ram-share'))
    )
    .addOption(
      new Option('--max-vram-share <fraction>', "share of the GPU's memory for inference (CUDA only)")
        .env(env('MAX_VRAM_SHARE'))
        .argParser(share('--max-vram-share'))
    )
    .addOption(new Option('--hours <h>', 'stop after this many hours').env(env('HOURS')).argParser(positive('--hours')))
    .addOption(
      new Option('--price <n>', 'price per item advertised in the capacity record (network units, 0 … 2^64−1)')
        .env(env('PRICE'))
        .argParser(uint64('--price'))
    )
    .addOption(
      new Option('--report-every <s>', 'seconds between the info lines summing up the work done (only while there was work)')
        .env(env('REPORT_EVERY'))
        .default(60)
        .argParser(positive('--report-every'))
    )
    .addOption(new Option('--no-benchmark', 'advertise no measured speed (skip the start-up benchmark)'))
    .addOption(
      new Option('--adversary-cheat-rate <fraction>', 'TESTNETS ONLY: fake this share of results')
        .argParser(share('--adversary-cheat-rate'))
        .hideHelp()
    )
    .addOption(
      new Option('--ui [host:port]', 'serve the dashboard (default 127.0.0.1:7464; bound elsewhere it needs the token it prints)').env(
        env('UI')
      )
    )
    .addOption(
      new Option('--ui-token <token>', 'the token the dashboard asks for (off loopback it always asks: by default a random one)').env(
        env('UI_TOKEN')
      )
    )
    .addOption(
      new Option(
        '--stun-service <port>',
        "answer STUN binding requests on this UDP port (a public peer: households learn their NAT's mapping from it)"
      )
        .env(env('STUN_SERVICE'))
        .argParser(positiveInt('--stun-service', 65535))
    )
    .option('--print-config', 'print the settings in force (and where each came from) and exit')
    .action(async (_opts, cmd: Command) => {
      const file = applyConfigFile(cmd)
      const o = cmd.optsWithGlobals() as Record<string, unknown> & { dataDir: string }
      if (o.printConfig === true) {
        const settings = Object.fromEntries(
          cmd.options
            .map((opt) => opt.attributeName())
            .filter((k) => k !== 'printConfig' && o[k] !== undefined)
            .map((k) => [k, { value: o[k], from: cmd.getOptionValueSource(k) ?? 'default' }])
        )
        printJson({ configFile: file ?? null, dataDir: o.dataDir, settings })
        return
      }
      const models = (o.model as string[] | undefined) ?? []
      const dataDir = o.dataDir
      const threads = o.threads as number | undefined
      const memoryShare = o.maxRamShare as number | undefined
      let wrapBackend: ((backend: InferenceBackend) => InferenceBackend) | undefined
      if (o.adversaryCheatRate != null) {
        wrapBackend = (backend) => cheatingBackend(backend, o.adversaryCheatRate as number)
        log('warn', 'ADVERSARY: this peer fakes results (testnets only)', { rate: o.adversaryCheatRate })
      }
      const metrics = o.metrics == null ? undefined : await startMetrics(o.metrics as string)
      const stun = o.stunService == null ? undefined : await startStunServer({ port: o.stunService as number })
      const options: PeerOptions = {
        dataDir,
        ...(await networkSettings(o)),
        libp2pMetrics: metrics?.libp2p,
        worker:
          o.worker === false
            ? undefined
            : {
                models,
                device: o.device as ExecutionProvider,
                threads,
                intraOpThreads: o.intraOpThreads as number | undefined,
                capacity: o.capacity as number | undefined,
                memoryBudgetBytes: memoryShare == null ? undefined : Math.floor(memoryShare * totalmem()),
                gpuMemoryShare: o.maxVramShare as number | undefined,
                benchmark: o.benchmark !== false,
                pricePerItem: o.price as bigint | undefined,
                wrapBackend
              }
      }
      keepRunningOnRemoteErrors()
      const peer = await createPeer(options)
      metrics?.watch(peer)
      const served = await peer.servedModels()
      for (const notice of peer.notices) {
        log('warn', notice, { event: 'device-notice' })
      }
      peer.addEventListener('notice', (e) => log('warn', e.detail, { event: 'device-notice' }))
      peer.addEventListener('fraud', (e) =>
        log('info', 'published a fraud proof', { accused: e.detail.accused, task: e.detail.task, job: e.detail.jobId })
      )
      // The same failure again (a requester that vanished, say) is logged once per backoff, with how often it came.
      const repeats = new RepeatFilter()
      peer.addEventListener('error', (e) => repeats.log('warn', e.detail.message, { error: e.detail.name }))
      peer.addEventListener('run', (e) =>
        log('debug', 'ran a task', { model: e.detail.model, items: e.detail.items, ms: e.detail.durationUs / 1000 })
      )
      peer.addEventListener('job', (e) => {
        const { event, jobId, requester, model, reason } = e.detail
        const what = { joined: 'joined a job', left: 'left a job', declined: 'passed a job by: it pays less than the price' }[event]
        log('info', what, { event: `job-${event}`, job: jobId, requester, model, reason })
      })
      const report = new WorkReport(peer, (o.reportEvery as number) * 1000)
      const dashboard =
        o.ui == null || o.ui === false
          ? undefined
          : await startDashboard(peer, o.ui === true ? DEFAULT_UI : (o.ui as string), o.uiToken as string | undefined)
      peer.node.onFraudProof((proof, reporter) =>
        log('info', 'accepted a fraud proof; the accused is banned', {
          event: 'fraud-proof-accepted',
          accused: proof.accused.signer.toString(),
          reporter: reporter.toString()
        })
      )
      // Signal handlers go in before the ready line: a supervisor may stop the peer as soon as it reads it.
      const stopRequested = new Promise<void>((resolve) => {
        const stop = (why: string) => {
          log('info', 'stopping: finishing tasks in flight', { why })
          // A second signal stops at once.
          process.once('SIGINT', () => process.exit(130))
          process.once('SIGTERM', () => process.exit(143))
          resolve()
        }
        process.once('SIGINT', () => stop('SIGINT'))
        process.once('SIGTERM', () => stop('SIGTERM'))
        if (o.hours != null) {
          setTimeout(() => stop('--hours elapsed'), (o.hours as number) * 3_600_000).unref()
        }
      })
      const ready = {
        event: 'ready',
        peerId: peer.peerId,
        addresses: peer.addresses,
        models: served,
        offers: peer.offers,
        worker: o.worker !== false,
        device: peer.device,
        metrics: metrics?.url,
        ui: dashboard?.url,
        stun: stun?.port
      }
      if (o.json === true) {
        printJson(ready)
      } else {
        process.stdout.write(`${peerIntro(peer, served)}${dashboard == null ? '' : `dashboard: ${dashboard.url}\n`}`)
      }
      log('info', 'peer started', ready)
      // §4.4: say how peers elsewhere reach this one, and again whenever that changes.
      let reachability = ''
      const reach = setInterval(() => {
        const n = peer.network()
        const now = `${n.reachability} ${n.relays.join(',')}`
        if (now !== reachability) {
          reachability = now
          log(
            'info',
            `reachability: ${n.reachability}${n.relays.length > 0 ? ` (through ${n.relays.length} relay${n.relays.length === 1 ? '' : 's'})` : ''}`,
            {
              event: 'reachability',
              reachability: n.reachability,
              relays: n.relays,
              addresses: n.addresses
            }
          )
        }
      }, 1000)
      reach.unref()
      await stopRequested
      clearInterval(reach)
      // The stop is bounded: tasks in flight and connections get their grace, then the process ends.
      let stopped = false
      setTimeout(() => {
        if (!stopped) {
          log('warn', `the peer did not stop within ${STOP_DEADLINE_MS} ms; exiting anyway`)
        }
        process.exit(process.exitCode ?? 0)
      }, STOP_DEADLINE_MS).unref()
      await peer.stop()
      await metrics?.close()
      await stun?.close()
      stopped = true
      report.stop()
      await dashboard?.close()
      log('info', 'peer stopped')
    })

  // ── openbatch submit ─────────────────────────────────────────────────────────────────────
  resultOptions(networkOptions(program.command('submit')))
    .description('submit a batch: <model> is an .onnx file; <inputs> a .npy, .npz or .jsonl file, or a directory of images')
    .argument('<model>', 'the model (.onnx)')
    .argument('<inputs>', 'the inputs')
    .option('-o, --out <file>', 'write results: .jsonl (every output, with verification) or .npy (the one output)')
    .addOption(new Option('--agreement <rule>', 'how re-runs are compared: default, argmax, exact, cosine, allclose').default('default'))
    .addOption(
      new Option(
        '--preset <name>',
        `how images become the model's input: ${Object.keys(PRESETS).join(', ')} (default paddleocr-cls)`
      ).choices(Object.keys(PRESETS))
    )
    .option(
      '--normalize <mean,std>',
      'float32 image pixels become (x/255 − mean)/std: "mean,std", or three means and three stds per channel'
    )
    .addOption(new Option('--channels <order>', "the model's channel order").choices(['rgb', 'bgr']))
    .addOption(new Option('--resize <mode>', 'how images take the input size').choices(RESIZE_MODES))
    .option('--image-size <HxW>', "images' height and width where the model leaves them open (e.g. 224x224)")
    .addOption(
      new Option('--discovery-timeout <s>', 'seconds to look for workers of the model')
        .default(30)
        .argParser(positive('--discovery-timeout'))
    )
    .addOption(new Option('--deadline <minutes>', 'give up after this long').default(60).argParser(positive('--deadline')))
    .addOption(
      new Option(
        '--reward <n>',
        'reward per task (network units, 0 … 2^64−1; default: --max-price × the items a task carries, else 0)'
      ).argParser(uint64('--reward'))
    )
    .addOption(
      new Option('--max-price <n>', 'the most to pay per item: only workers asking at most this are used (network units)').argParser(
        uint64('--max-price')
      )
    )
    .addOption(
      new Option(
        '--check-wait <s>',
        'seconds a sampled or failed task waits for an independent worker to run it again; then it stands unsampled (0: never wait; default: the lease, 60 s; no other worker around: no wait)'
      ).argParser(seconds('--check-wait'))
    )
    .addOption(
      new Option(
        '--items-per-task <n>',
        `items one task carries, stacked as one batch (1 … ${MAX_ITEMS_PER_TASK}, or auto: from the workers' measured speed)`
      )
        .default('auto')
        .argParser((v: string) => (v === 'auto' ? v : positiveInt('--items-per-task', MAX_ITEMS_PER_TASK)(v)))
    )
    .action(async (modelPath: string, inputsPath: string, _opts, cmd: Command) => {
      applyConfigFile(cmd)
      const o = cmd.optsWithGlobals() as Record<string, unknown> & { dataDir: string }
      const prep = imagePrep(o as Parameters<typeof imagePrep>[0])
      const verification = verificationPolicy(o.agreement as string)
      // From a config file these come as numbers or strings.
      const bigintOf = (name: string, v: unknown) => (v == null || typeof v === 'bigint' ? v : uint64(name)(String(v)))
      const reward = bigintOf('--reward', o.reward) as bigint | undefined
      const maxPrice = bigintOf('--max-price', o.maxPrice) as bigint | undefined
      if (o.out != null) {
        checkOutPath(o.out as string) // before any work is done, not after the whole job ran
      }
      const format = await outputFormat(o)
      const prepared = await prepareSubmit(join(o.dataDir, 'client', 'models'), modelPath, inputsPath, prep)
      const metrics = o.metrics == null ? undefined : await startMetrics(o.metrics as string)
      const client = await createClient({
        dataDir: join(o.dataDir, 'client'),
        ...(await networkSettings(o)),
        // Only this command's job: jobs stored by earlier submits are not resumed behind the user's back.
        resume: false,
        libp2pMetrics: metrics?.libp2p
      })
      metrics?.watch(client)
      logBackgroundErrors(client)
      try {
        await runSubmit(client, prepared, { ...o, verification, reward, maxPrice, format })
      } finally {
        await client.stop()
        await metrics?.close()
      }
    })

  // ── openbatch status ─────────────────────────────────────────────────────────────────────
  program
    .command('status')
    .description("this machine's peer: identity, models, jobs and their verification, reputation, receipts")
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean }
      const status = await readStatus(o.dataDir)
      if (o.json === true) {
        printJson(status)
        return
      }
      process.stdout.write(`peer id: ${status.peerId ?? '(none yet: run `openbatch peer` or `openbatch keys`)'}\n`)
      process.stdout.write(`models: ${status.models.length}\n`)
      process.stdout.write(`jobs: ${status.jobs.length}\n`)
      for (const j of status.jobs) {
        const v = j.verdicts
        process.stdout.write(
          `  ${j.jobId.slice(0, 16)}…  ${j.state}  ${j.settled}/${j.taskCount} ${j.itemCount === j.taskCount ? '' : `tasks (${j.itemCount} items) `}settled · ${v.agreed} agreed · ${v.unsampled} unsampled · ${v.disputed} disputed · ${v.unresolved} unresolved\n`
        )
      }
      process.stdout.write(`peers with a reputation record: ${status.reputation.peers} (${status.reputation.banned} banned)\n`)
      process.stdout.write(`receipts: ${status.receipts.receipts} (reward ${status.receipts.reward})\n`)
    })

  // ── openbatch network ────────────────────────────────────────────────────────────────────
  networkOptions(program.command('network'))
    .description(
      'how peers elsewhere reach this machine (spec §4.4): joins with the same settings as `openbatch peer`, under an identity of its own, and prints reachability (public, relayed, private), relays in use, observed addresses and connected peers'
    )
    .addOption(
      new Option(
        '--wait <s>',
        'seconds to watch before printing (it prints sooner once a relay holds a reservation or an address is confirmed public)'
      )
        .default(15)
        .argParser(positive('--wait'))
    )
    .action(async (_opts, cmd: Command) => {
      applyConfigFile(cmd)
      const o = cmd.optsWithGlobals() as Record<string, unknown> & { dataDir: string; json?: boolean }
      // Its own identity: the running `openbatch peer` of this data directory keeps its own.
      const peer = await createPeer({ dataDir: join(o.dataDir, 'network'), ...(await networkSettings(o)), resume: false })
      try {
        const until = Date.now() + (o.wait as number) * 1000
        while (Date.now() < until && ['private', 'offline'].includes(peer.network().reachability)) {
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        const report = peer.network()
        if (o.json === true) {
          printJson({ peerId: peer.peerId, ...report })
          return
        }
        const lines = [
          `reachability: ${report.reachability}${{ public: ' (peers dial this machine directly)', relayed: ' (peers reach this machine through a relay)', private: ' (only peers on its own networks reach it: no relay yet)', offline: ' (no address)' }[report.reachability]}`,
          `relays: ${report.relays.length === 0 ? 'none' : report.relays.join(', ')}`,
          'addresses:',
          ...report.addresses.map((a) => `  ${a}`),
          `observed by peers (not confirmed reachable): ${report.observed.length === 0 ? 'none' : ''}`,
          ...report.observed.map((a) => `  ${a}`),
          `connected peers: ${report.connections.length}`,
          ...report.connections.map(
            (c) => `  ${c.peer} ${c.direction} ${c.address}${c.relayed ? (c.limited ? ' (limited relay)' : ' (relay)') : ''}`
          )
        ]
        process.stdout.write(`${lines.join('\n')}\n`)
      } finally {
        await peer.stop()
      }
    })

  // ── openbatch models ─────────────────────────────────────────────────────────────────────
  const models = program.command('models').description('the models this peer serves, kept by CID')
  models
    .command('add')
    .argument('<file>', 'an .onnx file')
    .description('add a model to the store (prints its CID)')
    .action(async (file: string, _opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean }
      const { bytes, cid } = await storeModel(join(o.dataDir, 'models'), file, 2)
      o.json === true ? printJson({ model: cid, bytes: bytes.length }) : process.stdout.write(`${cid}\n`)
    })
  models
    .command('list')
    .description('list stored models')
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean }
      const list = await modelStore(o.dataDir).list()
      o.json === true
        ? printJson(list)
        : process.stdout.write(list.map((m) => `${m.model}  ${m.sizeBytes} bytes`).join('\n') + (list.length > 0 ? '\n' : ''))
    })
  models
    .command('rm')
    .argument('<cid>', 'the model CID')
    .description('remove a model')
    .action(async (cid: string, _opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean }
      let removed: boolean
      try {
        removed = await modelStore(o.dataDir).remove(cid)
      } catch {
        throw new UsageError(`"${cid}" is not a model CID; see \`openbatch models list\``)
      }
      if (!removed) {
        throw new UsageError(`no model ${cid} in ${join(o.dataDir, 'models')}; see \`openbatch models list\``, 1)
      }
      o.json === true ? printJson({ removed: cid }) : process.stdout.write(`removed ${cid}\n`)
    })

  // ── openbatch keys ───────────────────────────────────────────────────────────────────────
  program
    .command('keys')
    .description("show this peer's identity (created on first use, mode 0600)")
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean }
      const { peerId, type, path } = await identity(o.dataDir)
      o.json === true ? printJson({ peerId, type, path }) : process.stdout.write(`peer id: ${peerId}\nkey: ${type}, ${path}\n`)
    })

  // ── openbatch receipts ───────────────────────────────────────────────────────────────────
  program
    .command('receipts')
    .description('verified work this worker did: receipts signed by requesters, per requester')
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean }
      const totals = receiptTotals(o.dataDir)
      if (o.json === true) {
        printJson(totals)
        return
      }
      if (totals.length === 0) {
        process.stdout.write('no receipts yet\n')
      }
      for (const t of totals) {
        process.stdout.write(`${t.requester}  ${t.receipts} receipts  reward ${t.reward}\n`)
      }
    })

  registerJobCommands(program)
  return program
}

/** What a peer tells its owner at start: who it is, where it runs, what it offers, how others reach it. */
function peerIntro(peer: Peer, served: string[]): string {
  const offers = new Map(peer.offers.map((o) => [o.model, o]))
  const lines = [`peer id: ${peer.peerId}`, ...peer.addresses.map((a) => `listening on ${a}`)]
  if (peer.device != null) {
    lines.push(`device: ${peer.device.provider} — ${peer.device.reason}`)
  }
  lines.push(`serving ${served.length} model(s)${served.length > 0 ? ':' : ''}`)
  for (const model of served) {
    const offer = offers.get(model)
    lines.push(
      offer == null
        ? `  ${model}`
        : `  ${model}: ${offer.itemsPerSecond.toFixed(offer.itemsPerSecond < 10 ? 1 : 0)} items/s measured, batches up to ${offer.maxBatch}, price ${offer.pricePerItem} per item`
    )
  }
  // A routable address first: loopback ones only reach this machine.
  const reach = peer.addresses.find((a) => !/\/ip4\/127\.|\/ip6\/::1\//.test(a)) ?? peer.addresses[0]
  if (reach != null) {
    lines.push(`others join through this peer with: --bootstrap ${reach}`)
  }
  return `${lines.join('\n')}\n`
}

/**
 * Logs a line per distinct failure, then the same one again only after a backoff (30 s, doubling
 * to 30 min) with how many times it came meanwhile: a requester that vanished is one line now
 * and then, not one every few seconds.
 */
export class RepeatFilter {
  private readonly seen = new Map<string, { next: number; wait: number; count: number }>()

  constructor(private readonly now: () => number = Date.now) {}

  log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
    // Numbers (ports, counts, ms) differ between repeats of one failure; the rest names it.
    const key = `${level} ${msg.replace(/\d+/g, '#')}`
    const t = this.now()
    const entry = this.seen.get(key)
    if (entry == null) {
      if (this.seen.size >= 1000) {
        this.seen.clear()
      }
      this.seen.set(key, { next: t + 30_000, wait: 30_000, count: 0 })
      log(level, msg, fields)
      return
    }
    entry.count++
    if (t >= entry.next) {
      log(level, msg, { ...fields, repeated: entry.count, sinceMs: entry.wait })
      entry.wait = Math.min(entry.wait * 2, 30 * 60_000)
      entry.next = t + entry.wait
      entry.count = 0
    }
  }
}

/**
 * A submitting client's background failures (an announcement nobody heard yet, a worker that
 * vanished mid-stream) as debug lines, each once per backoff: `--log-level debug` shows why a job
 * makes no progress, without alarming anyone when it recovers by itself.
 */
function logBackgroundErrors(client: Peer): void {
  const repeats = new RepeatFilter()
  client.addEventListener('error', (e) => repeats.log('debug', e.detail.message, { error: e.detail.name }))
}

/** An info line every `everyMs` while the worker worked: tasks and items run, items/s, receipts and reward. */
class WorkReport {
  private tasks = 0
  private items = 0
  private totalTasks = 0
  private readonly timer: ReturnType<typeof setInterval>

  constructor(peer: Peer, everyMs: number) {
    peer.addEventListener('run', (e) => {
      this.tasks++
      this.items += e.detail.items
    })
    this.timer = setInterval(() => {
      if (this.tasks === 0) {
        return
      }
      this.totalTasks += this.tasks
      const earned = peer.earnings()
      log('info', 'work done', {
        event: 'work-report',
        tasks: this.tasks,
        items: this.items,
        itemsPerSecond: Number((this.items / (everyMs / 1000)).toFixed(1)),
        tasksSinceStart: this.totalTasks,
        ...sumReceipts(earned)
      })
      this.tasks = 0
      this.items = 0
    }, everyMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }
}

/** `openbatch jobs`, `results`, `cancel`, `resume`: a job's lifecycle from the shell. */
function registerJobCommands(program: Command): void {
  program
    .command('jobs')
    .description('jobs kept in the data directory: state, progress, age')
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean }
      const jobs = await listStoredJobs(o.dataDir)
      if (o.json === true) {
        printJson(jobs)
        return
      }
      if (jobs.length === 0) {
        process.stdout.write(`no jobs in ${o.dataDir}; submit one with \`openbatch submit <model> <inputs>\`\n`)
        return
      }
      const now = Date.now()
      for (const j of jobs) {
        const items = j.itemCount === j.taskCount ? 'tasks' : `tasks (${j.itemCount} items)`
        process.stdout.write(
          `${j.jobId.slice(0, 16)}  ${j.state.padEnd(10)}  ${j.settled}/${j.taskCount} ${items} settled  ${age(now - j.issuedAt)} ago  model ${j.model.slice(0, 16)}…\n`
        )
      }
    })

  resultOptions(program.command('results'))
    .description("write a stored job's results so far (all of them once it finished); no network needed")
    .argument('<job>', 'the job id, or a unique prefix of it')
    .option(
      '-o, --out <file>',
      'write results: .jsonl (every output, with verification) or .npy (the one output); default: JSON lines on stdout'
    )
    .action(async (jobId: string, _opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean; out?: string }
      if (o.out != null) {
        checkOutPath(o.out)
      }
      const format = await outputFormat(o)
      const stored = await openStoredJob(o.dataDir, jobId)
      try {
        const { info } = stored
        await writeResults(o.out ?? '-', stored.job.results(), info.itemCount, [], format)
        if (o.out != null) {
          const line = `job ${info.jobId} (${info.state}): results of ${info.settled}/${info.taskCount} tasks → ${o.out}`
          o.json === true
            ? printJson({ jobId: info.jobId, state: info.state, settled: info.settled, taskCount: info.taskCount, out: o.out })
            : process.stdout.write(`${line}\n`)
        }
      } finally {
        stored.close()
      }
    })

  program
    .command('cancel')
    .description('cancel a stored job: no more tasks go out, it is not resumed, its results stay readable')
    .argument('<job>', 'the job id, or a unique prefix of it')
    .action(async (jobId: string, _opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as { dataDir: string; json?: boolean }
      const stored = await openStoredJob(o.dataDir, jobId)
      try {
        const { info } = stored
        if (info.state === 'finished') {
          throw new UsageError(
            `job ${info.jobId} has finished: nothing to cancel; read it with \`openbatch results ${info.jobId.slice(0, 16)}\``,
            1
          )
        }
        stored.job.cancel()
        o.json === true
          ? printJson({ cancelled: info.jobId, settled: info.settled, taskCount: info.taskCount })
          : process.stdout.write(
              `cancelled job ${info.jobId}: ${info.settled}/${info.taskCount} tasks settled; a peer running it stops within ${CANCEL_POLL_MS / 1000} s; read them with \`openbatch results ${info.jobId.slice(0, 16)}\`\n`
            )
      } finally {
        stored.close()
      }
    })

  resultOptions(networkOptions(program.command('resume')))
    .description('go on with a job `openbatch submit` left unfinished (interrupted, or its process stopped)')
    .argument('<job>', 'the job id, or a unique prefix of it')
    .option('-o, --out <file>', 'write results: .jsonl (every output, with verification) or .npy (the one output)')
    .action(async (jobId: string, _opts, cmd: Command) => {
      applyConfigFile(cmd)
      const o = cmd.optsWithGlobals() as Record<string, unknown> & { dataDir: string; json?: boolean; out?: string }
      if (o.out != null) {
        checkOutPath(o.out)
      }
      const stored = await openStoredJob(o.dataDir, jobId)
      const { info } = stored
      stored.close()
      if (info.state === 'cancelled' || info.state === 'expired') {
        throw new UsageError(
          `job ${info.jobId} was ${info.state === 'cancelled' ? 'cancelled' : 'past its deadline'}: it cannot go on; read its ${info.settled} settled tasks with \`openbatch results ${info.jobId.slice(0, 16)}\``,
          1
        )
      }
      if (info.store !== join(o.dataDir, 'client', 'jobs.db')) {
        throw new UsageError(`job ${info.jobId} belongs to \`openbatch peer\` with this data directory, which resumes it when it starts`, 1)
      }
      const format = await outputFormat(o)
      const metrics = o.metrics == null ? undefined : await startMetrics(o.metrics as string)
      const client = await createClient({
        dataDir: join(o.dataDir, 'client'),
        ...(await networkSettings(o)),
        resume: [info.jobId],
        libp2pMetrics: metrics?.libp2p
      })
      metrics?.watch(client)
      logBackgroundErrors(client)
      try {
        await followJob(client, client.job(info.jobId), { json: o.json === true, out: o.out, dataDir: o.dataDir, resumed: true, format })
      } finally {
        await client.stop()
        await metrics?.close()
      }
    })
}

const age = (ms: number) =>
  ms < 60_000
    ? `${Math.round(ms / 1000)} s`
    : ms < 3_600_000
      ? `${Math.round(ms / 60_000)} min`
      : ms < 172_800_000
        ? `${Math.round(ms / 3_600_000)} h`
        : `${Math.round(ms / 86_400_000)} d`

/** What `openbatch status` shows (the SDK reads the data directory). */
export const readStatus = inspectDataDir

/** How results are written: every value (default), or each row's `topK` classes, named by `classes`. */
interface OutputFormat {
  topK?: number
  classes?: string[]
}

/** The `k` best classes of each row of an output (its last axis), labelled when the labels fit. */
function topClasses(name: string, output: Output, k: number, classes?: string[]): Prediction[][] {
  const width = output.dims.at(-1) ?? 1
  if (classes != null && classes.length !== width) {
    throw new UsageError(
      `--labels has ${classes.length} labels, output "${name}" has ${width} classes per row (dims [${output.dims.join(',')}])`,
      1
    )
  }
  return rows(output).map((row) => topK(row, k, classes == null ? {} : { labels: classes }))
}

/** `--top-k` and `--labels`: results written as each row's best classes, named. */
async function outputFormat(o: Record<string, unknown>): Promise<OutputFormat> {
  if (o.topK != null && typeof o.out === 'string' && o.out.endsWith('.npy')) {
    throw new UsageError('--top-k writes JSON lines: give --out a .jsonl file (or none, for stdout)')
  }
  if (o.labels != null && o.topK == null) {
    throw new UsageError('--labels names the classes --top-k writes: give --top-k too (e.g. --top-k 1)')
  }
  let classes: string[] | undefined
  if (o.labels != null) {
    try {
      classes = (await readFile(o.labels as string, 'utf8')).split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1)
    } catch {
      throw new UsageError(`--labels ${o.labels} cannot be read; give a text file with one label per line`)
    }
  }
  return { topK: o.topK as number | undefined, classes }
}

/** Options of the commands that write results. */
function resultOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--top-k <k>', "write each output row's k best classes (index, label, score) instead of every value").argParser(
        positiveInt('--top-k', 1000)
      )
    )
    .option('--labels <file>', 'class labels for --top-k, one per line (in class-index order)')
}

/** `--out` must be writable where it points: its folder exists and it is not a folder itself. */
function checkOutPath(path: string): void {
  const dir = dirname(resolve(path))
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`--out ${path}: folder ${dir} does not exist; create it first`)
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new UsageError(`--out ${path} is a folder; give a file name ending in .jsonl or .npy`)
  }
  if (!path.endsWith('.jsonl') && !path.endsWith('.npy')) {
    throw new UsageError(`--out ${path}: use a .jsonl (every output, with verification) or .npy (the one output) file`)
  }
}

interface SubmitSettings extends Record<string, unknown> {
  verification?: VerificationPolicy
  reward?: bigint
  maxPrice?: bigint
}

/**
 * How images become the model's input: the preset (`--preset`, default paddleocr-cls: what the
 * CLI did before presets), with `--normalize`, `--channels`, `--resize` and `--image-size` over it.
 * The preset's size counts only when the preset was asked for.
 */
export function imagePrep(o: { preset?: string; normalize?: string; channels?: string; resize?: string; imageSize?: string }): ImagePrep {
  const base = PRESETS[o.preset ?? 'paddleocr-cls']
  if (base == null) {
    throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}; got "${o.preset}"`)
  }
  const prep: ImagePrep = { ...base, size: o.preset == null ? undefined : base.size }
  if (o.normalize != null) {
    Object.assign(prep, parseNormalisation(o.normalize))
  }
  if (o.channels != null) {
    if (o.channels !== 'rgb' && o.channels !== 'bgr') {
      throw new UsageError(`--channels must be rgb or bgr; got "${o.channels}"`)
    }
    prep.channels = o.channels
  }
  if (o.resize != null) {
    if (!RESIZE_MODES.includes(o.resize as ResizeMode)) {
      throw new UsageError(`--resize must be one of ${RESIZE_MODES.join(', ')}; got "${o.resize}"`)
    }
    prep.resize = o.resize as ResizeMode
  }
  if (o.imageSize != null) {
    const m = /^(\d+)x(\d+)$/.exec(o.imageSize)
    if (m == null || Number(m[1]) < 1 || Number(m[2]) < 1) {
      throw new UsageError(`--image-size takes HxW (height x width in pixels, e.g. 224x224); got "${o.imageSize}"`)
    }
    prep.size = [Number(m[1]), Number(m[2])]
  }
  return prep
}

/** Reads and checks the model and the inputs before any network is joined. */
async function prepareSubmit(modelsDir: string, modelPath: string, inputsPath: string, prep: ImagePrep) {
  const { bytes, cid, inputs } = await storeModel(modelsDir, modelPath, 1)
  return { bytes, cid, source: await readInputs(inputsPath, inputs, prep) }
}

/**
 * Adds a model file to the store under `modelsDir` and loads it once with onnxruntime, for its
 * input specs; a file it cannot load is refused and removed again. `missingCode`: the exit code
 * when the file cannot be read.
 */
async function storeModel(
  modelsDir: string,
  path: string,
  missingCode: number
): Promise<{ bytes: Uint8Array; cid: string; inputs: TensorSpec[] }> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch {
    throw new UsageError(`model file ${path} does not exist or cannot be read; give the path of an .onnx file`, missingCode)
  }
  const store = new ModelStore(modelsDir)
  const cid = await store.add(bytes)
  const probe = (await loadWorkerRuntime()).createOnnxBackend({ store, threads: 1, intraOpThreads: 1, executionProvider: 'cpu' })
  await probe.start()
  try {
    return { bytes, cid, inputs: (await probe.describe(cid)).inputs }
  } catch (err) {
    await store.remove(cid)
    throw new UsageError(`${path} is not a model onnxruntime can load: ${(err as Error).message}`, 1)
  } finally {
    await probe.stop()
  }
}

async function runSubmit(client: Peer, prepared: Awaited<ReturnType<typeof prepareSubmit>>, o: SubmitSettings): Promise<void> {
  const { bytes, cid, source } = prepared
  log('debug', 'submitting', { model: cid, items: source.count })
  const job = await client.submitBatch({
    model: bytes,
    inputs: source.items(),
    verification: o.verification,
    reward: o.reward,
    maxPricePerItem: o.maxPrice,
    deadline: Date.now() + (o.deadline as number) * 60_000,
    discoveryTimeoutMs: (o.discoveryTimeout as number) * 1000,
    checkWaitMs: o.checkWait == null ? undefined : Math.round((o.checkWait as number) * 1000),
    itemsPerTask: o.itemsPerTask as number | 'auto'
  })
  await followJob(client, job, {
    json: o.json === true,
    out: o.out as string | undefined,
    dataDir: o.dataDir as string,
    labels: source.labels,
    format: o.format as OutputFormat
  })
}

/**
 * Follows a job this process serves to its end: its id first, progress, the summary, `--out`.
 * Ctrl-C keeps what has arrived: the peer stops (its store durable), the results so far go to
 * `--out`, and the line to resume it is printed; exit code 130.
 */
export async function followJob(
  client: Peer,
  job: BatchJob,
  o: { json: boolean; out?: string; dataDir: string; labels?: string[]; resumed?: boolean; format?: OutputFormat }
): Promise<void> {
  const resume = `openbatch resume ${job.id}${o.out == null ? '' : ` --out ${o.out}`}`
  if (o.json) {
    printJson({ event: o.resumed === true ? 'resumed' : 'submitted', jobId: job.id, taskCount: job.taskCount, itemCount: job.itemCount })
  } else {
    const items = job.itemCount === job.taskCount ? `${job.itemCount} items` : `${job.itemCount} items in ${job.taskCount} tasks`
    process.stdout.write(`job ${job.id}: ${items}${o.resumed === true ? ' (resumed)' : ''}\n`)
  }
  const view = new ProgressView(process.stderr, undefined, o.json)
  view.follow(job)
  const interrupted = Promise.withResolvers<'interrupted'>()
  const onSigint = () => {
    process.once('SIGINT', () => process.exit(130)) // a second Ctrl-C stops at once
    interrupted.resolve('interrupted')
  }
  process.once('SIGINT', onSigint)
  let summary: BatchSummary
  try {
    let cancelled = false
    const ended = await Promise.race([
      job.finished.catch((err: Error) => {
        cancelled = err.name === 'AbortError'
        return job.summary()
      }),
      interrupted.promise
    ])
    if (ended === 'interrupted') {
      view.end()
      await client.stop()
      const stored = await openStoredJob(o.dataDir, job.id)
      try {
        const { settled, taskCount } = stored.info
        if (o.out != null) {
          await writeResults(o.out, stored.job.results(), job.itemCount, o.labels ?? [], o.format)
        }
        const line = `interrupted: ${settled}/${taskCount} tasks settled${o.out == null ? '' : `, written to ${o.out}`}; the job is kept: resume it with \`${resume}\``
        o.json
          ? printJson({ event: 'interrupted', jobId: job.id, settled, taskCount, out: o.out, resume })
          : process.stderr.write(`${line}\n`)
      } finally {
        stored.close()
      }
      throw new InterruptedError()
    }
    summary = ended
    view.finish(job, summary)
    if (o.out != null) {
      await writeResults(o.out, job.results(), job.itemCount, o.labels ?? [], o.format)
    }
    printSummary(job, summary, o)
    if (cancelled) {
      throw new UsageError(
        `job ${job.id} was cancelled with ${summary.settled}/${summary.taskCount} tasks settled${o.out == null ? '' : ` (written to ${o.out})`}`,
        1
      )
    }
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
  await failOnMissing(job, summary)
}

/** The end of a job for people (or one JSON line). */
function printSummary(job: BatchJob, summary: BatchSummary, o: { json: boolean; out?: string }): void {
  const unit = job.itemCount === job.taskCount ? 'items' : `tasks (of ${job.itemCount} items)`
  if (o.json) {
    printJson({ event: 'summary', ...summary, out: o.out })
    return
  }
  process.stdout.write(
    [
      `job ${job.id}`,
      `${summary.settled}/${summary.taskCount} ${job.itemCount === job.taskCount ? 'results' : unit} in ${(summary.durationMs / 1000).toFixed(1)} s (${summary.itemsPerSecond.toFixed(0)} items/s)${o.out == null ? '' : ` → ${o.out}`}`,
      `verification: ${summary.agreed} re-run and agreed · ${summary.unsampled} unsampled · ${summary.disputed} disputed (majority kept) · ${summary.unresolved} unresolved · ${summary.canariesPassed} canaries passed · ${summary.fraudProofs} fraud proofs`,
      ...(summary.failed > 0
        ? [
            `failed: ${summary.failed} ${job.itemCount === job.taskCount ? 'item(s)' : 'task(s)'} could not run${o.out == null ? '' : ` (reasons in ${o.out})`}`
          ]
        : []),
      ''
    ].join('\n')
  )
}

/** Exit code 1 when tasks got no result or could not run, naming why. */
async function failOnMissing(job: BatchJob, summary: BatchSummary): Promise<void> {
  const unit = job.itemCount === job.taskCount ? 'items' : `tasks (of ${job.itemCount} items)`
  if (summary.missing > 0) {
    throw new UsageError(`${summary.missing} of ${summary.taskCount} ${unit} got no result before the deadline`, 1)
  }
  if (summary.failed > 0) {
    const reasons = new Map<string, { count: number; first: string }>()
    for await (const r of job.results()) {
      if (r.failure != null) {
        const seen = reasons.get(r.failure.kind) ?? { count: 0, first: `item ${r.index}: ${r.failure.message}` }
        seen.count++
        reasons.set(r.failure.kind, seen)
      }
    }
    const text = [...reasons].map(([kind, { count, first }]) => `${kind} ×${count} (first: ${first})`).join('; ')
    throw new UsageError(`${summary.failed} of ${summary.taskCount} ${unit} could not run: ${text}`, 1)
  }
}
