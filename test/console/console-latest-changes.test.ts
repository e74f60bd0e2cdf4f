import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { fakeEtcd, type FakeEtcd } from '../../src/testing/fake-etcd.ts'
import { browserPath, consoleOn, NO_BROWSER_REASON, type ConsoleRig } from './browser.ts'

/** The feed of the latest changes under a prefix: from history, newest first, then live (across a dropped stream). */

if (browserPath === undefined) console.warn(`console browser tests skipped: ${NO_BROWSER_REASON}`)

describe.skipIf(browserPath === undefined)('console: latest changes', () => {
  let fake: FakeEtcd
  let rig: ConsoleRig
  let page: Page
  beforeAll(async () => {
    fake = await fakeEtcd()
    rig = await consoleOn(fake.server)
    page = await rig.newPage()
    await page.getByRole('tab', { name: 'Latest changes' }).click()
  })
  afterAll(async () => {
    await rig?.close()
    await fake?.close()
  })

  const feed = () => page.getByRole('table', { name: 'Feed' }).getByRole('row').allInnerTexts()
  const rows = async () => (await feed()).slice(1).map((r) => r.split('\t').map((c) => c.trim()).join(' ').trim())
  const status = () => page.getByRole('region', { name: 'Latest changes' }).getByRole('status').innerText()

  test('the N most recent changes under the prefix, newest first, with a short value preview; then live', async () => {
    await fake.engine.put('cfg/a', '1') // 2
    await fake.engine.put('elsewhere', 'x') // 3
    await fake.engine.put('cfg/b', 'y'.repeat(200)) // 4
    await fake.engine.put('cfg/a', '2') // 5
    await fake.engine.delete('cfg/b') // 6
    await fake.engine.put('cfg/bin', Buffer.from([0, 255])) // 7
    await page.getByLabel('Changes under').fill('cfg/')
    await page.getByLabel('How many').fill('4')
    await page.getByRole('button', { name: 'Show' }).click()
    await expect.poll(rows).toEqual(['7 PUT cfg/bin \\x00\\xff', '6 DELETE cfg/b', '5 PUT cfg/a 2', `4 PUT cfg/b ${'y'.repeat(80)}…`])
    await expect.poll(status).toBe('the latest 4 changes under “cfg/”, live')

    await fake.engine.put('cfg/c', 'new') // 8
    await fake.engine.put('elsewhere', 'not shown') // 9
    await expect.poll(rows).toEqual(['8 PUT cfg/c new', '7 PUT cfg/bin \\x00\\xff', '6 DELETE cfg/b', '5 PUT cfg/a 2'])
    await fake.engine.services.kv.txn({ success: [{ requestPut: { key: 'cfg/d', value: 'd' } }, { requestDeleteRange: { key: 'cfg/a' } }] }) // 10
    await expect.poll(rows).toEqual(['10 DELETE cfg/a', '10 PUT cfg/d d', '8 PUT cfg/c new', '7 PUT cfg/bin \\x00\\xff'])
  })

  test('it goes on after the server drops the stream, without a gap or a repeat', async () => {
    const drop = fake.faults.add({ method: 'Watch', fault: 'drop' })
    await expect.poll(status).toMatch(/^connection lost \(.*\); resuming from revision 11$/)
    await fake.engine.put('cfg/e', 'while away') // 11
    drop.remove()
    await expect.poll(status).toBe('the latest 4 changes under “cfg/”, live (resumed)')
    await fake.engine.put('cfg/f', 'after') // 12
    await expect.poll(rows).toEqual(['12 PUT cfg/f after', '11 PUT cfg/e while away', '10 DELETE cfg/a', '10 PUT cfg/d d'])
  })

  test('every key when no prefix is given; a count out of bounds is refused with the reason', async () => {
    await page.getByLabel('Changes under').fill('')
    await page.getByLabel('How many').fill('2')
    await page.getByRole('button', { name: 'Show' }).click()
    await expect.poll(rows).toEqual(['12 PUT cfg/f after', '11 PUT cfg/e while away'])
    await page.getByLabel('How many').fill('5000')
    await page.getByRole('button', { name: 'Show' }).click()
    await expect.poll(() => page.getByRole('alert').innerText()).toBe('latestChanges: limit must be a whole number from 1 to 1000')
  })
})
