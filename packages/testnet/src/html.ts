/**
 * The report as one self-contained HTML page: Vega-Lite charts (vega, vega-lite and vega-embed are
 * inlined, so the page opens with no network) of throughput and queue depth over time, the
 * verification overhead, time to detection per adversary as a CDF with §7.4's formula overlaid,
 * the trust distribution, and the totals (losses and double credits first).
 */

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Report } from './simulate.js'

const require = createRequire(import.meta.url)

/** A package's built file, from the package's root (found from its main entry). */
function builtFile(pkg: string, file: string): string {
  const main = require.resolve(pkg)
  const marker = `/node_modules/${pkg}/`
  const root = main.slice(0, main.lastIndexOf(marker) + marker.length)
  return readFileSync(join(root, 'build', file), 'utf8')
}

type Spec = Record<string, unknown>

const BUCKET_S = 10

function charts(report: Report): { id: string; title: string; spec: Spec }[] {
  const time = report.throughput.map((settled, i) => ({
    t: i * BUCKET_S,
    settled: settled / BUCKET_S,
    runs: (report.runs[i] ?? 0) / BUCKET_S,
    queue: report.queueDepth[i] ?? 0,
    overhead: settled === 0 ? null : (report.runs[i] ?? 0) / settled
  }))
  const faking = Object.entries(report.groups).filter(([, g]) => g.faked > 0)
  const detection = faking.flatMap(([id, g]) => [
    ...g.detection.map((d) => ({
      group: id,
      n: d.n,
      p: d.probability,
      lo: Math.max(0, d.probability - 1.96 * d.se),
      hi: Math.min(1, d.probability + 1.96 * d.se),
      kind: 'measured'
    })),
    // §7.4 with f and p as they happened in this run: q = f · p per first run.
    ...g.detection.map((d) => ({
      group: id,
      n: d.n,
      p: 1 - (1 - g.fakeShare * (g.sampledShare ?? 0)) ** d.n,
      lo: null,
      hi: null,
      kind: '§7.4 formula'
    }))
  ])
  const trust = Object.entries(report.groups).flatMap(([id, g]) =>
    g.trust.map((count, i) => ({ group: id, score: `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`, count }))
  )
  const totals = [
    { metric: 'lost', value: report.totals.lost },
    { metric: 'credited twice', value: report.totals.doubleCredits },
    { metric: 'false accusations', value: report.totals.falseAccusations },
    { metric: 'faked results that stood', value: report.totals.wrongAccepted },
    { metric: 'fraud proofs', value: report.totals.fraudProofs }
  ]
  const line = (field: string, title: string): Spec => ({
    data: { values: time },
    mark: { type: 'line', point: time.length < 60 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'virtual time (s)' },
      y: { field, type: 'quantitative', title }
    },
    width: 520,
    height: 200
  })
  return [
    { id: 'throughput', title: 'Throughput: tasks settled per second', spec: line('settled', 'tasks / s') },
    { id: 'queue', title: 'Queue depth: tasks announced and not yet settled', spec: line('queue', 'tasks') },
    { id: 'overhead', title: 'Verification overhead: runs per settled task', spec: line('overhead', 'runs / task') },
    {
      id: 'detection',
      title: 'Time to detection per adversary: P(exposed within n first runs), with §7.4',
      spec: {
        data: { values: detection },
        layer: [
          {
            transform: [{ filter: "datum.kind === 'measured'" }],
            mark: { type: 'errorband', opacity: 0.2 },
            encoding: {
              x: { field: 'n', type: 'quantitative', scale: { type: 'log' } },
              y: { field: 'lo', type: 'quantitative', title: null },
              y2: { field: 'hi' },
              color: { field: 'group' }
            }
          },
          {
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'first runs (n)' },
              y: { field: 'p', type: 'quantitative', title: 'P(detected)', scale: { domain: [0, 1] } },
              color: { field: 'group', type: 'nominal' },
              strokeDash: { field: 'kind', type: 'nominal', title: '' }
            }
          }
        ],
        width: 520,
        height: 260
      }
    },
    {
      id: 'trust',
      title: 'Trust distribution: workers by reputation (§7.6), per group',
      spec: {
        data: { values: trust },
        mark: 'bar',
        encoding: {
          x: { field: 'score', type: 'ordinal', title: 'reputation' },
          y: { field: 'count', type: 'quantitative', title: 'workers', stack: true },
          color: { field: 'group', type: 'nominal' }
        },
        width: 520,
        height: 200
      }
    },
    {
      id: 'totals',
      title: 'Losses, double credits and fraud',
      spec: {
        data: { values: totals },
        mark: 'bar',
        encoding: {
          y: { field: 'metric', type: 'nominal', sort: null, title: '' },
          x: { field: 'value', type: 'quantitative', title: 'count' }
        },
        width: 520,
        height: 140
      }
    }
  ]
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string)

/** The report as a self-contained HTML page (about 850 KB: the chart libraries are inlined). */
export function reportHtml(report: Report): string {
  const list = charts(report)
  const t = report.totals
  const scripts = [
    builtFile('vega', 'vega.min.js'),
    builtFile('vega-lite', 'vega-lite.min.js'),
    builtFile('vega-embed', 'vega-embed.min.js')
  ]
    // A script element ends at the first "</script": keep the libraries' strings from ending it.
    .map((code) => `<script>${code.replaceAll('</script', '<\\/script')}</script>`)
    .join('\n')
  const specs = JSON.stringify(
    Object.fromEntries(list.map((c) => [c.id, { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...c.spec }]))
  ).replaceAll('<', '\\u003c')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>openbatch testnet: ${escapeHtml(report.scenario)} (seed ${report.seed})</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
  h1 { font-size: 20px; } h2 { font-size: 15px; margin: 24px 0 4px; }
  .summary { display: grid; grid-template-columns: repeat(4, max-content); gap: 4px 24px; }
  .bad { color: #b00; font-weight: 600; }
</style>
${scripts}
</head>
<body>
<h1>openbatch testnet — ${escapeHtml(report.scenario)}, seed ${report.seed}</h1>
<div class="summary">
  <span>virtual time ${report.virtualSeconds} s</span><span>events ${report.events}</span>
  <span>tasks ${t.settled}/${t.tasks} settled</span><span>runs per task ${t.overhead}</span>
  <span class="${t.lost > 0 ? 'bad' : ''}">lost ${t.lost}</span><span class="${t.doubleCredits > 0 ? 'bad' : ''}">credited twice ${t.doubleCredits}</span>
  <span class="${t.falseAccusations > 0 ? 'bad' : ''}">false accusations ${t.falseAccusations}</span><span>fraud proofs ${t.fraudProofs}</span>
  <span>announcement delay p50 ${report.announcementDelayMs.p50} ms, p99 ${report.announcementDelayMs.p99} ms (n = ${report.announcementDelayMs.n})</span>
</div>
${list.map((c) => `<h2>${escapeHtml(c.title)}</h2>\n<div id="${c.id}" class="chart"></div>`).join('\n')}
<script>
  const specs = ${specs};
  Promise.all(Object.entries(specs).map(([id, spec]) => vegaEmbed('#' + id, spec, { actions: false, renderer: 'svg' })))
    .then(() => document.body.setAttribute('data-rendered', String(Object.keys(specs).length)))
    .catch((err) => { console.error(err); document.body.setAttribute('data-rendered', 'error') })
</script>
</body>
</html>
`
}
