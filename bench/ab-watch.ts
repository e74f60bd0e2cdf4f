import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { contest, table, Timer, type Contestant, type Result } from './lib.ts'
import { antietcdFanOut, iteratorFanOut, listenerFanOut } from './watch.ts'

/**
 * bench/ab-watch: watch fan-out of this build against another build of etcdlite and antietcd, in one process, rounds
 * interleaved, so before/after ratios come from one run on a shared machine. The rounds are bench/watch.ts's.
 *
 *   node --expose-gc --import tsx bench/ab-watch.ts <other checkout with dist/ built> [watchers, e.g. 100,1000] [rounds] [--listener]
 *
 * Rows per watcher count: the listener form and the for-await form of each build (with --listener, only the listener
 * form), and antietcd's callbacks. Both builds must have dist/ built (`npm run build`). Besides events per second of
 * wall time, each row gives `cpuEventsPerSec`, events per second of the main thread's CPU time (Linux), which the
 * machine's other load disturbs less: on a shared machine, decide by it.
 */
type Etcdlite = typeof import('../src/index.ts')
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const listenerOnly = process.argv.includes('--listener')
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

/** threadCpuSeconds is the CPU time of this (the main) thread so far, from /proc; NaN where there is none. */
function threadCpuSeconds(): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th (clock ticks, 100 Hz).
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

/** CpuTimer is a Timer that also adds up the main thread's CPU time between each start() and stop(). */
class CpuTimer extends Timer {
  cpuSeconds = 0
  events = 0
  #cpu0 = 0

  override start(): void {
    this.#cpu0 = threadCpuSeconds()
    super.start()
  }

  override stop(ops: number): void {
    super.stop(ops)
    this.cpuSeconds += threadCpuSeconds() - this.#cpu0
    this.events += ops
  }
}

/** TeeTimer starts and stops two timers together. */
class TeeTimer extends Timer {
  readonly #a: Timer
  readonly #b: Timer

  constructor(a: Timer, b: Timer) {
    super()
    this.#a = a
    this.#b = b
  }

  override start(): void {
    this.#a.start()
    this.#b.start()
  }

  override stop(ops: number): void {
    this.#a.stop(ops)
    this.#b.stop(ops)
  }
}

const results: Result[] = []
for (const watchers of watcherCounts) {
  const writes = Math.max(2_000, Math.floor(1e6 / watchers))
  const c = (system: string, run: (t: Timer, n: number) => Promise<number>): Contestant => {
    const cpu = new CpuTimer()
    const extra: Record<string, unknown> = {}
    return {
      system,
      extra,
      async round(t, warm) {
        if (warm) return void (await run(t, Math.min(writes, 500)))
        // The contest's timer takes the wall time; this one, started and stopped with it, the CPU time.
        await run(new TeeTimer(t, cpu), writes)
        extra['cpuEventsPerSec'] = Math.round(cpu.events / cpu.cpuSeconds)
      },
    }
  }
  results.push(
    ...(await contest(
      `watch fan-out, ${watchers} watchers, ${writes} writes`,
      [
        c('etcdlite memory, listener (this build)', (t, n) => listenerFanOut(mine.open, watchers, n, t)),
        c('etcdlite, listener (other build)', (t, n) => listenerFanOut(base.open, watchers, n, t)),
        ...(listenerOnly
          ? []
          : [
              c('etcdlite, for await (this build)', (t, n) => iteratorFanOut(mine.open, watchers, n, t)),
              c('etcdlite, for await (other build)', (t, n) => iteratorFanOut(base.open, watchers, n, t)),
            ]),
        c('antietcd memory', (t, n) => antietcdFanOut(watchers, n, t)),
      ],
      rounds,
    )),
  )
}
table(results)
