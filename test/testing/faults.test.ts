import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Etcd3, type Watcher } from 'etcd3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { fakeEtcd, type FakeEtcd, type FaultRule } from '../../src/testing/index.ts'
import { etcdctl, etcdctlMissing } from '../server/helpers.ts'
import { errorLine } from './client-errors.ts'
import { etcdBinary, startEtcd, type RealEtcd } from '../support/real-etcd.ts'
import { failure, waitFor } from '../support/waiting.ts'
import { ETCD3_WAYS, type Etcd3Way } from './etcd3-ways.ts'

/**
 * Fault injection seen by real clients: the etcd3 npm client and etcdctl get from a fault what they get from a real
 * etcd 3.4 in that state. Where real etcd can be put into the state (permission denied, a compacted read or watch), the
 * same client's error is taken from real etcd and compared; the cluster states (no leader, ...) are compared with
 * etcd's texts (src/util/errors.ts). Every etcd3 test runs twice: over the socket and through the etcd3 mock.
 */

const binary = etcdBinary()
if (binary === undefined) console.log('skipping the comparisons with real etcd: etcd 3.4 is not installed')

/** watchError creates a watcher of `prefix` from `startRevision` and resolves with the error it emits. */
async function watchError(client: Etcd3, prefix: string, startRevision?: number): Promise<{ name: string; message: string }> {
  let builder = client.watch().prefix(prefix)
  if (startRevision !== undefined) builder = builder.startRevision(String(startRevision))
  const watcher = builder.watcher()
  const err = await new Promise<Error>((resolve) => watcher.once('error', resolve))
  return { name: err.constructor.name, message: err.message }
}

let fake: FakeEtcd
beforeAll(async () => {
  fake = await fakeEtcd()
})
afterAll(() => fake.close())

/** fresh gives each test its own client (etcd3's circuit breaker remembers failures) and an empty fake. */
async function fresh(way: Etcd3Way = ETCD3_WAYS[0]!): Promise<Etcd3> {
  await fake.reset()
  return way.client(fake)
}

describe('faults.add()', () => {
  test.each<[string, unknown]>([
    ['an unknown method', { method: 'KV.Get', fault: 'no-leader' }],
    ['an unknown service', { method: 'Kv', fault: 'no-leader' }],
    ['a negative count', { method: 'KV.Put', fault: 'no-leader', times: -1 }],
    ['a count of 0', { method: 'KV.Put', fault: 'no-leader', times: 0 }],
    ['a fractional count', { method: 'KV.Put', fault: 'no-leader', times: 1.5 }],
    ['a drop of a unary call', { method: 'KV.Put', fault: 'drop' }],
    ['a compaction of a put', { method: 'KV.Put', fault: 'compacted' }],
    ['an error on the health check', { method: 'Health.Check', fault: 'no-leader' }],
    ['an unknown fault', { method: 'KV.Put', fault: 'explode' }],
    ['a negative delay', { method: 'KV.Put', fault: { delayMs: -5 } }],
    ['a delay with another field', { method: 'KV.Put', fault: { delayMs: 5, jitter: 1 } }],
    ['an unknown field', { method: 'KV.Put', fault: 'no-leader', key: 'x' }],
    ['a prefix that is a number', { method: 'KV.Put', fault: 'no-leader', prefix: 1 }],
  ])('%s is a TypeError, and adds nothing', (_what, rule) => {
    expect(() => fake.faults.add(rule as FaultRule)).toThrow(TypeError)
    expect(fake.faults.size).toBe(0)
  })

  test("a rule for a service or '*' applies to the methods that can have its fault", () => {
    const drop = fake.faults.add({ method: '*', fault: 'drop' })
    const watch = fake.faults.add({ method: 'Watch', fault: 'compacted' })
    expect(fake.faults.list().map((r) => r.id)).toEqual([drop.id, watch.id])
    drop.remove()
    drop.remove()
    expect(fake.faults.list().map((r) => r.id)).toEqual([watch.id])
    fake.faults.clear()
    expect(fake.faults.size).toBe(0)
  })
})

describe('errors, as etcd 3.4 answers them', () => {
  test.each([
    ['no-leader', 'etcdserver: no leader'],
    ['timeout', 'etcdserver: request timed out'],
    ['leader-changed', 'etcdserver: leader changed'],
    ['too-many-requests', 'etcdserver: too many requests'],
    ['stopping', 'etcdserver: server stopped'],
    ['permission-denied', 'etcdserver: permission denied'],
  ] as const)('%s: etcdctl prints etcd\'s error', async (fault, text) => {
    if (etcdctlMissing !== undefined) return
    await fresh()
    fake.faults.add({ method: 'KV.Put', fault })
    const r = await etcdctl(fake.endpoint, ['put', 'k', 'v'])
    expect(r.code).toBe(1)
    expect(errorLine(r.stderr)).toBe(`Error: ${text}`)
    expect(await fake.dump()).toEqual({})
  })

  test('a fault answers the JSON gateway as it answers gRPC', async () => {
    await fresh()
    fake.faults.add({ method: 'KV.Put', fault: 'no-leader' })
    const res = await fetch(`${fake.url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: 'aw==', value: 'dg==' }) })
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ error: 'etcdserver: no leader', message: 'etcdserver: no leader', code: 14 })
  })
})

describe.each(ETCD3_WAYS)('errors seen by the etcd3 client, $way', (way) => {
  test.each([
    ['no-leader', 'GRPCUnavailableError', '14 UNAVAILABLE: etcdserver: no leader'],
    ['leader-changed', 'GRPCUnavailableError', '14 UNAVAILABLE: etcdserver: leader changed'],
    ['stopping', 'GRPCUnavailableError', '14 UNAVAILABLE: etcdserver: server stopped'],
    ['timeout', 'GRPCUnavailableError', '14 UNAVAILABLE: etcdserver: request timed out'],
    ['too-many-requests', 'GRPCResourceExhastedError', '8 RESOURCE_EXHAUSTED: etcdserver: too many requests'],
  ] as const)('%s: the etcd3 client fails with its error for that status', async (fault, name, message) => {
    const client = await fresh(way)
    try {
      fake.faults.add({ method: 'KV.Range', fault })
      expect(await failure(() => client.get('k').string())).toEqual({ name, message })
    } finally {
      client.close()
    }
  })

  test('a rule with times applies that many times, then calls are served (the etcd3 client retries past it)', async () => {
    const client = await fresh(way)
    try {
      fake.faults.add({ method: 'KV.Put', fault: 'no-leader', times: 1 })
      await client.put('k').value('v')
      expect(await fake.dump()).toEqual({ k: 'v' })
      const puts = fake.requests.of('KV.Put')
      expect(puts.map((r) => [r.status, r.fault])).toEqual([
        ['UNAVAILABLE', 'no-leader'],
        ['OK', undefined],
      ])
      expect(fake.faults.size).toBe(0)
    } finally {
      client.close()
    }
  })

  test('a prefix limits a rule to requests naming a key under it (a txn by any key it touches)', async () => {
    const client = await fresh(way)
    try {
      fake.faults.add({ method: 'KV', prefix: 'locked/', fault: 'permission-denied' })
      await client.put('free/a').value('1')
      expect((await failure(() => client.put('locked/a').value('1').exec())).message).toBe('7 PERMISSION_DENIED: etcdserver: permission denied')
      const txn = client.if('free/a', 'Value', '==', '1').then(client.put('locked/b').value('2'))
      expect((await failure(() => txn.commit())).message).toBe('7 PERMISSION_DENIED: etcdserver: permission denied')
      expect(await fake.dump()).toEqual({ 'free/a': '1' })
    } finally {
      client.close()
    }
  })
})

describe.skipIf(binary === undefined)('compared with real etcd 3.4 in the same state', () => {
  let real: RealEtcd
  let realRoot: Etcd3
  beforeAll(async () => {
    real = await startEtcd(binary)
    realRoot = new Etcd3({ hosts: real.endpoint })
    // Three revisions of k, compacted up to the last: revision 2 is gone.
    for (const v of ['1', '2', '3']) await realRoot.put('k').value(v)
    await realRoot.put('app/x').value('1')
    await realRoot.put('db/x').value('1')
    await realRoot.put('k').value('4')
    await realRoot.kv.compact({ revision: '6' })
    // alice may use app/ only.
    await realRoot.role('app').create()
    await realRoot.role('app').grant({ permission: 'Readwrite', range: realRoot.range({ prefix: 'app/' }) })
    await realRoot.user('alice').create('alicepw')
    await realRoot.user('alice').addRole('app')
    await realRoot.user('root').create('rootpw')
    await realRoot.user('root').addRole('root')
    await realRoot.auth.authEnable({})
    realRoot.close()
  }, 60_000)
  afterAll(() => real?.stop())

  const alice = () => new Etcd3({ hosts: real.endpoint, auth: { username: 'alice', password: 'alicepw' } })

  describe.each(ETCD3_WAYS)('$way', (way) => {
    test('permission denied on a put: the etcd3 client gets the same error', async () => {
      const a = alice()
      const client = await fresh(way)
      try {
        const expected = await failure(() => a.put('db/x').value('2').exec())
        fake.faults.add({ method: 'KV.Put', fault: 'permission-denied' })
        expect(await failure(() => client.put('db/x').value('2').exec())).toEqual(expected)
        expect(expected.name).toBe('EtcdPermissionDeniedError')
      } finally {
        a.close()
        client.close()
      }
    })

    test('permission denied on a watch: the etcd3 watcher emits the same error', async () => {
      const a = alice()
      const client = await fresh(way)
      try {
        const expected = await watchError(a, 'db/')
        fake.faults.add({ method: 'Watch', prefix: 'db/', fault: 'permission-denied' })
        expect(await watchError(client, 'db/')).toEqual(expected)
      } finally {
        a.close()
        client.close()
      }
    })

    test('a read of a compacted revision: etcd3 and etcdctl get the same error', async () => {
      const root = new Etcd3({ hosts: real.endpoint, auth: { username: 'root', password: 'rootpw' } })
      const client = await fresh(way)
      try {
        const expected = await failure(() => root.get('k').revision('2').string())
        fake.faults.add({ method: 'KV.Range', fault: 'compacted' })
        expect(await failure(() => client.get('k').revision('2').string())).toEqual(expected)
        if (way.socket && etcdctlMissing === undefined) {
          const realLine = errorLine((await etcdctl(real.endpoint, ['get', 'k', '--rev=2', '--user=root:rootpw'])).stderr)
          fake.faults.add({ method: 'KV.Range', fault: 'compacted' })
          expect(errorLine((await etcdctl(fake.endpoint, ['get', 'k', '--rev=2'])).stderr)).toBe(realLine)
        }
      } finally {
        root.close()
        client.close()
      }
    })

    test('a watch from a compacted revision: the etcd3 watcher emits the same error', async () => {
      const root = new Etcd3({ hosts: real.endpoint, auth: { username: 'root', password: 'rootpw' } })
      const client = await fresh(way)
      try {
        const expected = await watchError(root, 'k', 2)
        fake.faults.add({ method: 'Watch', fault: 'compacted' })
        expect(await watchError(client, 'k', 2)).toEqual(expected)
      } finally {
        root.close()
        client.close()
      }
    })

    test('a compaction on an open watch: the watcher that was receiving events gets the same error', async () => {
      const root = new Etcd3({ hosts: real.endpoint, auth: { username: 'root', password: 'rootpw' } })
      const client = await fresh(way)
      try {
        const expected = await watchError(root, 'k', 2)
        const watcher = await client.watch().prefix('w/').create()
        const seen: string[] = []
        watcher.on('put', (kv) => seen.push(kv.key.toString()))
        const failed = new Promise<Error>((resolve) => watcher.once('error', resolve))
        await client.put('w/1').value('1')
        await waitFor(() => seen.length === 1)
        fake.faults.add({ method: 'Watch.Watch', prefix: 'w/', fault: 'compacted', times: 1 })
        await client.put('w/2').value('2')
        const err = await failed
        expect({ name: err.constructor.name, message: err.message }).toEqual(expected)
        expect(seen).toEqual(['w/1'])
        // The engine's watcher was canceled too: the stream goes on serving other watchers.
        const other = await client.watch().key('other').create()
        const got = new Promise<string>((resolve) => other.once('put', (kv) => resolve(kv.value.toString())))
        await client.put('other').value('x')
        expect(await got).toBe('x')
      } finally {
        root.close()
        client.close()
      }
    })
  })
})

describe.each(ETCD3_WAYS)('delays and black holes, $way', (way) => {
  test('a delay holds the call that many real milliseconds, then serves it', async () => {
    const client = await fresh(way)
    try {
      fake.faults.add({ method: 'KV.Put', fault: { delayMs: 300 } })
      const t0 = performance.now()
      await client.put('k').value('v')
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290)
      expect(await fake.dump()).toEqual({ k: 'v' })
    } finally {
      client.close()
    }
  })

  test.skipIf(!way.socket || etcdctlMissing !== undefined)('a delay past the client deadline: etcdctl times out as with a slow etcd', async () => {
    await fresh()
    fake.faults.add({ method: 'KV.Range', fault: { delayMs: 2_000 } })
    const t0 = performance.now()
    const r = await etcdctl(fake.endpoint, ['get', 'k'], { extra: ['--command-timeout=300ms'] })
    expect(errorLine(r.stderr)).toBe('Error: context deadline exceeded')
    expect(performance.now() - t0).toBeLessThan(1_900)
  })

  test.skipIf(!way.socket || etcdctlMissing !== undefined)('a black hole: etcdctl times out; nothing is applied', async () => {
    await fresh()
    fake.faults.add({ method: 'KV.Put', fault: 'black-hole' })
    const r = await etcdctl(fake.endpoint, ['put', 'k', 'v'], { extra: ['--command-timeout=300ms'] })
    expect(errorLine(r.stderr)).toBe('Error: context deadline exceeded')
    expect(await fake.dump()).toEqual({})
  })

  test('closing the server ends a black-holed call with UNAVAILABLE at once (the client then finds no server)', async () => {
    const own = await fakeEtcd()
    const client = way.client(own)
    try {
      own.faults.add({ method: 'KV.Range', fault: 'black-hole' })
      const pending = failure(() => client.get('k').string())
      await waitFor(() => own.requests.length === 1)
      const t0 = performance.now()
      await own.close()
      expect(performance.now() - t0).toBeLessThan(900)
      expect(own.requests.all.map((r) => [r.name, r.status, r.fault])).toEqual([['KV.Range', 'UNAVAILABLE', 'black-hole']])
      // etcd3 retries an UNAVAILABLE read; the server is gone by then.
      expect((await pending).message).toMatch(/^14 UNAVAILABLE: /)
    } finally {
      client.close()
      await own.close()
    }
  })
})

describe.each(ETCD3_WAYS)('dropped streams, $way', (way) => {
  test('a dropped watch stream: the etcd3 client watches again and misses no event', async () => {
    const client = await fresh(way)
    try {
      const watcher: Watcher = await client.watch().prefix('w/').create()
      const seen: string[] = []
      watcher.on('put', (kv) => seen.push(kv.key.toString()))
      const disconnected = new Promise<Error>((resolve) => watcher.once('disconnected', resolve))
      await client.put('w/1').value('1')
      await waitFor(() => seen.length === 1)
      // Added while the stream is open: it is dropped at once.
      fake.faults.add({ method: 'Watch', fault: 'drop', times: 1 })
      expect((await disconnected).message).toContain('etcdserver: server stopped')
      await client.put('w/2').value('2')
      await waitFor(() => seen.length === 2, 10_000)
      expect(seen).toEqual(['w/1', 'w/2'])
      const creates = fake.requests.of('Watch.Watch')
      expect(creates.map((r) => r.status)).toEqual(['UNAVAILABLE', undefined])
      expect(creates[1]!.request).toMatchObject({ createRequest: { key: 'w/', startRevision: 3 } })
      await watcher.cancel()
    } finally {
      client.close()
    }
  })

  test('a drop on a prefix ends only a stream watching under it, at its next response', async () => {
    const client = await fresh(way)
    try {
      const a = await client.watch().prefix('a/').create()
      const disconnected: string[] = []
      a.on('disconnected', () => disconnected.push('a'))
      fake.faults.add({ method: 'Watch', prefix: 'b/', fault: 'drop', times: 1 })
      await client.put('a/1').value('1')
      await new Promise((r) => setTimeout(r, 100))
      expect(disconnected).toEqual([])
      expect(fake.faults.size).toBe(1)
      await a.cancel()
    } finally {
      client.close()
    }
  })

  test.skipIf(!way.socket || etcdctlMissing !== undefined)('a server stream (Snapshot) is served through the tap, failed or dropped by a rule', async () => {
    await fresh()
    for (let i = 0; i < 200; i++) await fake.engine.put(`k/${i}`, 'x'.repeat(1_000))
    const dir = mkdtempSync(join(tmpdir(), 'etcdlite-fault-snap-'))
    try {
      const save = (name: string) => etcdctl(fake.endpoint, ['snapshot', 'save', join(dir, name)])
      expect((await save('whole.db')).code).toBe(0)
      // etcdctl tries a snapshot again after UNAVAILABLE: a drop once is survived.
      fake.faults.add({ method: 'Maintenance.Snapshot', fault: 'drop', times: 1 })
      expect((await save('dropped-once.db')).code).toBe(0)
      // An admin call refused: etcd 3.4 answers with the auth package's text, code Unknown, which is not retried.
      fake.faults.add({ method: 'Maintenance.Snapshot', fault: 'permission-denied', times: 1 })
      const failed = await save('failed.db')
      expect(failed.code).not.toBe(0)
      expect(errorLine(failed.stderr)).toContain('auth: permission denied')
      expect(fake.requests.of('Maintenance.Snapshot').map((r) => [r.status, r.fault])).toEqual([
        ['OK', undefined],
        ['UNAVAILABLE', 'drop'],
        ['OK', undefined],
        ['UNKNOWN', 'permission-denied'],
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a dropped keepalive stream: the etcd3 lease keeps alive over a new stream', async () => {
    const own = await fakeEtcd({ clock: 'real' })
    const client = way.client(own)
    try {
      const lease = client.lease(3)
      await lease.put('session').value('1')
      await new Promise<void>((resolve) => lease.once('keepaliveSucceeded', () => resolve()))
      own.faults.add({ method: 'Lease.LeaseKeepAlive', fault: 'drop', times: 1 })
      await waitFor(() => own.requests.of('Lease.LeaseKeepAlive').some((r) => r.status === 'UNAVAILABLE'), 5_000)
      await new Promise<void>((resolve) => lease.once('keepaliveSucceeded', () => resolve()))
      expect(lease.revoked()).toBe(false)
      expect(await own.dump()).toEqual({ session: '1' })
      await lease.revoke()
    } finally {
      client.close()
      await own.close()
    }
  }, 20_000)
})
