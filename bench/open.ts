import { openAnti } from './peers/antietcd.ts'
import { emit, machine, quick, type Result } from './lib.ts'
import { open } from './subject.ts'

/**
 * bench/open: the time to open an empty in-memory store and close it again, for tests that make a fresh store per
 * test: etcdlite's `open()` and antietcd's constructor. Reported per open: p50 and p99 of the open alone.
 * Target: etcdlite's open() in memory < 1 ms.
 */
export async function benchOpen(): Promise<Result[]> {
  const n = quick ? 500 : 2000
  const systems: { system: string; once(): Promise<() => Promise<unknown>> }[] = [
    {
      system: 'etcdlite memory',
      async once() {
        const etcd = await open()
        return () => etcd.close()
      },
    },
    {
      system: 'antietcd memory',
      async once() {
        const anti = await openAnti()
        return () => anti.close()
      },
    },
  ]
  const results: Result[] = []
  for (const s of systems) {
    for (let i = 0; i < 100; i++) await (await s.once())()
    const times: number[] = []
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      const close = await s.once()
      times.push(performance.now() - t)
      await close()
    }
    const seconds = (performance.now() - t0) / 1000
    times.sort((a, b) => a - b)
    const at = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))]! * 10_000) / 10_000
    results.push(emit({ case: 'open and close an empty store in memory', system: s.system, ops: n, opsPerSec: Math.round(n / seconds), p50Ms: at(0.5), p99Ms: at(0.99), node: process.version, machine, note: 'ops: open + close; p50/p99: the open alone' }))
  }
  return results
}
