import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { buildConsole } from '../console/build.ts'
import { open } from '../src/api/engine.ts'
import { serve } from '../src/server/serve.ts'
import { label, machine, quick } from './lib.ts'

/**
 * Does opening the web console slow writers down? A store of 1M keys (100k with --quick) is served over gRPC; a
 * writer process puts through it as fast as it answers (16 in flight, bench/console-writer.ts) the whole time; an
 * opener process opens the console the way the page does, through the page's own data client
 * (bench/console-opener.ts). Windows with and without the opener
 * alternate (A B B A ...), and the writer's puts per second are compared: the median over pairs of the ratio
 * "with the console opening" / "without". Two loads: one open per second (a person), and opens back to back.
 *
 *   node --import tsx bench/console-open.ts [--quick]
 */

const KEYS = quick ? 100_000 : 1_000_000
const WINDOW_MS = 3_000
const PAIRS = quick ? 3 : 5

await buildConsole()
const engine = await open()
const fillStart = performance.now()
for (let from = 0; from < KEYS; from += 10_000) {
  const puts = []
  for (let i = from; i < Math.min(from + 10_000, KEYS); i++) puts.push(engine.put(`app/svc${i % 100}/key${String(i).padStart(7, '0')}`, `value ${i}`))
  await Promise.all(puts)
}
const fillMs = performance.now() - fillStart
const server = await serve({ engine, port: 0 })

/** child runs a helper script of this folder in its own process, talking in lines of JSON. */
function child(script: string, arg: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${script}`, import.meta.url)), arg], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const replies = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]()
  return {
    send: (line: string) => proc.stdin!.write(`${line}\n`),
    ask: async (line: string): Promise<Record<string, unknown>> => {
      proc.stdin!.write(`${line}\n`)
      const r = await replies.next()
      return JSON.parse(r.value as string) as Record<string, unknown>
    },
    exit: () => new Promise<void>((resolve) => {
      proc.once('exit', () => resolve())
      proc.stdin!.end('exit\n')
    }),
  }
}

const opener = child('console-opener.ts', server.urls[0]!)

// "1M keys open as fast as 100": a store of 100 keys of the same shape, served beside the big one, opened by the same
// (warmed) opener. The opener's very first open pays for its own process warming up (its HTTP client, the JIT), so
// it goes to the small store and is not counted. The big store's first open pays what a first look at a store costs
// the server (what is left of ordering new keys, counting live keys); the event loop's longest stall meanwhile is
// what that first open can cost writers.
const small = await open()
for (let i = 0; i < 100; i++) await small.put(`app/svc${i % 100}/key${String(i).padStart(7, '0')}`, `value ${i}`)
const smallServer = await serve({ engine: small, port: 0 })
await opener.ask(`once ${smallServer.urls[0]}`)
const stall = loopStallMeter()
const first = (await opener.ask('once')).ms as number
const firstStallMs = stall.stop()
const second = (await opener.ask('once')).ms as number
const smallOpens: number[] = []
for (let i = 0; i < 5; i++) smallOpens.push((await opener.ask(`once ${smallServer.urls[0]}`)).ms as number)
await smallServer.close()
await small.close()

/** loopStallMeter measures the longest gap between 1 ms timer ticks of this (the server's) event loop. */
function loopStallMeter(): { stop(): number } {
  let last = performance.now()
  let longest = 0
  const timer = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  }, 1)
  return {
    stop: () => {
      clearInterval(timer)
      return Math.max(longest, performance.now() - last)
    },
  }
}

const writer = child('console-writer.ts', server.endpoint)
/** window measures the writer's puts per second over WINDOW_MS, with the opener running (pauseMs) or idle. */
const window = async (pauseMs: number | undefined): Promise<{ putsPerSec: number; opens: number; openMs: number[] }> => {
  if (pauseMs !== undefined) opener.send(`start ${pauseMs}`)
  const before = await writer.ask('count')
  await new Promise((r) => setTimeout(r, WINDOW_MS))
  const after = await writer.ask('count')
  const putsPerSec = (((after.puts as number) - (before.puts as number)) * 1000) / ((after.at as number) - (before.at as number))
  if (pauseMs === undefined) return { putsPerSec, opens: 0, openMs: [] }
  const r = await opener.ask('stop')
  return { putsPerSec, opens: r.opens as number, openMs: r.latencies as number[] }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const results = []
for (const [load, pauseMs] of [['one open per second', 1000], ['opens back to back', 0]] as const) {
  await window(undefined) // settle
  const ratios: number[] = []
  const base: number[] = []
  const withConsole: number[] = []
  const openMs: number[] = []
  let opens = 0
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? ['without', 'with'] : ['with', 'without']
    const pair: Record<string, number> = {}
    for (const which of order) {
      const w = await window(which === 'with' ? pauseMs : undefined)
      pair[which] = w.putsPerSec
      opens += w.opens
      openMs.push(...w.openMs)
    }
    base.push(pair.without!)
    withConsole.push(pair.with!)
    ratios.push(pair.with! / pair.without!)
  }
  const result = {
    case: `console-open ${label(KEYS)} keys, ${load}`,
    writerPutsPerSecWithout: Math.round(median(base)),
    writerPutsPerSecWith: Math.round(median(withConsole)),
    medianRatio: Number(median(ratios).toFixed(3)),
    writerCostPct: Number(((1 - median(ratios)) * 100).toFixed(1)),
    opens,
    openP50Ms: Number(median(openMs).toFixed(1)),
    node: process.version,
    machine,
  }
  results.push(result)
  console.log(JSON.stringify(result))
}
await Promise.all([writer.exit(), opener.exit()])
await server.close()
await engine.close()

const opensJson = {
  case: `console-open ${label(KEYS)} keys vs 100 keys`,
  firstOpenMs: Number(first.toFixed(1)),
  firstOpenLongestStallMs: Number(firstStallMs.toFixed(1)),
  secondOpenMs: Number(second.toFixed(1)),
  open100KeysMedianMs: Number(median(smallOpens).toFixed(1)),
  node: process.version,
  machine,
}
console.log(JSON.stringify(opensJson))
console.log(
  `\n${label(KEYS)} keys (filled in ${(fillMs / 1000).toFixed(1)} s): first console open ${first.toFixed(0)} ms (the server's event loop held at most ${firstStallMs.toFixed(0)} ms meanwhile), second ${second.toFixed(0)} ms; 100 keys: ${median(smallOpens).toFixed(0)} ms (median of 5)`,
)
console.log('case                                              writer puts/s without   with   ratio  cost   opens  open p50')
for (const r of results) {
  console.log(
    `${r.case.padEnd(50)}${String(r.writerPutsPerSecWithout).padStart(20)}${String(r.writerPutsPerSecWith).padStart(8)}${r.medianRatio.toFixed(3).padStart(8)}${`${r.writerCostPct}%`.padStart(7)}${String(r.opens).padStart(7)}${`${r.openP50Ms} ms`.padStart(10)}`,
  )
}
console.log(`Node ${process.version}, ${machine}`)
