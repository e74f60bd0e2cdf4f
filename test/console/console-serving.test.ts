import { readFileSync, rmSync } from 'node:fs'
import { get as httpsGet } from 'node:https'
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildConsole } from '../../console/build.ts'
import { parseServeArgs } from '../../src/cli/flags.ts'
import { isLoopback } from '../../src/console/console-routes.ts'
import { serve } from '../../src/server/serve.ts'
import { makeCerts, opensslMissing } from '../server/helpers.ts'

/** Where the console is served: /ui/ on the client port, on by default for loopback, --ui / --no-ui to choose. */

beforeAll(async () => {
  await buildConsole()
})

/** externalAddress is one non-loopback IPv4 address of this machine, if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address

describe('serve() and the console', () => {
  const servers: { close(): Promise<void> }[] = []
  afterAll(async () => {
    for (const s of servers) await s.close()
  })

  test('on a loopback listener /ui/ serves the page, its script and the status document by default', async () => {
    const s = await serve({ port: 0 })
    servers.push(s)
    const base = s.urls[0]!
    const page = await fetch(`${base}/ui/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await page.text()).toContain('<script type="module" src="app.js">')
    const script = await fetch(`${base}/ui/app.js`)
    expect(script.status).toBe(200)
    expect((await script.text()).length).toBeGreaterThan(1000)
    const redirect = await fetch(`${base}/ui`, { redirect: 'manual' })
    expect(redirect.status).toBe(301)
    expect(redirect.headers.get('location')).toBe('/ui/')
    await s.engine.put('k', 'v')
    const status = (await (await fetch(`${base}/ui/api/status`)).json()) as Record<string, unknown>
    expect(status).toMatchObject({ revision: 2, compactRevision: 0, keys: 1, authEnabled: false })
    expect((await fetch(`${base}/ui/nothing-here`)).status).toBe(404)
    expect((await fetch(`${base}/ui/`, { method: 'POST' })).status).toBe(405)
    // The gateway and etcd's endpoints are untouched beside it.
    expect((await fetch(`${base}/version`)).status).toBe(200)
  })

  test('ui: false turns the console off: /ui/ answers the client port 404', async () => {
    const s = await serve({ port: 0, ui: false })
    servers.push(s)
    const r = await fetch(`${s.urls[0]}/ui/`)
    expect(r.status).toBe(404)
    expect(await r.text()).toBe('404 page not found')
  })

  test.skipIf(externalAddress === undefined)('a non-loopback listener without TLS has no console unless ui: true', async () => {
    const off = await serve({ host: '0.0.0.0', port: 0 })
    servers.push(off)
    const port = off.endpoint.split(':').at(-1)
    expect((await fetch(`http://${externalAddress}:${port}/ui/`)).status).toBe(404)
    // The same listener reached through loopback is a local user's: served.
    expect((await fetch(`http://127.0.0.1:${port}/ui/`)).status).toBe(200)
    const on = await serve({ host: '0.0.0.0', port: 0, ui: true })
    servers.push(on)
    expect((await fetch(`http://${externalAddress}:${on.endpoint.split(':').at(-1)}/ui/`)).status).toBe(200)
  })

  test.skipIf(externalAddress === undefined || opensslMissing !== undefined)(
    'by default a non-loopback TLS listener serves the console only while auth is enabled',
    async () => {
      const certs = makeCerts()
      try {
        const s = await serve({ host: '0.0.0.0', port: 0, tls: { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) } })
        servers.push(s)
        const url = `https://${externalAddress}:${s.endpoint.split(':').at(-1)}/ui/`
        // The certificate names 127.0.0.1 and localhost: this check is about the console, not the name.
        const status = () =>
          new Promise<number>((resolve, reject) => {
            httpsGet(url, { rejectUnauthorized: false }, (res) => {
              res.resume()
              resolve(res.statusCode ?? 0)
            }).on('error', reject)
          })
        expect(await status()).toBe(404)
        const auth = s.engine.services.auth
        await auth.userAdd({ name: 'root', password: 'pw' })
        await auth.userGrantRole({ user: 'root', role: 'root' })
        await auth.authEnable({})
        expect(await status()).toBe(200)
      } finally {
        rmSync(certs.dir, { recursive: true, force: true })
      }
    },
  )

  test('isLoopback knows 127/8, ::1 and IPv4-mapped loopback', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true, true])
    expect(['10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', 'fe80::1'].map(isLoopback)).toEqual([false, false, false, false])
  })
})

describe('CLI flags', () => {
  test('--ui and --no-ui choose; neither leaves the default', () => {
    expect(parseServeArgs([], {}).config.ui).toBeUndefined()
    expect(parseServeArgs(['--ui'], {}).config.ui).toBe(true)
    expect(parseServeArgs(['--no-ui'], {}).config.ui).toBe(false)
    expect(parseServeArgs(['--ui=false'], {}).config.ui).toBe(false)
    expect(parseServeArgs([], { ETCD_UI: 'true' }).config.ui).toBe(true)
    expect(() => parseServeArgs(['--ui=maybe'], {})).toThrow(/invalid boolean value "maybe" for -ui/)
  })
})
