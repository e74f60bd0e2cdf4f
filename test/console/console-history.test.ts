import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { browserPath, NO_BROWSER_REASON, startConsole, type ConsoleRig } from './browser.ts'

/** A key's versions with diffs and restore; the whole tree at a past revision, down to the compact revision. */

if (browserPath === undefined) console.warn(`console browser tests skipped: ${NO_BROWSER_REASON}`)

describe.skipIf(browserPath === undefined)('console: history and time travel', () => {
  let rig: ConsoleRig
  let page: Page
  beforeAll(async () => {
    rig = await startConsole()
    page = await rig.newPage()
  })
  afterAll(async () => {
    await rig?.close()
  })

  const engine = () => rig.server.engine
  const editor = () => page.getByRole('region', { name: 'Key', exact: true })
  const keyButtons = () => page.getByRole('list', { name: 'Keys' }).getByRole('button')
  const rows = () => page.getByRole('region', { name: 'History' }).getByRole('row')

  test('a key lists every version (across a delete), diffs two, and restores one', async () => {
    const e = engine()
    await e.put('svc/conf', 'port: 80\nhost: a\n') // rev 2
    await e.put('svc/conf', 'port: 81\nhost: a\n') // rev 3
    await e.delete('svc/conf') // rev 4
    await e.put('svc/conf', 'port: 82\nhost: b\n') // rev 5
    await page.getByRole('button', { name: 'Refresh' }).click()
    await page.getByRole('list', { name: 'Keys' }).getByRole('button', { name: 'svc/ …' }).click()
    await keyButtons().getByText('conf', { exact: true }).click()
    await editor().getByRole('button', { name: 'History' }).click()
    await expect.poll(() => rows().count()).toBe(5) // the header and four changes
    const cells = async (i: number) => (await rows().nth(i).getByRole('cell').allInnerTexts()).slice(0, 5)
    expect(await cells(1)).toEqual(['2', '1', '2', '2', ''])
    expect(await cells(2)).toEqual(['3', '2', '2', '3', ''])
    expect(await cells(3)).toEqual(['4', 'deleted', '', '4', ''])
    expect(await cells(4)).toEqual(['5', '1', '5', '5', ''])

    await page.getByRole('checkbox', { name: 'compare revision 2' }).check()
    await page.getByRole('checkbox', { name: 'compare revision 5' }).check()
    const diff = page.getByLabel('Diff')
    await expect.poll(() => diff.innerText()).toContain('Diff from revision 2 to 5')
    const text = await diff.locator('pre').innerText()
    expect(text).toContain('- port: 80')
    expect(text).toContain('+ port: 82')
    expect(text).toContain('- host: a')
    expect(text).toContain('+ host: b')

    await page.getByRole('button', { name: 'Restore revision 3' }).click()
    await expect.poll(async () => (await e.get('svc/conf')).kvs[0]?.value.toString()).toBe('port: 81\nhost: a\n')
    await expect.poll(() => rows().count()).toBe(6)
    expect(await cells(5)).toEqual(['6', '2', '5', '6', ''])
  })

  test('the revision slider shows the tree as it was; the compact revision is its low end, and below it etcd refuses', async () => {
    const e = engine()
    await e.put('tt/a', 'first') // rev 7
    const before = e.revision
    await e.put('tt/b', 'second') // rev 8
    await e.delete('tt/a') // rev 9
    await page.getByLabel('Prefix', { exact: true }).fill('tt/')
    await page.getByRole('button', { name: 'Search' }).click()
    await expect.poll(() => keyButtons().allInnerTexts()).toEqual(['b'])
    await expect.poll(() => page.getByText('live at revision 9').count()).toBe(1)

    await page.getByLabel('Revision', { exact: true }).fill(String(before))
    await expect.poll(() => page.getByText(`viewing revision ${before} of 9`).count()).toBe(1)
    await expect.poll(() => keyButtons().allInnerTexts()).toEqual(['a'])
    await keyButtons().getByText('a').click()
    await expect.poll(() => editor().getByRole('textbox', { name: 'Value' }).inputValue()).toBe('first')
    expect(await editor().getByRole('button', { name: 'Save' }).count()).toBe(0) // the past is read-only

    await page.getByRole('button', { name: 'Live' }).click()
    await expect.poll(() => keyButtons().allInnerTexts()).toEqual(['b'])

    await e.compact(8)
    await page.getByRole('button', { name: 'Refresh' }).click()
    await expect.poll(() => page.getByText(/compact revision 8$/).count()).toBe(1)
    expect(await page.getByLabel('Revision', { exact: true }).getAttribute('min')).toBe('8')
    await page.getByLabel('Go to revision').fill('8')
    await page.getByRole('button', { name: 'Go', exact: true }).click()
    await expect.poll(() => keyButtons().allInnerTexts()).toEqual(['a', 'b'])
    await page.getByLabel('Go to revision').fill(String(before))
    await page.getByRole('button', { name: 'Go', exact: true }).click()
    await expect.poll(() => page.getByRole('alert').first().innerText()).toBe('etcdserver: mvcc: required revision has been compacted')
    expect(await keyButtons().count()).toBe(0)
  })
})
