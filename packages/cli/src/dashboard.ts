/**
 * The household dashboard (`openbatch peer --ui`): a page the peer serves itself — device and
 * utilisation, models and what they are offered at, the jobs it works on, tasks and items/s over
 * the last minutes, receipts and earnings, the trust it keeps of other peers, recent fraud proofs
 * and its log. One self-contained HTML page (inline script and styles, no build step, no request
 * beyond this peer) that reads `/api/state` every second.
 *
 * Bound to 127.0.0.1 by default; bound anywhere else it asks for a token (printed with the URL):
 * `?token=` on the page, which passes it on as `Authorization: Bearer` to the API.
 */

import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus } from 'node:os'
import { type Peer, sumReceipts } from '@openbatch/sdk'
import { UsageError } from './errors.js'
import { bigintReplacer, onLog } from './out.js'

/** Where `--ui` with no address serves the dashboard. */
export const DEFAULT_UI = '127.0.0.1:7464'

/** Samples kept for the charts: one a second, ten minutes. */
const SAMPLES = 600
const LOG_LINES = 200
const EVENTS = 50

interface Sample {
  t: number
  tasks: number
  items: number
  /** Inference time in that second, in seconds (several threads: more than 1). */
  busy: number
  /** This process's CPU time in that second, as a share of all cores. */
  cpu: number
}

interface JobView {
  jobId: string
  requester: string
  model: string
  joinedAt: number
  leftAt?: number
  reason?: string
  tasks: number
  items: number
}

export interface Dashboard {
  url: string
  close(): Promise<void>
}

/** `host:port` → its parts; a bare port means 127.0.0.1. */
export function parseUiAddress(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[^:]+):)?(\d{1,5})$/.exec(value)
  const port = Number(m?.[2])
  if (m == null || port > 65535) {
    throw new UsageError(`--ui takes host:port or a port (e.g. 127.0.0.1:7464); got "${value}"`)
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port }
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host)

/**
 * Starts the dashboard of `peer` at `address`. Bound off loopback it needs a token (`token`, else a
 * random one); on loopback only when `token` is given.
 */
export async function startDashboard(peer: Peer, address: string, token?: string): Promise<Dashboard> {
  const { host, port } = parseUiAddress(address)
  const secret = token ?? (isLoopback(host) ? undefined : randomBytes(16).toString('hex'))
  const started = Date.now()
  const samples: Sample[] = []
  const jobs = new Map<string, JobView>()
  const fraud: { time: number; kind: 'published' | 'accepted'; accused: string; job?: string; task?: number }[] = []
  const logs: string[] = []
  let totals = { tasks: 0, items: 0 }
  let current = { tasks: 0, items: 0, busyUs: 0 }

  peer.addEventListener('run', (e) => {
    current.tasks++
    current.items += e.detail.items
    current.busyUs += e.detail.durationUs
    totals = { tasks: totals.tasks + 1, items: totals.items + e.detail.items }
    const job = jobs.get(e.detail.jobId)
    if (job != null) {
      job.tasks++
      job.items += e.detail.items
    }
  })
  peer.addEventListener('job', (e) => {
    const { event, jobId, requester, model, reason } = e.detail
    if (event === 'joined') {
      jobs.set(jobId, { jobId, requester, model, joinedAt: Date.now(), tasks: 0, items: 0 })
    } else {
      const job = jobs.get(jobId)
      if (job != null) {
        job.leftAt = Date.now()
        job.reason = reason
      }
    }
  })
  const remember = <T>(list: T[], item: T, max: number) => {
    list.push(item)
    if (list.length > max) {
      list.shift()
    }
  }
  peer.addEventListener('fraud', (e) =>
    remember(fraud, { time: Date.now(), kind: 'published', accused: e.detail.accused, job: e.detail.jobId, task: e.detail.task }, EVENTS)
  )
  peer.node.onFraudProof((proof) =>
    remember(fraud, { time: Date.now(), kind: 'accepted', accused: proof.accused.signer.toString() }, EVENTS)
  )
  const stopLog = onLog((line) => remember(logs, line, LOG_LINES))

  let cpuBefore = process.cpuUsage()
  const cores = Math.max(1, cpus().length)
  const sampler = setInterval(() => {
    const cpu = process.cpuUsage(cpuBefore)
    cpuBefore = process.cpuUsage()
    remember(
      samples,
      { t: Date.now(), tasks: current.tasks, items: current.items, busy: current.busyUs / 1e6, cpu: (cpu.user + cpu.system) / 1e6 / cores },
      SAMPLES
    )
    current = { tasks: 0, items: 0, busyUs: 0 }
  }, 1000)
  sampler.unref()

  // What it serves is fixed when the worker starts: read once, not at every poll.
  const models = await peer.servedModels()
  const state = async () => {
    const earnings = peer.earnings()
    return {
      peerId: peer.peerId,
      addresses: peer.addresses,
      startedAt: started,
      now: Date.now(),
      device: peer.device ?? null,
      cores,
      offers: peer.offers,
      models,
      connections: peer.node.libp2p.getConnections().length,
      totals,
      samples,
      jobs: [...jobs.values()].slice(-EVENTS).reverse(),
      earnings: {
        ...sumReceipts(earnings),
        byRequester: earnings
      },
      trust: peer.reputation
        .entries()
        .map(([id, t]) => ({ peer: id, score: peer.reputation.score(id), banned: peer.reputation.isBanned(id), ...t }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 100),
      fraud: [...fraud].reverse(),
      logs: [...logs].reverse()
    }
  }

  const authorised = (req: IncomingMessage, url: URL): boolean => {
    if (secret == null) {
      return true
    }
    const given = url.searchParams.get('token') ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
    const a = Buffer.from(given)
    const b = Buffer.from(secret)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://dashboard')
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, {
        'content-type': type,
        'cache-control': 'no-store',
        // Nothing but this peer: no scripts, styles or images from elsewhere.
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        'x-content-type-options': 'nosniff'
      })
      res.end(body)
    }
    if (req.method !== 'GET') {
      send(405, 'text/plain', 'only GET\n')
      return
    }
    if (!authorised(req, url)) {
      send(401, 'text/plain', 'this dashboard needs its token: open the URL the peer printed (…?token=…)\n')
      return
    }
    if (url.pathname === '/') {
      send(200, 'text/html; charset=utf-8', PAGE)
    } else if (url.pathname === '/api/state') {
      state().then(
        (s) => send(200, 'application/json', JSON.stringify(s, bigintReplacer)),
        (err: Error) => send(500, 'text/plain', `${err.message}\n`)
      )
    } else {
      send(404, 'text/plain', 'not found\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new UsageError(`--ui ${address}: cannot listen there (${err.code ?? err.message}); pick another port`, 1))
    )
    server.listen(port, host, resolve)
  })
  const bound = server.address() as AddressInfo
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  const url = `http://${shown === '0.0.0.0' ? host : shown}:${bound.port}/${secret == null ? '' : `?token=${secret}`}`
  return {
    url,
    close: async () => {
      clearInterval(sampler)
      stopLog()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** The page: plain HTML, CSS and a script that polls `/api/state` and draws. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>openbatch peer</title>
<link rel="icon" href="data:,">
<style>
  :root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6773; --line: #d6dde4; --bg: #f7f9fb; --card: #fff; --accent: #2b6cb0; --warn: #b7791f; --bad: #c53030; --good: #2f855a; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9aa7b4; --line: #30363d; --bg: #0d1117; --card: #161b22; --accent: #58a6ff; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 16px 24px; border-bottom: 1px solid var(--line); display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header .id { font-family: ui-monospace, monospace; color: var(--muted); word-break: break-all; }
  main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
  .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 8px; }
  .stat b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
  .stat span { color: var(--muted); font-size: 12px; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 500; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .mono { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
  .muted { color: var(--muted); }
  .bad { color: var(--bad); } .good { color: var(--good); }
  svg.chart { width: 100%; height: 120px; display: block; }
  svg.chart path.line { fill: none; stroke: var(--accent); stroke-width: 1.5; }
  svg.chart path.area { fill: var(--accent); opacity: .15; }
  pre.log { max-height: 260px; overflow: auto; margin: 0; font-size: 12px; white-space: pre-wrap; }
  .lvl-warn { color: var(--warn); } .lvl-error { color: var(--bad); }
</style>
</head>
<body>
<header><h1>openbatch peer</h1><span class="id" id="peer-id">…</span><span class="muted" id="uptime"></span><span class="muted" id="status"></span></header>
<main>
  <section>
    <h2>Work</h2>
    <div class="stats">
      <div class="stat"><b id="tasks">0</b><span>tasks run</span></div>
      <div class="stat"><b id="items">0</b><span>items run</span></div>
      <div class="stat"><b id="rate">0</b><span>items/s (last 10 s)</span></div>
      <div class="stat"><b id="busy">0 %</b><span>inference busy (last 10 s)</span></div>
      <div class="stat"><b id="cpu">0 %</b><span>process CPU, all cores</span></div>
      <div class="stat"><b id="connections">0</b><span>peers connected</span></div>
    </div>
  </section>
  <section>
    <h2>Earnings</h2>
    <div class="stats">
      <div class="stat"><b id="receipts">0</b><span>receipts (accepted results)</span></div>
      <div class="stat"><b id="reward">0</b><span>reward, network units</span></div>
      <div class="stat"><b id="against">0</b><span>fraud proofs against this peer</span></div>
    </div>
    <table id="by-requester"><thead><tr><th>requester</th><th>receipts</th><th>reward</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Device and models</h2>
    <p id="device" class="muted">…</p>
    <table id="models"><thead><tr><th>model</th><th>items/s</th><th>batch</th><th>price/item</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide">
    <h2>Items per second, last ten minutes <span class="muted" id="chart-items-max"></span></h2>
    <svg class="chart" id="chart-items" viewBox="0 0 600 120" preserveAspectRatio="none"></svg>
    <h2>Tasks per second <span class="muted" id="chart-tasks-max"></span></h2>
    <svg class="chart" id="chart-tasks" viewBox="0 0 600 120" preserveAspectRatio="none"></svg>
  </section>
  <section class="wide">
    <h2>Jobs</h2>
    <table id="jobs"><thead><tr><th>job</th><th>requester</th><th>model</th><th>tasks</th><th>items</th><th>since</th><th>state</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Trust this peer keeps of others (§7.6)</h2>
    <table id="trust"><thead><tr><th>peer</th><th>score</th><th>agreed</th><th>disagreed</th><th>timeouts</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Fraud proofs</h2>
    <table id="fraud"><thead><tr><th>when</th><th></th><th>accused</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide">
    <h2>Log</h2>
    <pre class="log" id="log"></pre>
  </section>
</main>
<script>
(() => {
  const token = new URLSearchParams(location.search).get('token')
  const headers = token ? { authorization: 'Bearer ' + token } : {}
  const $ = (id) => document.getElementById(id)
  const text = (id, value) => { $(id).textContent = String(value) }
  const short = (s) => s.length > 20 ? s.slice(0, 8) + '…' + s.slice(-8) : s
  const ago = (ms) => ms < 60e3 ? Math.round(ms / 1e3) + ' s' : ms < 36e5 ? Math.round(ms / 6e4) + ' min' : (ms / 36e5).toFixed(1) + ' h'
  const cell = (value, cls) => { const td = document.createElement('td'); td.textContent = String(value); if (cls) td.className = cls; return td }
  const rows = (id, list, toCells, empty) => {
    const body = $(id).tBodies[0]
    body.replaceChildren(...list.map((item) => { const tr = document.createElement('tr'); tr.append(...toCells(item)); return tr }))
    if (list.length === 0) { const tr = document.createElement('tr'); const td = cell(empty, 'muted'); td.colSpan = 8; tr.append(td); body.append(tr) }
  }
  // The window is fixed (ten minutes, one sample a second): the newest sample at the right edge.
  const chart = (id, values) => {
    const svg = $(id)
    const max = Math.max(1, ...values)
    const offset = ${SAMPLES} - values.length
    const pts = values.map((v, i) => [((offset + i) / (${SAMPLES} - 1)) * 600, 118 - (v / max) * 110])
    const line = pts.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join(' ')
    const ns = 'http://www.w3.org/2000/svg'
    const area = document.createElementNS(ns, 'path')
    area.setAttribute('class', 'area')
    area.setAttribute('d', pts.length ? line + ' L' + pts[pts.length - 1][0].toFixed(1) + ' 120 L0 120 Z' : '')
    const path = document.createElementNS(ns, 'path')
    path.setAttribute('class', 'line')
    path.setAttribute('d', line)
    svg.replaceChildren(area, path)
    $(id + '-max').textContent = 'up to ' + max.toFixed(max < 10 ? 1 : 0) + '/s'
  }
  let polls = 0
  const draw = (s) => {
    text('peer-id', s.peerId)
    text('uptime', 'up ' + ago(s.now - s.startedAt))
    const recent = s.samples.slice(-10)
    const seconds = Math.max(1, recent.length)
    text('tasks', s.totals.tasks)
    text('items', s.totals.items)
    text('rate', (recent.reduce((a, x) => a + x.items, 0) / seconds).toFixed(1))
    text('busy', Math.round((100 * recent.reduce((a, x) => a + x.busy, 0)) / seconds) + ' %')
    text('cpu', Math.round((100 * recent.reduce((a, x) => a + x.cpu, 0)) / seconds) + ' %')
    text('connections', s.connections)
    text('receipts', s.earnings.receipts)
    text('reward', s.earnings.reward)
    // How requesters see this worker: receipts are results they accepted; a proof against it is one they outvoted.
    text('against', s.fraud.filter((f) => f.accused === s.peerId).length)
    rows('by-requester', s.earnings.byRequester, (r) => [cell(short(r.requester), 'mono'), cell(r.receipts, 'num'), cell(r.reward, 'num')], 'no receipts yet')
    text('device', s.device ? s.device.provider + ' — ' + s.device.reason : 'a backend of its own (' + s.cores + ' CPU cores)')
    const offers = new Map(s.offers.map((o) => [o.model, o]))
    rows('models', s.models, (m) => { const o = offers.get(m) || {}; return [cell(short(m), 'mono'), cell(o.itemsPerSecond == null ? '–' : Math.round(o.itemsPerSecond), 'num'), cell(o.maxBatch ?? '–', 'num'), cell(o.pricePerItem ?? '–', 'num')] }, 'serving no models')
    chart('chart-items', s.samples.map((x) => x.items))
    chart('chart-tasks', s.samples.map((x) => x.tasks))
    rows('jobs', s.jobs, (j) => [cell(short(j.jobId), 'mono'), cell(short(j.requester), 'mono'), cell(short(j.model), 'mono'), cell(j.tasks, 'num'), cell(j.items, 'num'), cell(ago(s.now - j.joinedAt)), cell(j.leftAt ? 'left: ' + (j.reason || '') : 'working', j.leftAt ? 'muted' : 'good')], 'no job yet: waiting for one on the network')
    rows('trust', s.trust, (t) => [cell(short(t.peer), 'mono'), cell(t.banned ? 'banned' : t.score.toFixed(2), t.banned ? 'bad num' : 'num'), cell(t.agreements, 'num'), cell(t.disagreements, 'num'), cell(t.timeouts, 'num')], 'no records yet')
    rows('fraud', s.fraud, (f) => [cell(ago(s.now - f.time) + ' ago'), cell(f.kind), cell(f.accused === s.peerId ? 'this peer' : short(f.accused), 'mono bad')], 'none')
    const log = $('log')
    log.replaceChildren(...s.logs.map((l) => { let o = {}; try { o = JSON.parse(l) } catch {} const span = document.createElement('span'); span.className = 'lvl-' + (o.level || 'info'); span.textContent = (o.time || '').slice(11, 19) + ' ' + (o.level || '') + ' ' + (o.msg || l) + '\\n'; return span }))
    polls++
    document.body.dataset.polls = String(polls)
    text('status', '')
  }
  const poll = async () => {
    try {
      const res = await fetch('/api/state', { headers })
      if (!res.ok) { text('status', 'the peer answered ' + res.status); return }
      draw(await res.json())
    } catch (e) {
      text('status', 'the peer does not answer (stopped?)')
    }
  }
  poll()
  setInterval(poll, 1000)
})()
</script>
</body>
</html>
`
