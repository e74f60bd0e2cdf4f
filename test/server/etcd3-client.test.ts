import { Etcd3, type IKeyValue } from 'etcd3'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { open, type Engine } from '../../src/api/engine.ts'
import { serve } from '../../src/server/serve.ts'
import { etcd3Mock } from '../../src/testing/index.ts'

/**
 * The etcd3 npm client (unchanged, a devDependency) against etcdlite, two ways: over a socket to `serve({ port: 0 })`,
 * and through etcd3's `client.mock()` with `etcd3Mock(engine)` (no socket): KV, the txn builder, leases with
 * keepalive, the watch builder (from a past revision, and its resumption after the server goes away and comes back),
 * lock(), election() and stm(). This is how an application's tests use etcdlite as a fake etcd.
 */

/** Target is one way of reaching an engine from an etcd3 client. */
interface Target {
  readonly client: Etcd3
  readonly engine: Engine
  /** interrupt ends the client's open streams as a member going away does, and lets it reconnect once `engine` changed. */
  interrupt(whileAway: () => Promise<void>): Promise<void>
  close(): Promise<void>
}

const WAYS: { way: string; start: () => Promise<Target> }[] = [
  {
    way: 'over a socket',
    async start() {
      // A server over an engine that outlives it, so that it can go away and come back on the same port.
      const engine = await open()
      let server = await serve({ engine, port: 0 })
      const port = Number(server.endpoint.split(':')[1])
      const client = new Etcd3({ hosts: server.endpoint })
      return {
        client,
        engine,
        async interrupt(whileAway) {
          await server.close()
          await whileAway()
          server = await serve({ engine, port })
        },
        async close() {
          client.close()
          await server.close()
          await engine.close()
        },
      }
    },
  },
  {
    way: 'through the etcd3 mock',
    async start() {
      const engine = await open()
      const client = new Etcd3()
      const mock = etcd3Mock(engine)
      client.mock(mock)
      return {
        client,
        engine,
        async interrupt(whileAway) {
          mock.endStreams()
          await whileAway()
        },
        async close() {
          client.close()
          mock.close()
          await engine.close()
        },
      }
    },
  },
]

/** waitFor polls `check` until it holds, for at most `ms`. */
async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: the condition never held')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe.each(WAYS)('the etcd3 npm client against etcdlite, $way', ({ start }) => {
  let target: Target
  let client: Etcd3
  let server: { engine: Engine }
  beforeEach(async () => {
    target = await start()
    client = target.client
    server = target
  })
  afterEach(() => target.close())

  describe('KV', () => {
    test('put, get, getAll, delete', async () => {
      await client.put('config/port').value('8080')
      await client.put('config/host').value('example.org')
      await client.put('other').value('x')
      expect(await client.get('config/port').string()).toBe('8080')
      expect(await client.get('missing').string()).toBeNull()
      expect(await client.getAll().prefix('config/').strings()).toEqual({ 'config/host': 'example.org', 'config/port': '8080' })
      expect(await client.getAll().prefix('config/').count()).toBe(2)
      expect(await client.getAll().prefix('config/').sort('Key', 'Descend').limit(1).keys()).toEqual(['config/port'])
      const del = await client.delete().prefix('config/').getPrevious()
      expect(del.map((kv: IKeyValue) => kv.key.toString()).sort()).toEqual(['config/host', 'config/port'])
      expect(await client.getAll().keys()).toEqual(['other'])
    })

    test('revisions travel as strings, as etcd3 reads them', async () => {
      await client.put('k').value('1')
      const r = await client.put('k').value('2').exec()
      expect(r.header.revision).toBe('3')
      const got = await client.get('k').exec()
      expect(got.kvs[0]).toMatchObject({ create_revision: '2', mod_revision: '3', version: '2' })
    })

    test("etcd's errors reach the client with etcd's messages", async () => {
      await client.put('k').value('1')
      await client.put('k').value('2')
      await client.put('k').value('3')
      await expect(client.get('k').revision(99).exec()).rejects.toThrow('etcdserver: mvcc: required revision is a future revision')
    })
  })

  describe('txn builder', () => {
    test('if / then / else', async () => {
      await client.put('k').value('v')
      const ok = await client.if('k', 'Value', '==', 'v').then(client.put('k').value('yes')).else(client.put('k').value('no')).commit()
      expect(ok.succeeded).toBe(true)
      expect(await client.get('k').string()).toBe('yes')
      const no = await client.if('k', 'Version', '>', 5).then(client.put('k').value('yes')).else(client.put('k').value('no')).commit()
      expect(no.succeeded).toBe(false)
      expect(await client.get('k').string()).toBe('no')
    })

    test('a txn that creates a key only if it does not exist', async () => {
      const create = () => client.if('lock', 'Create', '==', 0).then(client.put('lock').value('me')).commit()
      expect((await create()).succeeded).toBe(true)
      expect((await create()).succeeded).toBe(false)
    })
  })

  describe('leases', () => {
    test('a lease holds its keys, keeps itself alive, and revoking deletes the keys', async () => {
      const lease = client.lease(2)
      try {
        await lease.put('session').value('alive')
        const id = await lease.grant()
        // The id is above 2^53 and must survive the trip as a string.
        expect(BigInt(id) > 2n ** 53n).toBe(true)
        expect((await server.engine.leases()).leases.map((l) => l.id.toString())).toEqual([id])
        let renewals = 0
        lease.on('keepaliveSucceeded', () => renewals++)
        await waitFor(() => renewals >= 1, 4_000)
        expect(await client.get('session').string()).toBe('alive')
        const ttl = await server.engine.timeToLive(BigInt(id))
        expect(ttl.grantedTtl).toBe(2)
        await lease.revoke()
        expect(await client.get('session').string()).toBeNull()
      } finally {
        lease.release()
      }
    })

    test('keepaliveOnce answers the granted TTL', async () => {
      const lease = client.lease(30)
      try {
        await lease.grant()
        const r = await lease.keepaliveOnce()
        expect(r.TTL).toBe('30')
      } finally {
        await lease.revoke()
      }
    })
  })

  describe('watch builder', () => {
    test('put and delete events on a prefix, with previous values', async () => {
      const watcher = await client.watch().prefix('w/').withPreviousKV().create()
      const seen: string[] = []
      watcher.on('put', (kv, prev) => seen.push(`put ${kv.key.toString()}=${kv.value.toString()} prev=${prev?.value.toString() ?? '-'}`))
      watcher.on('delete', (kv) => seen.push(`delete ${kv.key.toString()}`))
      await client.put('w/a').value('1')
      await client.put('w/a').value('2')
      await client.put('x').value('not watched')
      await client.delete().key('w/a')
      await waitFor(() => seen.length === 3)
      expect(seen).toEqual(['put w/a=1 prev=-', 'put w/a=2 prev=1', 'delete w/a'])
      await watcher.cancel()
    })

    test('a watcher from a past revision gets the history since then, then what follows', async () => {
      await client.put('h').value('1')
      await client.put('h').value('2')
      await client.put('h').value('3')
      const watcher = await client.watch().key('h').startRevision('3').create()
      const values: string[] = []
      watcher.on('put', (kv) => values.push(`${kv.value.toString()}@${kv.mod_revision}`))
      await waitFor(() => values.length === 2)
      await client.put('h').value('4')
      await waitFor(() => values.length === 3)
      expect(values).toEqual(['2@3', '3@4', '4@5'])
      await watcher.cancel()
    })

    test('a watcher resumes where it left off after the server goes away and comes back', async () => {
      const watcher = await client.watch().key('k').create()
      const values: string[] = []
      watcher.on('put', (kv) => values.push(kv.value.toString()))
      await client.put('k').value('1')
      await waitFor(() => values.length === 1)

      // The streams end with UNAVAILABLE; the engine changes meanwhile.
      const disconnected = new Promise<Error>((resolve) => watcher.once('disconnected', resolve))
      await target.interrupt(async () => {
        expect((await disconnected).message).toContain('etcdserver: server stopped')
        await target.engine.put('k', '2')
        await target.engine.put('k', '3')
      })
      await waitFor(() => values.length === 3, 10_000)
      expect(values).toEqual(['1', '2', '3'])
      await client.put('k').value('4')
      await waitFor(() => values.length === 4)
      await watcher.cancel()
    }, 20_000)
  })

  describe('recipes', () => {
    test('lock().do() holds the lock while it runs and releases it after', async () => {
      const seen: string[][] = []
      for (const name of ['a', 'b']) {
        await client.lock('the-lock').ttl(5).do(async () => {
          seen.push(await client.getAll().prefix('the-lock').keys())
          return name
        })
      }
      expect(seen.map((keys) => keys.length)).toEqual([1, 1])
      expect(await client.getAll().prefix('the-lock').keys()).toEqual([])
    })

    test('a second lock() on a held lock fails', async () => {
      const held = await client.lock('busy').ttl(5).acquire()
      await expect(client.lock('busy').ttl(5).acquire()).rejects.toThrow()
      await held.release()
    })

    test('election(): the first campaign leads, the next takes over when it resigns', async () => {
      const election = client.election('leader', 5)
      const a = election.campaign('node-a')
      await a.wait()
      expect(await election.leader()).toBe('node-a')
      const b = client.election('leader', 5).campaign('node-b')
      let bElected = false
      b.on('elected', () => (bElected = true))
      const observer = await election.observe()
      const changes: (string | undefined)[] = []
      observer.on('change', (v) => changes.push(v))
      await a.resign()
      await waitFor(() => bElected)
      expect(await election.leader()).toBe('node-b')
      await waitFor(() => changes.includes('node-b'))
      await observer.cancel()
      await b.resign()
    })

    test('stm() retries conflicting read-modify-write transactions until each applies once', async () => {
      await client.put('counter').value('0')
      const increment = () =>
        client.stm({ retries: 50 }).transact(async (tx) => {
          const n = Number(await tx.get('counter').string())
          await new Promise((r) => setTimeout(r, 1))
          await tx.put('counter').value(String(n + 1))
        })
      await Promise.all(Array.from({ length: 10 }, increment))
      expect(await client.get('counter').string()).toBe('10')
    })
  })
})
