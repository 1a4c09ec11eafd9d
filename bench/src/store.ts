/**
 * Store benchmark (issue #15): accepted results per second of the requester's SQLite job store
 * (synchronous=FULL, a file under the OS temp directory) in two patterns, measured in the same
 * run: one result per write with its verdict made durable at once (two syncs per result, as the
 * requester stored results before), and a submission's 32 results in one write with their
 * verdicts written behind (one sync per submission, as it stores them now). The last line is a
 * JSON object with both rates and their ratio (medians of BENCH_ROUNDS rounds).
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteJobStore } from '@openbatch/node'
import { median } from './inputs.js'

const RESULTS = Number(process.env.BENCH_RESULTS ?? 2048)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const PER_SUBMISSION = 32

/** Accepted results/s, writing `perWrite` results at a time; `syncVerdicts`: each verdict made durable at once. */
async function arm(perWrite: number, syncVerdicts: boolean): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'openbatch-store-bench-'))
  const store = new SqliteJobStore(join(dir, 'jobs.db'))
  // A result envelope and a receipt are a few hundred bytes each.
  const result = new Uint8Array(600).fill(1)
  const receipt = new Uint8Array(300).fill(2)
  try {
    const t0 = performance.now()
    for (let i = 0; i < RESULTS; i += perWrite) {
      const runs = Array.from({ length: perWrite }, (_, k) => ({ task: i + k, worker: 'w', result, receipt }))
      store.accept('job', runs)
      for (const r of runs) {
        store.verdict('job', { task: r.task, status: 'unsampled', worker: 'w', reputation: 0.5 })
        if (syncVerdicts) {
          store.flush()
        }
      }
    }
    return RESULTS / ((performance.now() - t0) / 1000)
  } finally {
    store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

export async function main(): Promise<void> {
  const before: number[] = []
  const after: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    before.push(await arm(1, true))
    after.push(await arm(PER_SUBMISSION, false))
  }
  const perResult = median(before)
  const perSubmission = median(after)
  console.log(`SqliteJobStore, synchronous=FULL, ${RESULTS} results, ${ROUNDS} rounds (medians)`)
  console.log(`one result per write, its verdict synced at once (2 syncs per result): ${perResult.toFixed(0)} accepted results/s`)
  console.log(
    `${PER_SUBMISSION} results per write, verdicts written behind (1 sync per submission): ${perSubmission.toFixed(0)} accepted results/s (${(perSubmission / perResult).toFixed(1)}×)`
  )
  console.log(
    JSON.stringify({ bench: 'store', results: RESULTS, rounds: ROUNDS, perResult, perSubmission, ratio: perSubmission / perResult })
  )
}
