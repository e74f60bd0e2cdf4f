import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * bench/ab-codec: the wire codecs of this build against another build's, in one process, rounds interleaved: the
 * per-message cost the server pays on every request (decode the request, encode the response) and the remote client
 * pays the other way.
 *
 *   node --import tsx bench/ab-codec.ts <other checkout with dist/ built>
 *
 * Both builds must have dist/ built (`npm run build`). The ratios are this build over the other.
 */
type Codecs = typeof import('../src/wire/codec.ts')
type Proto = typeof import('../src/wire/proto.ts')
type Build = { kv: Codecs; proto: Proto }

const other = process.argv[2]
if (other === undefined || !existsSync(join(other, 'dist', 'wire', 'codec.js'))) {
  console.error('usage: node --import tsx bench/ab-codec.ts <other checkout with dist/ built>')
  process.exit(2)
}
const load = async (dir: string): Promise<Build> => ({
  kv: (await import(pathToFileURL(join(resolve(dir), 'dist', 'wire', 'codec.js')).href)) as Codecs,
  proto: (await import(pathToFileURL(join(resolve(dir), 'dist', 'wire', 'proto.js')).href)) as Proto,
})
const builds = { other: await load(other), this: await load(new URL('..', import.meta.url).pathname) }

const header = { clusterId: 0xcdef_0123_4567_89abn, memberId: 15620605431212779891n, revision: 42, raftTerm: 1 }
const kvs = Array.from({ length: 100 }, (_, i) => ({
  key: Buffer.from(`key${i}`),
  createRevision: i + 2,
  modRevision: i + 5,
  version: 1,
  value: Buffer.alloc(256, 97),
  lease: 0n,
}))

/** decoded is a message as the server receives it: encoded to bytes and decoded by protobufjs. */
function decoded(b: Build, type: string, message: Record<string, unknown>) {
  const t = b.proto.messageType(type)
  return t.decode(t.encode(message))
}

const cases: Record<string, (b: Build) => () => unknown> = {
  'PutRequest fromWire': (b) => {
    const w = decoded(b, 'etcdserverpb.PutRequest', { key: Buffer.from('k1'), value: Buffer.alloc(256, 97) })
    return () => b.kv.putRequest.fromWire(w)
  },
  'PutResponse toWire': (b) => () => b.kv.putResponse.toWire({ header }),
  'RangeRequest fromWire': (b) => {
    const w = decoded(b, 'etcdserverpb.RangeRequest', { key: Buffer.from('k1'), rangeEnd: Buffer.from('k2'), limit: 10 })
    return () => b.kv.rangeRequest.fromWire(w)
  },
  'RangeResponse toWire, 1 kv': (b) => () => b.kv.rangeResponse.toWire({ header, kvs: kvs.slice(0, 1), more: false, count: 1 }),
  'RangeResponse toWire, 100 kvs': (b) => () => b.kv.rangeResponse.toWire({ header, kvs, more: false, count: 100 }),
  'RangeResponse fromWire, 100 kvs': (b) => {
    const w = decoded(b, 'etcdserverpb.RangeResponse', b.kv.rangeResponse.toWire({ header, kvs, more: false, count: 100 }))
    return () => b.kv.rangeResponse.fromWire(w)
  },
  'PutRequest toWire': (b) => () => b.kv.putRequest.toWire({ key: 'k1', value: 'v' }),
}

const rate = (fn: () => unknown, n: number) => {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn()
  return n / (Number(process.hrtime.bigint() - t0) / 1e9)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

console.log(`node ${process.version}; other: ${resolve(other)}`)
for (const [name, make] of Object.entries(cases)) {
  const a = make(builds.other)
  const b = make(builds.this)
  const n = name.includes('100') ? 20_000 : 500_000
  rate(a, n / 5)
  rate(b, n / 5)
  const rates = { other: [] as number[], this: [] as number[] }
  for (let r = 0; r < 7; r++) {
    rates.other.push(rate(a, n))
    rates.this.push(rate(b, n))
  }
  const [x, y] = [median(rates.other), median(rates.this)]
  console.log(`${name}: other ${Math.round(x)}/s, this ${Math.round(y)}/s, this/other ${(y / x).toFixed(2)} (medians of 7)`)
}
