import { BTree } from '../src/util/btree.ts'
import { antiPrefixEnd, openAnti, type AntiEtcd } from './peers/antietcd.ts'
import { asciiValue, contest, dirKeys, dirPrefix, drive, label, quick, sizes, type Contestant, type Result } from './lib.ts'
import { open, type Engine } from './subject.ts'

/**
 * bench/read: reads from a loaded in-memory store of 1k, 100k and 1M keys (in directories of 100, 256-byte values):
 * a get of one key (a scrambled walk over every key) and a get of a 100-key prefix (one directory), awaited one at a
 * time; then a compare-and-swap txn (compare the key's mod revision with the one last seen, then put), the
 * optimistic-concurrency step of every etcd client, over stores of 1k and 100k keys.
 * Systems: Map and sorted-btree (raw baselines; the tree answers prefixes with getRange), etcdlite through
 * `services.kv.range` / `services.kv.txn`, antietcd's embedded `range` / `txn`. Last, 100-key prefix reads of values,
 * keys only and counts only over 256 B and 4 KB values (see valueSizes).
 */
const GETS = quick ? 50_000 : 200_000
const PREFIX_GETS = quick ? 5_000 : 20_000
const CAS_OPS = quick ? 30_000 : 100_000

interface Loaded {
  keys: string[]
  map: Map<string, string>
  tree: InstanceType<typeof BTree<string, string>>
  etcd: Engine
  anti: AntiEtcd & { close(): Promise<void> }
}

async function load(n: number): Promise<Loaded> {
  const keys = dirKeys(n)
  const value = asciiValue(256)
  const map = new Map<string, string>()
  const tree = new BTree<string, string>()
  for (const k of keys) {
    map.set(k, value)
    tree.set(k, value)
  }
  const { etcd, anti } = await loadBoth(keys, value)
  return { keys, map, tree, etcd, anti }
}

/** loadBoth opens an etcdlite and an antietcd in memory and puts every key into each, 100 keys per txn. */
async function loadBoth(keys: string[], value: string): Promise<{ etcd: Engine; anti: AntiEtcd & { close(): Promise<void> } }> {
  const etcd = await open()
  const anti = await openAnti()
  for (let i = 0; i < keys.length; i += 100) {
    const batch = keys.slice(i, i + 100)
    await etcd.services.kv.txn({ success: batch.map((key) => ({ requestPut: { key, value } })) })
    await anti.txn({ success: batch.map((key) => ({ request_put: { key, value } })) })
  }
  return { etcd, anti }
}

export async function benchRead(): Promise<Result[]> {
  const results: Result[] = []
  for (const n of sizes([1_000, 100_000, 1_000_000], 100_000)) {
    const s = await load(n)
    const dirs = Math.ceil(n / 100)
    // Walk the keys in a scrambled order that differs from the load order.
    const key = (i: number) => s.keys[(i * 7919) % n]!
    const prefix = (i: number) => dirPrefix((i * 31) % dirs)
    const one = (system: string, get: (i: number) => unknown): Contestant => ({
      system,
      round: async (t, warm) => void (await drive(t, warm ? 2_000 : GETS, async (i) => get(i))),
    })
    results.push(
      ...(await contest(
        `get one key, ${label(n)}-key store`,
        [
          one('Map (raw)', (i) => s.map.get(key(i))),
          one('sorted-btree (raw)', (i) => s.tree.get(key(i))),
          one('etcdlite memory', (i) => s.etcd.services.kv.range({ key: key(i) })),
          one('antietcd memory', (i) => s.anti.range({ key: key(i) })),
        ],
        1,
      )),
    )
    const many = (system: string, get: (i: number) => unknown): Contestant => ({
      system,
      round: async (t, warm) => void (await drive(t, warm ? 200 : PREFIX_GETS, async (i) => get(i))),
    })
    const upper = (p: string) => p.slice(0, -1) + '0'
    results.push(
      ...(await contest(
        `get 100-key prefix, ${label(n)}-key store`,
        [
          many('sorted-btree (raw)', (i) => s.tree.getRange(prefix(i), upper(prefix(i)))),
          many('etcdlite memory', (i) => s.etcd.services.kv.range({ key: prefix(i), rangeEnd: upper(prefix(i)) })),
          many('antietcd memory', (i) => s.anti.range({ key: prefix(i), range_end: antiPrefixEnd(prefix(i)) })),
        ],
        1,
      )),
    )
    if (n <= 100_000) results.push(...(await cas(s, n)))
    await s.etcd.close()
    await s.anti.close()
  }
  results.push(...(await valueSizes()))
  return results
}

/**
 * valueSizes: 100-key prefix reads of whole values, keys only and counts only, over two 10k-key stores that differ
 * only in their value size (256 B and 4 KB). A read that costs no value bytes costs the same on both.
 * antietcd has keys_only but no count_only.
 */
async function valueSizes(): Promise<Result[]> {
  const n = 10_000
  const keys = dirKeys(n)
  const stores: { size: string; etcd: Engine; anti: AntiEtcd & { close(): Promise<void> } }[] = []
  for (const [size, bytes] of [['256 B', 256], ['4 KB', 4096]] as const) {
    const { etcd, anti } = await loadBoth(keys, asciiValue(bytes))
    stores.push({ size, etcd, anti })
  }
  const dirs = n / 100
  const prefix = (i: number) => dirPrefix((i * 31) % dirs)
  const upper = (p: string) => p.slice(0, -1) + '0'
  const many = (system: string, get: (i: number) => unknown): Contestant => ({
    system,
    round: async (t, warm) => void (await drive(t, warm ? 200 : PREFIX_GETS, async (i) => get(i))),
  })
  const results: Result[] = []
  for (const mode of ['values', 'keysOnly', 'countOnly'] as const) {
    const opts = { keysOnly: mode === 'keysOnly', countOnly: mode === 'countOnly' }
    const contestants = stores.map((s) =>
      many(`etcdlite memory, ${s.size} values`, (i) => s.etcd.services.kv.range({ key: prefix(i), rangeEnd: upper(prefix(i)), ...opts })),
    )
    if (mode !== 'countOnly') {
      for (const s of stores) {
        contestants.push(
          many(`antietcd memory, ${s.size} values`, (i) =>
            s.anti.range({ key: prefix(i), range_end: antiPrefixEnd(prefix(i)), keys_only: opts.keysOnly }),
          ),
        )
      }
    }
    results.push(...(await contest(`get 100-key prefix (${mode}), 256 B vs 4 KB values, ${label(n)}-key store`, contestants, 1)))
  }
  for (const s of stores) {
    await s.etcd.close()
    await s.anti.close()
  }
  return results
}

/**
 * cas: each op compares one key's mod revision with the revision its last write got, and puts a new value when
 * equal. Every compare must hold (one writer); a failed one is an error in the benchmark.
 */
async function cas(s: Loaded, n: number): Promise<Result[]> {
  // Two values per key, alternated on each write of that key: antietcd skips a put of the value a key already holds
  // (no new revision), so every system is given a change each time.
  const values = [asciiValue(256, 9), asciiValue(256, 10)]
  const seen = (revOf: (k: string) => number) => new Map(s.keys.map((k) => [k, { rev: revOf(k), writes: 0 }]))
  const etcdSeen = seen(() => 0)
  for (const [k, st] of etcdSeen) st.rev = (await s.etcd.services.kv.range({ key: k })).kvs[0]!.modRevision
  const antiSeen = seen(() => 0)
  for (const [k, st] of antiSeen) st.rev = (await s.anti.range({ key: k })).kvs[0]!.mod_revision!
  const key = (i: number) => s.keys[(i * 7919) % n]!
  const contestants: Contestant[] = [
    {
      system: 'Map (raw)',
      extra: { note: 'compare the stored revision, then set' },
      async round(t, warm) {
        const store = new Map(s.keys.map((k) => [k, { rev: 1, value: values[0]! }]))
        const mine = seen(() => 1)
        let rev = 1
        await drive(t, warm ? 2_000 : CAS_OPS, async (i) => {
          const k = key(i)
          const st = mine.get(k)!
          if (store.get(k)!.rev !== st.rev) throw new Error(`Map CAS failed on ${k}`)
          store.set(k, { rev: ++rev, value: values[++st.writes & 1]! })
          st.rev = rev
        })
      },
    },
    {
      system: 'etcdlite memory',
      async round(t, warm) {
        const kv = s.etcd.services.kv
        await drive(t, warm ? 2_000 : CAS_OPS, async (i) => {
          const k = key(i)
          const st = etcdSeen.get(k)!
          const r = await kv.txn({
            compare: [{ key: k, target: 'MOD', result: 'EQUAL', modRevision: st.rev }],
            success: [{ requestPut: { key: k, value: values[++st.writes & 1]! } }],
          })
          if (!r.succeeded) throw new Error(`etcdlite CAS failed on ${k}`)
          st.rev = r.header.revision
        })
      },
    },
    {
      system: 'antietcd memory',
      async round(t, warm) {
        await drive(t, warm ? 2_000 : CAS_OPS, async (i) => {
          const k = key(i)
          const st = antiSeen.get(k)!
          const r = await s.anti.txn({
            compare: [{ key: k, target: 'MOD', mod_revision: st.rev }],
            success: [{ request_put: { key: k, value: values[++st.writes & 1]! } }],
          })
          if (!r.succeeded) throw new Error(`antietcd CAS failed on ${k}`)
          st.rev = r.header.revision
        })
      },
    },
  ]
  return contest(`txn compare-and-swap, ${label(n)}-key store`, contestants, 1)
}
