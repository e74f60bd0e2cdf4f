import { open, type Engine } from '../src/index.ts'
import { emit, machine, quick, settle, Timer, type Result } from './lib.ts'

/**
 * bench/watch: events delivered per second to 1, 100 and 1000 watchers of one prefix; writer throughput with 0 and
 * 1000 idle single-key watchers on other keys, and beside one stalled consumer.
 * Targets: >= 1M events/s delivered with 1000 watchers; idle watchers cost writers < 10%.
 */
export async function benchWatch(): Promise<Result[]> {
  const results: Result[] = []
  const writes = quick ? 2_000 : 10_000
  for (const watchers of [1, 100, 1000]) results.push(emit(await fanOut(watchers, writes)))
  const puts = quick ? 50_000 : 200_000
  const base = await writer(puts, async () => undefined)
  results.push(emit(base.result(`watch writer ${puts / 1000}k puts`, 'no watchers')))
  const idle = await writer(puts, async (etcd) => {
    for (let i = 0; i < 1000; i++) etcd.watch(`other/${i}`)
  })
  results.push(emit(idle.result(`watch writer ${puts / 1000}k puts`, '1000 idle key watchers')))
  const stalled = await writer(puts, async (etcd) => {
    // A watcher of every key whose consumer never reads: it must fall back to history, not slow the writer.
    const w = etcd.watch('', { prefix: true })
    void w.next()
  })
  results.push(emit(stalled.result(`watch writer ${puts / 1000}k puts`, 'one stalled prefix watcher')))
  return results
}

async function fanOut(watchers: number, writes: number): Promise<Result> {
  settle()
  const etcd = await open()
  let delivered = 0
  const total = watchers * writes
  const done = Promise.all(
    Array.from({ length: watchers }, async () => {
      let seen = 0
      for await (const r of etcd.watch('fan/', { prefix: true })) {
        seen += r.events.length
        delivered += r.events.length
        if (seen === writes) break
      }
    }),
  )
  await new Promise((resolve) => setImmediate(resolve))
  const t0 = performance.now()
  const value = Buffer.alloc(64, 1)
  for (let i = 0; i < writes; i++) {
    await etcd.put(`fan/${i % 100}`, value)
    // Let consumers run now and then, as a real event loop would.
    if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  await done
  const seconds = (performance.now() - t0) / 1000
  await etcd.close()
  if (delivered !== total) throw new Error(`fan-out delivered ${delivered} of ${total}`)
  return {
    case: `watch fan-out ${watchers} watchers`,
    system: 'etcdlite memory',
    ops: total,
    opsPerSec: Math.round(total / seconds),
    p50Ms: 0,
    p99Ms: 0,
    node: process.version,
    machine,
  }
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
