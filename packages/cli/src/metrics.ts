/**
 * `--metrics host:port`: Prometheus metrics at http://host:port/metrics — libp2p's own (through
 * @libp2p/prometheus-metrics) and openbatch's (prom-client, the same registry): tasks by state,
 * verdicts by status, queue depths, fraud proofs, reputation, receipts and inference latency.
 */

import { createServer } from 'node:http'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { Peer } from '@openbatch/sdk'
import { Counter, Gauge, Histogram, register } from 'prom-client'
import { UsageError } from './errors.js'

export interface Metrics {
  libp2p: ReturnType<typeof prometheusMetrics>
  /** Starts reporting openbatch figures for this peer. */
  watch(peer: Peer): void
  close(): Promise<void>
  /** The address served, http://host:port/metrics. */
  url: string
}

export async function startMetrics(address: string): Promise<Metrics> {
  const match = /^(.*):(\d+)$/.exec(address)
  if (match == null) {
    throw new UsageError(`--metrics takes host:port (e.g. 127.0.0.1:9464), got "${address}"`)
  }
  const [, host, port] = match as unknown as [string, string, string]
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('see /metrics\n')
      return
    }
    register.metrics().then(
      (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message)
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new UsageError(`--metrics ${address}: ${err.message}`, 1)))
    server.listen(Number(port), host, resolve)
  })
  const bound = server.address()
  const url = `http://${host}:${typeof bound === 'object' && bound != null ? bound.port : port}/metrics`

  const fraudPublished = new Counter({ name: 'openbatch_fraud_proofs_published_total', help: 'Fraud proofs this peer built and published' })
  const fraudAccepted = new Counter({ name: 'openbatch_fraud_proofs_accepted_total', help: 'Valid fraud proofs received from the network' })
  const inference = new Histogram({
    name: 'openbatch_worker_inference_seconds',
    help: 'Inference time per task on this worker',
    labelNames: ['model'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]
  })
  const backgroundErrors = new Counter({
    name: 'openbatch_peer_errors_total',
    help: 'Background failures (tasks that could not run, failed submissions)'
  })
  let watched: Peer | undefined
  new Gauge({
    name: 'openbatch_requester_tasks',
    help: "Tasks of this peer's jobs by state (pending, leased, done, checking) and queued checks",
    labelNames: ['state'],
    collect() {
      this.reset()
      for (const j of watched?.jobs() ?? []) {
        const s = j.summary
        if (s != null) {
          this.inc({ state: 'pending' }, s.pending)
          this.inc({ state: 'leased' }, s.leased)
          this.inc({ state: 'done' }, s.done)
          this.inc({ state: 'checking' }, s.checking)
          this.inc({ state: 'checks_queued' }, s.checks)
        }
      }
    }
  })
  new Gauge({
    name: 'openbatch_requester_verdicts',
    help: "Settled tasks of this peer's jobs by verification status",
    labelNames: ['status'],
    collect() {
      this.reset()
      for (const j of watched?.jobs() ?? []) {
        const s = j.summary
        if (s != null) {
          for (const status of ['agreed', 'unsampled', 'disputed', 'unresolved'] as const) {
            this.inc({ status }, s[status])
          }
        }
      }
    }
  })
  new Gauge({
    name: 'openbatch_reputation_peers',
    help: 'Peers with a reputation record, and how many are banned',
    labelNames: ['kind'],
    collect() {
      const entries = watched?.reputation.entries() ?? []
      this.set({ kind: 'known' }, entries.length)
      this.set({ kind: 'banned' }, entries.filter(([p]) => watched?.reputation.isBanned(p)).length)
    }
  })
  new Gauge({
    name: 'openbatch_worker_receipts',
    help: 'Receipts this worker holds (verified work)',
    collect() {
      this.set((watched?.receipts?.totals() ?? []).reduce((a, t) => a + t.receipts, 0))
    }
  })

  return {
    libp2p: prometheusMetrics({ preserveExistingMetrics: true }),
    url,
    watch(peer) {
      watched = peer
      peer.addEventListener('fraud', () => fraudPublished.inc())
      peer.addEventListener('error', () => backgroundErrors.inc())
      peer.addEventListener('run', (e) => inference.observe({ model: e.detail.model }, e.detail.durationUs / 1e6))
      peer.node.onFraudProof(() => fraudAccepted.inc())
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
