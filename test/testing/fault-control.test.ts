import { networkInterfaces } from 'node:os'
import { afterEach, describe, expect, test } from 'vitest'
import { main, type Running } from '../../src/cli/main.ts'
import { remoteServices } from '../../src/remote/remote-services.ts'
import { etcdctl, etcdctlMissing } from '../server/helpers.ts'
import { freePort } from '../support/real-etcd.ts'

/**
 * `etcdlite serve --fault-control`: fake.faults as JSON over HTTP on the client port, for tests in other processes and
 * languages.
 */

const started: Running[] = []
afterEach(async () => {
  for (const r of started.splice(0)) await r.stop()
})

/** start runs `etcdlite serve --in-memory` on a free port with `flags`; it resolves with its URL and printed lines. */
async function start(host: string, flags: string[]): Promise<{ base: string; endpoint: string; lines: string[] }> {
  const port = await freePort()
  const lines: string[] = []
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) }
  const running = await main(['serve', '--in-memory', `--listen-client-urls=http://${host}:${port}`, ...flags], {}, out)
  if (typeof running === 'number') throw new Error(`serve exited ${running}: ${lines.join('\n')}`)
  started.push(running)
  return { base: `http://${host}:${port}`, endpoint: `127.0.0.1:${port}`, lines }
}

async function call(url: string, method: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) })
  const text = await res.text()
  return { status: res.status, type: res.headers.get('content-type'), body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : text }
}

/** lanAddress is a non-loopback IPv4 address of this machine, if it has one. */
function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return undefined
}

describe('etcdlite serve --fault-control', () => {
  test('adds, lists and removes rules; the rules apply to clients of the same port', async () => {
    const { base, endpoint, lines } = await start('127.0.0.1', ['--fault-control'])
    expect(lines).toContain(`etcdlite: fault control on ${base}/etcdlite/faults (loopback clients, or a root token)`)
    const faults = `${base}/etcdlite/faults`
    expect(await call(faults, 'GET')).toEqual({ status: 200, type: 'application/json', body: { faults: [] } })

    const added = await call(faults, 'POST', JSON.stringify({ method: 'KV.Put', fault: 'no-leader', times: 5 }))
    expect(added).toEqual({ status: 201, type: 'application/json', body: { id: 1 } })
    const second = await call(faults, 'POST', JSON.stringify({ method: 'KV.Range', prefix: 'slow/', fault: { delayMs: 10 } }))
    expect(second.body).toEqual({ id: 2 })
    expect((await call(faults, 'GET')).body).toEqual({
      faults: [
        { id: 1, rule: { method: 'KV.Put', fault: 'no-leader', times: 5 }, remaining: 5 },
        { id: 2, rule: { method: 'KV.Range', prefix: 'slow/', fault: { delayMs: 10 } }, remaining: null },
      ],
    })

    const services = remoteServices(endpoint)
    try {
      await expect(services.kv.put({ key: 'k', value: 'v' })).rejects.toMatchObject({ code: 'ETCD_NO_LEADER' })
      if (etcdctlMissing === undefined) {
        const r = await etcdctl(endpoint, ['put', 'k', 'v'])
        expect(r.stderr).toContain('Error: etcdserver: no leader')
      }
      expect((await call(faults, 'GET')).body).toMatchObject({ faults: [{ id: 1, remaining: etcdctlMissing === undefined ? 3 : 4 }, { id: 2 }] })

      expect(await call(`${faults}/1`, 'DELETE')).toMatchObject({ status: 200, body: { removed: 1 } })
      expect(await call(`${faults}/1`, 'DELETE')).toMatchObject({ status: 404, body: { error: 'fault control: no rule 1' } })
      await services.kv.put({ key: 'k', value: 'v' })
      expect(await call(faults, 'DELETE')).toMatchObject({ status: 200, body: { removed: 1 } })
      expect((await call(faults, 'GET')).body).toEqual({ faults: [] })
    } finally {
      services.close()
    }
  })

  test.each([
    ['an unknown method', '{"method":"KV.Get","fault":"no-leader"}', 'faults.add: unknown method "KV.Get"'],
    ['a negative count', '{"method":"KV.Put","fault":"no-leader","times":-2}', 'faults.add: times must be a positive integer, got -2'],
    ['a drop of a unary call', '{"method":"KV.Put","fault":"drop"}', 'faults.add: KV.Put cannot have the fault "drop"'],
    ['a body that is not JSON', '{"method":', 'fault control: the body is not JSON'],
    ['JSON that is not a rule', '[1]', 'faults.add: unknown field "0" in a rule'],
  ])('%s answers 400 with a JSON error and changes nothing', async (_what, body, error) => {
    const { base } = await start('127.0.0.1', ['--fault-control'])
    const faults = `${base}/etcdlite/faults`
    await call(faults, 'POST', '{"method":"KV.Put","fault":"timeout"}')
    const r = await call(faults, 'POST', body)
    expect(r.status).toBe(400)
    expect(r.type).toBe('application/json')
    expect(String((r.body as { error?: unknown }).error)).toContain(error)
    expect((await call(faults, 'GET')).body).toEqual({ faults: [{ id: 1, rule: { method: 'KV.Put', fault: 'timeout' }, remaining: null }] })
  })

  test('is off by default: the path is not found', async () => {
    const { base } = await start('127.0.0.1', [])
    const r = await call(`${base}/etcdlite/faults`, 'GET')
    expect(r.status).toBe(404)
    expect(String(r.body).trim()).toBe('404 page not found')
  })

  const lan = lanAddress()
  test.skipIf(lan === undefined)('refuses a non-loopback client while auth is off; serves one with a root token', async () => {
    const { base, endpoint } = await start('0.0.0.0', ['--fault-control'])
    const remote = base.replace('0.0.0.0', lan!)
    const rule = '{"method":"KV.Put","fault":"no-leader"}'
    expect(await call(`${remote}/etcdlite/faults`, 'POST', rule)).toEqual({
      status: 403,
      type: 'application/json',
      body: { error: 'fault control: only loopback clients may use it while auth is off' },
    })
    const services = remoteServices(endpoint)
    try {
      await services.auth.userAdd({ name: 'root', password: 'pw' })
      await services.auth.userGrantRole({ user: 'root', role: 'root' })
      await services.auth.userAdd({ name: 'bob', password: 'pw' })
      await services.auth.authEnable({})
      const { token } = await services.auth.authenticate({ name: 'root', password: 'pw' })
      const bob = (await services.auth.authenticate({ name: 'bob', password: 'pw' })).token
      expect((await call(`${remote}/etcdlite/faults`, 'POST', rule)).status).toBe(403)
      expect((await call(`${remote}/etcdlite/faults`, 'POST', rule, { Authorization: bob })).body).toEqual({
        error: "fault control: the token is not a root user's",
      })
      expect((await call(`${base.replace('0.0.0.0', '127.0.0.1')}/etcdlite/faults`, 'GET')).body).toEqual({ faults: [] })
      expect(await call(`${remote}/etcdlite/faults`, 'POST', rule, { Authorization: token })).toMatchObject({ status: 201, body: { id: 1 } })
    } finally {
      services.close()
    }
  })
})
