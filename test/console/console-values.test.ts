import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { browserPath, NO_BROWSER_REASON, startConsole, type ConsoleRig } from './browser.ts'

/**
 * Values through the page: shown as text, JSON, YAML, hex or base64; every save a compare-and-swap on mod_revision;
 * create, delete, delete a prefix, put with a lease; bad input refused with the reason, changing nothing.
 */

if (browserPath === undefined) console.warn(`console browser tests skipped: ${NO_BROWSER_REASON}`)

describe.skipIf(browserPath === undefined)('console: values', () => {
  let rig: ConsoleRig
  let page: Page
  beforeAll(async () => {
    // A small request limit, so "too large" is cheap to reach.
    rig = await startConsole({ maxRequestBytes: 4096 })
    page = await rig.newPage()
  })
  afterAll(async () => {
    await rig?.close()
  })

  const engine = () => rig.server.engine
  const value = () => page.getByRole('textbox', { name: 'Value', exact: true })
  const editor = () => page.getByRole('region', { name: 'Key', exact: true })
  const stored = async (key: string) => (await engine().get(key)).kvs[0]
  /** open shows one key in the editor (through the flat view, searched by its full name). */
  const open = async (key: string) => {
    await page.getByRole('button', { name: 'Flat' }).click()
    await page.getByLabel('Prefix', { exact: true }).fill(key)
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByRole('list', { name: 'Keys' }).getByRole('button', { name: key, exact: true }).click()
    await expect.poll(() => editor().getByRole('heading').innerText()).toBe(key)
  }

  test('JSON is shown pretty; invalid JSON is refused in the page and nothing is written', async () => {
    await engine().put('cfg/app.json', '{"port":8080,"tags":["a","b"]}')
    await open('cfg/app.json')
    await expect.poll(() => value().inputValue()).toBe('{\n  "port": 8080,\n  "tags": [\n    "a",\n    "b"\n  ]\n}')
    await value().fill('{"port": 80,')
    await editor().getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => editor().getByRole('alert').innerText()).toMatch(/^invalid JSON: /)
    expect((await stored('cfg/app.json'))!.modRevision).toBe(2)
    await value().fill('{"port": 80}')
    await editor().getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => editor().getByRole('status').innerText()).toBe('Saved.')
    expect((await stored('cfg/app.json'))!.value.toString()).toBe('{"port": 80}')
  })

  test('YAML is shown as YAML and must parse', async () => {
    await engine().put('cfg/app.yaml', 'name: shop\nports:\n  - 80\n  - 443\n')
    await open('cfg/app.yaml')
    await expect.poll(() => editor().getByLabel('Format').inputValue()).toBe('yaml')
    await expect.poll(() => value().inputValue()).toBe('name: shop\nports:\n  - 80\n  - 443\n')
    await value().fill('name: [unclosed')
    await editor().getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => editor().getByRole('alert').innerText()).toMatch(/^invalid YAML: /)
    expect((await stored('cfg/app.yaml'))!.version).toBe(1)
  })

  test('JSON and YAML are highlighted, and checked as they are typed: the line, column and message show inline', async () => {
    await engine().put('cfg/hl.json', '{"port":8080,"name":"shop","debug":false}')
    await open('cfg/hl.json')
    const backdrop = editor().locator('pre')
    const color = (text: string) => backdrop.getByText(text, { exact: true }).evaluate((e) => e.ownerDocument.defaultView!.getComputedStyle(e).color)
    await expect.poll(() => backdrop.innerText()).toContain('"port": 8080')
    const [key, number, string, literal] = [await color('"port"'), await color('8080'), await color('"shop"'), await color('false')]
    expect(new Set([key, number, string, literal]).size).toBe(4)
    expect(await page.getByLabel('Validation').count()).toBe(0)

    await value().fill('{\n  "port": 8080\n  "name": "shop"\n}')
    await expect.poll(() => editor().getByLabel('Validation').innerText()).toMatch(/^line 3, column 3: \S/)
    expect(await editor().getByLabel('Validation').innerText()).not.toMatch(/position|etcd/)
    expect(await value().getAttribute('aria-invalid')).toBe('true')
    expect(await backdrop.locator('mark').innerText()).toBe('"')
    await value().fill('{\n  "port": 8080,\n  "name": "shop"\n}')
    await expect.poll(() => editor().getByLabel('Validation').count()).toBe(0)
    expect(await value().getAttribute('aria-invalid')).toBe('false')
    expect((await stored('cfg/hl.json'))!.version).toBe(1) // checking writes nothing

    await engine().put('cfg/hl.yaml', 'name: shop # the shop\nports:\n  - 80\n')
    await open('cfg/hl.yaml')
    await expect.poll(() => backdrop.innerText()).toContain('# the shop')
    expect(new Set([await color('name'), await color('shop'), await color('# the shop'), await color('80')]).size).toBe(4)
    await value().fill('name: shop\nports: [80, 443\n')
    await expect.poll(() => editor().getByLabel('Validation').innerText()).toMatch(/^line \d, column \d+: \S/)
    // A save of a value that does not parse says the same, and nothing is sent.
    await editor().getByRole('button', { name: 'Save' }).click()
    const inline = await editor().getByLabel('Validation').innerText()
    await expect.poll(() => editor().getByRole('alert').innerText()).toBe(`invalid YAML: ${inline}`)
    expect((await stored('cfg/hl.yaml'))!.version).toBe(1)
  })

  test('binary values are shown in hex or base64 and saved from either', async () => {
    await engine().put('bin/blob', Buffer.from([0x00, 0xff, 0x10]))
    await open('bin/blob')
    await expect.poll(() => value().inputValue()).toBe('00 ff 10')
    await editor().getByLabel('Format').selectOption('base64')
    await expect.poll(() => value().inputValue()).toBe('AP8Q')
    await editor().getByLabel('Format').selectOption('json')
    await expect.poll(() => editor().getByRole('alert').innerText()).toBe('this value is not JSON')
    expect(await editor().getByLabel('Format').inputValue()).toBe('base64')
    await editor().getByLabel('Format').selectOption('hex')
    // An edit goes along when the format changes.
    await value().fill('41 42')
    await editor().getByLabel('Format').selectOption('text')
    await expect.poll(() => value().inputValue()).toBe('AB')
    await editor().getByLabel('Format').selectOption('hex')
    await expect.poll(() => value().inputValue()).toBe('41 42')
    await value().fill('01 02 zz')
    await editor().getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => editor().getByRole('alert').innerText()).toBe('hex: expected pairs of hex digits')
    await value().fill('01 02 03')
    await editor().getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => editor().getByRole('status').innerText()).toBe('Saved.')
    expect([...(await stored('bin/blob'))!.value]).toEqual([1, 2, 3])
  })

  test('an edit that conflicts with a newer write says so, shows both versions and writes nothing', async () => {
    await engine().put('cfg/owner', 'alice')
    await open('cfg/owner')
    await expect.poll(() => value().inputValue()).toBe('alice')
    await engine().put('cfg/owner', 'bob') // someone else, meanwhile
    await value().fill('carol')
    await editor().getByRole('button', { name: 'Save' }).click()
    const conflict = page.getByRole('alert', { name: 'Conflict' })
    await expect.poll(() => conflict.innerText()).toMatch(/^Conflict: the key changed since it was loaded/)
    expect(await conflict.getByLabel('Your version').inputValue()).toBe('carol')
    expect(await conflict.getByLabel('Current version').inputValue()).toBe('bob')
    expect((await stored('cfg/owner'))!.value.toString()).toBe('bob')
    await conflict.getByRole('button', { name: 'Overwrite with mine' }).click()
    await expect.poll(async () => (await stored('cfg/owner'))!.value.toString()).toBe('carol')
  })

  test('create a key with a lease; creating one that exists is refused', async () => {
    const { id } = await engine().grant(600)
    await page.getByRole('button', { name: 'New key' }).click()
    const form = page.getByRole('form', { name: 'New key' })
    await form.getByLabel('Key').fill('cfg/leased')
    await form.getByLabel('New value').fill('temporary')
    await form.getByLabel('Lease').fill(String(id))
    await form.getByRole('button', { name: 'Create' }).click()
    await expect.poll(() => editor().getByRole('heading').innerText()).toBe('cfg/leased')
    const kv = (await stored('cfg/leased'))!
    expect(kv.value.toString()).toBe('temporary')
    expect(kv.lease).toBe(id)

    await page.getByRole('button', { name: 'New key' }).click()
    await form.getByLabel('Key').fill('cfg/owner')
    await form.getByLabel('New value').fill('x')
    await form.getByRole('button', { name: 'Create' }).click()
    await expect.poll(() => form.getByRole('alert').innerText()).toMatch(/^the key already exists/)
    await form.getByLabel('Lease').fill('12345')
    await form.getByLabel('Key').fill('cfg/other')
    await form.getByRole('button', { name: 'Create' }).click()
    await expect.poll(() => form.getByRole('alert').innerText()).toBe('etcdserver: requested lease not found')
    expect(await stored('cfg/other')).toBeUndefined()
    await form.getByRole('button', { name: 'Cancel' }).click()
  })

  test("a key over the request size limit gets etcd's error and nothing is written", async () => {
    const before = engine().revision
    await page.getByRole('button', { name: 'New key' }).click()
    const form = page.getByRole('form', { name: 'New key' })
    await form.getByLabel('Key').fill(`big/${'k'.repeat(5000)}`)
    await form.getByLabel('New value').fill('v')
    await form.getByRole('button', { name: 'Create' }).click()
    await expect.poll(() => form.getByRole('alert').innerText()).toBe('etcdserver: request is too large')
    expect(engine().revision).toBe(before)
    await form.getByRole('button', { name: 'Cancel' }).click()
  })

  test('delete a key; delete a prefix after a confirmation that gives the count', async () => {
    await open('cfg/owner')
    await editor().getByRole('button', { name: 'Delete' }).click()
    await expect.poll(() => editor().getByRole('status').innerText()).toBe('Deleted.')
    expect(await stored('cfg/owner')).toBeUndefined()

    for (let i = 0; i < 5; i++) await engine().put(`old/${i}`, 'x')
    await engine().put('older', 'not under old/')
    await page.getByRole('button', { name: 'Tree' }).click()
    await page.getByLabel('Prefix', { exact: true }).fill('old/')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByRole('button', { name: 'Delete prefix' }).click()
    const dialog = page.getByRole('dialog', { name: 'Confirm delete' })
    await expect.poll(() => dialog.innerText()).toContain('Delete 5 keys under “old/”?')
    expect((await engine().get('old/', { prefix: true, countOnly: true })).count).toBe(5)
    await dialog.getByRole('button', { name: 'Confirm delete' }).click()
    await expect.poll(() => page.getByText('Deleted 5 keys under “old/”.').count()).toBe(1)
    expect((await engine().get('old/', { prefix: true, countOnly: true })).count).toBe(0)
    expect(await stored('older')).toBeDefined()
  })
})
