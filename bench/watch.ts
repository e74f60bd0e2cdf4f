import { EventEmitter } from 'node:events'
import { openAnti } from './peers/antietcd.ts'
import { asciiValue, emit, quick, rate, settle, tick, Timer, type Result } from './lib.ts'
import { open, type Engine } from './subject.ts'

/**
 * bench/watch: events delivered per second to 1, 100 and 1000 watchers of one prefix while a writer puts to 100 keys
 * under it (yielding to the event loop every 64 puts, as a busy server would): etcdlite's watch streams
 * (`engine.watch`, consumed with for await), antietcd's embedded `create_watch` callbacks, and a Node EventEmitter
 * with as many listeners (raw baseline: synchronous delivery of one shared object, nothing queued).
 * Then what watchers cost a writer: puts/s with no watchers, with 1000 idle watchers of other keys, and beside one
 * prefix watcher whose consumer never reads.
 * Targets: >= 1M events/s delivered to 1000 watchers; idle watchers cost writers < 10%.
 */
export async function benchWatch(): Promise<Result[]> {
  const results: Result[] = []
  for (const watchers of [1, 100, 1000]) {
    const writes = Math.max(quick ? 1_000 : 2_000, Math.floor((quick ? 50_000 : 200_000) / watchers))
    results.push(...(await fanOutCase(watchers, writes)))
  }
  const puts = quick ? 50_000 : 200_000
  const caseName = `watch cost to a writer, ${puts / 1000}k puts`
  results.push(emit((await writer(puts, async () => undefined)).result(caseName, 'etcdlite memory, no watchers')))
  const idle = await writer(puts, async (etcd) => {
    for (let i = 0; i < 1000; i++) etcd.watch(`other/${i}`)
  })
  results.push(emit(idle.result(caseName, 'etcdlite memory, 1000 idle key watchers')))
  const stalled = await writer(puts, async (etcd) => {
    // A watcher of every key whose consumer never reads: it must fall back to history, not slow the writer.
    const w = etcd.watch('', { prefix: true })
    void w.next()
  })
  results.push(emit(stalled.result(caseName, 'etcdlite memory, one stalled prefix watcher')))
  return results
}

/** the keys and values written: key i % 100; a key's value alternates on each write (antietcd drops unchanged puts). */
const values = [asciiValue(64, 11), asciiValue(64, 12)]
const keyOf = (i: number) => `fan/${i % 100}`
const valueOf = (i: number) => values[Math.floor(i / 100) & 1]!

async function fanOutCase(watchers: number, writes: number): Promise<Result[]> {
  const caseName = `watch fan-out, ${watchers} watcher${watchers === 1 ? '' : 's'}`
  // Each system's run returns the events delivered and the seconds from the first write to the last delivery.
  const systems: { system: string; run(n: number): Promise<{ events: number; seconds: number }> }[] = [
    {
      system: 'EventEmitter (raw)',
      async run(n) {
        const bus = new EventEmitter()
        bus.setMaxListeners(0)
        let delivered = 0
        for (let w = 0; w < watchers; w++) bus.on('put', (e: { key: string }) => void (e.key.length > 0 && delivered++))
        const t0 = performance.now()
        for (let i = 0; i < n; i++) {
          bus.emit('put', { key: keyOf(i), value: valueOf(i), modRevision: i + 2 })
          if (i % 64 === 0) await tick()
        }
        return done(delivered, watchers * n, t0)
      },
    },
    {
      system: 'etcdlite memory',
      async run(n) {
        const etcd = await open()
        let delivered = 0
        const consumers = Promise.all(
          Array.from({ length: watchers }, async () => {
            let seen = 0
            for await (const r of etcd.watch('fan/', { prefix: true })) {
              seen += r.events.length
              delivered += r.events.length
              if (seen === n) break
            }
          }),
        )
        await tick()
        const t0 = performance.now()
        for (let i = 0; i < n; i++) {
          await etcd.put(keyOf(i), valueOf(i))
          if (i % 64 === 0) await tick()
        }
        await consumers
        const r = done(delivered, watchers * n, t0)
        await etcd.close()
        return r
      },
    },
    {
      system: 'antietcd memory',
      async run(n) {
        const anti = await openAnti()
        let delivered = 0
        let finished!: () => void
        const all = new Promise<void>((resolve) => (finished = resolve))
        const total = watchers * n
        for (let w = 0; w < watchers; w++) {
          await anti.create_watch({ key: 'fan/', range_end: 'fan0' }, (msg) => {
            delivered += msg.result.events?.length ?? 0
            if (delivered === total) finished()
          })
        }
        const t0 = performance.now()
        for (let i = 0; i < n; i++) {
          await anti.put({ key: keyOf(i), value: valueOf(i) })
          if (i % 64 === 0) await tick()
        }
        await all
        const r = done(delivered, total, t0)
        await anti.close()
        return r
      },
    },
  ]
  for (const s of systems) {
    settle()
    await s.run(Math.min(writes, 500)) // warm-up
  }
  const results: Result[] = []
  for (const s of systems) {
    settle()
    const { events, seconds } = await s.run(writes)
    results.push(emit(rate(caseName, s.system, events, seconds, { writes })))
  }
  return results
}

function done(delivered: number, expected: number, t0: number): { events: number; seconds: number } {
  if (delivered !== expected) throw new Error(`fan-out delivered ${delivered} of ${expected}`)
  return { events: delivered, seconds: (performance.now() - t0) / 1000 }
}

async function writer(puts: number, setup: (etcd: Engine) => Promise<void>): Promise<Timer> {
  settle()
  const etcd = await open()
  await setup(etcd)
  const value = Buffer.alloc(64, 1)
  const t = new Timer()
  t.start()
  for (let i = 0; i < puts; i++) {
    const t0 = process.hrtime.bigint()
    await etcd.put(`key/${i % 10_000}`, value)
    if (i % 64 === 0) t.sample(t0)
  }
  t.stop(puts)
  await etcd.close()
  return t
}
