import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { encodeRecord, recordKey } from '../src/mvcc/backend/encoding.ts'
import { makeRecord } from '../src/mvcc/key-record.ts'
import { openAnti } from './peers/antietcd.ts'
import { startRealEtcd } from './peers/real-etcd.ts'
import { asciiValue, contest, drive, flatKeys, label, quick, rate, settle, emit, type Contestant, type Result } from './lib.ts'
import { open, type Durability } from './subject.ts'

/**
 * bench/disk: puts to a store on disk, one at a time and with 64 in flight, in 'os' durability (the write reaches the
 * OS before the ack) and 'fsync' (the write is on disk before the ack), beside
 *  - raw LevelDB (classic-level) with the same records etcdlite writes: one put per op when sequential, batches of 64
 *    when 64 are in flight; `sync` in 'fsync' cases;
 *  - antietcd with persistence: in 'fsync' cases its default (the whole store dumped as gzipped JSON and fsynced after
 *    every change); in 'os' cases `persist_interval: 500` (acks at once, dumps every 500 ms: a crash loses up to
 *    500 ms of acknowledged writes, weaker than 'os');
 *  - real etcd 3.4 through the etcd3 client, in 'fsync' cases only (etcd 3.4 always fsyncs; it has no 'os' mode).
 * Slow systems run for at most MAX_MS and report what they did. Then the time to reopen a large store, per system.
 * Targets: etcdlite 'os' with 64 writers >= 150k puts/s and >= 15x real etcd (64 in flight); 1M-key reopen <= 5 s.
 */
const MAX_MS = quick ? 1_000 : 5_000

export async function benchDisk(): Promise<Result[]> {
  const results: Result[] = []
  const value = asciiValue(256)
  const etcd = await startRealEtcd()
  try {
    for (const durability of ['os', 'fsync'] as Durability[]) {
      for (const inFlight of [1, 64]) {
        const n =
          durability === 'os' ? (inFlight === 64 ? (quick ? 20_000 : 100_000) : quick ? 5_000 : 20_000) : inFlight === 64 ? (quick ? 5_000 : 20_000) : quick ? 1_000 : 3_000
        const keys = flatKeys(n)
        // Warm-up rounds (untimed, on a fresh store) are long enough for LevelDB's JS layers to be compiled: the
        // first few thousand batches of a process run several times slower than the rest.
        const warmOps = durability === 'os' ? Math.min(n, 10_000) : 200
        const caseName = `put disk ${durability}, ${inFlight === 1 ? 'sequential' : `${inFlight} in flight`}, ${label(n)} keys`
        const contestants: Contestant[] = [rawLevel(keys, value, durability, inFlight, warmOps, 'public')]
        if (inFlight > 1) contestants.push(rawLevel(keys, value, durability, inFlight, warmOps, 'implementation'))
        contestants.push({
          system: `etcdlite disk ${durability}`,
          async round(t, warm) {
            const dir = scratch()
            const e = await open({ dir, durability })
            const kv = e.services.kv
            await drive(t, warm ? warmOps : keys.length, (i) => kv.put({ key: keys[i]!, value }), { inFlight })
            await e.close()
            rmSync(dir, { recursive: true, force: true })
          },
        })
        const fsync = durability === 'fsync'
        contestants.push({
          system: fsync ? 'antietcd, dump after every change' : 'antietcd, dump every 500 ms',
          extra: { note: fsync ? 'whole store gzipped and fsynced per change' : 'acks before the dump' },
          async round(t, warm) {
            const dir = scratch()
            const anti = await openAnti({ data: join(dir, 'data.gz'), ...(fsync ? {} : { persistInterval: 500 }) })
            await drive(t, warm ? 200 : keys.length, (i) => anti.put({ key: keys[i]!, value }), { inFlight, maxMs: MAX_MS })
            await anti.close()
            rmSync(dir, { recursive: true, force: true })
          },
        })
        if (fsync && etcd) {
          let round = 0
          contestants.push({
            system: 'real etcd 3.4 (etcd3 client)',
            extra: { note: 'gRPC over loopback; always fsyncs' },
            async round(t, warm) {
              const prefix = `${durability}/${inFlight}/${round++}/`
              await drive(t, warm ? 200 : keys.length, (i) => etcd.client.put(prefix + keys[i]!).value(value).exec(), { inFlight, maxMs: MAX_MS })
            },
          })
        }
        results.push(...(await contest(caseName, contestants, 1)))
      }
    }
  } finally {
    await etcd?.stop()
  }
  results.push(...(await reopen(quick ? 100_000 : 1_000_000)))
  return results
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'etcdlite-bench-'))
}

/**
 * rawLevel writes the records etcdlite would write (revision-keyed, encoded the same way) straight to LevelDB. Batches
 * go through `db.batch(ops)` ('public', abstract-level's checks and encodings per op) or through the database's own
 * `_batch` ('implementation', one native call, what etcdlite's backend uses).
 */
function rawLevel(keys: string[], value: string, durability: Durability, inFlight: number, warmOps: number, way: 'public' | 'implementation'): Contestant {
  return {
    system:
      inFlight === 1
        ? 'LevelDB, one put per op (raw)'
        : `LevelDB, batches of ${inFlight} (raw${way === 'implementation' ? ', implementation batch' : ''})`,
    async round(t, warm) {
      const dir = scratch()
      const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
      await db.open()
      const n = warm ? warmOps : keys.length
      const sync = durability === 'fsync'
      const entry = (i: number) => {
        const rec = makeRecord(keys[i]!, value, i + 2, i + 2, 0, 1, 0n)
        return { type: 'put' as const, key: recordKey(i + 2, 0), value: encodeRecord(rec) }
      }
      if (inFlight === 1) {
        await drive(t, n, (i) => {
          const e = entry(i)
          return db.put(e.key, e.value, { sync })
        })
      } else {
        const batches = Math.ceil(n / inFlight)
        t.start()
        for (let b = 0; b < batches; b++) {
          const t0 = process.hrtime.bigint()
          const ops = []
          for (let i = b * inFlight; i < Math.min(n, (b + 1) * inFlight); i++) ops.push(entry(i))
          if (way === 'public') await db.batch(ops, { sync })
          else await (db as unknown as { _batch(ops: unknown[], options: { sync: boolean }): Promise<void> })._batch(ops, { sync })
          t.sample(t0)
        }
        t.stop(n)
      }
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * reopen fills a store of n keys (64-byte values) in each system, closes it, and times opening it again until the
 * store answers: etcdlite (checkpoint chunks and later records replayed into the index), LevelDB alone reading every
 * entry of that same directory (raw baseline: the I/O floor), and antietcd loading its gzipped JSON dump.
 */
async function reopen(n: number): Promise<Result[]> {
  const caseName = `reopen, ${label(n)} keys`
  const value = asciiValue(64, 5)
  const keys = flatKeys(n, 5)
  const results: Result[] = []

  const dir = scratch()
  const filled = await open({ dir, durability: 'os' })
  await fill(n, (start, end) =>
    filled.services.kv.txn({ success: keys.slice(start, end).map((key) => ({ requestPut: { key, value } })) }),
  )
  await filled.close()

  settle()
  let t0 = performance.now()
  const db = new Level<Buffer, Buffer>(join(dir, 'kv'), { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  let entries = 0
  let bytes = 0
  for await (const entry of db.iterator()) {
    entries++
    bytes += entry[0].length + entry[1].length
  }
  await db.close()
  let seconds = (performance.now() - t0) / 1000
  const note = `${entries} LevelDB entries, ${Math.round(bytes / 1e5) / 10} MB (checkpoint chunks and records)`
  results.push(emit(rate(caseName, 'LevelDB, read every entry (raw)', n, seconds, { seconds: round2(seconds), note })))

  settle()
  t0 = performance.now()
  const back = await open({ dir })
  seconds = (performance.now() - t0) / 1000
  const count = (await back.get('\0', { fromKey: true, countOnly: true })).count
  await back.close()
  rmSync(dir, { recursive: true, force: true })
  if (count !== n) throw new Error(`reopen found ${count} of ${n} keys`)
  results.push(emit(rate(caseName, 'etcdlite disk', n, seconds, { seconds: round2(seconds) })))

  const adir = scratch()
  const data = join(adir, 'data.gz')
  const anti = await openAnti({ data, persistInterval: 3_600_000 })
  await fill(n, (start, end) => anti.txn({ success: keys.slice(start, end).map((key) => ({ request_put: { key, value } })) }))
  await anti.close()
  settle()
  t0 = performance.now()
  const again = await openAnti({ data })
  seconds = (performance.now() - t0) / 1000
  const got = (await again.range({ key: '', range_end: '' })).kvs.length
  await again.close()
  const fileMb = Math.round(statSync(data).size / 1e5) / 10
  rmSync(adir, { recursive: true, force: true })
  if (got !== n) throw new Error(`antietcd reopen found ${got} of ${n} keys`)
  results.push(emit(rate(caseName, 'antietcd, load gzipped JSON', n, seconds, { seconds: round2(seconds), note: `${fileMb} MB file` })))
  return results
}

/** fill writes keys [0, n) in txns of 100 puts, 64 txns in flight. */
async function fill(n: number, txn: (start: number, end: number) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (;;) {
        const start = next
        next += 100
        if (start >= n) return
        await txn(start, Math.min(n, start + 100))
      }
    }),
  )
}

function round2(x: number): number {
  return Math.round(x * 100) / 100
}
