import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Etcd3 } from 'etcd3'
import { etcdBinary, freePort, startEtcd } from '../test/support/real-etcd.ts'
import { emit, quick, settle, Timer, type Result } from './lib.ts'

/**
 * bench/server: the etcd3 npm client putting (16-byte keys, 256-byte values) with 1 and with 64 requests in flight
 * against `etcdlite serve` (a child process, exactly what `npx etcdlite serve` runs: a store on disk with 'fsync'
 * durability, and again with --in-memory), and in the same run against a real etcd 3.4 started here on free
 * loopback ports with a temporary data directory (fsync on every commit, as etcd always does), where it is
 * installed. Every system gets the same client, keys and loop; rounds alternate between systems so that noise from
 * the rest of the machine falls on each alike. Target: etcdlite serve >= 1.5x real etcd at 64 in flight.
 *
 * `--other <checkout>` adds `etcdlite serve` (disk, fsync) from another checkout with dist/ built (an earlier commit,
 * say) to the same rounds, for before/after ratios from one run:
 *
 *   node --expose-gc --import tsx bench/server.ts [--quick] [--other <checkout>]
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const ROUNDS = quick ? 2 : 3
const otherAt = process.argv.indexOf('--other')
const OTHER = otherAt >= 0 ? process.argv[otherAt + 1] : undefined

interface System {
  readonly name: string
  readonly endpoint: string
  /** pid of the server process, to read its CPU time (Linux), when known. */
  readonly pid: number | undefined
  stop(): Promise<void>
}

export async function benchServer(): Promise<Result[]> {
  const systems: System[] = []
  try {
    systems.push(await startEtcdlite('etcdlite serve (disk, fsync)', []))
    if (OTHER !== undefined) systems.push(await startEtcdlite('etcdlite serve (disk, fsync) [other checkout]', [], OTHER))
    systems.push(await startEtcdlite('etcdlite serve --in-memory', ['--in-memory']))
    if (etcdBinary() !== undefined) {
      const etcd = await startEtcd()
      systems.push({ name: 'etcd 3.4 (fsync)', endpoint: etcd.endpoint, pid: pidServing(etcd.endpoint), stop: () => etcd.stop() })
    } else {
      console.log('bench/server: no etcd 3.4 installed; the real etcd rows are left out')
    }
    const results: Result[] = []
    for (const inFlight of [1, 64]) {
      const n = inFlight === 1 ? (quick ? 500 : 2_000) : quick ? 4_000 : 15_000
      const caseName = `etcd3 client put, ${inFlight} in flight`
      results.push(...(await contest(caseName, systems, n, inFlight)))
    }
    // Served fan-out: etcdlite in memory (and the other checkout's, with --other) against real etcd.
    const fanOut = systems.filter((s) => !s.name.includes('disk'))
    if (OTHER !== undefined) fanOut.splice(1, 0, await startEtcdlite('etcdlite serve --in-memory [other checkout]', ['--in-memory'], OTHER))
    for (const s of fanOut) if (!systems.includes(s)) systems.push(s)
    results.push(...(await servedFanOut(fanOut, quick ? 50 : 100, quick ? 400 : 1_000)))
    report(results)
    return results
  } finally {
    for (const s of systems) await s.stop()
  }
}

/** contest warms every system up, then runs ROUNDS timed rounds of n puts, alternating between systems. */
async function contest(caseName: string, systems: System[], n: number, inFlight: number): Promise<Result[]> {
  const clients = systems.map((s) => new Etcd3({ hosts: `http://${s.endpoint}` }))
  const value = Buffer.alloc(256, 0x61)
  const timers = systems.map(() => new Timer())
  const cpu = systems.map(() => ({ client: 0, server: 0, ops: 0 }))
  let round = 0
  const run = async (i: number, count: number, timer: Timer) => {
    const client = clients[i]!
    const prefix = `r${String(round++).padStart(3, '0')}-`
    await drive(timer, count, inFlight, (k) => client.put(`${prefix}${k.toString(16).padStart(12, '0')}`).value(value).exec())
  }
  try {
    for (let i = 0; i < systems.length; i++) await run(i, Math.min(n, 1_000), new Timer())
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < systems.length; i++) {
        settle()
        const server0 = cpuMs(systems[i]!.pid)
        const client0 = process.cpuUsage()
        await run(i, n, timers[i]!)
        const client = process.cpuUsage(client0)
        cpu[i]!.client += (client.user + client.system) / 1000
        cpu[i]!.server += cpuMs(systems[i]!.pid) - server0
        cpu[i]!.ops += n
      }
    }
  } finally {
    for (const c of clients) c.close()
  }
  // CPU per put, client (this process) and server: where the time goes when both share the machine's cores.
  return systems.map((s, i) => {
    const c = cpu[i]!
    const extra: Record<string, unknown> = { inFlight, clientCpuUsPerOp: Math.round((c.client * 1000) / c.ops) }
    if (s.pid !== undefined) extra.serverCpuUsPerOp = Math.round((c.server * 1000) / c.ops)
    return emit(timers[i]!.result(caseName, s.name, extra))
  })
}

/**
 * servedFanOut: `watchers` etcd3 clients (each its own connection and Watch stream) watch one prefix while another
 * client puts `writes` values under it, 16 in flight; events delivered per second, from the first put to the last
 * event heard, rounds alternating between systems. Every stream of a watcher shape gets the same responses, so this
 * is the case where a server encodes each response once for all streams, or once per stream.
 */
async function servedFanOut(systems: System[], watchers: number, writes: number): Promise<Result[]> {
  const caseName = `served watch fan-out, ${watchers} etcd3 watch streams`
  const value = Buffer.alloc(64, 0x62)
  const setups = await Promise.all(
    systems.map(async (s) => {
      const writer = new Etcd3({ hosts: `http://${s.endpoint}` })
      const readers = Array.from({ length: watchers }, () => new Etcd3({ hosts: `http://${s.endpoint}` }))
      const heard = { events: 0, expected: 0, done: () => undefined as void }
      await Promise.all(
        readers.map(async (c) => {
          const w = await c.watch().prefix('fan/').create()
          w.on('data', (res: { events: unknown[] }) => {
            heard.events += res.events.length
            if (heard.events === heard.expected) heard.done()
          })
        }),
      )
      return { writer, readers, heard }
    }),
  )
  const timers = systems.map(() => new Timer())
  const cpu = systems.map(() => ({ server: 0, events: 0 }))
  const run = async (i: number, n: number, timer: Timer) => {
    const { writer, heard } = setups[i]!
    heard.events = 0
    heard.expected = n * watchers
    const all = new Promise<void>((resolve) => (heard.done = resolve))
    timer.start()
    let next = 0
    const worker = async () => {
      for (let k = next++; k < n; k = next++) await writer.put(`fan/${k % 100}`).value(value).exec()
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    await all
    timer.stop(n * watchers)
  }
  try {
    for (let i = 0; i < systems.length; i++) await run(i, Math.min(writes, 100), new Timer())
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < systems.length; i++) {
        settle()
        const server0 = cpuMs(systems[i]!.pid)
        await run(i, writes, timers[i]!)
        cpu[i]!.server += cpuMs(systems[i]!.pid) - server0
        cpu[i]!.events += writes * watchers
      }
    }
  } finally {
    for (const { writer, readers } of setups) for (const c of [writer, ...readers]) c.close()
  }
  return systems.map((s, i) => {
    const extra: Record<string, unknown> = { writes }
    if (s.pid !== undefined) extra.serverCpuNsPerEvent = Math.round((cpu[i]!.server * 1e6) / cpu[i]!.events)
    return emit(timers[i]!.result(caseName, s.name, extra))
  })
}

/** drive runs op(0..n-1) with `inFlight` outstanding at once, sampling every 16th op's latency. */
async function drive(timer: Timer, n: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      if (i % 16 === 0) {
        const t0 = process.hrtime.bigint()
        await op(i)
        timer.sample(t0)
      } else {
        await op(i)
      }
    }
  }
  timer.start()
  await Promise.all(Array.from({ length: inFlight }, worker))
  timer.stop(n)
}

/** report prints each case's ratio of etcdlite serve to real etcd. */
function report(results: Result[]): void {
  console.log('')
  for (const r of results) {
    const etcd = results.find((x) => x.case === r.case && x.system.startsWith('etcd 3.4'))
    const ratio = etcd === undefined || etcd === r ? '' : `  ${(r.opsPerSec / etcd.opsPerSec).toFixed(2)}x etcd`
    const cpu =
      r.serverCpuNsPerEvent !== undefined
        ? `server cpu ${r.serverCpuNsPerEvent} ns/event`
        : `cpu/op client ${r.clientCpuUsPerOp} us, server ${r.serverCpuUsPerOp ?? '?'} us`
    console.log(`${r.case.padEnd(32)} ${r.system.padEnd(30)} ${String(r.opsPerSec).padStart(6)} ops/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  ${cpu}${ratio}`)
    if (etcd !== undefined && etcd !== r) r.ratioToEtcd = Math.round((r.opsPerSec / etcd.opsPerSec) * 100) / 100
  }
}

/**
 * startEtcdlite starts `etcdlite serve` as its own process: the compiled dist/cli/main.js when it is at least as
 * new as the sources (what the package's bin runs), else src/cli/main.ts through tsx; always dist/ for another
 * checkout (`root`). It resolves once the server prints that it serves.
 */
async function startEtcdlite(name: string, flags: string[], root = ROOT): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-bench-server-'))
  const port = await freePort()
  const entry = root !== ROOT || distIsFresh() ? ['dist/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts']
  const child: ChildProcess = spawn(
    process.execPath,
    [...entry, 'serve', `--data-dir=${join(dir, 'data')}`, `--listen-client-urls=http://127.0.0.1:${port}`, ...flags],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString()
      if (out.includes('serving client requests on')) resolve()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then(() => reject(new Error(`etcdlite serve exited at start:\n${out}`)))
  })
  return {
    name: `${name}${entry[0] === 'dist/cli/main.js' ? '' : ' [src via tsx]'}`,
    endpoint: `127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
      if (child.exitCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** cpuMs reads a process's user + system CPU time in ms from /proc (0 where there is no /proc). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return 0
  }
}

/** pidServing finds the process started with `--listen-client-urls http://<endpoint>` (Linux), if any. */
function pidServing(endpoint: string): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const at = cmd.indexOf('--listen-client-urls')
      if (at >= 0 && cmd[at + 1] === `http://${endpoint}`) return Number(entry)
    }
  } catch {
    // no /proc: CPU is not reported
  }
  return undefined
}

function distIsFresh(): boolean {
  const built = join(ROOT, 'dist', 'cli', 'main.js')
  if (!existsSync(built)) return false
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0,
      ),
    )
  return newest(join(ROOT, 'src')) <= statSync(built).mtimeMs + 1
}

// Run directly: node --import tsx bench/server.ts [--quick]
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await benchServer()
}
