import { BTree } from '../src/util/btree.ts'
import { openAnti } from './peers/antietcd.ts'
import { open } from './subject.ts'

/**
 * bench/memory-child: loads n keys into one system in a fresh process and prints what that cost in memory, as one
 * JSON line: heap (V8 heap used + external + array buffers) and RSS, after a full collection, minus the same taken
 * before loading. Keys and values are made one at a time and handed over, so the store owns every string it holds.
 * Run by bench/memory.ts with --expose-gc: `node --expose-gc --import tsx bench/memory-child.ts <system> <n> <valueBytes>`.
 */
const [system = '', nText = '0', valueText = '256'] = process.argv.slice(2)
const n = Number(nText)
const valueBytes = Number(valueText)
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc')

// A pool of printable bytes; value i is a fresh string copied out of it at an offset that depends on i.
const pool = Buffer.alloc(1 << 20)
for (let i = 0, s = 7; i < pool.length; i++) {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0
  pool[i] = 48 + ((s >>> 16) % 75)
}
// Key i: 16 hex characters, made through a Buffer so that it is one flat string (a concatenation would be a rope).
const keyBuf = Buffer.alloc(16)
const keyOf = (i: number) => {
  let x = Math.imul(i ^ 0x2545f491, 0x9e3779b1) >>> 0
  x ^= x >>> 15
  keyBuf.write(x.toString(16).padStart(8, '0'), 0, 'latin1')
  keyBuf.write(i.toString(16).padStart(8, '0'), 8, 'latin1')
  return keyBuf.toString('latin1')
}
const valueOf = (i: number) => {
  const at = (i * 7919) % (pool.length - valueBytes)
  return pool.toString('latin1', at, at + valueBytes)
}

function measure(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc!()
  const m = process.memoryUsage()
  return { heap: m.heapUsed + m.external + m.arrayBuffers, rss: m.rss }
}

const loaders: Record<string, () => Promise<unknown>> = {
  'Map (raw)': async () => {
    const map = new Map<string, string>()
    for (let i = 0; i < n; i++) map.set(keyOf(i), valueOf(i))
    return map
  },
  'sorted-btree (raw)': async () => {
    const tree = new BTree<string, string>()
    for (let i = 0; i < n; i++) tree.set(keyOf(i), valueOf(i))
    return tree
  },
  'etcdlite memory': async () => {
    const etcd = await open()
    for (let i = 0; i < n; i++) await etcd.services.kv.put({ key: keyOf(i), value: valueOf(i) })
    // New keys join the ordered index when a range first needs order: count once, so that the index is whole.
    await etcd.services.kv.range({ key: '\0', rangeEnd: '\0', countOnly: true })
    return etcd
  },
  'antietcd memory': async () => {
    const anti = await openAnti()
    for (let i = 0; i < n; i++) await anti.put({ key: keyOf(i), value: valueOf(i) })
    return anti
  },
}

const load = loaders[system]
if (!load) throw new Error(`unknown system ${system}; one of ${Object.keys(loaders).join(', ')}`)
const before = measure()
const t0 = performance.now()
const store = await load()
const seconds = (performance.now() - t0) / 1000
const after = measure()
console.log(
  JSON.stringify({
    system,
    n,
    valueBytes,
    rawBytes: n * (16 + valueBytes),
    heapBytes: after.heap - before.heap,
    rssBytes: after.rss - before.rss,
    seconds,
    held: store !== undefined,
  }),
)
process.exit(0)
