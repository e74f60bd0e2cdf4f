import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect as netConnect } from 'node:net'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client } from '../../src/api/client.ts'
import { remoteServices } from '../../src/remote/remote-services.ts'
import { serve, type Serving } from '../../src/server/serve.ts'
import { credentials } from '@grpc/grpc-js'
import { makeCerts, opensslMissing, type Certs } from './helpers.ts'

/**
 * The HTTP face of the client port: the JSON gateway's handling of bad input and of clients that leave, /health,
 * /version, /metrics, and both protocols on one port, with and without TLS. (What each route answers is compared with
 * real etcd in test/differential/gateway.test.ts; the conformance suite runs whole through the gateway.)
 */

const b64 = (s: string) => Buffer.from(s).toString('base64')

async function post(base: string, path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(base + path, { method: 'POST', body })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

describe('the JSON gateway under bad input', () => {
  let server: Serving
  let base: string
  beforeAll(async () => {
    server = await serve({ port: 0 })
    base = `http://${server.endpoint}`
    await post(base, '/v3/kv/put', JSON.stringify({ key: b64('k'), value: b64('v') }))
  })
  afterAll(() => server.close())

  /** unchanged checks that the store is as the test left it: one key, revision 2. */
  async function unchanged(): Promise<void> {
    const r = await server.engine.get('', { fromKey: true })
    expect(r.header.revision).toBe(2)
    expect(r.kvs.map((kv) => kv.key.toString())).toEqual(['k'])
  }

  test.each([
    ['not JSON', 'hello', "invalid character 'h' looking for beginning of value"],
    ['truncated JSON', '{"key":"aw==","value":', 'unexpected EOF'],
    ['an array', '[]', 'json: cannot unmarshal array into Go value of type map[string]json.RawMessage'],
    ['a number for bytes', '{"key":5}', 'json: cannot unmarshal number into Go value of type []uint8'],
    ['bad base64', '{"key":"a b"}', 'illegal base64 data at input byte 1'],
    ['a string for a bool', '{"key":"aw==","prev_kv":"yes"}', 'json: cannot unmarshal string into Go value of type bool'],
    ['a fraction for an int64', '{"key":"aw==","lease":1.5}', 'json: cannot unmarshal number 1.5 into Go value of type int64'],
    ['an int64 out of range', '{"key":"aw==","lease":"9223372036854775808"}', 'json: cannot unmarshal number 9223372036854775808 into Go value of type int64'],
    ['too deep', `{"pad":${'['.repeat(10_001)}`, "invalid character '[' exceeded max depth"],
  ])('a put with %s is refused with code 3 and HTTP 400, and changes nothing', async (_what, body, message) => {
    const r = await post(base, '/v3/kv/put', body)
    expect(r).toEqual({ status: 400, json: { error: message, message, code: 3 } })
    await unchanged()
  })

  test('an unknown enum name is refused with etcd\'s message', async () => {
    const r = await post(base, '/v3/kv/range', JSON.stringify({ key: b64('k'), sort_order: 'UPWARDS' }))
    expect(r.status).toBe(400)
    expect(r.json.message).toBe('unknown value "UPWARDS" for enum etcdserverpb.RangeRequest_SortOrder')
  })

  test('a value over the request limit is "request is too large"; over the gRPC limit, code 8 and HTTP 429', async () => {
    const big = await post(base, '/v3/kv/put', JSON.stringify({ key: b64('k'), value: Buffer.alloc(1_600_000).toString('base64') }))
    expect(big).toEqual({ status: 400, json: { error: 'etcdserver: request is too large', message: 'etcdserver: request is too large', code: 3 } })
    const huge = await post(base, '/v3/kv/put', JSON.stringify({ key: b64('k'), value: Buffer.alloc(3_000_000).toString('base64') }))
    expect(huge.status).toBe(429)
    expect(huge.json.message).toBe('grpc: received message larger than max (3000008 vs. 2097152)')
    await unchanged()
  })

  test('a body far over any limit is refused without being kept in memory', async () => {
    const r = await post(base, '/v3/kv/range', `{"key":"aw==","pad":"${'x'.repeat(20 * 1024 * 1024)}"}`)
    expect(r.status).toBe(429)
    expect(r.json.code).toBe(8)
  })

  test('unknown paths are 404, wrong methods 405, and OPTIONS answers for CORS', async () => {
    const nope = await fetch(`${base}/v3/kv/nope`, { method: 'POST', body: '{}' })
    expect([nope.status, await nope.text()]).toEqual([404, 'Not Found\n'])
    const root = await fetch(`${base}/`)
    expect([root.status, await root.text()]).toEqual([404, '404 page not found\n'])
    const get = await fetch(`${base}/v3/kv/range`)
    expect([get.status, await get.text()]).toEqual([405, 'Method Not Allowed\n'])
    const options = await fetch(`${base}/v3/kv/range`, { method: 'OPTIONS' })
    expect(options.status).toBe(200)
    expect(options.headers.get('access-control-allow-origin')).toBe('*')
  })

  test('a watch client that goes away mid-stream is cancelled; the server and the store are fine', async () => {
    const before = server.engine.stats().watchers
    const req = httpRequest(`${base}/v3/watch`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } })
    req.write(JSON.stringify({ create_request: { key: b64('k') } }))
    const first = await new Promise<string>((resolve, reject) => {
      req.on('response', (res) => res.once('data', (d: Buffer) => resolve(d.toString())))
      req.on('error', reject)
    })
    expect(JSON.parse(first).result.created).toBe(true)
    expect(server.engine.stats().watchers).toBe(before + 1)
    req.destroy()
    const deadline = Date.now() + 5_000
    while (server.engine.stats().watchers !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(server.engine.stats().watchers).toBe(before)
    await unchanged()
  })

  test('a watch stream delivers events as they happen, one JSON object per line', async () => {
    const controller = new AbortController()
    const res = await fetch(`${base}/v3/watch`, {
      method: 'POST',
      body: JSON.stringify({ create_request: { key: b64('w'), prev_kv: true } }),
      signal: controller.signal,
    })
    expect(res.headers.get('content-type')).toBe('application/json')
    const reader = res.body!.getReader()
    let text = ''
    const line = async () => {
      while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value)
      const l = text.slice(0, text.indexOf('\n'))
      text = text.slice(text.indexOf('\n') + 1)
      return JSON.parse(l).result
    }
    expect((await line()).created).toBe(true)
    await server.engine.put('w', 'one')
    await server.engine.put('w', 'two')
    const events = []
    while (events.length < 2) events.push(...(await line()).events)
    expect(events.map((e: { kv: { value: string } }) => Buffer.from(e.kv.value, 'base64').toString())).toEqual(['one', 'two'])
    expect(Buffer.from(events[1].prev_kv.value, 'base64').toString()).toBe('one')
    controller.abort()
    await server.engine.delete('w')
  })

  test('a connection that sends garbage instead of HTTP is closed; the server goes on', async () => {
    const socket = netConnect(Number(server.endpoint.split(':')[1]), '127.0.0.1')
    socket.write('\x16\x03\x01 this is not http at all\r\n\r\n')
    const reply = await new Promise<string>((resolve) => {
      let data = ''
      socket.on('data', (d) => (data += d.toString()))
      socket.on('close', () => resolve(data))
    })
    expect(reply).toMatch(/^HTTP\/1\.1 400/)
    expect((await fetch(`${base}/health`)).status).toBe(200)
  })
})

describe('/health, /version and /metrics', () => {
  test('/health and /version answer as etcd 3.4 does', async () => {
    await using server = await serve({ port: 0 })
    const base = `http://${server.endpoint}`
    expect(await (await fetch(`${base}/health`)).text()).toBe('{"health":"true"}')
    expect(await (await fetch(`${base}/version`)).json()).toEqual({ etcdserver: '3.4.23', etcdcluster: '3.4.0' })
    const wrong = await fetch(`${base}/health`, { method: 'POST' })
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'GET'])
  })

  test('/metrics reports the engine and every gRPC call, gateway calls included, in Prometheus text', async () => {
    await using server = await serve({ port: 0 })
    const base = `http://${server.endpoint}`
    const client = new Client(remoteServices(server.endpoint))
    await client.put('a', '1')
    await client.put('b', '2')
    await client.get('a')
    await post(base, '/v3/kv/put', JSON.stringify({ key: b64('c'), value: b64('3') }))
    await post(base, '/v3/kv/range', JSON.stringify({ key: b64('x'), revision: 99 }))
    const watch = client.watch('a')
    await client.delete('b')
    const res = await fetch(`${base}/metrics`)
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const text = await res.text()
    const value = (series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1])
    expect(value('etcd_mvcc_put_total')).toBe(3)
    expect(value('etcd_mvcc_range_total')).toBe(2)
    expect(value('etcd_mvcc_delete_total')).toBe(1)
    expect(value('etcd_debugging_mvcc_keys_total')).toBe(2)
    expect(value('etcd_server_has_leader')).toBe(1)
    expect(value('etcd_debugging_mvcc_current_revision')).toBe(5)
    expect(value('grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}')).toBe(3)
    expect(value('grpc_server_handled_total{grpc_code="OutOfRange",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"}')).toBe(1)
    expect(value('grpc_server_started_total{grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"}')).toBeGreaterThanOrEqual(0)
    expect(value('etcd_server_version{server_version="3.4.23"}')).toBe(1)
    expect(value('etcd_debugging_auth_revision')).toBe(0)
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m)
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m)
    await watch.return?.()
    ;(client.services as unknown as { close(): void }).close()
  })
})

describe.skipIf(opensslMissing !== undefined)('one TLS port for both faces', () => {
  let certs: Certs
  beforeAll(() => {
    certs = makeCerts()
  })

  test('gRPC clients (ALPN h2) and HTTPS clients (http/1.1) share one TLS port', async () => {
    const pem = (p: string) => readFileSync(p)
    await using server = await serve({ port: 0, tls: { cert: pem(certs.serverCert), key: pem(certs.serverKey) } })
    const services = remoteServices(server.endpoint, { credentials: credentials.createSsl(pem(certs.ca)), channelOptions: { 'grpc.ssl_target_name_override': 'localhost' } })
    await services.kv.put({ key: 'k', value: 'over grpc' })
    const body = await new Promise<string>((resolve, reject) => {
      const [host, port] = server.endpoint.split(':')
      // Offer both protocols, as curl does: the server picks HTTP/1.1 for it.
      const options = { host, port, path: '/v3/kv/range', method: 'POST', ca: pem(certs.ca), servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] }
      const req = httpsRequest(options, (res) => {
        let data = ''
        res.on('data', (d) => (data += d))
        res.on('end', () => resolve(data))
      })
      req.on('error', reject)
      req.end(JSON.stringify({ key: b64('k') }))
    })
    expect(Buffer.from(JSON.parse(body).kvs[0].value, 'base64').toString()).toBe('over grpc')
    services.close()
  })
})
