import os from 'node:os'

/**
 * Shared benchmark plumbing: timing with per-op latency samples, an async driver with a number of ops in flight, one
 * JSON line per result, a readable table, and the key shapes every system is given. Results carry the Node version
 * and the machine, so numbers are never quoted without them.
 */

export interface Result {
  case: string
  system: string
  ops: number
  opsPerSec: number
  p50Ms: number
  p99Ms: number
  node: string
  machine: string
  [extra: string]: unknown
}

export const machine = `${os.cpus()[0]?.model.trim() ?? 'unknown cpu'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.arch()}`

/** quick is set by `npm run bench -- --quick`: the small sizes only, for a run under two minutes. */
export const quick = process.argv.includes('--quick')

/** sizes picks the store sizes of a case: all of them in a full run, those up to `quickMax` with --quick. */
export function sizes(all: number[], quickMax: number): number[] {
  return quick ? all.filter((n) => n <= quickMax) : all
}

/** label writes a count the way case names do: 1k, 100k, 1M. */
export function label(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n)
}

/**
 * Timer measures a run of operations, possibly in several stretches (start/stop pairs add up), keeping the latency
 * of the ops the caller samples.
 */
export class Timer {
  readonly #samples: number[] = []
  #start = 0n
  #ops = 0
  #elapsedNs = 0n

  start(): void {
    this.#start = process.hrtime.bigint()
  }

  /** sample records one op's latency, measured by the caller from `t0` (a hrtime.bigint()). */
  sample(t0: bigint): void {
    this.#samples.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }

  /** stop ends a stretch of `ops` operations begun by start(). */
  stop(ops: number): void {
    this.#elapsedNs += process.hrtime.bigint() - this.#start
    this.#ops += ops
  }

  get seconds(): number {
    return Number(this.#elapsedNs) / 1e9
  }

  result(caseName: string, system: string, extra: Record<string, unknown> = {}): Result {
    const sorted = [...this.#samples].sort((a, b) => a - b)
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0)
    return {
      case: caseName,
      system,
      ops: this.#ops,
      opsPerSec: Math.round(this.#ops / this.seconds),
      p50Ms: round(pct(0.5)),
      p99Ms: round(pct(0.99)),
      node: process.version,
      machine,
      ...extra,
    }
  }
}

/** rate makes a result of a run that was timed as a whole (no per-op latencies). */
export function rate(caseName: string, system: string, ops: number, seconds: number, extra: Record<string, unknown> = {}): Result {
  return {
    case: caseName,
    system,
    ops,
    opsPerSec: Math.round(ops / Math.max(seconds, 1e-6)),
    p50Ms: 0,
    p99Ms: 0,
    node: process.version,
    machine,
    ...extra,
  }
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000
}

export interface DriveOptions {
  /** inFlight: how many ops are outstanding at once (each of that many workers awaits its op). @default 1 */
  inFlight?: number
  /** maxMs stops starting new ops after this long: for slow peers, which then report the ops they did. */
  maxMs?: number
  /** sampleEvery: latency is sampled on every n-th op. @default 16 */
  sampleEvery?: number
}

/**
 * drive runs `op(0)` .. `op(n - 1)` with `inFlight` of them outstanding at once, on `timer`, and returns how many ran
 * (fewer than n when maxMs cut the run short). Every system in a case goes through this same loop.
 */
export async function drive(timer: Timer, n: number, op: (i: number) => Promise<unknown>, options: DriveOptions = {}): Promise<number> {
  const { inFlight = 1, maxMs, sampleEvery = 16 } = options
  const deadline = maxMs === undefined ? Infinity : performance.now() + maxMs
  let next = 0
  let done = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= n) return
      if (deadline !== Infinity && (i & 15) === 0 && performance.now() > deadline) {
        next = n
        return
      }
      if (i % sampleEvery === 0) {
        const t0 = process.hrtime.bigint()
        await op(i)
        timer.sample(t0)
      } else {
        await op(i)
      }
      done++
    }
  }
  timer.start()
  if (inFlight === 1) await worker()
  else await Promise.all(Array.from({ length: inFlight }, worker))
  timer.stop(done)
  return done
}

/** Contestant is one system in a case: it runs one timed round (a fresh store, its ops timed on `timer`). */
export interface Contestant {
  system: string
  /** round runs one round; `warm` rounds are untimed JIT warm-ups on other keys. */
  round(timer: Timer, warm: boolean): Promise<void>
  extra?: Record<string, unknown>
}

/**
 * contest runs every contestant's warm-up round, then `rounds` timed rounds interleaved (A B C A B C ...), so noise
 * from other work on the machine falls on every system alike and the ratios within the run stay meaningful.
 */
export async function contest(caseName: string, contestants: Contestant[], rounds: number): Promise<Result[]> {
  const timers = contestants.map(() => new Timer())
  for (const c of contestants) {
    settle()
    await c.round(new Timer(), true)
  }
  // Small rounds run many times: a full collection before each would cost more than the round, and disturbs it.
  const gcEvery = Math.max(1, Math.floor(rounds / 4))
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of contestants.entries()) {
      if (r % gcEvery === 0) settle()
      await c.round(timers[i]!, false)
    }
  }
  return contestants.map((c, i) => emit(timers[i]!.result(caseName, c.system, c.extra)))
}

/** emit prints a result as one JSON line. */
export function emit(result: Result): Result {
  console.log(JSON.stringify(result))
  return result
}

/** reference is the row of a case the others are compared with: etcdlite's first row in it. */
export function reference(results: Result[], r: Result): Result | undefined {
  return results.find((x) => x.case === r.case && x.system.startsWith('etcdlite'))
}

/** ratioText says how etcdlite compares with a row: "2.50x" means etcdlite does 2.5 times the row's ops/s. */
export function ratioText(results: Result[], r: Result): string {
  const ref = reference(results, r)
  if (!ref || ref === r || !r.opsPerSec) return ''
  return `${(ref.opsPerSec / r.opsPerSec).toFixed(2)}x`
}

/** STANDARD lists the fields every result has; the others are shown in the note column. */
const STANDARD = new Set(['case', 'system', 'ops', 'opsPerSec', 'p50Ms', 'p99Ms', 'node', 'machine', 'note', 'bench'])

/** noteOf joins a result's note and its extra fields. */
export function noteOf(r: Result): string {
  const extras = Object.entries(r)
    .filter(([k]) => !STANDARD.has(k))
    .map(([k, v]) => `${k} ${String(v)}`)
  return [typeof r.note === 'string' ? r.note : '', ...extras].filter(Boolean).join('; ')
}

/** byCase orders results by case (in the order cases first appear), keeping their order within a case. */
export function byCase(results: Result[]): Result[] {
  const order = [...new Set(results.map((r) => r.case))]
  return order.flatMap((c) => results.filter((r) => r.case === c))
}

/** refName names the row a case's ratios are taken against: "etcdlite", or the first row when all rows are etcdlite's. */
export function refName(results: Result[], r: Result): string {
  const all = results.filter((x) => x.case === r.case)
  const ref = reference(results, r)
  if (ref && all.every((x) => x.system.startsWith('etcdlite')) && all.length > 1) return ref.system.replace(/^etcdlite (memory|disk \w+), /, '')
  return 'etcdlite'
}

/** table prints results as a readable table, each row with etcdlite's ratio to it (etcdlite ops/s / row ops/s). */
export function table(results: Result[]): void {
  const rows = byCase(results).map((r) => [
    r.case,
    r.system,
    String(r.ops),
    r.opsPerSec.toLocaleString('en-US'),
    String(r.p50Ms),
    String(r.p99Ms),
    ratioText(results, r),
    noteOf(r),
  ])
  const head = ['case', 'system', 'ops', 'ops/s', 'p50 ms', 'p99 ms', 'etcdlite/this', 'note']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  console.log('')
  console.log(line(head))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  let last = ''
  for (const [i, r] of rows.entries()) {
    if (i > 0 && r[0] !== last) console.log('')
    last = r[0]!
    console.log(line(r))
  }
  console.log(`\nnode ${process.version} on ${machine}; "etcdlite/this": etcdlite's ops/s over the row's, same case, same run`)
}

/** randomBuffers returns n pseudo-random buffers of `size` bytes from a seeded generator (repeatable runs). */
export function randomBuffers(n: number, size: number, seed = 42): Buffer[] {
  let s = seed >>> 0
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const b = Buffer.allocUnsafe(size)
    for (let j = 0; j < size; j++) {
      // xorshift32
      s ^= s << 13
      s >>>= 0
      s ^= s >>> 17
      s ^= s << 5
      s >>>= 0
      b[j] = s & 0xff
    }
    out.push(b)
  }
  return out
}

/** scramble is a bijection on 32-bit integers (multiply by an odd constant, xor-shift): distinct i, distinct keys. */
function scramble(i: number, salt: number): number {
  let x = Math.imul((i ^ salt) >>> 0, 0x9e3779b1) >>> 0
  x ^= x >>> 15
  return Math.imul(x, 0x85ebca77) >>> 0
}

function hex8(x: number): string {
  return x.toString(16).padStart(8, '0')
}

/**
 * flatKeys: n distinct 16-character ASCII keys in scrambled order (so inserts land all over a sorted index), with no
 * '/' in them. Every system gets the same strings; etcdlite takes ASCII strings as their own bytes.
 */
export function flatKeys(n: number, salt = 1): string[] {
  return Array.from({ length: n }, (_, i) => hex8(scramble(i, salt)) + hex8(scramble(i, salt ^ 0x5bd1e995)))
}

/**
 * dirKeys: n keys in directories of 100 (`r/<dir>/<id>`), in scrambled order, so a 100-key prefix read is a directory
 * read (the only kind of range antietcd serves). dirPrefix(g) is directory g's prefix, ending in '/'.
 */
export function dirKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${dirPrefix(Math.floor(i / 100))}${hex8(scramble(i, 7))}`)
}

export function dirPrefix(g: number): string {
  return `r/${hex8(scramble(g, 3))}/`
}

/** asciiValue is a value of `size` printable bytes. */
export function asciiValue(size: number, seed = 2): string {
  return randomBuffers(1, size, seed)[0]!.toString('base64').slice(0, size).padEnd(size, 'x')
}

/** settle gives the garbage collector a chance between cases, when node runs with --expose-gc. */
export function settle(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/** tick lets timers, I/O callbacks and consumers run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Consumers is a set of stream readers started by `consume`: `done` settles when each has read its events. */
export interface Consumers {
  done: Promise<unknown>
  /** delivered counts the events read so far, over every stream. */
  readonly delivered: number
}

/** consume reads each stream with for await until it has seen `n` events (the watch fan-out cases' consumers). */
export function consume(streams: AsyncIterable<{ events: readonly unknown[] }>[], n: number): Consumers {
  const tally = { delivered: 0, done: Promise.resolve() as Promise<unknown> }
  tally.done = Promise.all(
    streams.map(async (stream) => {
      let seen = 0
      for await (const r of stream) {
        seen += r.events.length
        tally.delivered += r.events.length
        if (seen === n) break
      }
    }),
  )
  return tally
}
