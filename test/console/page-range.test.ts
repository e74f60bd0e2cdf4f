import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { open, type Engine } from '../../src/api/engine.ts'
import { serve, type Serving } from '../../src/server/serve.ts'

/**
 * /ui/api/range, the console's page of a range: etcd's Range through the same engine call (auth, errors), with the
 * count stopped just past the page; and the engine option under it, RangeRequest.countLimit.
 */

const b64 = (s: string) => Buffer.from(s).toString('base64')

describe('RangeRequest.countLimit', () => {
  let engine: Engine
  beforeAll(async () => {
    engine = await open()
    for (let i = 0; i < 500; i++) await engine.put(`k/${String(i).padStart(3, '0')}`, `v${i}`)
  })
  afterAll(() => engine.close())

  test('stops the count past the limit; kvs and more are those of the full count', async () => {
    const full = await engine.services.kv.range({ key: 'k/', rangeEnd: 'k0', limit: 10 })
    const paged = await engine.services.kv.range({ key: 'k/', rangeEnd: 'k0', limit: 10, countLimit: 11 })
    expect(full.count).toBe(500)
    expect(paged.count).toBe(11)
    expect(paged.kvs).toEqual(full.kvs)
    expect(paged.more).toBe(true)
  })

  test('is never below what the page needs, and counts all where the answer needs every key', async () => {
    const low = await engine.services.kv.range({ key: 'k/', rangeEnd: 'k0', limit: 10, countLimit: 2 })
    expect(low.kvs).toHaveLength(10)
    expect(low.more).toBe(true)
    expect(low.count).toBe(11)
    const sorted = await engine.services.kv.range({ key: 'k/', rangeEnd: 'k0', limit: 10, sortOrder: 'DESCEND', countLimit: 11 })
    expect(sorted.count).toBe(500)
    expect(Buffer.from(sorted.kvs[0]!.key).toString()).toBe('k/499')
    const last = await engine.services.kv.range({ key: 'k/495', rangeEnd: 'k0', limit: 10, countLimit: 11 })
    expect([last.count, last.kvs.length, last.more]).toEqual([5, 5, false])
  })

  test('is refused when it is not a count', async () => {
    await expect(engine.services.kv.range({ key: 'k/', countLimit: -1 })).rejects.toThrow(RangeError)
  })
})

describe('POST /ui/api/range', () => {
  let server: Serving
  let url: string
  beforeAll(async () => {
    server = await serve({ port: 0 })
    url = `${server.urls[0]}/ui/api/range`
    for (let i = 0; i < 300; i++) await server.engine.put(`p/${String(i).padStart(3, '0')}`, 'v')
  })
  afterAll(() => server.close())
  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers })
    return { status: r.status, json: (await r.json()) as Record<string, unknown> }
  }

  test("answers a page in the gateway's JSON, counting just past it", async () => {
    const r = await post({ key: b64('p/'), range_end: b64('p0'), limit: 2, keys_only: true })
    expect(r.status).toBe(200)
    expect(r.json).toEqual({
      header: { revision: '301' },
      kvs: [
        { key: b64('p/000'), create_revision: '2', mod_revision: '2', version: '1' },
        { key: b64('p/001'), create_revision: '3', mod_revision: '3', version: '1' },
      ],
      more: true,
      count: '3',
    })
  })

  test("answers etcd's errors as the gateway does, and bad requests as INVALID_ARGUMENT", async () => {
    const future = await post({ key: b64('p/'), range_end: b64('p0'), limit: 2, revision: 999 })
    expect(future).toEqual({ status: 400, json: { error: 'etcdserver: mvcc: required revision is a future revision', message: 'etcdserver: mvcc: required revision is a future revision', code: 11 } })
    const empty = await post({ key: '', limit: 1 })
    expect(empty.json.message).toBe('etcdserver: key is not provided')
    const bad = await post({ key: 42 })
    expect(bad).toEqual({ status: 400, json: { error: 'key is a base64 string', message: 'key is a base64 string', code: 3 } })
    expect((await fetch(url)).status).toBe(405)
  })

  test("checks the caller's token as every Range does", async () => {
    const auth = server.engine.services.auth
    await auth.userAdd({ name: 'root', password: 'pw' })
    await auth.userGrantRole({ user: 'root', role: 'root' })
    await auth.authEnable({})
    const anonymous = await post({ key: b64('p/'), range_end: b64('p0'), limit: 1 })
    expect([anonymous.status, anonymous.json.message]).toEqual([400, 'etcdserver: user name is empty'])
    const { token } = await auth.authenticate({ name: 'root', password: 'pw' })
    const signedIn = await post({ key: b64('p/'), range_end: b64('p0'), limit: 1 }, { Authorization: token })
    expect(signedIn.status).toBe(200)
    expect(signedIn.json.count).toBe('2')
  })
})
