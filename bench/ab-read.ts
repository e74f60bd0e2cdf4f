import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { antiPrefixEnd, openAnti } from './peers/antietcd.ts'
import { asciiValue, contest, dirKeys, dirPrefix, drive, label, table, type Contestant, type Result } from './lib.ts'

/**
 * bench/ab-read: range reads of this build against another build of etcdlite and antietcd, in one process, rounds
 * interleaved, so before/after ratios come from one run on a shared machine.
 *
 *   node --expose-gc --import tsx bench/ab-read.ts <other checkout with dist/ built> [sizes, e.g. 1000,100000] [value bytes]
 *
 * Cases: a 100-key prefix read (three times, to show the spread) and a one-key read, per store size. Both builds
 * must have dist/ built (`npm run build`).
 */
type Etcdlite = typeof import('../src/index.ts')
const args = process.argv.slice(2)
const other = args[0]
if (other === undefined || !existsSync(join(other, 'dist', 'index.js'))) {
  console.error('usage: node --expose-gc --import tsx bench/ab-read.ts <other checkout with dist/ built> [sizes] [value bytes]')
  process.exit(2)
}
const load = async (dir: string) => (await import(pathToFileURL(join(resolve(dir), 'dist', 'index.js')).href)) as Etcdlite
const base = await load(other)
const mine = await load(new URL('..', import.meta.url).pathname)
const storeSizes = (args[1] ?? '1000,100000').split(',').map(Number)
const valueSize = Number(args[2] ?? 256)
const PREFIX_GETS = 5_000
const GETS = 50_000

const results: Result[] = []
for (const n of storeSizes) {
  const keys = dirKeys(n)
  const value = asciiValue(valueSize)
  const b = await base.open()
  const m = await mine.open()
  const a = await openAnti()
  for (let i = 0; i < n; i += 100) {
    const batch = keys.slice(i, i + 100)
    await b.services.kv.txn({ success: batch.map((key) => ({ requestPut: { key, value } })) })
    await m.services.kv.txn({ success: batch.map((key) => ({ requestPut: { key, value } })) })
    await a.txn({ success: batch.map((key) => ({ request_put: { key, value } })) })
  }
  const dirs = Math.ceil(n / 100)
  const prefix = (i: number) => dirPrefix((i * 31) % dirs)
  const upper = (p: string) => p.slice(0, -1) + '0'
  const key = (i: number) => keys[(i * 7919) % n]!
  const c = (system: string, count: number, get: (i: number) => unknown): Contestant => ({
    system,
    round: async (t, warm) => void (await drive(t, warm ? 200 : count, async (i) => get(i))),
  })
  for (let rep = 1; rep <= 3; rep++) {
    const name = `get 100-key prefix, ${label(n)}-key store, ${valueSize} B values (${rep}/3)`
    results.push(
      ...(await contest(
        name,
        [
          c('etcdlite memory (this build)', PREFIX_GETS, (i) => m.services.kv.range({ key: prefix(i), rangeEnd: upper(prefix(i)) })),
          c('etcdlite (other build)', PREFIX_GETS, (i) => b.services.kv.range({ key: prefix(i), rangeEnd: upper(prefix(i)) })),
          c('antietcd memory', PREFIX_GETS, (i) => a.range({ key: prefix(i), range_end: antiPrefixEnd(prefix(i)) })),
        ],
        1,
      )),
    )
  }
  results.push(
    ...(await contest(
      `get one key, ${label(n)}-key store`,
      [
        c('etcdlite memory (this build)', GETS, (i) => m.services.kv.range({ key: key(i) })),
        c('etcdlite (other build)', GETS, (i) => b.services.kv.range({ key: key(i) })),
        c('antietcd memory', GETS, (i) => a.range({ key: key(i) })),
      ],
      1,
    )),
  )
  await b.close()
  await m.close()
  await a.close()
}
table(results)
