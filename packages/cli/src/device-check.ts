/**
 * `openbatch device-check`: what this machine's GPU brings to a network, in one JSON file — the
 * WebGPU adapter, the device a peer started with `--device auto` would take and why, items/s of
 * the PaddleOCR text-direction classifier on WebGPU and on the CPU (the backend's thread pool
 * against a direct `session.run()` on the same provider and tensors), and how far WebGPU's outputs
 * are from the CPU's on the calibration models (spec §7.1). It runs from the release archive alone
 * (`bench/gpu.sh`), on a machine with no Node, npm or network.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DeviceInfo, DType, loadWorkerRuntime, type ModelStore, type Tensor, type WorkerRuntimeModule } from '@openbatch/sdk'
import type { Command } from 'commander'
import { positive } from './config.js'
import { PADDLE_CLS } from './demo.js'
import { UsageError } from './errors.js'
import { VERSION } from './version.js'

const ITEM = [3, 48, 192]
const ITEM_SIZE = 3 * 48 * 192
/** pool / direct on the same provider: the runtime benchmark's floor. */
const FLOOR = 0.95

interface Options {
  out: string
  seconds: number
  batches: string
}

/** Items/s of `step` (which handles `batch` items) over `seconds`, after one warm-up call. */
async function rate(seconds: number, batch: number, lanes: number, step: () => Promise<unknown>): Promise<number> {
  await step()
  let done = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() - started < seconds * 1000) {
        await step()
        done += batch
      }
    })
  )
  return (done * 1000) / (performance.now() - started)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

// onnxruntime's native library loads only when the command runs, not with every command.
type Ort = typeof import('onnxruntime-node')

/** onnxruntime's worker runtime, loaded when the command runs (the SDK's optional dependency). */
let rt: WorkerRuntimeModule

async function speed(ort: Ort, bytes: Uint8Array, devices: DeviceInfo, batch: number, seconds: number, store: ModelStore) {
  const data = Float32Array.from(rt.calibrationValues(batch * ITEM_SIZE, 7))
  const feed = new ort.Tensor('float32', data, [batch, ...ITEM])
  const task: Tensor[] = [{ name: 'x', dtype: DType.FLOAT32, dims: [batch, ...ITEM].map(BigInt), data: new Uint8Array(data.buffer) }]
  const model = await store.add(bytes)
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], logSeverityLevel: 3 })
  const gpu = rt.createOnnxBackend({ store, executionProvider: 'webgpu', maxRows: batch, devices })
  const cpu = rt.createOnnxBackend({ store, executionProvider: 'cpu', maxRows: batch, devices })
  await Promise.all([gpu.start(), cpu.start()])
  try {
    const direct: number[] = []
    const pool: number[] = []
    for (let pair = 0; pair < 3; pair++) {
      // Interleaved, so drift in the machine's speed touches both sides alike.
      direct.push(await rate(seconds, batch, 1, () => session.run({ x: feed })))
      pool.push(await rate(seconds, batch, 2, () => gpu.run(model, task)))
    }
    const onCpu = await rate(seconds, batch, 2 * cpu.threads, () => cpu.run(model, task))
    return {
      batch,
      webgpuDirect: median(direct),
      webgpuPool: median(pool),
      ratio: median(pool.map((p, i) => p / (direct[i] as number))),
      cpuPool: onCpu,
      cpuThreads: `${cpu.threads}×${cpu.intraOpThreads}`
    }
  } finally {
    await Promise.all([gpu.stop(), cpu.stop(), session.release()])
  }
}

async function agreement(paddle: Uint8Array, devices: DeviceInfo, store: ModelStore) {
  const rows = []
  for (const m of rt.calibrationModels(paddle)) {
    const model = await store.add(m.bytes)
    const runAll = async (provider: 'cpu' | 'webgpu', merged: boolean) => {
      const b = rt.createOnnxBackend({ store, executionProvider: provider, threads: 1, devices })
      await b.start()
      try {
        if (merged) {
          return (await Promise.all(m.tasks.map((t) => b.run(model, t)))).map((r) => r.outputs)
        }
        const out: Tensor[][] = []
        for (const t of m.tasks) {
          out.push((await b.run(model, t)).outputs)
        }
        return out
      } finally {
        await b.stop()
      }
    }
    const reference = await runAll('cpu', false)
    for (const merged of [false, true]) {
      rows.push({
        model: m.name,
        batch: merged ? 'merged' : 'alone',
        tasks: m.tasks.length,
        ...rt.measureDrift(reference, await runAll('webgpu', merged))
      })
    }
  }
  return rows
}

export function registerDeviceCheck(program: Command): void {
  program
    .command('device-check')
    .description("measure this machine's GPU through WebGPU: speed against the CPU and agreement with it, as one JSON file")
    .option('--out <file>', 'where to write the JSON', 'device-check.json')
    .option('--seconds <s>', 'length of each timed segment', positive('--seconds'), 2)
    .option('--batches <list>', 'batch sizes to time, comma-separated', '1,8,32,128')
    .action(async (_opts, cmd: Command) => {
      const o = cmd.optsWithGlobals() as Options
      const batches = o.batches.split(',').map(Number)
      if (batches.some((b) => !Number.isInteger(b) || b < 1 || b > 4096)) {
        throw new UsageError(`--batches must be integers in 1..4096, comma-separated; got "${o.batches}"`)
      }
      const started = performance.now()
      rt = await loadWorkerRuntime()
      const devices = await rt.detectDevices()
      const auto = rt.chooseProvider('auto', devices)
      const say = (line: string) => process.stderr.write(`${line}\n`)
      say(`--device auto would take: ${auto.provider} (${auto.reason})`)
      if (devices.webgpu == null) {
        throw new UsageError(`no WebGPU adapter: ${devices.webgpuProbe}. Install the GPU's Vulkan driver and libvulkan1.`, 1)
      }
      say(`WebGPU adapter: ${rt.adapterName(devices.webgpu)}${devices.webgpu.fallback ? ' (software)' : ''}`)
      const ort = (await import('onnxruntime-node')).default
      const paddle = await readFile(PADDLE_CLS)
      const dir = await mkdtemp(join(tmpdir(), 'openbatch-device-check-'))
      try {
        const store = new rt.ModelStore(dir)
        const speeds = []
        for (const batch of batches) {
          const s = await speed(ort, paddle, devices, batch, o.seconds, store)
          say(
            `batch ${batch}: WebGPU direct ${s.webgpuDirect.toFixed(1)} items/s, pool ${s.webgpuPool.toFixed(1)} (ratio ${s.ratio.toFixed(3)}); CPU pool ${s.cpuPool.toFixed(1)}`
          )
          speeds.push(s)
        }
        const drifts = await agreement(paddle, devices, store)
        for (const d of drifts) {
          say(
            `${d.model} (${d.batch}): max abs ${d.maxAbs.toExponential(1)}, tolerance used ${(d.toleranceUsed * 100).toPrecision(2)} %, argmax flips ${d.argmaxFlips}`
          )
        }
        const report = {
          check: 'device',
          version: VERSION,
          runtime: `onnxruntime-node/${ort.env.versions.node ?? '?'}`,
          cpu: devices.cpu,
          gpus: devices.gpus,
          adapter: { ...devices.webgpu, name: rt.adapterName(devices.webgpu) },
          auto,
          speed: speeds,
          floor: FLOOR,
          floorMet: speeds.filter((s) => s.batch >= 8).every((s) => s.ratio >= FLOOR),
          agreement: drifts,
          allAgree: drifts.every((d) => d.agreesByDefault && d.argmaxFlips === 0),
          seconds: Math.round((performance.now() - started) / 1000)
        }
        await writeFile(o.out, `${JSON.stringify(report, null, 2)}\n`)
        say(`wrote ${o.out}`)
        process.stdout.write(`${JSON.stringify({ check: 'device', out: o.out, floorMet: report.floorMet, allAgree: report.allAgree })}\n`)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
}
