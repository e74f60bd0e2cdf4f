import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { RangeResponse } from '../../src/index.ts'
import { servedTargets } from '../support/served-targets.ts'
import { presentEmptyServices } from '../differential/wire-sides.ts'
import type { RemoteServices } from '../../src/remote/remote-services.ts'

/**
 * Present-but-empty bytes fields on the wire (docs/etcd-3.4-present-empty-fields.md), against `etcdlite serve` and a
 * real etcd 3.4: a range_end that is present and empty reads to the end of the keyspace in a Range and in a txn made
 * only of ranges, and is no range_end in everything that passes through etcd's raft log (puts, deletes, other txns)
 * and in a watch. Requests go through presentEmptyServices, which sends an empty field present.
 */
interface Target {
  services: RemoteServices
  endpoint: string
  stop(): Promise<void>
}

const targets = servedTargets().map(([name, start]): [string, () => Promise<Target>] => [
  name,
  async () => {
    const served = await start()
    const services = presentEmptyServices(served.endpoint)
    return { services, endpoint: served.endpoint, stop: async () => (services.close(), await served.stop()) }
  },
])

const EMPTY = new Uint8Array(0)
const keys = (r: RangeResponse) => r.kvs.map((kv) => Buffer.from(kv.key).toString())

describe.each(targets)('present-empty range_end (%s)', (_name, start) => {
  let t: Target
  beforeAll(async () => {
    t = await start()
    for (const k of ['a', 'b', 'c', 'd']) await t.services.kv.put({ key: k, value: 'v' })
  }, 30_000)
  afterAll(async () => {
    await t?.stop()
  })

  test('a Range reads every key from key on', async () => {
    const r = await t.services.kv.range({ key: 'b', rangeEnd: EMPTY })
    expect({ keys: keys(r), count: r.count }).toEqual({ keys: ['b', 'c', 'd'], count: 3 })
  })

  test('so does a countOnly or serializable Range', async () => {
    expect((await t.services.kv.range({ key: 'b', rangeEnd: EMPTY, countOnly: true })).count).toBe(3)
    expect(keys(await t.services.kv.range({ key: 'c', rangeEnd: EMPTY, serializable: true }))).toEqual(['c', 'd'])
  })

  test('a txn made only of ranges reads to the end, in its ranges and its compares', async () => {
    const r = await t.services.kv.txn({
      // every key from "a" on was created at or after revision 2: "createRevision < 3" fails for b, c, d
      compare: [{ key: 'a', rangeEnd: EMPTY, target: 'CREATE', result: 'LESS', createRevision: 3 }],
      success: [{ requestRange: { key: 'a', keysOnly: true } }],
      failure: [{ requestRange: { key: 'c', rangeEnd: EMPTY, keysOnly: true } }],
    })
    expect(r.succeeded).toBe(false)
    expect(keys((r.responses[0] as { responseRange: RangeResponse }).responseRange)).toEqual(['c', 'd'])
  })

  test('a txn with any other op reads one key: it passes through raft, which drops the empty field', async () => {
    const r = await t.services.kv.txn({
      compare: [{ key: 'a', rangeEnd: EMPTY, target: 'CREATE', result: 'LESS', createRevision: 3 }],
      success: [{ requestRange: { key: 'b', rangeEnd: EMPTY, keysOnly: true } }, { requestPut: { key: 'written', value: '1' } }],
    })
    expect(r.succeeded).toBe(true)
    expect(keys((r.responses[0] as { responseRange: RangeResponse }).responseRange)).toEqual(['b'])
    await t.services.kv.deleteRange({ key: 'written' })
  })

  test('a DeleteRange deletes one key', async () => {
    const r = await t.services.kv.deleteRange({ key: 'd', rangeEnd: EMPTY, prevKv: true })
    expect(r.deleted).toBe(1)
    await t.services.kv.put({ key: 'd', value: 'v' })
  })

  test('a watch watches one key', async () => {
    const stream = t.services.watch.watch()
    stream.send({ createRequest: { key: 'b', rangeEnd: EMPTY, startRevision: 1 } })
    const seen: string[] = []
    for await (const r of stream) {
      for (const e of r.events) seen.push(Buffer.from(e.kv.key).toString())
      if (seen.length > 0) break
    }
    stream.close()
    expect(seen).toEqual(['b'])
  })

  test('on the JSON gateway an empty "range_end" is no range_end', async () => {
    const res = await fetch(`http://${t.endpoint}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('b').toString('base64'), range_end: '', keys_only: true }),
    })
    const body = (await res.json()) as { kvs: { key: string }[] }
    expect(body.kvs.map((kv) => Buffer.from(kv.key, 'base64').toString())).toEqual(['b'])
  })
})
