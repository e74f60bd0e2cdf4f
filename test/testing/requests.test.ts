import type { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { fakeEtcd, type FakeEtcd } from '../../src/testing/index.ts'
import { ETCD3_WAYS } from './etcd3-ways.ts'

/**
 * Request recording: what reached the fake, in order, as the engine reads it, with the status and revision it got;
 * the same from an etcd3 client over the socket and through the etcd3 mock.
 */

/** waitFor polls `check` until it holds, for at most `ms`. */
async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor: the condition never held')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe.each(ETCD3_WAYS)('fake.requests, $way', (way) => {
  let fake: FakeEtcd
  let client: Etcd3
  beforeAll(async () => {
    fake = await fakeEtcd()
    client = way.client(fake)
  })
  afterAll(async () => {
    client.close()
    await fake.close()
  })
  beforeEach(() => fake.reset())

  test('records each call in order: the typed request, its status and the revision of its answer', async () => {
    await client.put('config/port').value('8080')
    await client.get('config/port').string()
    await client.delete().key('config/port')
    expect(fake.requests.all.map(({ name, request, code, status, revision }) => ({ name, request, code, status, revision }))).toEqual([
      { name: 'KV.Put', request: { key: 'config/port', value: '8080' }, code: 0, status: 'OK', revision: 2 },
      {
        name: 'KV.Range',
        request: expect.objectContaining({ key: 'config/port', limit: 1, revision: 0, serializable: false }),
        code: 0,
        status: 'OK',
        revision: 2,
      },
      { name: 'KV.DeleteRange', request: { key: 'config/port', rangeEnd: '', prevKv: false }, code: 0, status: 'OK', revision: 3 },
    ])
    expect(fake.requests.all[0]).toMatchObject({ service: 'KV', method: 'Put', fault: undefined })
  })

  test('records a refused call with its status and no revision', async () => {
    await expect(client.get('k').revision('99').string()).rejects.toThrow('required revision is a future revision')
    expect(fake.requests.of('KV.Range').map((r) => [r.code, r.status, r.revision])).toEqual([[11, 'OUT_OF_RANGE', undefined]])
  })

  test('bytes that are not printable UTF-8 stay bytes; lease ids are bigints', async () => {
    const lease = await fake.engine.grant(60)
    fake.requests.clear()
    await client.put(Buffer.from([0xff, 0x00])).value('x').exec()
    await client.put('leased').value('v').lease(lease.id.toString()).exec()
    const [binary, leased] = fake.requests.of('KV.Put')
    expect(binary!.request).toEqual({ key: Buffer.from([0xff, 0x00]), value: 'x' })
    expect(leased!.request).toEqual({ key: 'leased', value: 'v', lease: lease.id })
  })

  test('a txn is recorded whole, and found by any key it touches', async () => {
    await client.if('a', 'Value', '==', '1').then(client.put('b/1').value('2')).else(client.get('c')).commit()
    const [txn] = fake.requests.of('KV.Txn')
    expect(txn!.request).toMatchObject({
      compare: [{ key: 'a', target: 'VALUE', result: 'EQUAL', value: '1' }],
      success: [{ requestPut: { key: 'b/1', value: '2' } }],
      failure: [{ requestRange: expect.objectContaining({ key: 'c' }) }],
    })
    expect(fake.requests.under('b/')).toEqual([txn])
    expect(fake.requests.under('c')).toEqual([txn])
    expect(fake.requests.under('z')).toEqual([])
  })

  test('of() filters by RPC or service, and by key prefix; clear() forgets', async () => {
    await client.put('config/a').value('1')
    await client.put('other').value('2')
    await client.get('config/a').string()
    expect(fake.requests.of('KV.Put').map((r) => (r.request as { key: string }).key)).toEqual(['config/a', 'other'])
    expect(fake.requests.of('KV.Put', 'config/').map((r) => (r.request as { key: string }).key)).toEqual(['config/a'])
    expect(fake.requests.of('KV').length).toBe(3)
    expect(fake.requests.of('Lease')).toEqual([])
    fake.requests.clear()
    expect(fake.requests.all).toEqual([])
    expect(fake.requests.length).toBe(0)
  })

  test('a watch stream records each request; its revision is that of the answer that followed', async () => {
    await client.put('w/0').value('0')
    const watcher = await client.watch().prefix('w/').create()
    const [create] = fake.requests.of('Watch.Watch')
    expect(create).toMatchObject({ request: { createRequest: expect.objectContaining({ key: 'w/', rangeEnd: 'w0' }) }, revision: 2 })
    expect(create!.code).toBeUndefined()
    await watcher.cancel()
    await waitFor(() => fake.requests.of('Watch.Watch').length === 2)
    expect(fake.requests.of('Watch.Watch')[1]!.request).toEqual({ cancelRequest: { watchId: 0 } })
  })

  test.runIf(way.socket)('the JSON gateway is recorded as gRPC is', async () => {
    const res = await fetch(`${fake.url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('g').toString('base64'), value: 'dg==' }) })
    expect(res.status).toBe(200)
    expect(fake.requests.all.map((r) => [r.name, r.request, r.status, r.revision])).toEqual([['KV.Put', { key: 'g', value: 'v' }, 'OK', 2]])
  })

  test('record: false keeps nothing; faults still apply', async () => {
    await using quiet = await fakeEtcd({ record: false })
    const c = way.client(quiet)
    try {
      await c.put('k').value('v')
      quiet.faults.add({ method: 'KV.Range', fault: 'permission-denied' })
      await expect(c.get('k').string()).rejects.toThrow('etcdserver: permission denied')
      expect(quiet.requests.all).toEqual([])
    } finally {
      c.close()
    }
  })
})
