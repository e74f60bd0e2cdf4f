import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { open, type Durability } from '../src/index.ts'
import { encodeRecord, recordKey } from '../src/mvcc/backend/encoding.ts'
import { makeRecord } from '../src/mvcc/key-record.ts'
import { emit, machine, quick, randomBuffers, settle, Timer, type Result } from './lib.ts'

/**
 * bench/disk: puts on the LevelDB engine, sequential and with 64 writers in flight, in 'os' and 'fsync' durability,
 * beside raw LevelDB batches of the same records (64 per batch) in the same run; then the time to reopen a large
 * store. Targets: >= 150k puts/s with 64 writers in 'os'; >= 20k puts/s in 'fsync'; 1M-key reopen <= 5 s.
 */
export async function benchDisk(): Promise<Result[]> {
  const results: Result[] = []
  const n = quick ? 20_000 : 100_000
  const keys = randomBuffers(n, 16, 1)
  const value = randomBuffers(1, 256, 2)[0]!
  for (const durability of ['os', 'fsync'] as Durability[]) {
    const count = durability === 'fsync' ? Math.min(n, quick ? 5_000 : 20_000) : n
    results.push(emit(await rawLevel(keys.slice(0, count), value, durability)))
    for (const inFlight of [1, 64]) {
      if (durability === 'fsync' && inFlight === 1 && quick) continue
      results.push(emit(await enginePuts(keys.slice(0, inFlight === 1 ? Math.min(count, 5_000) : count), value, durability, inFlight)))
    }
  }
  results.push(emit(await reopen(quick ? 100_000 : 1_000_000)))
  return results
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'etcdlite-bench-'))
}

async function rawLevel(keys: Buffer[], value: Buffer, durability: Durability): Promise<Result> {
  settle()
  const dir = scratch()
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  const t = new Timer()
  t.start()
  for (let i = 0; i < keys.length; i += 64) {
    const t0 = process.hrtime.bigint()
    const batch = keys.slice(i, i + 64).map((k, j) => {
      const rec = makeRecord(k.toString('latin1'), value.toString('latin1'), i + j + 2, i + j + 2, 0, 1, 0n)
      return { type: 'put' as const, key: recordKey(i + j + 2, 0), value: encodeRecord(rec) }
    })
    await db.batch(batch, { sync: durability === 'fsync' })
    t.sample(t0)
  }
  t.stop(keys.length)
  await db.close()
  rmSync(dir, { recursive: true, force: true })
  return t.result(`disk put ${durability}`, 'LevelDB batches of 64 (raw)')
}

async function enginePuts(keys: Buffer[], value: Buffer, durability: Durability, inFlight: number): Promise<Result> {
  settle()
  const dir = scratch()
  const etcd = await open({ dir, durability })
  const kv = etcd.services.kv
  const t = new Timer()
  let next = 0
  t.start()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (;;) {
        const i = next++
        if (i >= keys.length) return
        const t0 = process.hrtime.bigint()
        await kv.put({ key: keys[i]!, value })
        if (i % 16 === 0) t.sample(t0)
      }
    }),
  )
  t.stop(keys.length)
  await etcd.close()
  rmSync(dir, { recursive: true, force: true })
  return t.result(`disk put ${durability}`, `etcdlite disk, ${inFlight} in flight`)
}

async function reopen(n: number): Promise<Result> {
  const dir = scratch()
  const etcd = await open({ dir, durability: 'os' })
  const value = Buffer.alloc(64, 7)
  const keys = randomBuffers(n, 16, 5)
  // Write in txns of 100 puts, 64 in flight, so the store fills fast.
  let next = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (;;) {
        const start = next
        next += 100
        if (start >= n) return
        await etcd.services.kv.txn({
          success: keys.slice(start, start + 100).map((key) => ({ requestPut: { key, value } })),
        })
      }
    }),
  )
  await etcd.close()
  settle()
  const t0 = performance.now()
  const back = await open({ dir })
  const seconds = (performance.now() - t0) / 1000
  const count = (await back.get('\0', { fromKey: true, countOnly: true })).count
  await back.close()
  rmSync(dir, { recursive: true, force: true })
  if (count !== n) throw new Error(`reopen found ${count} of ${n} keys`)
  return {
    case: `reopen ${n / 1000}k keys`,
    system: 'etcdlite disk',
    ops: n,
    opsPerSec: Math.round(n / seconds),
    p50Ms: 0,
    p99Ms: 0,
    seconds: Math.round(seconds * 100) / 100,
    node: process.version,
    machine,
  }
}
