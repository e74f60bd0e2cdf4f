import { afterEach, describe, expect, test } from 'vitest'
import { connect, EtcdError, serve, type Serving, type WatchEvent } from '../../src/index.ts'
import { freePort } from '../support/real-etcd.ts'
import { TcpProxy } from './proxy.ts'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function server(): Promise<Serving> {
  const s = await serve({ port: 0 })
  cleanup.push(() => s.close())
  return s
}

async function proxied(s: Serving): Promise<{ proxy: TcpProxy; endpoint: string }> {
  const [host, port] = s.endpoint.split(':')
  const proxy = new TcpProxy({ host: host!, port: Number(port) })
  const endpoint = await proxy.listen()
  cleanup.push(() => proxy.close())
  return { proxy, endpoint }
}

describe('connect()', () => {
  test('drives a served engine through the same client API', async () => {
    const s = await server()
    const etcd = await connect({ endpoints: [s.endpoint] })
    cleanup.push(() => etcd.close())
    await etcd.put('k', 'v')
    expect((await etcd.get('k')).kvs[0]?.value.toString()).toBe('v')
    expect((await s.engine.get('k')).kvs[0]?.value.toString()).toBe('v')
  })

  test('rejects with ETCD_UNAVAILABLE naming the endpoints when none answers', async () => {
    const dead = `127.0.0.1:${await freePort()}`
    const err = await connect({ endpoints: [dead], requestTimeoutMs: 1000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EtcdError)
    expect(err).toMatchObject({ code: 'ETCD_UNAVAILABLE' })
    expect((err as Error).message).toContain(dead)
  })

  test('fails over from an endpoint that is down to the next one', async () => {
    const s = await server()
    const dead = `127.0.0.1:${await freePort()}`
    const etcd = await connect({ endpoints: [dead, s.endpoint], requestTimeoutMs: 2000 })
    cleanup.push(() => etcd.close())
    await etcd.put('k', '1')
    expect((await etcd.get('k')).count).toBe(1)
  })

  test('a read is retried on the next endpoint; a write is not repeated, and the next one fails over', async () => {
    const s = await server()
    const first = await proxied(s)
    const etcd = await connect({ endpoints: [first.endpoint, s.endpoint], requestTimeoutMs: 2000 })
    cleanup.push(() => etcd.close())
    await etcd.put('k', '1')
    first.proxy.refuse = true
    first.proxy.sever()
    // The read fails on the first endpoint and succeeds on the second.
    expect((await etcd.get('k')).count).toBe(1)
    await etcd.put('k', '2')
    expect((await s.engine.get('k')).kvs[0]?.value.toString()).toBe('2')
  })

  test('a watch resumes after its connection is cut, with no gap and no duplicate', async () => {
    const s = await server()
    const { proxy, endpoint } = await proxied(s)
    const etcd = await connect({ endpoints: [endpoint], requestTimeoutMs: 2000 })
    cleanup.push(() => etcd.close())
    const w = etcd.watch('w/', { prefix: true, startRevision: 1 })
    const seen: WatchEvent[] = []
    const reading = (async () => {
      for await (const r of w) {
        seen.push(...r.events)
        if (seen.length >= 60) break
      }
    })()
    for (let i = 0; i < 60; i++) {
      await s.engine.put(`w/${i % 7}`, String(i))
      if (i === 20 || i === 40) proxy.sever()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await reading
    expect(seen.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: 60 }, (_, i) => i + 2))
    expect(seen.map((e) => e.kv.value.toString())).toEqual(Array.from({ length: 60 }, (_, i) => String(i)))
  }, 30_000)

  test('keepAlive survives a cut connection, and ends when the lease is lost', async () => {
    const s = await server()
    const { proxy, endpoint } = await proxied(s)
    const etcd = await connect({ endpoints: [endpoint], requestTimeoutMs: 2000 })
    cleanup.push(() => etcd.close())
    const { id } = await etcd.grant(2)
    const answers: number[] = []
    const loop = (async () => {
      for await (const ka of etcd.keepAlive(id)) answers.push(ka.ttl)
    })()
    await new Promise((resolve) => setTimeout(resolve, 900))
    proxy.sever()
    // Longer than the TTL: the lease lives only if renewals went on after the cut.
    await new Promise((resolve) => setTimeout(resolve, 2600))
    expect((await s.engine.timeToLive(id)).ttl).toBeGreaterThan(0)
    expect(answers.length).toBeGreaterThanOrEqual(3)
    // Revoked on the server: the next renewal answers TTL 0 and the iteration ends.
    await s.engine.revoke(id)
    await loop
  }, 30_000)
})
