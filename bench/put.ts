import { BTree } from '../src/util/btree.ts'
import { openAnti } from './peers/antietcd.ts'
import { asciiValue, contest, drive, flatKeys, label, quick, sizes, type Contestant, type Result, type Timer } from './lib.ts'
import { build, open, otherBuild } from './subject.ts'

/**
 * bench/put: puts into an empty in-memory store of each system, one at a time (each awaited) and with 64 in flight,
 * at 1k, 100k and 1M keys (16-byte keys in scrambled order, 256-byte values, the same strings for every system):
 * a JS Map and a sorted-btree (raw baselines: the structure alone, inserted in a tight loop), etcdlite through
 * `services.kv.put` (the build under test and, beside it, the other build), and antietcd's embedded `put`.
 * Every round starts from an empty store; rounds of all systems interleave; small sizes take more rounds.
 * Targets: etcdlite >= 2x antietcd and >= 60% of raw sorted-btree inserts.
 */
const MIN_OPS = quick ? 50_000 : 300_000
const WARMUP = 50_000

export async function benchPut(): Promise<Result[]> {
  const results: Result[] = []
  const value = asciiValue(256)
  const other = await otherBuild()
  for (const n of sizes([1_000, 100_000, 1_000_000], 100_000)) {
    const keys = flatKeys(n)
    const warmKeys = flatKeys(Math.min(n, WARMUP), 99)
    const rounds = Math.max(n >= 1_000_000 || quick ? 1 : 2, Math.ceil(MIN_OPS / n))
    for (const inFlight of [1, 64]) {
      const caseName = `put memory, ${inFlight === 1 ? 'sequential' : `${inFlight} in flight`}, ${label(n)} keys`
      const contestants: Contestant[] = []
      if (inFlight === 1) contestants.push(rawMap(keys, warmKeys, value), rawTree(keys, warmKeys, value))
      const engines = [{ system: 'etcdlite memory', open, build: build as string }]
      if (other) engines.push({ system: `etcdlite memory, ${other.name}`, open: other.module.open, build: other.name })
      for (const e of engines) {
        contestants.push({
          system: e.system,
          extra: { note: `build: ${e.build}` },
          async round(t, warm) {
            const etcd = await e.open()
            const kv = etcd.services.kv
            const ks = warm ? warmKeys : keys
            await drive(t, ks.length, (i) => kv.put({ key: ks[i]!, value }), { inFlight })
            await etcd.close()
          },
        })
      }
      contestants.push({
        system: 'antietcd memory',
        async round(t, warm) {
          const anti = await openAnti()
          const ks = warm ? warmKeys : keys
          await drive(t, ks.length, (i) => anti.put({ key: ks[i]!, value }), { inFlight })
          await anti.close()
        },
      })
      results.push(...(await contest(caseName, contestants, rounds)))
    }
    results.push(...(await existingKeys(n, keys, other)))
  }
  return results
}

/**
 * existingKeys: sequential puts of keys the store already holds (each key written once more per round, its value
 * alternating, since antietcd skips a put of the value a key already holds). The store is loaded before timing.
 */
async function existingKeys(n: number, keys: string[], other: Awaited<ReturnType<typeof otherBuild>>): Promise<Result[]> {
  // Loaded with values[0]; the warm-up round writes values[2], timed round r writes values[r % 2]: every put changes
  // its key's value.
  const values = [asciiValue(256, 3), asciiValue(256, 4), asciiValue(256, 5)]
  const valueOf = (round: number, warm: boolean) => values[warm ? 2 : round % 2]!
  const closers: (() => Promise<void>)[] = []
  const rounds = Math.max(2, Math.ceil(MIN_OPS / n))
  const engines = [{ system: 'etcdlite memory', open, build: build as string }]
  if (other) engines.push({ system: `etcdlite memory, ${other.name}`, open: other.module.open, build: other.name })
  const contestants: Contestant[] = []
  for (const e of engines) {
    const etcd = await e.open()
    for (const key of keys) await etcd.services.kv.put({ key, value: values[0]! })
    closers.push(() => etcd.close())
    let round = 0
    contestants.push({
      system: e.system,
      extra: { note: `build: ${e.build}` },
      async round(t, warm) {
        const value = valueOf(warm ? round : ++round, warm)
        const kv = etcd.services.kv
        await drive(t, warm ? Math.min(n, WARMUP) : n, (i) => kv.put({ key: keys[i]!, value }))
      },
    })
  }
  const anti = await openAnti()
  for (const key of keys) await anti.put({ key, value: values[0]! })
  closers.push(() => anti.close())
  let antiRound = 0
  contestants.push({
    system: 'antietcd memory',
    async round(t, warm) {
      const value = valueOf(warm ? antiRound : ++antiRound, warm)
      await drive(t, warm ? Math.min(n, WARMUP) : n, (i) => anti.put({ key: keys[i]!, value }))
    },
  })
  const results = await contest(`put memory, existing keys, sequential, ${label(n)} keys`, contestants, rounds)
  for (const close of closers) await close()
  return results
}

/** rawMap: Map.set in a tight loop, latency sampled on every 64th insert. */
function rawMap(keys: string[], warmKeys: string[], value: string): Contestant {
  return {
    system: 'Map (raw)',
    async round(t: Timer, warm: boolean) {
      const map = new Map<string, string>()
      const ks = warm ? warmKeys : keys
      t.start()
      for (let i = 0; i < ks.length; i++) {
        if ((i & 63) === 0) {
          const t0 = process.hrtime.bigint()
          map.set(ks[i]!, value)
          t.sample(t0)
        } else map.set(ks[i]!, value)
      }
      t.stop(ks.length)
    },
  }
}

/** rawTree: sorted-btree set in a tight loop, as etcdlite's index holds keys (strings in byte order). */
function rawTree(keys: string[], warmKeys: string[], value: string): Contestant {
  return {
    system: 'sorted-btree (raw)',
    async round(t: Timer, warm: boolean) {
      const tree = new BTree<string, string>()
      const ks = warm ? warmKeys : keys
      t.start()
      for (let i = 0; i < ks.length; i++) {
        if ((i & 63) === 0) {
          const t0 = process.hrtime.bigint()
          tree.set(ks[i]!, value)
          t.sample(t0)
        } else tree.set(ks[i]!, value)
      }
      t.stop(ks.length)
    },
  }
}
