import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { encodeRecord, recordKey } from '../src/mvcc/backend/encoding.ts'
import { makeRecord } from '../src/mvcc/key-record.ts'
import { asciiValue, flatKeys, settle } from './lib.ts'

/**
 * bench/level-batch: the ways of writing one batch of records to LevelDB through the `level` package, side by side
 * in one process with interleaved rounds: batches of `size` records (revision-keyed, encoded as etcdlite encodes
 * them), written one batch at a time, with and without sync, and with LevelDB's default and a larger write buffer.
 *
 *   node --import tsx bench/level-batch.ts [size=64] [records=100000] [rounds=3]
 *
 * - array: `db.batch(ops)`, abstract-level's public path (per op: a cloned op object, key and value checked and
 *   encoded, then the native write).
 * - chained: `db.batch()` and one `put()` per op, then `write()` (per op: abstract-level's checks, one native call).
 * - private: `db._batch(ops)`, the implementation's own batch (classic-level: one native call for the array).
 */

type Db = Level<Buffer, Buffer>
type Op = { type: 'put'; key: Buffer; value: Buffer }

const size = Number(process.argv[2] ?? 64)
const records = Number(process.argv[3] ?? 100_000)
const rounds = Number(process.argv[4] ?? 3)

const ways: Record<string, (db: Db, ops: Op[], sync: boolean) => Promise<void>> = {
  array: (db, ops, sync) => db.batch(ops, { sync }),
  chained: (db, ops, sync) => {
    const batch = db.batch()
    for (const op of ops) batch.put(op.key, op.value)
    return batch.write({ sync })
  },
  private: (db, ops, sync) => (db as unknown as { _batch(ops: Op[], options: { sync: boolean }): Promise<void> })._batch(ops, { sync }),
}

async function round(way: string, sync: boolean, writeBufferSize: number | undefined, n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-level-batch-'))
  const db: Db = new Level<Buffer, Buffer>(dir, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    ...(writeBufferSize === undefined ? {} : { writeBufferSize }),
  })
  await db.open()
  const keys = flatKeys(n)
  const value = asciiValue(256)
  const write = ways[way]!
  settle()
  const t0 = performance.now()
  for (let from = 0; from < n; from += size) {
    const ops: Op[] = []
    for (let i = from; i < Math.min(n, from + size); i++) {
      ops.push({ type: 'put', key: recordKey(i + 2, 0), value: encodeRecord(makeRecord(keys[i]!, value, i + 2, i + 2, 0, 1, 0n)) })
    }
    await write(db, ops, sync)
  }
  const seconds = (performance.now() - t0) / 1000
  await db.close()
  rmSync(dir, { recursive: true, force: true })
  return n / seconds
}

for (const sync of [false, true]) {
  const n = sync ? Math.min(records, 20_000) : records
  for (const writeBufferSize of [undefined, 16 * 1024 * 1024]) {
    const best: Record<string, number> = {}
    for (const way of Object.keys(ways)) await round(way, sync, writeBufferSize, Math.min(n, 10_000))
    for (let r = 0; r < rounds; r++) {
      for (const way of Object.keys(ways)) best[way] = Math.max(best[way] ?? 0, await round(way, sync, writeBufferSize, n))
    }
    const base = best.array!
    const cells = Object.entries(best).map(([way, ops]) => `${way} ${Math.round(ops)}/s (${(ops / base).toFixed(2)}x)`)
    console.log(`batches of ${size}, ${sync ? 'sync' : 'no sync'}, write buffer ${writeBufferSize ?? 'default 4 MiB'}: ${cells.join(', ')}`)
  }
}
