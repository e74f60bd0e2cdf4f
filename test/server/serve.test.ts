import { readFileSync } from 'node:fs'
import { createServer, type Server as NetServer } from 'node:net'
import { credentials, Client as GrpcClient, Metadata, status as Status, type ServiceError } from '@grpc/grpc-js'
import { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client } from '../../src/api/client.ts'
import { open } from '../../src/api/engine.ts'
import { EtcdError } from '../../src/util/errors.ts'
import { remoteServices } from '../../src/remote/remote-services.ts'
import { PortInUseError, serve } from '../../src/server/serve.ts'
import { method, type WireMessage } from '../../src/wire/proto.ts'
import { etcdctl, etcdctlMissing, makeCerts, opensslMissing, type Certs } from './helpers.ts'

/** serve(): the one-line fake etcd. Endpoints, lifecycle, TLS, client-certificate auth, auto-compaction. */

/** freePort finds a port nothing listens on. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function until(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('until: the condition never held')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('serve()', () => {
  test('serve({ port: 0 }) answers on 127.0.0.1 at a free port, in memory, and close() is idempotent', async () => {
    const server = await serve({ port: 0 })
    expect(server.endpoint).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(server.urls).toEqual([`http://${server.endpoint}`])
    const etcd = new Client(remoteServices(server.endpoint))
    await etcd.put('k', 'v')
    expect((await server.engine.get('k')).kvs[0]!.value.toString()).toBe('v')
    await server.close()
    await server.close()
    expect(server.engine.closed).toBe(true)
    await expect(etcd.get('k')).rejects.toBeDefined()
    ;(etcd.services as unknown as { close(): void }).close()
  })

  test('an engine handed in stays open after close()', async () => {
    await using engine = await open()
    const server = await serve({ engine, port: 0 })
    await server.close()
    expect(engine.closed).toBe(false)
    await engine.put('still', 'here')
  })

  test('a port in use is refused with PortInUseError, and a fresh engine is not left open', async () => {
    const blocker: NetServer = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()))
    const port = (blocker.address() as { port: number }).port
    try {
      const err = await serve({ port }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PortInUseError)
      expect((err as Error).message).toBe(`etcdlite: cannot listen on 127.0.0.1:${port}: address already in use`)
    } finally {
      blocker.close()
    }
  })

  test('several listen URLs; MemberList reports the advertised URLs', async () => {
    const [p1, p2] = [await freePort(), await freePort()]
    const server = await serve({
      listenUrls: [`http://127.0.0.1:${p1}`, `http://localhost:${p2}`],
      advertiseUrls: ['http://etcd.example:2379'],
    })
    try {
      expect(server.endpoints).toEqual([`127.0.0.1:${p1}`, `localhost:${p2}`])
      for (const ep of server.endpoints) {
        const services = remoteServices(ep)
        const r = await services.cluster.memberList({})
        expect(r.members.map((m) => m.clientURLs)).toEqual([['http://etcd.example:2379']])
        services.close()
      }
    } finally {
      await server.close()
    }
  })

  test('without advertised URLs, MemberList reports where the server listens', async () => {
    await using engine = await open({ name: 'n1' })
    const server = await serve({ engine, port: 0 })
    const services = remoteServices(server.endpoint)
    try {
      const r = await services.cluster.memberList({})
      expect(r.members).toEqual([{ ...(await engine.services.cluster.memberList({})).members[0]!, clientURLs: server.urls }])
    } finally {
      services.close()
      await server.close()
    }
  })

  test('close() ends open watch streams with UNAVAILABLE and lets calls in flight finish', async () => {
    await using engine = await open()
    const server = await serve({ engine, port: 0 })
    const services = remoteServices(server.endpoint)
    const etcd = new Client(services)
    const w = etcd.watch('k')
    await etcd.put('k', '1')
    const first = await w.next()
    expect(first.value?.events).toHaveLength(1)
    const puts = Promise.allSettled(Array.from({ length: 50 }, (_, i) => etcd.put(`p${i}`, 'v')))
    await new Promise((r) => setImmediate(r))
    await server.close()
    const settled = await puts
    // Each put that was acknowledged is in the store, and nothing else is.
    const acknowledged = settled.filter((s) => s.status === 'fulfilled').length
    expect((await engine.get('p', { prefix: true, countOnly: true })).count).toBe(acknowledged)
    const err = await w.next().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EtcdError)
    expect((err as EtcdError).code).toBe('ETCD_STOPPED')
    services.close()
  })

  test('a closed engine answers UNAVAILABLE "etcdserver: server stopped"', async () => {
    const engine = await open()
    const server = await serve({ engine, port: 0 })
    const services = remoteServices(server.endpoint)
    try {
      await engine.close()
      const err = await services.kv.range({ key: 'k' }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(EtcdError)
      expect((err as EtcdError).code).toBe('ETCD_STOPPED')
    } finally {
      services.close()
      await server.close()
    }
  })

  test("gRPC's health check answers SERVING", async () => {
    const server = await serve({ port: 0 })
    const client = new GrpcClient(server.endpoint, credentials.createInsecure())
    try {
      const m = method('grpc.health.v1.Health', 'Check')
      const r = await new Promise<WireMessage>((resolve, reject) =>
        client.makeUnaryRequest(m.path, m.request.encode, m.response.decode, {}, new Metadata(), {}, (err: ServiceError | null, v?: WireMessage) =>
          err ? reject(err) : resolve(v!),
        ),
      )
      expect(r.status).toBe(1)
    } finally {
      client.close()
      await server.close()
    }
  })

  describe('auto-compaction', () => {
    test('revision mode keeps the last N revisions', async () => {
      const server = await serve({ port: 0, autoCompaction: { mode: 'revision', retention: 3, intervalMs: 20 } })
      try {
        for (let i = 0; i < 10; i++) await server.engine.put('k', String(i)) // revisions 2..11
        await until(async () => (await server.engine.get('k', { revision: 7 }).then(() => false, () => true)))
        expect((await server.engine.get('k', { revision: 8 })).kvs[0]!.value.toString()).toBe('6')
      } finally {
        await server.close()
      }
    })

    test('periodic mode compacts to the revision of one retention period ago', async () => {
      const server = await serve({ port: 0, autoCompaction: { mode: 'periodic', retentionMs: 300 } })
      try {
        await server.engine.put('k', 'old') // 2
        await new Promise((r) => setTimeout(r, 400))
        await server.engine.put('k', 'new') // 3
        await until(async () => (await server.engine.get('k', { revision: 1 }).then(() => false, () => true)))
        expect((await server.engine.get('k', { revision: 3 })).kvs[0]!.value.toString()).toBe('new')
      } finally {
        await server.close()
      }
    })
  })
})

describe.skipIf(opensslMissing !== undefined)('serve() with TLS', () => {
  if (opensslMissing !== undefined) console.log(`skipping TLS tests: ${opensslMissing}`)
  let certs: Certs
  beforeAll(() => {
    certs = makeCerts()
  })
  afterAll(() => {})

  const pem = (file: string) => readFileSync(file)

  test('https serves TLS with the server certificate', async () => {
    const server = await serve({ port: 0, tls: { cert: pem(certs.serverCert), key: pem(certs.serverKey) } })
    try {
      expect(server.urls[0]).toBe(`https://${server.endpoint}`)
      const services = remoteServices(server.endpoint, { credentials: credentials.createSsl(pem(certs.ca)) })
      await services.kv.put({ key: 'k', value: 'tls' })
      expect((await services.kv.range({ key: 'k' })).kvs[0]!.value.toString()).toBe('tls')
      services.close()
      // A plaintext client cannot talk to it.
      const plain = remoteServices(server.endpoint, { channelOptions: { 'grpc.initial_reconnect_backoff_ms': 50 } })
      await expect(plain.kv.range({ key: 'k' })).rejects.toBeDefined()
      plain.close()
    } finally {
      await server.close()
    }
  })

  test('the etcd3 client over TLS', async () => {
    const server = await serve({ port: 0, tls: { cert: pem(certs.serverCert), key: pem(certs.serverKey) } })
    const client = new Etcd3({ hosts: `https://${server.endpoint}`, credentials: { rootCertificate: pem(certs.ca) } })
    try {
      await client.put('k').value('v')
      expect(await client.get('k').string()).toBe('v')
    } finally {
      client.close()
      await server.close()
    }
  })

  test('client-certificate auth admits clients signed by the trusted CA only', async () => {
    const server = await serve({
      port: 0,
      tls: { cert: pem(certs.serverCert), key: pem(certs.serverKey), ca: pem(certs.ca), clientCertAuth: true },
    })
    const attempt = async (creds: ReturnType<typeof credentials.createSsl>) => {
      const services = remoteServices(server.endpoint, { credentials: creds })
      try {
        await services.kv.put({ key: 'k', value: 'v' })
        return 'ok'
      } catch (err) {
        return (err as { grpcCode?: number }).grpcCode === Status.UNAVAILABLE ? 'refused' : String(err)
      } finally {
        services.close()
      }
    }
    try {
      expect(await attempt(credentials.createSsl(pem(certs.ca), pem(certs.clientKey), pem(certs.clientCert)))).toBe('ok')
      expect(await attempt(credentials.createSsl(pem(certs.ca)))).toBe('refused')
      expect(await attempt(credentials.createSsl(pem(certs.ca), pem(certs.strangerKey), pem(certs.strangerCert)))).toBe('refused')
      expect((await server.engine.get('k')).kvs).toHaveLength(1)
    } finally {
      await server.close()
    }
  })

  test.skipIf(etcdctlMissing !== undefined)('etcdctl over TLS with a client certificate', async () => {
    const server = await serve({
      port: 0,
      tls: { cert: pem(certs.serverCert), key: pem(certs.serverKey), ca: pem(certs.ca), clientCertAuth: true },
    })
    try {
      const tls = [`--cacert=${certs.ca}`, `--cert=${certs.clientCert}`, `--key=${certs.clientKey}`]
      const put = await etcdctl(`https://${server.endpoint}`, ['put', 'k', 'v'], { extra: tls })
      expect(put.stdout).toBe('OK\n')
      const get = await etcdctl(`https://${server.endpoint}`, ['get', 'k', '--print-value-only'], { extra: tls })
      expect(get.stdout).toBe('v\n')
      const noCert = await etcdctl(`https://${server.endpoint}`, ['get', 'k'], {
        extra: [`--cacert=${certs.ca}`, '--dial-timeout=1s', '--command-timeout=1s'],
      })
      expect(noCert.code).not.toBe(0)
    } finally {
      await server.close()
    }
  })

  test('an https listen URL without certificates, and clientCertAuth without a CA, are refused', async () => {
    await expect(serve({ listenUrls: ['https://127.0.0.1:0'] })).rejects.toThrow(TypeError)
    await expect(serve({ port: 0, tls: { cert: 'x', key: 'y', clientCertAuth: true } })).rejects.toThrow('trusted CA')
  })
})
