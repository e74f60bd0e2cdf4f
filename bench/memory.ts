import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { label, machine, quick, type Result } from './lib.ts'
import { emit } from './lib.ts'

/**
 * bench/memory: memory per key with 1M keys loaded (100k with --quick), 16-byte keys with 256-byte and with 32-byte
 * values, each system in a fresh process (bench/memory-child.ts) so that nothing else shares its heap: Map and
 * sorted-btree (raw: the strings and the structure), etcdlite memory (loaded by one put per key, so one revision per
 * key), antietcd memory. Reported per key: heap (V8 heap used + external + array buffers) and RSS growth after a
 * full collection, beside the raw key+value bytes.
 * Target: etcdlite <= 2x raw key+value bytes + 150 B per key.
 */
const SYSTEMS = ['Map (raw)', 'sorted-btree (raw)', 'etcdlite memory', 'antietcd memory']

interface ChildReport {
  system: string
  n: number
  valueBytes: number
  rawBytes: number
  heapBytes: number
  rssBytes: number
  seconds: number
}

export async function benchMemory(): Promise<Result[]> {
  const results: Result[] = []
  const n = quick ? 100_000 : 1_000_000
  const child = fileURLToPath(new URL('./memory-child.ts', import.meta.url))
  for (const valueBytes of quick ? [256] : [256, 32]) {
    const caseName = `memory per key, ${label(n)} keys, ${valueBytes}-byte values`
    for (const system of SYSTEMS) {
      const args = ['--expose-gc', '--import', 'tsx', child, system, String(n), String(valueBytes)]
      if (process.argv.includes('--src')) args.push('--src')
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 })
      if (r.status !== 0) throw new Error(`memory child for ${system} failed: ${r.stderr}`)
      const rep = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildReport
      const per = (bytes: number) => Math.round(bytes / n)
      results.push(
        emit({
          case: caseName,
          system,
          ops: n,
          opsPerSec: Math.round(n / rep.seconds),
          p50Ms: 0,
          p99Ms: 0,
          node: process.version,
          machine,
          rawBytesPerKey: per(rep.rawBytes),
          heapBytesPerKey: per(rep.heapBytes),
          rssBytesPerKey: per(rep.rssBytes),
          note: 'ops/s: the load',
        }),
      )
    }
  }
  return results
}
