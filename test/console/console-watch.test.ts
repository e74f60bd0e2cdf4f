import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { open, type Engine } from '../../src/api/engine.ts'
import { createTap } from '../../src/testing/call-tap.ts'
import { Faults } from '../../src/testing/faults.ts'
import { browserPath, NO_BROWSER_REASON, startConsole, type ConsoleRig } from './browser.ts'

/** The live watch panel: from now or a past revision, and it resumes after the server drops the stream, saying so. */

if (browserPath === undefined) console.warn(`console browser tests skipped: ${NO_BROWSER_REASON}`)

describe.skipIf(browserPath === undefined)('console: watch', () => {
  let rig: ConsoleRig
  let page: Page
  let engine: Engine
  const faults = new Faults()
  beforeAll(async () => {
    engine = await open()
    rig = await startConsole({ engine, tap: createTap({ faults, engine: () => engine }) })
    page = await rig.newPage()
    await page.getByRole('tab', { name: 'Watch' }).click()
  })
  afterAll(async () => {
    await rig?.close()
    await engine?.close()
  })

  const events = () => page.getByRole('list', { name: 'Events' }).getByRole('listitem').allInnerTexts()
  const state = () => page.locator('.watch-state').innerText()
  const start = async (prefix: string, from: string) => {
    await page.getByLabel('Watch prefix').fill(prefix)
    await page.getByLabel('From revision').fill(from)
    await page.getByRole('button', { name: /^(Start|Restart)$/ }).click()
  }

  test('from now, events arrive live; after the server drops the stream it resumes from the last revision seen and says so', async () => {
    await start('app/', '')
    await expect.poll(state).toBe('watching “app/” from now (revision 1)')
    await engine.put('app/a', '1') // rev 2
    await engine.put('other', 'not watched') // rev 3
    await engine.put('app/b', '2') // rev 4
    await expect.poll(events).toEqual(['2 PUT app/a = 1', '4 PUT app/b = 2'])

    const drop = faults.add({ method: 'Watch', fault: 'drop' })
    await expect.poll(state).toMatch(/^connection lost \(etcdserver: server stopped\); resuming from revision 5$/)
    await engine.put('app/c', '3') // rev 5, while the panel is disconnected
    await engine.delete('app/a') // rev 6
    drop.remove()
    await expect.poll(state).toBe('watching “app/” from revision 5')
    await expect.poll(events).toEqual(['2 PUT app/a = 1', '4 PUT app/b = 2', '5 PUT app/c = 3', '6 DELETE app/a'])
    const log = await page.getByRole('list', { name: 'Watch log' }).getByRole('listitem').allInnerTexts()
    expect(log[0]).toBe('connection lost: etcdserver: server stopped')
    expect(log.at(-1)).toBe('resumed from revision 5')
    await engine.put('app/d', '4') // rev 7
    await expect.poll(async () => (await events()).at(-1)).toBe('7 PUT app/d = 4')
  })

  test('from a past revision, history is replayed first; from a compacted one, etcd cancels and the panel says why', async () => {
    await start('app/', '4')
    await expect.poll(events).toEqual(['4 PUT app/b = 2', '5 PUT app/c = 3', '6 DELETE app/a', '7 PUT app/d = 4'])
    await engine.compact(6)
    await start('app/', '3')
    await expect.poll(state).toBe('watch canceled: etcdserver: mvcc: required revision has been compacted (compact revision 6)')
    expect(await events()).toEqual([])
  })
})
