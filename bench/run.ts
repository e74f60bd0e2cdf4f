import { existsSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { benchDisk } from './disk.ts'
import { benchEtcd3Mock } from './etcd3-mock.ts'
import { benchLease } from './lease.ts'
import { benchMemory } from './memory.ts'
import { benchAuth } from './auth.ts'
import { benchPut } from './put.ts'
import { benchPutCurve } from './put-curve.ts'
import { benchOpen } from './open.ts'
import { benchRead } from './read.ts'
import { benchSnapshot } from './snapshot.ts'
import { benchTestingKit } from './testing-kit.ts'
import { benchWatch } from './watch.ts'
import { machine, quick, table, type Result } from './lib.ts'
import { writeReport } from './report.ts'
import { build } from './subject.ts'
import { checkTargets } from './targets.ts'

/**
 * npm run bench [-- --quick] [--report] [--src] [filter]: runs every benchmark case (or those the filter names), prints
 * one JSON line per result, then a table with etcdlite's ratio to every other row of its case, then the targets.
 * --report also writes bench/REPORT.md, bench/report.svg and bench/results.json.
 */
type Bench = () => Promise<Result[]>

/** cases run in this order; `also` lists other words the filter accepts for a case. */
const cases: { name: string; also: string[]; run: Bench | undefined }[] = [
  { name: 'put', also: [], run: benchPut },
  { name: 'put-curve', also: ['curve'], run: benchPutCurve },
  { name: 'open', also: [], run: benchOpen },
  { name: 'read', also: ['get', 'txn', 'cas'], run: benchRead },
  { name: 'watch', also: ['fan-out'], run: benchWatch },
  { name: 'lease', also: ['expiry'], run: benchLease },
  { name: 'disk', also: ['reopen', 'fsync'], run: benchDisk },
  { name: 'memory', also: [], run: benchMemory },
  { name: 'auth', also: ['permissions'], run: benchAuth },
  { name: 'snapshot', also: ['backup', 'restore'], run: benchSnapshot },
  { name: 'testing-kit', also: ['fake', 'reset'], run: benchTestingKit },
  { name: 'etcd3-mock', also: ['mock'], run: benchEtcd3Mock },
  // Served: bench/server.ts, written with the gRPC server (the etcd3 client against `etcdlite serve` and against real
  // etcd). Loaded when the file is there; without it this slot stays empty and the served-put target reads "not measured".
  { name: 'server', also: ['served', 'grpc'], run: await serverBench() },
]

/** serverBench loads bench/server.ts when it exists: its exported `benchServer` (or first `bench*`) function. */
async function serverBench(): Promise<Bench | undefined> {
  const file = fileURLToPath(new URL('./server.ts', import.meta.url))
  if (!existsSync(file)) return undefined
  const spec = './server.ts'
  const mod = (await import(spec)) as Record<string, unknown>
  const fn = mod['benchServer'] ?? Object.entries(mod).find(([k, v]) => k.startsWith('bench') && typeof v === 'function')?.[1]
  return typeof fn === 'function' ? (fn as Bench) : undefined
}

const filter = process.argv.slice(2).find((a) => !a.startsWith('--'))
const t0 = performance.now()
const results: Result[] = []
const loadavg: Record<string, number> = {}
const failed: string[] = []
for (const c of cases) {
  if (filter !== undefined && !c.name.includes(filter) && !c.also.some((a) => a.includes(filter))) continue
  if (!c.run) {
    console.error(`bench: no ${c.name} benchmark yet (bench/${c.name}.ts)`)
    continue
  }
  loadavg[c.name] = os.loadavg()[0]!
  try {
    for (const r of await c.run()) results.push({ ...r, bench: c.name })
  } catch (err) {
    // One failing group must not lose the run: the others are reported, and the run exits non-zero.
    console.error(`bench: ${c.name} failed:`, err)
    failed.push(c.name)
  }
}
if (results.length === 0) {
  console.error(`bench: no case matches "${filter}"; cases: ${cases.map((c) => [c.name, ...c.also].join('/')).join(', ')}`)
  process.exit(1)
}
table(results)
const targets = checkTargets(results)
console.log('\ntargets')
for (const t of targets) console.log(`  ${t.met === undefined ? '  -' : t.met ? ' ok' : 'MISS'}  ${t.target}: ${t.measured}${t.ratio ? `; ${t.ratio}` : ''} [${t.where}]`)
if (process.argv.includes('--report')) {
  const date = new Date().toISOString().slice(0, 10)
  writeReport(results, { date, machine, node: process.version, quick, build, seconds: (performance.now() - t0) / 1000, loadavg })
  console.log('\nwrote bench/REPORT.md, bench/report.svg, bench/results.json')
}
if (failed.length > 0) {
  console.error(`bench: failed: ${failed.join(', ')}`)
  process.exitCode = 1
}
