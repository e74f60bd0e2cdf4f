import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Etcd3 } from 'etcd3'
import { freePort } from '../test/support/real-etcd.ts'

/**
 * bench/ab: this build against another build of etcdlite, side by side, to measure what a change costs.
 *
 *   node --import tsx bench/ab.ts <other checkout with dist/ built> [--rounds 8] [--served]
 *
 * - in process: separate processes alternate between the builds (A B A B ...), each putting over 10k keys and then
 *   getting them through the services level; the medians of the rounds are compared;
 * - served: both builds' `etcdlite serve --in-memory` run at once, and one etcd3 client puts, then gets one key
 *   (a Range) and 100 keys of a prefix, with 64 in flight, rounds alternating between them (`--served` runs only these).
 * Both builds must have dist/ built (`npm run build`). The ratios are this build over the other.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url))
const args = process.argv.slice(2)
const other = args.find((a) => !a.startsWith('--'))
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 0) || 8
if (other === undefined || !existsSync(join(other, 'dist', 'index.js'))) {
  console.error('usage: node --import tsx bench/ab.ts <other checkout with dist/ built> [--rounds N]')
  process.exit(2)
}
const builds = { other: resolve(other), this: ROOT }

const CHILD = `
const mod = await import(process.argv[1] + '/dist/index.js')
const value = Buffer.alloc(256, 0x61)
const e = await mod.open()
for (let i = 0; i < 10000; i++) await e.services.kv.put({ key: 'k' + i, value })
const n = 300000
let t0 = process.hrtime.bigint()
for (let i = 0; i < n; i++) await e.services.kv.put({ key: 'k' + ((i * 7919) % 10000), value })
const put = n / (Number(process.hrtime.bigint() - t0) / 1e9)
t0 = process.hrtime.bigint()
for (let i = 0; i < n; i++) await e.services.kv.range({ key: 'k' + ((i * 7919) % 10000) })
const get = n / (Number(process.hrtime.bigint() - t0) / 1e9)
console.log(JSON.stringify({ put, get }))
await e.close()
`

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function inProcess(): void {
  const rates: Record<string, { put: number[]; get: number[] }> = { other: { put: [], get: [] }, this: { put: [], get: [] } }
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? ['other', 'this'] : ['this', 'other']) {
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, builds[name as keyof typeof builds]], { encoding: 'utf8' })
      if (run.status !== 0) throw new Error(run.stderr)
      const { put, get } = JSON.parse(run.stdout) as { put: number; get: number }
      rates[name]!.put.push(put)
      rates[name]!.get.push(get)
    }
  }
  for (const op of ['put', 'get'] as const) {
    const a = median(rates.other![op])
    const b = median(rates.this![op])
    console.log(`in process, ${op} over 10k keys: other ${Math.round(a)}/s, this ${Math.round(b)}/s, this/other ${(b / a).toFixed(3)} (medians of ${rounds})`)
  }
}

async function served(): Promise<void> {
  const servers: { name: string; endpoint: string; kill(): void }[] = []
  for (const [name, dir] of Object.entries(builds)) {
    const port = await freePort()
    const child = spawn(process.execPath, [join(dir, 'dist', 'cli', 'main.js'), 'serve', '--in-memory', '--listen-client-urls', `http://127.0.0.1:${port}`], { stdio: 'ignore' })
    servers.push({ name, endpoint: `127.0.0.1:${port}`, kill: () => child.kill() })
  }
  try {
    await new Promise((r) => setTimeout(r, 1500))
    const value = Buffer.alloc(256, 0x61)
    const clients = servers.map((s) => new Etcd3({ hosts: `http://${s.endpoint}` }))
    const ops = {
      put: (c: Etcd3, i: number, prefix: string) => c.put(`${prefix}${i}`).value(value).exec(),
      get: (c: Etcd3, i: number) => c.get(`warm-${i % 2_000}`).buffer(),
      'prefix get (100 keys)': (c: Etcd3, i: number) => c.getAll().prefix(`warm-1${i % 10}`).keys(),
    }
    const drive = async (client: Etcd3, op: (c: Etcd3, i: number, prefix: string) => Promise<unknown>, n: number, prefix: string) => {
      let next = 0
      const t0 = process.hrtime.bigint()
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < n) await op(client, next++, prefix)
        }),
      )
      return n / (Number(process.hrtime.bigint() - t0) / 1e9)
    }
    for (const c of clients) await drive(c, ops.put, 2_000, 'warm-')
    for (const [name, op] of Object.entries(ops)) {
      const rates = servers.map(() => [] as number[])
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? [0, 1] : [1, 0]
        for (const i of order) rates[i]!.push(await drive(clients[i]!, op, 10_000, `r${r}-`))
      }
      const [a, b] = rates.map(median) as [number, number]
      console.log(`served ${name}, etcd3 client, 64 in flight: other ${Math.round(a)}/s, this ${Math.round(b)}/s, this/other ${(b / a).toFixed(3)} (medians of ${rounds})`)
    }
    for (const c of clients) c.close()
  } finally {
    for (const s of servers) s.kill()
  }
}

console.log(`node ${process.version}; this: ${builds.this}; other: ${builds.other}`)
if (!args.includes('--served')) inProcess()
await served()
