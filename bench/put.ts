import { open } from '../src/index.ts'
import { BTree } from '../src/util/btree.ts'
import { emit, quick, randomBuffers, settle, Timer, type Result } from './lib.ts'

/**
 * bench/put: sequential awaited puts through `engine.services.kv.put` (random 16-byte keys, 256-byte values), beside
 * raw sorted-btree inserts of the same keys as the engine holds them (latin1 strings), in the same run.
 * Target: the engine reaches >= 60% of the raw insert rate.
 */
const WARMUP = 50_000

export async function benchPut(): Promise<Result[]> {
  const sizes = quick ? [100_000] : [100_000, 1_000_000]
  const results: Result[] = []
  const warmKeys = randomBuffers(WARMUP, 16, 3)
  for (const n of sizes) {
    const keys = randomBuffers(n, 16, 1)
    const value = randomBuffers(1, 256, 2)[0]!
    const caseName = `put sequential ${n / 1000}k`

    const rawKeys = keys.map((k) => k.toString('latin1'))
    const rawValue = value.toString('latin1')
    // Warm both paths up on throwaway copies, so neither side's numbers include JIT compilation.
    const warm = new BTree<string, string>()
    for (let i = 0; i < WARMUP; i++) warm.set(warmKeys[i]!.toString('latin1'), rawValue)
    const warmEngine = await open()
    for (let i = 0; i < WARMUP; i++) await warmEngine.services.kv.put({ key: warmKeys[i]!, value })
    await warmEngine.close()

    settle()
    const tree = new BTree<string, string>()
    const raw = new Timer()
    raw.start()
    for (let i = 0; i < n; i++) {
      if (i % 64 === 0) {
        const t0 = process.hrtime.bigint()
        tree.set(rawKeys[i]!, rawValue)
        raw.sample(t0)
      } else {
        tree.set(rawKeys[i]!, rawValue)
      }
    }
    raw.stop(n)
    results.push(emit(raw.result(caseName, 'sorted-btree (raw)')))

    settle()
    const etcd = await open()
    const kv = etcd.services.kv
    const t = new Timer()
    t.start()
    for (let i = 0; i < n; i++) {
      if (i % 64 === 0) {
        const t0 = process.hrtime.bigint()
        await kv.put({ key: keys[i]!, value })
        t.sample(t0)
      } else {
        await kv.put({ key: keys[i]!, value })
      }
    }
    t.stop(n)
    const r = t.result(caseName, 'etcdlite memory')
    r.ratioToRaw = Math.round((r.opsPerSec / results[results.length - 1]!.opsPerSec) * 1000) / 1000
    results.push(emit(r))
    await etcd.close()
  }
  return results
}
