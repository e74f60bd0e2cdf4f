import { EventEmitter } from 'node:events'
import v8 from 'node:v8'
import { openAnti } from './peers/antietcd.ts'
import { asciiValue, consume, contest, emit, quick, settle, tick, Timer, type Contestant, type Result } from './lib.ts'
import { open, type Engine } from './subject.ts'

/**
 * bench/watch: events delivered per second to 1, 100 and 1000 watchers of one prefix while a writer puts to 100 keys
 * under it (yielding to the event loop every 64 puts, as a busy server would): etcdlite's watch streams
 * (`engine.watch`, consumed with for await), antietcd's embedded `create_watch` callbacks, a Node EventEmitter with
 * as many listeners (raw baseline: synchronous delivery of one shared object, nothing queued), and as many bare
 * async iterators consumed with for await (raw baseline: the floor of the for-await shape; see Channel). Each row also
 * says how many bytes the JS heap allocated per event delivered (writer and watchers together; V8's GC statistics).
 * Then what watchers cost a writer: puts with no watchers, with 1000 idle watchers of other keys, and beside one
 * prefix watcher whose consumer never reads (see writerCostCase).
 * Systems run in interleaved rounds (A B C A B C ...), so the machine's other load falls on each alike.
 * Targets (engine speed issue): fan-out >= 2x antietcd at 100 and 1000 watchers and >= 3M events/s at 1000, about
 * 200 B allocated per event delivered; idle watchers and a stalled watcher each cost writers < 5%.
 */
export async function benchWatch(): Promise<Result[]> {
  const results: Result[] = []
  for (const watchers of [1, 100, 1000]) {
    // About a million events per round at --quick (four at full size), and at least 2,000 writes.
    const writes = Math.min(quick ? 50_000 : 200_000, Math.max(2_000, Math.floor((quick ? 1e6 : 4e6) / watchers)))
    results.push(...(await fanOutCase(watchers, writes)))
  }
  results.push(...(await writerCostCase(quick ? 10_000 : 50_000, quick ? 15 : 30)))
  return results
}

/** the keys and values written: key i % 100; a key's value alternates on each write (antietcd drops unchanged puts). */
const values = [asciiValue(64, 11), asciiValue(64, 12)]
const keyOf = (i: number) => `fan/${i % 100}`
const valueOf = (i: number) => values[Math.floor(i / 100) & 1]!

/** FanOut is one system's fan-out round: it returns the events delivered, timed on `timer` from first write to last delivery. */
type FanOut = (watchers: number, writes: number, timer: Timer) => Promise<number>

/** OpenEngine opens an in-memory engine of one build of etcdlite. */
type OpenEngine = () => Promise<Engine>

const fanOutSystems: Record<string, FanOut> = {
  'EventEmitter (raw)': async (watchers, n, timer) => {
    const bus = new EventEmitter()
    bus.setMaxListeners(0)
    let delivered = 0
    for (let w = 0; w < watchers; w++) bus.on('put', (e: { key: string }) => void (e.key.length > 0 && delivered++))
    timer.start()
    for (let i = 0; i < n; i++) {
      bus.emit('put', { key: keyOf(i), value: valueOf(i), modRevision: i + 2 })
      if (i % 64 === 0) await tick()
    }
    return done(timer, delivered, watchers * n)
  },
  'async iterators (raw)': async (watchers, n, timer) => {
    const channels = Array.from({ length: watchers }, () => new Channel())
    const consumers = consume(channels, n)
    await tick()
    timer.start()
    for (let i = 0; i < n; i++) {
      await Promise.resolve() // where a put would await its commit
      const r = Object.freeze({ events: Object.freeze([{ key: keyOf(i), value: valueOf(i), modRevision: i + 2 }]) })
      for (const c of channels) c.push(r)
      if (i % 64 === 0) await tick()
    }
    await consumers.done
    return done(timer, consumers.delivered, watchers * n)
  },
  'etcdlite memory': (watchers, n, timer) => iteratorFanOut(open, watchers, n, timer),
  'etcdlite memory, listener': (watchers, n, timer) => listenerFanOut(open, watchers, n, timer),
  'antietcd memory': antietcdFanOut,
}

/** iteratorFanOut is etcdlite's fan-out round with watches consumed by for await (`open` picks the build). */
export async function iteratorFanOut(open: OpenEngine, watchers: number, n: number, timer: Timer): Promise<number> {
  const etcd = await open()
  const consumers = consume(Array.from({ length: watchers }, () => etcd.watch('fan/', { prefix: true })), n)
  await tick()
  timer.start()
  for (let i = 0; i < n; i++) {
    await etcd.put(keyOf(i), valueOf(i))
    if (i % 64 === 0) await tick()
  }
  await consumers.done
  const events = done(timer, consumers.delivered, watchers * n)
  await etcd.close()
  return events
}

/** listenerFanOut is etcdlite's fan-out round with listening watches (`etcd.watch(key, options, listener)`). */
export async function listenerFanOut(open: OpenEngine, watchers: number, n: number, timer: Timer): Promise<number> {
  const etcd = await open()
  let delivered = 0
  let finished!: () => void
  const all = new Promise<void>((resolve) => (finished = resolve))
  const total = watchers * n
  for (let w = 0; w < watchers; w++) {
    etcd.watch('fan/', { prefix: true }, (result) => {
      delivered += result.events.length
      if (delivered === total) finished()
    })
  }
  await tick()
  timer.start()
  for (let i = 0; i < n; i++) {
    await etcd.put(keyOf(i), valueOf(i))
    if (i % 64 === 0) await tick()
  }
  await all
  const events = done(timer, delivered, total)
  await etcd.close()
  return events
}

/** antietcdFanOut is antietcd's fan-out round: `create_watch` callbacks. */
export async function antietcdFanOut(watchers: number, n: number, timer: Timer): Promise<number> {
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
  timer.start()
  for (let i = 0; i < n; i++) {
    await anti.put({ key: keyOf(i), value: valueOf(i) })
    if (i % 64 === 0) await tick()
  }
  await all
  const events = done(timer, delivered, total)
  await anti.close()
  return events
}

async function fanOutCase(watchers: number, writes: number): Promise<Result[]> {
  const caseName = `watch fan-out, ${watchers} watcher${watchers === 1 ? '' : 's'}`
  const contestants = Object.entries(fanOutSystems).map(([system, run]): Contestant => {
    const allocated = { bytes: 0, events: 0 }
    const extra: Record<string, unknown> = { writes }
    return {
      system,
      extra,
      async round(timer, warm) {
        if (warm) return void (await run(watchers, Math.min(writes, 500), timer))
        const meter = startAllocationMeter()
        allocated.events += await run(watchers, writes, timer)
        allocated.bytes += meter.stop()
        extra['bytesPerEvent'] = Math.round(allocated.bytes / allocated.events)
      },
    }
  })
  return contest(caseName, contestants, quick ? 3 : 5)
}

/**
 * Channel is the least a watch with `for await` can be: a queue per watcher whose next() resolves at once when an
 * item waits and otherwise parks one promise. The 'async iterators (raw)' baseline feeds one shared frozen object
 * per write to each, so its row is the floor of the async-iterator shape itself (etcdlite's client API, etcd's too).
 */
class Channel implements AsyncIterableIterator<{ events: readonly unknown[] }> {
  readonly #items: { events: readonly unknown[] }[] = []
  #head = 0
  #waiting: ((r: IteratorResult<{ events: readonly unknown[] }>) => void) | undefined

  push(item: { events: readonly unknown[] }): void {
    const waiting = this.#waiting
    if (waiting === undefined) this.#items.push(item)
    else {
      this.#waiting = undefined
      waiting({ value: item, done: false })
    }
  }

  next(): Promise<IteratorResult<{ events: readonly unknown[] }>> {
    if (this.#head < this.#items.length) return Promise.resolve({ value: this.#items[this.#head++]!, done: false })
    return new Promise((resolve) => (this.#waiting = resolve))
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

function done(timer: Timer, delivered: number, expected: number): number {
  timer.stop(delivered)
  if (delivered !== expected) throw new Error(`fan-out delivered ${delivered} of ${expected}`)
  return delivered
}

/**
 * startAllocationMeter counts the bytes the JS heap allocates from now until stop(): the used heap before each
 * garbage collection less the used heap after the one before (V8's GC profiler), plus the growth since the last one.
 * Buffers' backing stores live outside the JS heap and are not counted.
 */
function startAllocationMeter(): { stop(): number } {
  const profiler = new v8.GCProfiler()
  const before = v8.getHeapStatistics().used_heap_size
  profiler.start()
  return {
    stop() {
      const data = profiler.stop()
      const end = v8.getHeapStatistics().used_heap_size
      let previous = before
      let bytes = 0
      for (const gc of data?.statistics ?? []) {
        bytes += gc.beforeGC.heapStatistics.usedHeapSize - previous
        previous = gc.afterGC.heapStatistics.usedHeapSize
      }
      return bytes + end - previous
    },
  }
}

/** WriterSetup prepares an engine for the writer: watchers of some kind, or none. */
type WriterSetup = (etcd: Engine) => Promise<void>

const writerSetups: Record<string, WriterSetup> = {
  'etcdlite memory, no watchers': async () => undefined,
  // The same again: how far two identical setups land apart in this run is the noise the targets are judged against.
  'etcdlite memory, no watchers (control)': async () => undefined,
  'etcdlite memory, 1000 idle key watchers': async (etcd) => {
    for (let i = 0; i < 1000; i++) etcd.watch(`other/${i}`)
  },
  'etcdlite memory, one stalled prefix watcher': async (etcd) => {
    // A watcher of every key whose consumer never reads: it must fall back to history, not slow the writer.
    const w = etcd.watch('', { prefix: true })
    void w.next()
  },
}

/**
 * writerCostCase: what watchers cost a writer putting `puts` updates of 10k keys, one at a time, in `rounds` short
 * rounds per setup, the setups interleaved round by round (in a rotating order). Each row reports the median round (puts/s, and the
 * process's CPU time per put, which the machine's other load disturbs less than wall time), and the heap left after
 * a round with the engine still open (after a full collection), to show a stalled watcher's memory stays bounded.
 */
async function writerCostCase(puts: number, rounds: number): Promise<Result[]> {
  const caseName = `watch cost to a writer, ${rounds} x ${puts / 1000}k puts`
  const value = Buffer.alloc(64, 1)
  const runs = Object.keys(writerSetups).map(() => ({ rates: [] as number[], cpu: [] as number[], heap: 0, timer: new Timer() }))
  const setups = Object.values(writerSetups)
  for (let r = -1; r < rounds; r++) {
    // Each round starts with another setup, so no setup always runs right after the same one.
    for (let k = 0; k < setups.length; k++) {
      const j = (k + Math.max(r, 0)) % setups.length
      const setup = setups[j]!
      const run = runs[j]!
      const etcd = await open()
      for (let i = 0; i < 10_000; i++) await etcd.put(`key/${i}`, value)
      await setup(etcd)
      settle()
      const n = r < 0 ? Math.min(puts, 2_000) : puts // round -1 warms up
      const t0 = performance.now()
      const cpu0 = process.cpuUsage()
      const timer = r < 0 ? new Timer() : run.timer
      timer.start()
      for (let i = 0; i < n; i++) {
        const p0 = process.hrtime.bigint()
        await etcd.put(`key/${i % 10_000}`, value)
        if (i % 64 === 0) timer.sample(p0)
      }
      timer.stop(n)
      const cpu = process.cpuUsage(cpu0)
      if (r >= 0) {
        run.rates.push(n / ((performance.now() - t0) / 1000))
        run.cpu.push((cpu.user + cpu.system) / n)
        settle()
        run.heap = Math.max(run.heap, v8.getHeapStatistics().used_heap_size)
      }
      await etcd.close()
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
  return Object.keys(writerSetups).map((system, j) => {
    const run = runs[j]!
    const r = run.timer.result(caseName, system, {
      note: 'median round',
      cpuUsPerPut: Math.round(median(run.cpu) * 100) / 100,
      heapMB: Math.round(run.heap / 2 ** 20),
    })
    return emit({ ...r, opsPerSec: Math.round(median(run.rates)) })
  })
}
