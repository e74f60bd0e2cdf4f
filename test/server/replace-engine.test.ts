import { Etcd3 } from 'etcd3'
import { describe, expect, test } from 'vitest'
import { open } from '../../src/api/engine.ts'
import { serve } from '../../src/server/serve.ts'

/**
 * Serving.replaceEngine: the same listeners serve another engine from then on; metrics, /health, the gateway and
 * snapshots follow it; the old engine is closed and its streams end.
 */
describe('serve().replaceEngine', () => {
  test('gRPC, the gateway, /metrics and /health follow the new engine; the old one is closed', async () => {
    const first = await open()
    await using server = await serve({ engine: first, port: 0 })
    const client = new Etcd3({ hosts: server.endpoint })
    try {
      await client.put('old').value('1')
      const next = await open()
      await next.put('new', '2')
      await server.replaceEngine(next)
      expect(first.closed).toBe(true)
      expect(server.engine).toBe(next)
      expect(await client.get('old').string()).toBeNull()
      expect(await client.get('new').string()).toBe('2')

      const res = await fetch(`${server.urls[0]}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('new').toString('base64') }) })
      expect(((await res.json()) as { kvs: { value: string }[] }).kvs[0]!.value).toBe(Buffer.from('2').toString('base64'))
      const metrics = await (await fetch(`${server.urls[0]}/metrics`)).text()
      expect(metrics).toMatch(/^etcd_debugging_mvcc_current_revision 2$/m)
      expect(metrics).toMatch(/^etcd_debugging_mvcc_keys_total 1$/m)
      expect(await (await fetch(`${server.urls[0]}/health`)).text()).toBe('{"health":"true"}')
      await next.close()
      expect((await fetch(`${server.urls[0]}/health`)).status).toBe(503)
    } finally {
      client.close()
    }
  })

  test("ends the old engine's watch streams with UNAVAILABLE; replacing after close is refused", async () => {
    const server = await serve({ port: 0 })
    const client = new Etcd3({ hosts: server.endpoint })
    try {
      const watcher = await client.watch().key('k').create()
      const disconnected = new Promise<Error>((resolve) => watcher.once('disconnected', resolve))
      const next = await open()
      await server.replaceEngine(next)
      expect((await disconnected).message).toBe('14 UNAVAILABLE: etcdserver: server stopped')
      await watcher.cancel()
      await server.close()
      // serve() opened the first engine, so it closes the one it serves now.
      expect(next.closed).toBe(true)
      await using late = await open()
      await expect(server.replaceEngine(late)).rejects.toMatchObject({ code: 'ETCD_STOPPED' })
      expect(late.closed).toBe(false)
    } finally {
      client.close()
      await server.close()
    }
  })
})
