import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { browserPath, NO_BROWSER_REASON, startConsole, type ConsoleRig } from './browser.ts'

/** Signing in with etcd's own users: any user, and the page shows what that user may read and nothing else. */

if (browserPath === undefined) console.warn(`console browser tests skipped: ${NO_BROWSER_REASON}`)

describe.skipIf(browserPath === undefined)('console: auth', () => {
  let rig: ConsoleRig
  beforeAll(async () => {
    rig = await startConsole()
    const e = rig.server.engine
    await e.put('app/name', 'shop')
    await e.put('app/port', '8080')
    await e.put('secret/db-password', 'hunter2')
    const auth = e.services.auth
    await auth.userAdd({ name: 'root', password: 'rootpw' })
    await auth.userGrantRole({ user: 'root', role: 'root' })
    await auth.roleAdd({ name: 'app-reader' })
    await auth.roleGrantPermission({ name: 'app-reader', perm: { permType: 'READ', key: 'app/', rangeEnd: 'app0' } })
    await auth.userAdd({ name: 'alice', password: 'alicepw' })
    await auth.userGrantRole({ user: 'alice', role: 'app-reader' })
    await auth.authEnable({})
  })
  afterAll(async () => {
    await rig?.close()
  })

  const signIn = async (user: string, password: string): Promise<Page> => {
    const page = await rig.newPage()
    await page.getByLabel('User').fill(user)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    return page
  }
  const keyButtons = (page: Page) => page.getByRole('list', { name: 'Keys' }).getByRole('button')

  test("a wrong password shows etcd's error and stays on the sign-in form", async () => {
    const page = await signIn('alice', 'nope')
    await expect.poll(() => page.getByRole('alert').innerText()).toBe('etcdserver: authentication failed, invalid user ID or password')
    await page.close()
  })

  test('a non-root user sees only its keys; a range it may not read shows as denied, not as empty', async () => {
    const page = await signIn('alice', 'alicepw')
    await expect.poll(() => page.getByText('signed in as alice').count()).toBe(1)
    // Every key from the top is more than alice may read: etcd refuses it, and the page says so.
    await expect.poll(() => page.getByRole('alert').innerText()).toBe('Permission denied: you may not read every key (etcdserver: permission denied)')
    expect(await page.getByText('No keys here.').count()).toBe(0)
    // Her permissions lead to what she may read.
    await page.getByRole('group', { name: 'Your permissions' }).getByRole('button', { name: 'READ app/*' }).click()
    await expect.poll(() => keyButtons(page).allInnerTexts()).toEqual(['name', 'port'])
    await keyButtons(page).getByText('port').click()
    await expect.poll(() => page.getByRole('textbox', { name: 'Value' }).inputValue()).toBe('8080')
    // Reading is all she may do: a save is refused by etcd, and nothing changes.
    await page.getByRole('textbox', { name: 'Value' }).fill('9090')
    await page.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => page.getByRole('region', { name: 'Key', exact: true }).getByRole('alert').innerText()).toBe('etcdserver: permission denied')
    const { token } = await rig.server.engine.services.auth.authenticate({ name: 'root', password: 'rootpw' })
    const stored = await rig.server.engine.services.kv.range({ key: 'app/port' }, { token })
    expect(Buffer.from(stored.kvs[0]!.value).toString()).toBe('8080')
    // Another user's prefix is denied.
    await page.getByLabel('Prefix', { exact: true }).fill('secret/')
    await page.getByRole('button', { name: 'Search' }).click()
    await expect.poll(() => page.getByRole('alert').first().innerText()).toBe('Permission denied: you may not read all of “secret/” (etcdserver: permission denied)')
    expect(await keyButtons(page).count()).toBe(0)
    await page.close()
  })

  test('root sees every key', async () => {
    const page = await signIn('root', 'rootpw')
    await expect.poll(() => keyButtons(page).allInnerTexts()).toEqual(['app/ …', 'secret/ …'])
    expect(await page.getByRole('group', { name: 'Your permissions' }).count()).toBe(0)
    await page.close()
  })
})
