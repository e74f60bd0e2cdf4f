import { networkInterfaces } from 'node:os'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { open } from '../../src/api/engine.ts'
import { serve } from '../../src/server/serve.ts'
import { fakeEtcd, type FakeEtcd } from '../../src/testing/fake-etcd.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { browserPath, consoleOn, NO_BROWSER_REASON, type ConsoleRig } from './browser.ts'

/**
 * "Advance time" on a ManualClock: offered in the leases view only when the served engine's clock is manual and the
 * caller may move it (loopback while auth is off, root while it is on); leases expire as time moves, their keys go,
 * and the watch panel shows the deletes. Refused, saying why, to everyone else.
 */

if (browserPath === undefined) console.warn(`console browser tests skipped: ${NO_BROWSER_REASON}`)

/** advance posts to the console's advance-time call as a client other than the page would. */
async function advance(url: string, body: unknown, token?: string): Promise<{ status: number; message: string }> {
  const res = await fetch(`${url}/ui/api/advance-time`, {
    method: 'POST',
    headers: token === undefined ? {} : { Authorization: token },
    body: JSON.stringify(body),
  })
  return { status: res.status, message: String(((await res.json()) as { message?: string }).message ?? '') }
}

describe.skipIf(browserPath === undefined)('console: advance time on a ManualClock', () => {
  let fake: FakeEtcd
  let rig: ConsoleRig
  let page: Page
  beforeAll(async () => {
    fake = await fakeEtcd()
    rig = await consoleOn(fake.server)
    page = await rig.newPage()
  })
  afterAll(async () => {
    await rig?.close()
    await fake?.close()
  })

  const leaseRows = () => page.getByRole('region', { name: 'Leases' }).getByRole('row')
  const events = () => page.getByRole('list', { name: 'Events' }).getByRole('listitem').allInnerTexts()
  const control = () => page.getByRole('form', { name: 'Advance time' })

  test('leases expire as the clock is advanced: keys deleted, the deletes in the watch panel that kept watching', async () => {
    const { id } = await fake.engine.grant(30)
    await fake.engine.put('session/a', '1', { lease: id }) // rev 2
    await fake.engine.put('session/b', '2', { lease: id }) // rev 3
    await fake.engine.put('session/keep', '3') // rev 4
    await page.getByRole('tab', { name: 'Watch' }).click()
    await page.getByLabel('Watch prefix').fill('session/')
    await page.getByRole('button', { name: 'Start' }).click()
    await expect.poll(() => page.getByText('watching “session/” from now (revision 4)').count()).toBe(1)

    await page.getByRole('tab', { name: 'Leases' }).click()
    const start = fake.clock.now()
    await expect.poll(() => control().getByText(`Manual clock at ${new Date(start).toISOString()}`).count()).toBe(1)
    await expect.poll(async () => (await leaseRows().nth(1).getByRole('cell').allInnerTexts()).slice(1, 4)).toEqual(['30 s', '30 s', 'session/a, session/b'])
    await control().getByLabel('Advance time by').fill('20')
    await control().getByRole('button', { name: 'Advance time' }).click()
    await expect.poll(async () => (await leaseRows().nth(1).getByRole('cell').allInnerTexts())[1]).toBe('10 s')
    expect(fake.clock.now()).toBe(start + 20_000)
    expect(Object.keys(await fake.dump('session/'))).toEqual(['session/a', 'session/b', 'session/keep'])

    await control().getByLabel('Advance time by').fill('10')
    await control().getByRole('button', { name: 'Advance time' }).click()
    await expect.poll(() => page.getByText('No leases.').count()).toBe(1)
    expect(await fake.dump('session/')).toEqual({ 'session/keep': '3' })

    await page.getByRole('tab', { name: 'Watch' }).click()
    await expect.poll(events).toEqual(['5 DELETE session/a', '5 DELETE session/b'])
  })

  test('a step that is not a whole number of seconds is refused with the reason, and the clock stays', async () => {
    await page.getByRole('tab', { name: 'Leases' }).click()
    const before = fake.clock.now()
    for (const typed of ['-5', '1.5', 'soon', '0']) {
      await control().getByLabel('Advance time by').fill(typed)
      await control().getByRole('button', { name: 'Advance time' }).click()
      await expect.poll(() => control().getByRole('alert').innerText()).toBe('etcdlite: seconds must be a whole number from 1 to 9000000000')
    }
    expect(fake.clock.now()).toBe(before)
  })
})

describe.skipIf(browserPath === undefined)('console: who may advance time', () => {
  test('with auth on, root is offered the control and may advance; another user is not, and is refused', async () => {
    await using fake = await fakeEtcd({
      auth: { roles: { app: [{ type: 'READWRITE', key: 'app/', prefix: true }] }, users: { alice: { password: 'alicepw', roles: ['app'] } } },
    })
    const rig = await consoleOn(fake.server)
    try {
      const signIn = async (user: string, password: string) => {
        const page = await rig.newPage()
        await page.getByLabel('User').fill(user)
        await page.getByLabel('Password').fill(password)
        await page.getByRole('button', { name: 'Sign in' }).click()
        await page.getByRole('tab', { name: 'Leases' }).click()
        return page
      }
      const alice = await signIn('alice', 'alicepw')
      await expect.poll(() => alice.getByText(/^The engine runs on a manual clock; only root/).count()).toBe(1)
      expect(await alice.getByRole('form', { name: 'Advance time' }).count()).toBe(0)

      const before = fake.clock.now()
      const token = (await fake.engine.services.auth.authenticate({ name: 'alice', password: 'alicepw' })).token
      expect(await advance(fake.url, { seconds: 60 }, token)).toEqual({ status: 403, message: 'etcdlite: advancing time needs a root user while auth is enabled' })
      expect(await advance(fake.url, { seconds: 60 })).toEqual({ status: 403, message: 'etcdlite: advancing time needs a root user while auth is enabled' })
      expect(await advance(fake.url, { seconds: 60 }, 'not-a-token')).toEqual({ status: 401, message: 'etcdserver: invalid auth token' })
      expect(fake.clock.now()).toBe(before)

      const root = await signIn('root', 'root')
      await root.getByRole('form', { name: 'Advance time' }).getByLabel('Advance time by').fill('60')
      await root.getByRole('form', { name: 'Advance time' }).getByRole('button', { name: 'Advance time' }).click()
      await expect.poll(() => fake.clock.now()).toBe(before + 60_000)
    } finally {
      await rig.close()
    }
  })

  test('an engine on the system clock offers no control, and the call is refused saying why', async () => {
    await using engine = await open()
    const rig = await consoleOn(await serve({ engine, port: 0 }))
    try {
      const page = await rig.newPage()
      await page.getByRole('tab', { name: 'Leases' }).click()
      await expect.poll(() => page.getByText('No leases.').count()).toBe(1)
      expect(await page.getByRole('form', { name: 'Advance time' }).count()).toBe(0)
      expect(await page.getByText(/manual clock/).count()).toBe(0)
      expect(await advance(rig.server.urls[0]!, { seconds: 1 })).toEqual({
        status: 412,
        message: 'etcdlite: the served engine runs on the system clock; only a ManualClock can be advanced',
      })
    } finally {
      await rig.close()
    }
  })
})

/** externalAddress is one non-loopback IPv4 address of this machine, if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address

describe('console: advancing time from another machine', () => {
  test.skipIf(externalAddress === undefined)('while auth is off, a caller that is not on loopback may not advance time', async () => {
    const clock = new ManualClock(5_000)
    await using server = await serve({ host: '0.0.0.0', port: 0, ui: true, clock })
    const port = new URL(server.urls[0]!).port
    const status = (await (await fetch(`http://${externalAddress}:${port}/ui/api/clock`)).json()) as { manual: boolean; allowed: boolean }
    expect(status).toEqual({ manual: true, allowed: false, now: 5_000 })
    expect(await advance(`http://${externalAddress}:${port}`, { seconds: 1 })).toEqual({
      status: 403,
      message: 'etcdlite: advancing time is allowed only from loopback while auth is disabled',
    })
    expect(await advance(`http://127.0.0.1:${port}`, { seconds: 1 })).toEqual({ status: 200, message: '' })
    expect(clock.now()).toBe(6_000)
  })
})
