import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { byCase, noteOf, ratioText, refName, type Result } from './lib.ts'
import { checkTargets, type TargetCheck } from './targets.ts'

/**
 * bench/report: `npm run bench -- --report` writes bench/REPORT.md (targets, headline ratios, every row with
 * etcdlite's ratio to it, how the peers were run, what the profiles show), bench/report.svg (a hand-written chart:
 * throughput per system per case on a log scale, and memory per key) and bench/results.json (the rows themselves).
 * Profile findings are kept by hand in bench/PROFILES.md and included as they are.
 * `node --import tsx bench/report.ts` rewrites REPORT.md and the chart from bench/results.json, without a run.
 */
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url))

/** RunInfo describes the run the results come from. */
export interface RunInfo {
  date: string
  machine: string
  node: string
  quick: boolean
  build: string
  seconds: number
  /** loadavg: the 1-minute load average when each group of cases started (other work on the machine). */
  loadavg: Record<string, number>
}

export function writeReport(results: Result[], info: RunInfo): void {
  writeFileSync(here('./results.json'), JSON.stringify({ ...info, results }, null, 1) + '\n')
  render(results, info)
}

function render(results: Result[], info: RunInfo): void {
  writeFileSync(here('./report.svg'), chart(results, info))
  writeFileSync(here('./REPORT.md'), markdown(results, checkTargets(results), info))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, ...info } = JSON.parse(readFileSync(here('./results.json'), 'utf8')) as RunInfo & { results: Result[] }
  render(results, info)
  console.log('rewrote bench/REPORT.md and bench/report.svg from bench/results.json')
}

/** unit names what a case's ops are. */
function unit(caseName: string): string {
  if (caseName.startsWith('put') || caseName.startsWith('watch cost') || /client put/.test(caseName)) return 'puts/s'
  if (caseName.startsWith('get')) return 'reads/s'
  if (caseName.startsWith('txn')) return 'txns/s'
  if (caseName.startsWith('watch fan-out')) return 'events delivered/s'
  if (caseName.startsWith('lease grant')) return 'grants+puts/s'
  if (caseName.startsWith('lease mass expiry')) return 'revocations/s'
  if (caseName.startsWith('reopen')) return 'keys loaded/s'
  return 'ops/s'
}

function family(system: string): { color: string; name: string } {
  if (system.startsWith('etcdlite') && /src \(tsx\)|dist$/.test(system)) return { color: '#8fb8de', name: 'etcdlite, other build' }
  if (system.startsWith('etcdlite')) return { color: '#1f5fa8', name: 'etcdlite' }
  if (system.startsWith('antietcd')) return { color: '#e8871e', name: 'antietcd' }
  if (/^(real )?etcd 3\.4|^real etcd/.test(system)) return { color: '#3a9a3a', name: 'real etcd 3.4' }
  return { color: '#a0a0a0', name: 'raw baseline' }
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function short(x: number): string {
  if (x >= 1e6) return `${+(x / 1e6).toPrecision(3)}M`
  if (x >= 1e3) return `${+(x / 1e3).toPrecision(3)}k`
  return `${+x.toPrecision(3)}`
}

function groups(results: Result[], keep: (r: Result) => boolean): [string, Result[]][] {
  const out = new Map<string, Result[]>()
  for (const r of results.filter(keep)) {
    const g = out.get(r.case) ?? []
    g.push(r)
    out.set(r.case, g)
  }
  return [...out]
}

/** chart draws one bar per system per case (ops/s, log scale) and a panel of memory per key. */
function chart(results: Result[], info: RunInfo): string {
  const isMemory = (r: Result) => r.case.startsWith('memory per key')
  const isCurve = (r: Result) => r.case.startsWith('put cost curve')
  const cases = groups(results, (r) => !isMemory(r) && !isCurve(r) && r.opsPerSec > 0)
  const W = 1060
  const left = 330
  const right = W - 190
  const bar = 13
  const gap = 3
  const head = 22
  const values = cases.flatMap(([, rs]) => rs.map((r) => r.opsPerSec))
  const lo = Math.pow(10, Math.floor(Math.log10(Math.max(1, Math.min(...values)))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values))))
  const xOf = (v: number) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (right - left)
  const out: string[] = []
  let y = 96
  const top = y
  for (const [caseName, rs] of cases) {
    out.push(`<text x="10" y="${y + 15}" class="case">${esc(caseName)} <tspan class="unit">${esc(unit(caseName))}</tspan></text>`)
    y += head
    for (const r of rs) {
      const f = family(r.system)
      const w = Math.max(1, xOf(r.opsPerSec) - left)
      const ratio = ratioText(results, r)
      out.push(`<text x="${left - 8}" y="${y + bar - 3}" class="sys" text-anchor="end">${esc(r.system)}</text>`)
      out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${f.color}"><title>${esc(`${r.system}: ${r.opsPerSec.toLocaleString('en-US')} ops/s${ratio ? `; etcdlite does ${ratio} this` : ''}`)}</title></rect>`)
      out.push(`<text x="${left + w + 4}" y="${y + bar - 3}" class="val">${short(r.opsPerSec)}${ratio ? ` <tspan class="ratio">(${esc(refName(results, r))} ${ratio})</tspan>` : ''}</text>`)
      y += bar + gap
    }
    y += 8
  }
  const bottom = y
  const grid: string[] = []
  for (let d = lo; d <= hi; d *= 10) {
    const x = xOf(d)
    grid.push(`<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${bottom}" class="grid"/>`)
    grid.push(`<text x="${x}" y="${top - 10}" class="axis" text-anchor="middle">${short(d)}</text>`)
  }

  // Memory panel: bytes per key, linear; raw key+value bytes and etcdlite's budget marked.
  const mem = groups(results, isMemory)
  const memOut: string[] = []
  y += 30
  if (mem.length > 0) {
    memOut.push(`<text x="10" y="${y}" class="title2">Memory per key (bytes, linear; shorter is better)</text>`)
    memOut.push(`<text x="10" y="${y + 16}" class="sub">each bar: upper half heap growth (V8 heap + external), lower half RSS growth, after loading and a full GC; dashed red: etcdlite's target</text>`)
    y += 28
    const maxBytes = Math.max(...mem.flatMap(([, rs]) => rs.flatMap((r) => [Number(r['heapBytesPerKey']), Number(r['rssBytesPerKey']), 2 * Number(r['rawBytesPerKey']) + 150])))
    const scale = (b: number) => (b / (maxBytes * 1.05)) * (right - left)
    for (const [caseName, rs] of mem) {
      memOut.push(`<text x="10" y="${y + 15}" class="case">${esc(caseName)}</text>`)
      y += head
      const raw = Number(rs[0]?.['rawBytesPerKey'])
      const start = y
      for (const r of rs) {
        const f = family(r.system)
        const heap = Number(r['heapBytesPerKey'])
        const rss = Number(r['rssBytesPerKey'])
        memOut.push(`<text x="${left - 8}" y="${y + bar - 3}" class="sys" text-anchor="end">${esc(r.system)}</text>`)
        memOut.push(`<rect x="${left}" y="${y}" width="${scale(heap).toFixed(1)}" height="${bar / 2}" fill="${f.color}"><title>heap ${heap} B/key</title></rect>`)
        memOut.push(`<rect x="${left}" y="${y + bar / 2}" width="${scale(rss).toFixed(1)}" height="${bar / 2}" fill="${f.color}" opacity="0.55"><title>RSS ${rss} B/key</title></rect>`)
        memOut.push(`<text x="${left + scale(Math.max(heap, rss)) + 4}" y="${y + bar - 3}" class="val">${heap} / ${rss} B</text>`)
        y += bar + gap
      }
      const xr = left + scale(raw)
      const xb = left + scale(2 * raw + 150)
      memOut.push(`<line x1="${xr}" y1="${start - 4}" x2="${xr}" y2="${y}" class="mark"/><text x="${xr}" y="${start - 6}" class="axis" text-anchor="middle">raw ${raw}</text>`)
      memOut.push(`<line x1="${xb}" y1="${start - 4}" x2="${xb}" y2="${y}" class="budget"/><text x="${xb}" y="${start - 6}" class="axis" text-anchor="middle">target ${2 * raw + 150}</text>`)
      y += 8
    }
  }
  const curve = curvePanel(results.filter(isCurve), y + 30, left, right)
  y = curve.bottom
  const H = y + 20

  const legend = [
    ['etcdlite', '#1f5fa8'],
    ['etcdlite, other build', '#8fb8de'],
    ['antietcd (embedded)', '#e8871e'],
    ['real etcd 3.4 (etcd3 client)', '#3a9a3a'],
    ['raw baseline (Map, sorted-btree, LevelDB, EventEmitter)', '#a0a0a0'],
  ]
  let lx = 10
  const legendOut = legend.map(([name, color]) => {
    const s = `<rect x="${lx}" y="52" width="12" height="12" fill="${color}"/><text x="${lx + 17}" y="62" class="sys">${esc(name!)}</text>`
    lx += 30 + name!.length * 6.2
    return s
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">
<style>
.title { font-size: 17px; font-weight: bold; fill: #222 }
.title2 { font-size: 14px; font-weight: bold; fill: #222 }
.sub { font-size: 12px; fill: #555 }
.case { font-size: 12.5px; font-weight: bold; fill: #222 }
.sys { font-size: 11px; fill: #333 }
.val { font-size: 10.5px; fill: #222 }
.ratio { fill: #1f5fa8 }
.axis { font-size: 10px; fill: #666 }
.unit { font-size: 11px; font-weight: normal; fill: #777 }
.grid { stroke: #e2e2e2; stroke-width: 1 }
.mark { stroke: #666; stroke-width: 1; stroke-dasharray: 2 2 }
.budget { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 5 3 }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" class="title">etcdlite beside its peers: throughput per case (ops/s, log scale; longer is better)</text>
<text x="10" y="40" class="sub">${esc(`${info.date} · node ${info.node} · ${info.machine} · ${info.quick ? '--quick run' : 'full run'} · etcdlite build: ${info.build} · "(etcdlite 2.00x)": etcdlite does twice that row's ops/s`)}</text>
${legendOut.join('\n')}
${grid.join('\n')}
${out.join('\n')}
${memOut.join('\n')}
${curve.svg}
</svg>
`
}

/**
 * curvePanel draws the put cost curve: ns per put (log scale) against keys in the store (log scale), one line per
 * system, and a dashed line of log(n) growth from etcdlite's first point (the target: etcdlite stays under it).
 */
function curvePanel(rows: Result[], top: number, left: number, right: number): { svg: string; bottom: number } {
  if (rows.length === 0) return { svg: '', bottom: top - 30 }
  const sizeOf = (r: Result) => Number(/([\d.]+)(k|M)? keys/.exec(r.case)![1]) * (/M keys/.test(r.case) ? 1e6 : /k keys/.test(r.case) ? 1e3 : 1)
  const sizes = [...new Set(rows.map(sizeOf))].sort((a, b) => a - b)
  const systems = [...new Set(rows.map((r) => r.system))]
  const ns = rows.map((r) => Number(r['nsPerPut']))
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...ns))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...ns))))
  const height = 240
  const y0 = top + 40
  const xOf = (n: number) => left + ((Math.log10(n) - Math.log10(sizes[0]!)) / Math.max(1e-9, Math.log10(sizes[sizes.length - 1]!) - Math.log10(sizes[0]!))) * (right - left)
  const yOf = (v: number) => y0 + height - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * height
  const out: string[] = []
  out.push(`<text x="10" y="${top}" class="title2">Cost of one put as the store grows (ns per put, log scale; lower is better)</text>`)
  out.push(`<text x="10" y="${top + 16}" class="sub">sequential puts of new keys from empty; each point is the puts between the previous mark and this one; dashed: log(n) growth from etcdlite's first point (the target)</text>`)
  for (let d = lo; d <= hi; d *= 10) out.push(`<line x1="${left}" y1="${yOf(d)}" x2="${right}" y2="${yOf(d)}" class="grid"/><text x="${left - 6}" y="${yOf(d) + 3}" class="axis" text-anchor="end">${short(d)} ns</text>`)
  for (const n of sizes) out.push(`<line x1="${xOf(n)}" y1="${y0}" x2="${xOf(n)}" y2="${y0 + height}" class="grid"/><text x="${xOf(n)}" y="${y0 + height + 14}" class="axis" text-anchor="middle">${short(n)} keys</text>`)
  for (const system of systems) {
    const points = sizes.map((n) => rows.find((r) => r.system === system && sizeOf(r) === n)).filter((r) => r !== undefined)
    const color = family(system).color
    const dash = system.startsWith('Map') ? ' stroke-dasharray="1 3"' : ''
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points.map((r) => `${xOf(sizeOf(r)).toFixed(1)},${yOf(Number(r['nsPerPut'])).toFixed(1)}`).join(' ')}"/>`)
    const last = points[points.length - 1]!
    out.push(`<text x="${xOf(sizeOf(last)) + 6}" y="${yOf(Number(last['nsPerPut'])) + 3}" class="val">${esc(system)} ${Math.round(Number(last['nsPerPut']))} ns</text>`)
  }
  const base = rows.find((r) => r.system === 'etcdlite memory' && sizeOf(r) === sizes[0])
  if (base) {
    const c = Number(base['nsPerPut'])
    const pts = sizes.map((n) => `${xOf(n).toFixed(1)},${yOf((c * Math.log(n)) / Math.log(sizes[0]!)).toFixed(1)}`)
    out.push(`<polyline fill="none" class="budget" points="${pts.join(' ')}"/>`)
  }
  return { svg: out.join('\n'), bottom: y0 + height + 24 }
}

function markdown(results: Result[], targets: TargetCheck[], info: RunInfo): string {
  const lines: string[] = []
  const p = (s = '') => lines.push(s)
  p('# etcdlite benchmarks')
  p()
  const load = Object.entries(info.loadavg).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')
  p(`Generated by \`npm run bench -- --report${info.quick ? ' --quick' : ''}\` on ${info.date}: node ${info.node}, ${info.machine}; ${info.quick ? 'a --quick run (small sizes only)' : 'a full run'}, ${Math.round(info.seconds)} s; etcdlite measured as its \`${info.build}\` build. Every number below comes from this one run; every ratio is between two rows of it.`)
  p()
  p(`The machine (2 cores) was shared with other work while this ran: the 1-minute load average when each group started was ${load}. Absolute numbers are therefore low and noisy; the systems of a case ran interleaved or back to back, so the ratios within a case are what to read, and absolute targets carry that caveat.`)
  p()
  p('![throughput per system per case](report.svg)')
  p()
  p('## Targets')
  p()
  p('| target | measured on | measured | ratio | met |')
  p('| --- | --- | --- | --- | --- |')
  for (const t of targets) p(`| ${t.target} | ${t.where} | ${t.measured} | ${t.ratio} | ${t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no**'} |`)
  p()
  p('## Pair by pair')
  p()
  p('Each case, each system, and etcdlite\'s ops/s divided by that system\'s ("2.00x": etcdlite does twice as many). p50/p99 are per-op latencies sampled during the run (0 where a run is timed as a whole).')
  p()
  for (const [caseName, rs] of groups(byCase(results), () => true)) {
    p(`### ${caseName}`)
    p()
    p('| system | ops | ops/s | p50 ms | p99 ms | etcdlite / this | note |')
    p('| --- | ---: | ---: | ---: | ---: | ---: | --- |')
    for (const r of rs) {
      const note = r.case.startsWith('memory per key') ? String(r.note ?? '') : noteOf(r)
      p(`| ${r.system} | ${r.ops.toLocaleString('en-US')} | ${r.opsPerSec.toLocaleString('en-US')} | ${r.p50Ms} | ${r.p99Ms} | ${ratioText(results, r)} | ${note} |`)
    }
    p()
  }
  p('## How each system was run')
  p()
  p('- **etcdlite**: `open()` in the benchmark process, called at the services level (`engine.services.kv.put/range/txn`, the same request shapes as etcd\'s gRPC messages); the watch and lease cases use the client API (`engine.watch`, `engine.grant`). Unless a row says otherwise it is the compiled build in `dist/` (what users run); the put case also runs the TypeScript sources through tsx, whose esbuild transform wraps every named closure in a `__name()` call.')
  p('- **antietcd** 1.3.1 (npm), in its embedded mode: `new AntiEtcd({ use_base64: false })` and direct calls (`put`, `range`, `txn`, `lease_grant`, `create_watch`), no HTTP in between. It keeps only the latest value of each key in a tree of plain objects split at `/` (no MVCC history), ranges only over whole directories (so the prefix reads here are directories of 100 keys), times each lease with its own `setTimeout`, and persists by dumping the whole store as gzipped JSON after every change (fsynced) or every `persist_interval` ms. Persistence is only set up by `start()`, which also listens on HTTP; the benchmark gives it a free loopback port and closes the server afterwards.')
  p('- **real etcd 3.4** (`/usr/bin/etcd`, started by `test/support/real-etcd.ts` on free loopback ports with a temporary data directory), reached through the `etcd3` npm client over gRPC. etcd 3.4 fsyncs every commit and has no switch to stop, so its rows sit in the `fsync` cases; the `os` target is still measured against it, as the issue asks. Its numbers include the client, gRPC and loopback TCP.')
  p('- **etcdlite served** (`bench/server.ts`, written with the gRPC server): `etcdlite serve` as a child process (the compiled `dist/cli/main.js`, what `npx etcdlite serve` runs), on disk with fsync and again `--in-memory`, reached through the same etcd3 client, keys and loop as real etcd, rounds alternating between the systems.')
  p('- **Raw baselines**: a JS `Map`, a `sorted-btree` (etcdlite\'s index structure), LevelDB through `classic-level` with the records etcdlite writes, and a Node `EventEmitter` for watch fan-out: the floor each system builds on, in a tight loop (reads go through the same async driver as the systems).')
  p('- Keys are 16-byte ASCII strings in scrambled order (reads: `r/<dir>/<id>`, 100 keys per directory), values 256 bytes unless a case says otherwise; every system gets the same strings. Sizes are 1k, 100k and 1M keys where a size means something (`--quick` keeps the sizes up to 100k and shortens the runs).')
  p()
  const profiles = here('./PROFILES.md')
  if (existsSync(profiles)) {
    p(readFileSync(profiles, 'utf8').trim())
    p()
  }
  p('## Reproduce')
  p()
  p('```sh')
  p('npm ci')
  p('npm run bench                    # every case; one JSON line per result, then a table')
  p('npm run bench -- --quick         # small sizes, under two minutes')
  p('npm run bench -- put             # one case (put, disk, read, watch, lease, memory, server; also get, txn, reopen)')
  p('npm run bench -- --report        # also writes bench/REPORT.md, bench/report.svg, bench/results.json')
  p('npm run bench -- --src           # measure the TypeScript sources through tsx instead of dist/')
  p('node --cpu-prof --cpu-prof-dir=bench/out --expose-gc --import tsx bench/run.ts put --quick')
  p('node --import tsx bench/profile-summary.ts bench/out/*.cpuprofile   # self time by function and by file')
  p('```')
  p()
  return lines.join('\n')
}
