import { BTree } from '../src/util/btree.ts'
import { openAnti } from './peers/antietcd.ts'
import { asciiValue, emit, flatKeys, label, machine, quick, settle, type Result } from './lib.ts'
import { open } from './subject.ts'

/**
 * bench/put-curve: the cost of one put as the store grows. Each system takes sequential puts of new keys (16-byte
 * keys in scrambled order, 256-byte values, each put awaited) from empty up to 1M keys (100k with --quick), and the
 * time of each stretch between two marks (10k, 30k, 100k, 300k, 1M) gives the cost per put at that size. Three
 * passes per system, interleaved; the fastest counts (a short stretch can catch a full garbage collection). Systems: etcdlite (services.kv.put), antietcd (embedded
 * put), and the raw baselines Map.set and sorted-btree set.
 * Target: etcdlite's cost per put from 10k to 1M keys grows at most as log(n): cost(1M) / cost(10k) <=
 * ln(1M) / ln(10k) = 1.5.
 */
export const CURVE_MARKS = quick ? [10_000, 30_000, 100_000] : [10_000, 30_000, 100_000, 300_000, 1_000_000]

type Put = (key: string) => unknown

interface CurveSystem {
  system: string
  /** start opens a fresh store and returns its put, and the close that ends it. */
  start(): Promise<{ put: Put; close(): Promise<void> }>
}

export async function benchPutCurve(): Promise<Result[]> {
  const value = asciiValue(256)
  const keys = flatKeys(CURVE_MARKS[CURVE_MARKS.length - 1]!, 5)
  const systems: CurveSystem[] = [
    {
      system: 'etcdlite memory',
      async start() {
        const etcd = await open()
        const kv = etcd.services.kv
        return { put: (key) => kv.put({ key, value }), close: () => etcd.close() }
      },
    },
    {
      system: 'antietcd memory',
      async start() {
        const anti = await openAnti()
        return { put: (key) => anti.put({ key, value }), close: () => anti.close() }
      },
    },
    {
      system: 'Map (raw)',
      async start() {
        const map = new Map<string, string>()
        return { put: (key) => map.set(key, value), close: async () => undefined }
      },
    },
    {
      system: 'sorted-btree (raw)',
      async start() {
        const tree = new BTree<string, string>()
        return { put: (key) => tree.set(key, value), close: async () => undefined }
      },
    },
  ]
  // A warm-up round per system on other keys, so that no stretch pays for compiling the code it runs.
  const warmKeys = flatKeys(20_000, 77)
  for (const s of systems) {
    const { put, close } = await s.start()
    for (const key of warmKeys) await put(key)
    await close()
  }
  // best[system][mark] is the lowest ns per put seen for the stretch ending at that mark.
  const best = new Map<string, number[]>()
  for (let pass = 0; pass < 3; pass++) {
    for (const s of systems) {
      settle()
      const { put, close } = await s.start()
      const costs = best.get(s.system) ?? CURVE_MARKS.map(() => Infinity)
      let from = 0
      for (const [m, mark] of CURVE_MARKS.entries()) {
        const t0 = process.hrtime.bigint()
        for (let i = from; i < mark; i++) await put(keys[i]!)
        const ns = Number(process.hrtime.bigint() - t0) / (mark - from)
        costs[m] = Math.min(costs[m]!, ns)
        from = mark
      }
      best.set(s.system, costs)
      await close()
    }
  }
  const results: Result[] = []
  for (const [m, mark] of CURVE_MARKS.entries()) {
    for (const s of systems) {
      const ns = best.get(s.system)![m]!
      const stretch = mark - (m === 0 ? 0 : CURVE_MARKS[m - 1]!)
      results.push(
        emit({
          case: `put cost curve, ${label(mark)} keys`,
          system: s.system,
          ops: stretch,
          opsPerSec: Math.round(1e9 / ns),
          p50Ms: 0,
          p99Ms: 0,
          node: process.version,
          machine,
          nsPerPut: Math.round(ns),
          note: `the puts from ${label(m === 0 ? 0 : CURVE_MARKS[m - 1]!)} to ${label(mark)} keys`,
        }),
      )
    }
  }
  return results
}
