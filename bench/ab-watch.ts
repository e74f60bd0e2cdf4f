import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { contest, table, type Contestant, type Result, type Timer } from './lib.ts'
import { antietcdFanOut, iteratorFanOut, listenerFanOut } from './watch.ts'

/**
 * bench/ab-watch: watch fan-out of this build against another build of etcdlite and antietcd, in one process, rounds
 * interleaved, so before/after ratios come from one run on a shared machine. The rounds are bench/watch.ts's.
 *
 *   node --expose-gc --import tsx bench/ab-watch.ts <other checkout with dist/ built> [watchers, e.g. 100,1000] [rounds]
 *
 * Rows per watcher count: the listener form and the for-await form of each build, and antietcd's callbacks. Both
 * builds must have dist/ built (`npm run build`).
 */
type Etcdlite = typeof import('../src/index.ts')
const args = process.argv.slice(2)
const other = args[0]
if (other === undefined || !existsSync(join(other, 'dist', 'index.js'))) {
  console.error('usage: node --expose-gc --import tsx bench/ab-watch.ts <other checkout with dist/ built> [watchers] [rounds]')
  process.exit(2)
}
const load = async (dir: string) => (await import(pathToFileURL(join(resolve(dir), 'dist', 'index.js')).href)) as Etcdlite
const base = await load(other)
const mine = await load(new URL('..', import.meta.url).pathname)
const watcherCounts = (args[1] ?? '100,1000').split(',').map(Number)
const rounds = Number(args[2] ?? 5)

const results: Result[] = []
for (const watchers of watcherCounts) {
  const writes = Math.max(2_000, Math.floor(1e6 / watchers))
  const c = (system: string, run: (t: Timer, n: number) => Promise<number>): Contestant => ({
    system,
    round: async (t, warm) => void (await run(t, warm ? Math.min(writes, 500) : writes)),
  })
  results.push(
    ...(await contest(
      `watch fan-out, ${watchers} watchers, ${writes} writes`,
      [
        c('etcdlite memory, listener (this build)', (t, n) => listenerFanOut(mine.open, watchers, n, t)),
        c('etcdlite, listener (other build)', (t, n) => listenerFanOut(base.open, watchers, n, t)),
        c('etcdlite, for await (this build)', (t, n) => iteratorFanOut(mine.open, watchers, n, t)),
        c('etcdlite, for await (other build)', (t, n) => iteratorFanOut(base.open, watchers, n, t)),
        c('antietcd memory', (t, n) => antietcdFanOut(watchers, n, t)),
      ],
      rounds,
    )),
  )
}
table(results)
