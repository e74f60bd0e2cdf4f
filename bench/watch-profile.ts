import { Session } from 'node:inspector/promises'
import { consume, tick } from './lib.ts'
import { open } from './subject.ts'

/**
 * bench/watch-profile: the fan-out case of bench/watch.ts on its own (the dist build), for profiles. W watchers of
 * one prefix, consumed with for await, while one writer puts to 100 keys under it; a line per round with the
 * events delivered per second. With --alloc, the last round runs under V8's sampling heap profiler (collected
 * objects included) and prints the bytes allocated per event delivered, by allocating function. With --listener,
 * the watchers are listening watches (`etcd.watch(key, options, listener)`) instead of iterators.
 *
 *   npm run build && node --cpu-prof --cpu-prof-dir=bench/out --expose-gc --import tsx bench/watch-profile.ts 1000 2000 6
 *   node --import tsx bench/profile-summary.ts bench/out/CPU.*.cpuprofile --top 25
 *   node --import tsx bench/watch-profile.ts 1000 2000 2 --alloc
 */
const [watchers = 1000, writes = 2000, rounds = 4] = process.argv.slice(2).filter((a) => !a.startsWith('--')).map(Number)
const alloc = process.argv.includes('--alloc')
const listener = process.argv.includes('--listener')
const values = ['x'.repeat(64), 'y'.repeat(64)]

async function round(): Promise<number> {
  const etcd = await open()
  const consumers = listener ? listen(etcd, writes) : consume(Array.from({ length: watchers }, () => etcd.watch('fan/', { prefix: true })), writes)
  await tick()
  const t0 = performance.now()
  for (let i = 0; i < writes; i++) {
    await etcd.put(`fan/${i % 100}`, values[Math.floor(i / 100) & 1]!)
    if (i % 64 === 0) await tick()
  }
  await consumers.done
  console.log(`${watchers} watchers: ${((consumers.delivered / (performance.now() - t0)) * 1000).toFixed(0)} events/s`)
  await etcd.close()
  return consumers.delivered
}

/** listen starts the listening watchers; like consume, it counts events and settles when every watcher had `writes`. */
function listen(etcd: Awaited<ReturnType<typeof open>>, writes: number): { delivered: number; done: Promise<void> } {
  let finished!: () => void
  const state = { delivered: 0, done: new Promise<void>((resolve) => (finished = resolve)) }
  for (let w = 0; w < watchers; w++) {
    etcd.watch('fan/', { prefix: true }, (result) => {
      state.delivered += result.events.length
      if (state.delivered === watchers * writes) finished()
    })
  }
  return state
}

for (let r = 0; r < rounds - (alloc ? 1 : 0); r++) await round()
if (alloc) {
  interface Node {
    callFrame: { functionName: string; url: string; lineNumber: number }
    selfSize: number
    children: Node[]
  }
  const session = new Session()
  session.connect()
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  })
  const delivered = await round()
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: Node } }
  const bytes = new Map<string, number>()
  const walk = (n: Node): void => {
    const f = n.callFrame
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    bytes.set(name, (bytes.get(name) ?? 0) + n.selfSize)
    n.children.forEach(walk)
  }
  walk(profile.head)
  const total = [...bytes.values()].reduce((a, b) => a + b, 0)
  console.log(`allocated ~${Math.round(total / delivered)} B per event delivered (sampled)`)
  for (const [name, b] of [...bytes].sort((x, y) => y[1] - x[1]).slice(0, 12)) {
    if (b / delivered >= 1) console.log(`${String(Math.round(b / delivered)).padStart(6)} B  ${name}`)
  }
}
