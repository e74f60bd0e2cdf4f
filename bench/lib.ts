import os from 'node:os'

/**
 * Shared benchmark plumbing: timing with per-op latency samples, one JSON line per result, a readable table.
 * Results carry the Node version and the machine, so numbers are never quoted without them.
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

/** quick is set by `npm run bench -- --quick`: smaller sizes, for a run under two minutes. */
export const quick = process.argv.includes('--quick')

/** Timer measures a run of operations, sampling every `sampleEvery`-th op's latency. */
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

  stop(ops: number): void {
    this.#elapsedNs = process.hrtime.bigint() - this.#start
    this.#ops = ops
  }

  result(caseName: string, system: string, extra: Record<string, unknown> = {}): Result {
    const sorted = [...this.#samples].sort((a, b) => a - b)
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0)
    return {
      case: caseName,
      system,
      ops: this.#ops,
      opsPerSec: Math.round(this.#ops / (Number(this.#elapsedNs) / 1e9)),
      p50Ms: round(pct(0.5)),
      p99Ms: round(pct(0.99)),
      node: process.version,
      machine,
      ...extra,
    }
  }
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000
}

/** emit prints a result as one JSON line. */
export function emit(result: Result): Result {
  console.log(JSON.stringify(result))
  return result
}

/** table prints results as a readable table, with each row's ratio to the case's baseline row when there is one. */
export function table(results: Result[], baselineOf: (r: Result) => string | undefined): void {
  const rows = results.map((r) => {
    const base = baselineOf(r)
    const baseRow = base === undefined ? undefined : results.find((x) => x.case === r.case && x.system === base)
    const ratio = baseRow && baseRow !== r ? `${((r.opsPerSec / baseRow.opsPerSec) * 100).toFixed(1)}% of ${base}` : ''
    return [r.case, r.system, String(r.ops), r.opsPerSec.toLocaleString('en-US'), String(r.p50Ms), String(r.p99Ms), ratio]
  })
  const head = ['case', 'system', 'ops', 'ops/s', 'p50 ms', 'p99 ms', 'ratio']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')
  console.log('')
  console.log(line(head))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  for (const r of rows) console.log(line(r))
  console.log(`\nnode ${process.version} on ${machine}`)
}

/** randomBytes returns n pseudo-random buffers of `size` bytes from a seeded generator (repeatable runs). */
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

/** settle gives the garbage collector a chance between cases, when node runs with --expose-gc. */
export function settle(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}
