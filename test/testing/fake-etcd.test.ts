import { connect as netConnect } from 'node:net'
import { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { fakeEtcd, ManualClock, type FakeEtcd } from '../../src/testing/index.ts'
import { ETCD3_WAYS } from './etcd3-ways.ts'

/**
 * fakeEtcd(): a served fake in one call, seeded, dumped and reset between tests, driven by the etcd3 npm client as an
 * application's tests drive it.
 */

/** waitFor polls `check` until it holds, for at most `ms`. */
async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: the condition never held')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** portAnswers tells whether something accepts connections on host:port. */
function portAnswers(endpoint: string): Promise<boolean> {
  const [host, port] = endpoint.split(':')
  return new Promise((resolve) => {
    const s = netConnect({ host: host!, port: Number(port) })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

describe('fakeEtcd', () => {
  test('serves an empty in-memory store on 127.0.0.1, on a ManualClock', async () => {
    await using fake = await fakeEtcd()
    expect(fake.endpoint).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(fake.url).toBe(`http://${fake.endpoint}`)
    expect(fake.clock).toBeInstanceOf(ManualClock)
    expect(fake.engine.revision).toBe(1)
    expect(await fake.dump()).toEqual({})
    const client = new Etcd3({ hosts: fake.endpoint })
    try {
      await client.put('k').value('v')
      expect(await fake.dump()).toEqual({ k: 'v' })
    } finally {
      client.close()
    }
  })

  test('close() stops listening, and is idempotent', async () => {
    const fake = await fakeEtcd()
    expect(await portAnswers(fake.endpoint)).toBe(true)
    await fake.close()
    await fake.close()
    expect(await portAnswers(fake.endpoint)).toBe(false)
    expect(fake.engine.closed).toBe(true)
  })

  test("clock: 'real' runs on the system clock", async () => {
    await using fake = await fakeEtcd({ clock: 'real' })
    expect(fake.clock).not.toBeInstanceOf(ManualClock)
    expect(Math.abs(fake.clock.now() - Date.now())).toBeLessThan(1_000)
  })

  test('a bad clock is a TypeError', async () => {
    await expect(fakeEtcd({ clock: 'fake' as unknown as 'real' })).rejects.toThrow(TypeError)
  })

  test('an object seed is loaded, one put per key in order, before the fake resolves', async () => {
    await using fake = await fakeEtcd({ seed: { 'config/port': '8080', 'config/host': Buffer.from('example.org'), other: 'x' } })
    expect(fake.engine.revision).toBe(4)
    expect(await fake.dump()).toEqual({ 'config/host': 'example.org', 'config/port': '8080', other: 'x' })
    expect(await fake.dump('config/')).toEqual({ 'config/host': 'example.org', 'config/port': '8080' })
    const { kvs } = await fake.engine.get('config/port')
    expect(kvs[0]!.modRevision).toBe(2)
    // Seeding does not go through the server: nothing is recorded.
    expect(fake.requests.all).toEqual([])
  })

  test('a list seed attaches leases by TTL or id; a seeded lease expires on the fake clock', async () => {
    await using fake = await fakeEtcd({
      seed: [
        { key: 'session/a', value: '1', lease: 10 },
        { key: 'session/b', value: '2', lease: 10 },
        { key: 'node/x', value: '3', lease: { id: 0x1234n, ttl: 30 } },
        { key: 'plain', value: '4' },
      ],
    })
    const a = (await fake.engine.get('session/a')).kvs[0]!
    const b = (await fake.engine.get('session/b')).kvs[0]!
    expect(a.lease).not.toBe(0n)
    expect(b.lease).toBe(a.lease)
    expect((await fake.engine.get('node/x')).kvs[0]!.lease).toBe(0x1234n)
    await fake.clock.advance(10_000)
    expect(await fake.dump()).toEqual({ 'node/x': '3', plain: '4' })
    await fake.clock.advance(20_000)
    expect(await fake.dump()).toEqual({ plain: '4' })
  })

  test.each([
    ['a number', 42],
    ['an entry without a value', [{ key: 'k' }]],
    ['a value that is a number', { k: 1 }],
    ['a lease that is a string', [{ key: 'k', value: 'v', lease: '10' }]],
  ])('a seed that is %s is a TypeError', async (_what, seed) => {
    await expect(fakeEtcd({ seed: seed as never })).rejects.toThrow(TypeError)
  })

  test('dump reads values as UTF-8 strings', async () => {
    await using fake = await fakeEtcd({ seed: { 'a/1': 'één', 'a/2': '' } })
    expect(await fake.dump('a/')).toEqual({ 'a/1': 'één', 'a/2': '' })
  })

  test('auth: a ready server with users and roles; clients must log in and stay in their ranges', async () => {
    await using fake = await fakeEtcd({
      auth: {
        roles: { app: [{ type: 'READWRITE', key: 'app/', prefix: true }] },
        users: { alice: { password: 'alicepw', roles: ['app'] } },
      },
      seed: { 'app/port': '8080', 'db/password': 'secret' },
    })
    const alice = new Etcd3({ hosts: fake.endpoint, auth: { username: 'alice', password: 'alicepw' } })
    const root = new Etcd3({ hosts: fake.endpoint, auth: { username: 'root', password: 'root' } })
    const anonymous = new Etcd3({ hosts: fake.endpoint })
    try {
      expect(await alice.get('app/port').string()).toBe('8080')
      await expect(alice.get('db/password').string()).rejects.toThrow('etcdserver: permission denied')
      await expect(anonymous.get('app/port').string()).rejects.toThrow('etcdserver: user name is empty')
      expect(await root.get('db/password').string()).toBe('secret')
      expect(await fake.dump()).toEqual({ 'app/port': '8080', 'db/password': 'secret' })
    } finally {
      alice.close()
      root.close()
      anonymous.close()
    }
  })
})

describe.each(ETCD3_WAYS)('fake.reset(), $way', (way) => {
  let fake: FakeEtcd
  beforeAll(async () => {
    fake = await fakeEtcd({ seed: { created: 'with the fake' } })
  })
  afterAll(() => fake.close())

  test('empties the store to revision 1 on the same port; the creation seed is not applied again', async () => {
    const client = way.client(fake)
    try {
      await client.put('a').value('1')
      const endpoint = fake.endpoint
      await fake.reset()
      expect(fake.endpoint).toBe(endpoint)
      expect(fake.engine.revision).toBe(1)
      expect(await fake.dump()).toEqual({})
      // The same client, connected before, reaches the new store.
      expect(await client.get('a').string()).toBeNull()
      const r = await client.put('b').value('2').exec()
      expect(r.header.revision).toBe('2')
    } finally {
      client.close()
    }
  })

  test('loads the seed given to it', async () => {
    await fake.reset({ x: '1', y: '2' })
    expect(fake.engine.revision).toBe(3)
    expect(await fake.dump()).toEqual({ x: '1', y: '2' })
  })

  test('clears fault rules and recorded requests', async () => {
    const client = way.client(fake)
    try {
      fake.faults.add({ method: 'KV.Range', fault: 'permission-denied' })
      await client.put('k').value('v')
      expect(fake.requests.length).toBeGreaterThan(0)
      await fake.reset()
      expect(fake.faults.size).toBe(0)
      expect(fake.requests.all).toEqual([])
      expect(await client.get('k').string()).toBeNull()
    } finally {
      client.close()
    }
  })

  test('ends open watch streams, as a member that went away; a new watch sees the new store', async () => {
    const client = way.client(fake)
    try {
      const watcher = await client.watch().prefix('w/').create()
      const disconnected = new Promise<Error>((resolve) => watcher.once('disconnected', resolve))
      await fake.reset()
      const err = await disconnected
      expect(err.message).toContain('etcdserver: server stopped')
      await watcher.cancel()
      const fresh = await client.watch().prefix('w/').create()
      const seen: string[] = []
      fresh.on('put', (kv) => seen.push(`${kv.key.toString()}@${kv.mod_revision}`))
      await client.put('w/1').value('1')
      await waitFor(() => seen.length === 1)
      expect(seen).toEqual(['w/1@2'])
      await fresh.cancel()
    } finally {
      client.close()
    }
  })

  test.runIf(way.socket)('takes well under a millisecond per reset once warm (1k keys written before each)', async () => {
    const times: number[] = []
    for (let i = 0; i < 20; i++) {
      for (let k = 0; k < 1000; k++) await fake.engine.put(`k/${k}`, 'v')
      const t0 = performance.now()
      await fake.reset()
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    const median = times[times.length >> 1]!
    console.log(`reset() median ${median.toFixed(3)} ms over ${times.length} resets`)
    // The machine is shared and busy: the bound is loose; the median printed is the measure.
    expect(median).toBeLessThan(20)
  })

  test.runIf(way.socket)('with auth, reset keeps the users (the auth setup is applied again)', async () => {
    await using authed = await fakeEtcd({ auth: { rootPassword: 'pw' } })
    await authed.reset({ k: 'v' })
    const root = new Etcd3({ hosts: authed.endpoint, auth: { username: 'root', password: 'pw' } })
    try {
      expect(await root.get('k').string()).toBe('v')
    } finally {
      root.close()
    }
  })
})
