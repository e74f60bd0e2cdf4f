import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { browserPath, NO_BROWSER_REASON, startConsole, type ConsoleRig } from './browser.ts'

/** Browsing through the page: tree and flat views, every kind of key, prefix search, paging that does not grow. */

if (browserPath === undefined) console.warn(`console browser tests skipped: ${NO_BROWSER_REASON}`)

describe.skipIf(browserPath === undefined)('console: browse', () => {
  let rig: ConsoleRig
  let page: Page
  beforeAll(async () => {
    rig = await startConsole()
    const e = rig.server.engine
    for (let i = 0; i < 12; i++) await e.put(`config/app${i % 3}/key${i}`, `value ${i}`)
    await e.put('plain-key', 'no separator in this key')
    await e.put(Buffer.from([0xff, 0x00, 0x41]), Buffer.from([0xde, 0xad, 0xbe, 0xef]))
    await e.put('a:b:c', 'colon separated')
    page = await rig.newPage()
  })
  afterAll(async () => {
    await rig?.close()
  })

  const keyList = (p: Page) => p.getByRole('list', { name: 'Keys' })

  test('the tree shows directories, keys without a separator and binary keys (escaped) at the top', async () => {
    const list = keyList(page)
    await expect.poll(() => list.getByRole('button').allInnerTexts()).toEqual(['a:b:c', 'config/ …', 'plain-key', '\\xff\\x00A'])
    await list.getByRole('button', { name: 'config/ …' }).click()
    await expect.poll(() => list.getByRole('button').allInnerTexts()).toEqual(['app0/ …', 'app1/ …', 'app2/ …'])
    await list.getByRole('button', { name: 'app1/ …' }).click()
    await expect.poll(() => list.getByRole('button').allInnerTexts()).toEqual(['key1', 'key10', 'key4', 'key7'])
    await list.getByRole('button', { name: 'key4' }).click()
    await expect.poll(() => page.getByRole('textbox', { name: 'Value' }).inputValue()).toBe('value 4')
    // The breadcrumbs lead back up.
    await page.getByRole('navigation', { name: 'Path' }).getByRole('button', { name: '(all keys)' }).click()
    await expect.poll(() => list.getByRole('button').count()).toBe(4)
  })

  test('a binary key opens with its value in hex', async () => {
    await keyList(page).getByRole('button', { name: '\\xff\\x00A' }).click()
    await expect.poll(() => page.getByRole('heading', { level: 2 }).innerText()).toBe('\\xff\\x00A')
    await expect.poll(() => page.getByRole('textbox', { name: 'Value' }).inputValue()).toBe('de ad be ef')
    await expect.poll(() => page.getByRole('region', { name: 'Key', exact: true }).getByLabel('Format').inputValue()).toBe('hex')
  })

  test('the separator can be changed, and the flat view lists every key with a count', async () => {
    await page.getByLabel('Separator').fill(':')
    await page.getByLabel('Separator').press('Enter')
    const list = keyList(page)
    await expect.poll(() => list.getByRole('button').allInnerTexts()).toContain('a: …')
    await page.getByRole('button', { name: 'Flat' }).click()
    await expect.poll(() => list.getByRole('button').count()).toBe(15)
    await page.getByRole('button', { name: 'Count keys' }).click()
    await expect.poll(() => page.getByText('15 keys').count()).toBe(1)
    await page.getByLabel('Separator').fill('/')
    await page.getByLabel('Separator').press('Enter')
  })

  test('search by prefix narrows the listing', async () => {
    await page.getByLabel('Prefix', { exact: true }).fill('config/app2/')
    await page.getByRole('button', { name: 'Search' }).click()
    await expect.poll(() => keyList(page).getByRole('button').allInnerTexts()).toEqual(['config/app2/key11', 'config/app2/key2', 'config/app2/key5', 'config/app2/key8'])
    await page.getByRole('button', { name: 'Count keys' }).click()
    await expect.poll(() => page.getByText('4 keys').count()).toBe(1)
  })

  test('100k keys open with the same requests as 100: one page at a time, with a continuation key', async () => {
    const e = rig.server.engine
    await e.delete('\0', { rangeEnd: '\0' })
    for (let i = 0; i < 100; i++) await e.put(`big/item${String(i).padStart(6, '0')}`, 'v')
    const small = await openFlat('big/')
    for (let from = 100; from < 100_000; from += 1000) {
      const puts = []
      for (let i = from; i < Math.min(from + 1000, 100_000); i++) puts.push(e.put(`big/item${String(i).padStart(6, '0')}`, 'v'))
      await Promise.all(puts)
    }
    const large = await openFlat('big/')
    // Opening asks the same ranges whatever the size, and gets the same bytes: a page, never the whole prefix (the
    // server's side of this, a range walk that stops past the page, is page-range.test.ts).
    expect(large.requests).toBe(small.requests)
    expect(large.bytes).toBeLessThan(small.bytes * 1.2)
    console.log(`console: open flat view of 100 keys ${small.ms.toFixed(0)} ms, of 100000 keys ${large.ms.toFixed(0)} ms`)
    // The exact count is etcd's (every key read), on demand.
    await page.getByRole('button', { name: 'Count keys' }).click()
    await expect.poll(() => page.getByText('100000 keys').count()).toBe(1)
    // Load more follows the continuation key.
    const list = keyList(page)
    await expect.poll(() => list.getByRole('button').count()).toBe(100)
    await page.getByRole('button', { name: 'Load more' }).click()
    await expect.poll(() => list.getByRole('button').count()).toBe(200)
    expect(await list.getByRole('button').nth(100).innerText()).toBe('big/item000100')
    // The tree view shows one directory, from a page of ranges that skip the directory's contents.
    await page.getByRole('button', { name: 'Tree' }).click()
    await page.getByRole('navigation', { name: 'Path' }).getByRole('button', { name: '(all keys)' }).click()
    await expect.poll(() => list.getByRole('button').allInnerTexts()).toEqual(['big/ …'])
  })

  /** openFlat opens a fresh page on the flat view of a prefix and measures the gateway traffic it took. */
  async function openFlat(prefix: string): Promise<{ requests: number; bytes: number; ms: number }> {
    await page.close()
    page = await rig.newPage()
    await expect.poll(() => keyList(page).getByRole('button').count()).toBeGreaterThan(0)
    let requests = 0
    let bytes = 0
    const onResponse = async (r: import('playwright-core').Response) => {
      if (!r.url().includes('/v3/kv/range') && !r.url().includes('/ui/api/range')) return
      requests++
      bytes += (await r.body()).length
    }
    page.on('response', onResponse)
    const started = performance.now()
    await page.getByRole('button', { name: 'Flat' }).click()
    await page.getByLabel('Prefix', { exact: true }).fill(prefix)
    await page.getByRole('button', { name: 'Search' }).click()
    await expect.poll(() => keyList(page).getByRole('button').first().innerText()).toBe(`${prefix}item000000`)
    const ms = performance.now() - started
    await page.waitForLoadState('networkidle')
    page.off('response', onResponse)
    return { requests, bytes, ms }
  }
})
