import { Server as NetServer, Socket } from 'node:net'
import { Etcd3 } from 'etcd3'
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { open } from '../../src/api/engine.ts'
import { serve } from '../../src/server/serve.ts'
import { etcd3Mock, fakeEtcd, type FakeEtcd } from '../../src/testing/index.ts'
import { failure, waitFor } from '../support/waiting.ts'
import { ETCD3_WAYS } from './etcd3-ways.ts'

/**
 * The etcd3 mock adapter beyond the etcd3 suites it passes both ways (test/server/etcd3-client.test.ts and the
 * testing kit's tests): no socket, leases expiring on the fake clock, errors for unserved methods, stream failures
 * reported through the host, and a closed mock.
 */

/** workload drives every kind of call etcd3 makes: KV, a txn, a watch, a lease with a keepalive. */
async function workload(client: Etcd3): Promise<void> {
  await client.put('a').value('1')
  expect(await client.get('a').string()).toBe('1')
  await client.if('a', 'Value', '==', '1').then(client.put('a').value('2')).commit()
  const watcher = await client.watch().key('a').create()
  const seen = new Promise<string>((resolve) => watcher.once('put', (kv) => resolve(kv.value.toString())))
  await client.put('a').value('3')
  expect(await seen).toBe('3')
  await watcher.cancel()
  const lease = client.lease(30, { autoKeepAlive: false })
  await lease.put('session').value('x')
  expect((await lease.keepaliveOnce()).TTL).toBe('30')
  await lease.revoke()
}

describe('etcd3Mock(engine)', () => {
  afterEach(() => vi.restoreAllMocks())

  test('a client behind the mock opens no socket and listens on nothing; over a socket the same counting sees both', async () => {
    const connects = vi.spyOn(Socket.prototype, 'connect')
    const listens = vi.spyOn(NetServer.prototype, 'listen')
    await using engine = await open()
    const client = new Etcd3()
    const mock = etcd3Mock(engine)
    client.mock(mock)
    try {
      await workload(client)
    } finally {
      client.close()
      mock.close()
    }
    expect(connects).not.toHaveBeenCalled()
    expect(listens).not.toHaveBeenCalled()

    // The control: the counters do see a served engine and a client of it.
    await using served = await serve({ port: 0 })
    const socketClient = new Etcd3({ hosts: served.endpoint })
    try {
      await workload(socketClient)
    } finally {
      socketClient.close()
    }
    expect(listens).toHaveBeenCalled()
    expect(connects).toHaveBeenCalled()
  })

  test('after close(), calls fail with etcd3 ClientClosedError and open watchers are ended', async () => {
    await using engine = await open()
    const client = new Etcd3()
    const mock = etcd3Mock(engine)
    client.mock(mock)
    const watcher = await client.watch().key('k').create()
    const disconnected = new Promise<Error>((resolve) => watcher.once('disconnected', resolve))
    mock.close()
    expect((await disconnected).message).toBe('14 UNAVAILABLE: etcdserver: server stopped')
    expect(await failure(() => client.get('k').string())).toEqual({
      name: 'ClientClosedError',
      message: 'Tried to call a KV method on etcd3, but the client was already closed',
    })
    client.close()
  })
})

describe.each(ETCD3_WAYS)('the etcd3 client, $way', (way) => {
  let fake: FakeEtcd
  let client: Etcd3
  beforeAll(async () => {
    fake = await fakeEtcd()
  })
  afterAll(() => fake.close())
  afterEach(() => client?.close())

  test('a lease expires on the fake clock: its keys go, and a keepalive finds it expired', async () => {
    await fake.reset()
    client = way.client(fake)
    const lease = client.lease(10, { autoKeepAlive: false })
    await lease.put('session').value('alive')
    const id = await lease.grant()
    await fake.clock.advance(9_000)
    expect(await client.get('session').string()).toBe('alive')
    await fake.clock.advance(1_000)
    expect(await client.get('session').string()).toBeNull()
    expect(await failure(() => lease.keepaliveOnce())).toEqual({ name: 'EtcdLeaseInvalidError', message: `Lease ${id} is expired or revoked` })
  })

  test('with auth on, a signed-in client stays in its ranges; a watch and a lease work with its token', async () => {
    await using authed = await fakeEtcd({
      auth: {
        roles: { app: [{ type: 'READWRITE', key: 'app/', prefix: true }] },
        users: { alice: { password: 'alicepw', roles: ['app'] } },
      },
      seed: { 'app/port': '8080', 'db/password': 'secret' },
    })
    const alice = way.client(authed, { username: 'alice', password: 'alicepw' })
    const anonymous = way.client(authed)
    try {
      expect(await alice.get('app/port').string()).toBe('8080')
      expect(await failure(() => alice.get('db/password').string())).toEqual({
        name: 'EtcdPermissionDeniedError',
        message: '7 PERMISSION_DENIED: etcdserver: permission denied',
      })
      expect((await failure(() => anonymous.get('app/port').string())).message).toBe('3 INVALID_ARGUMENT: etcdserver: user name is empty')
      const watcher = await alice.watch().key('app/port').create()
      const seen = new Promise<string>((resolve) => watcher.once('put', (kv) => resolve(kv.value.toString())))
      await alice.put('app/port').value('9090')
      expect(await seen).toBe('9090')
      await watcher.cancel()
      const lease = alice.lease(30, { autoKeepAlive: false })
      await lease.put('app/session').value('x')
      expect((await lease.keepaliveOnce()).TTL).toBe('30')
      await lease.revoke()
    } finally {
      alice.close()
      anonymous.close()
    }
  })

  test('a token that expired on the fake clock is fetched again, and the call goes through', async () => {
    await using authed = await fakeEtcd({
      authTokenTtl: 60,
      auth: { roles: { app: [{ type: 'READWRITE', key: 'app/', prefix: true }] }, users: { alice: { password: 'pw', roles: ['app'] } } },
    })
    const alice = way.client(authed, { username: 'alice', password: 'pw' })
    try {
      await alice.put('app/a').value('1')
      await authed.clock.advance(61_000)
      await alice.put('app/b').value('2')
      expect(await authed.dump('app/')).toEqual({ 'app/a': '1', 'app/b': '2' })
      expect(authed.requests.of('Auth.Authenticate').map((r) => r.status)).toEqual(['OK', 'OK'])
      expect(authed.requests.of('KV.Put').map((r) => r.status)).toEqual(['OK', 'UNAUTHENTICATED', 'OK'])
    } finally {
      alice.close()
    }
  })

  test('a put above maxRequestBytes is refused as etcd refuses it, and changes nothing', async () => {
    await using small = await fakeEtcd({ maxRequestBytes: 1024 })
    client = way.client(small)
    expect(await failure(() => client.put('k').value('x'.repeat(2048)).exec())).toEqual({
      name: 'GRPCInvalidArgumentError',
      message: '3 INVALID_ARGUMENT: etcdserver: request is too large',
    })
    expect(await small.dump()).toEqual({})
  })

  test("Maintenance.Snapshot streams etcd's snapshot file in messages counting down to 0 remaining bytes", async () => {
    await fake.reset({ 'k/1': 'a', 'k/2': 'b' })
    client = way.client(fake)
    const stream = await client.maintenance.snapshot()
    const messages: { remaining_bytes: string; blob: Buffer }[] = []
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (m: { remaining_bytes: string; blob: Buffer }) => messages.push(m))
      stream.on('end', resolve)
      stream.on('error', reject)
    })
    const total = messages.reduce((n, m) => n + m.blob.length, 0)
    expect(total).toBeGreaterThan(0)
    expect(messages.at(-1)!.remaining_bytes).toBe('0')
    expect(Number(messages[0]!.remaining_bytes)).toBe(total - messages[0]!.blob.length)
  })

  test.each([
    ['Cluster', 'memberAdd', 'MemberAdd', { peerURLs: ['http://127.0.0.1:2380'] }],
    ['Maintenance', 'moveLeader', 'MoveLeader', { targetID: '1' }],
  ] as const)('%s.%s, which etcd 3.4 does not serve here either, fails as UNIMPLEMENTED', async (service, method, name, payload) => {
    await fake.reset()
    client = way.client(fake)
    const call = () => (client as unknown as { [s: string]: Record<string, (p: unknown) => Promise<unknown>> })[service.toLowerCase()]![method]!(payload)
    expect(await failure(call)).toEqual({
      name: 'GRPCNotImplementedError',
      message: `12 UNIMPLEMENTED: The server does not implement the method /etcdserverpb.${service}/${name}`,
    })
  })
})

describe('fake.etcd3Mock()', () => {
  test('a dropped watch stream is reported to the mock host, which keeps the error in failures', async () => {
    await using fake = await fakeEtcd()
    const client = new Etcd3()
    const mock = fake.etcd3Mock()
    client.mock(mock)
    try {
      const watcher = await client.watch().prefix('w/').create()
      const disconnected = new Promise<Error>((resolve) => watcher.once('disconnected', resolve))
      fake.faults.add({ method: 'Watch', fault: 'drop', times: 1 })
      await disconnected
      await waitFor(() => mock.failures.length === 1)
      expect(mock.failures[0]!.message).toBe('14 UNAVAILABLE: etcdserver: server stopped')
      expect(fake.requests.of('Watch.Watch')[0]).toMatchObject({ status: 'UNAVAILABLE', fault: 'drop' })
      await watcher.cancel()
    } finally {
      client.close()
      mock.close()
    }
  })
})
