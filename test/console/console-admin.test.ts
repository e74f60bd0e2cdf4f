import { readFile } from 'node:fs/promises'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { open, type Engine } from '../../src/api/engine.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { browserPath, NO_BROWSER_REASON, startConsole, type ConsoleRig } from './browser.ts'

/** Leases, cluster status, compaction, snapshots, metrics, users and roles, import and export, through the page. */

if (browserPath === undefined) console.warn(`console browser tests skipped: ${NO_BROWSER_REASON}`)

describe.skipIf(browserPath === undefined)('console: administration', () => {
  let rig: ConsoleRig
  let page: Page
  let engine: Engine
  const clock = new ManualClock(1_000_000)
  beforeAll(async () => {
    engine = await open({ clock })
    rig = await startConsole({ engine })
    page = await rig.newPage()
  })
  afterAll(async () => {
    await rig?.close()
    await engine?.close()
  })

  const tab = (name: string) => page.getByRole('tab', { name }).click()
  const leaseRows = () => page.getByRole('region', { name: 'Leases' }).getByRole('row')

  test('leases: grant, a TTL that counts down, attached keys, keep-alive, revoke', async () => {
    await tab('Leases')
    await page.getByLabel('TTL (seconds)').fill('100')
    await page.getByRole('button', { name: 'Grant lease' }).click()
    await expect.poll(() => leaseRows().count()).toBe(2)
    const id = (await engine.leases()).leases[0]!.id
    await engine.put('session/a', 'x', { lease: id })
    const row = () => leaseRows().nth(1).getByRole('cell').allInnerTexts()
    await expect.poll(async () => (await row()).slice(0, 4)).toEqual([String(id), '100 s', '100 s', 'session/a'])
    await clock.advance(30_000)
    await expect.poll(async () => (await row())[1]).toBe('70 s')
    await page.getByRole('button', { name: `Keep alive ${id}` }).click()
    await expect.poll(async () => (await row())[1]).toBe('100 s')
    await page.getByRole('button', { name: `Revoke ${id}` }).click()
    await expect.poll(() => page.getByText('No leases.').count()).toBe(1)
    expect((await engine.get('session/a')).kvs).toEqual([])
  })

  test('cluster: status, compaction (with etcd refusing a future revision), snapshot download, live metrics charts', async () => {
    for (let i = 0; i < 5; i++) await engine.put(`c/${i}`, 'v')
    await tab('Cluster')
    const status = page.getByRole('region', { name: 'Cluster' }).getByLabel('Status')
    const field = async (name: string) => {
      const texts = await status.locator('dt, dd').allInnerTexts()
      return texts[texts.indexOf(name) + 1]
    }
    await expect.poll(() => field('revision')).toBe(String(engine.revision))
    expect(await field('keys')).toBe('5')
    expect(await field('compact revision')).toBe('0')
    expect(await field('version')).toBe('3.4.23')

    await page.getByLabel('Compact at revision').fill('999')
    await page.getByRole('button', { name: 'Compact' }).click()
    await expect.poll(() => page.getByRole('alert').first().innerText()).toBe('etcdserver: mvcc: required revision is a future revision')
    await page.getByLabel('Compact at revision').fill('6')
    await page.getByRole('button', { name: 'Compact' }).click()
    await expect.poll(() => field('compact revision')).toBe('6')

    const downloading = page.waitForEvent('download')
    await page.getByRole('button', { name: 'Download snapshot' }).click()
    const download = await downloading
    const file = await readFile((await download.path())!)
    expect(download.suggestedFilename()).toBe('etcdlite.snapshot.db')
    expect(file.length).toBeGreaterThan(1000)

    await expect.poll(() => page.getByRole('img', { name: 'Requests per second' }).locator('canvas').count()).toBe(1)
    await engine.put('c/more', 'v')
    await expect.poll(() => page.getByLabel('Latest metrics').innerText(), { timeout: 5_000 }).toContain('keys 6')
  })

  test('users and roles: add, grant, and "can user X read/write key Y?"', async () => {
    await tab('Users and roles')
    const form = (name: string) => page.getByRole('form', { name })
    await form('Add user').getByLabel('Name').fill('bob')
    await form('Add user').getByLabel('Password').fill('bobpw')
    await form('Add user').getByRole('button', { name: 'Add user' }).click()
    await expect.poll(() => page.getByRole('status').first().innerText()).toBe('Added user bob.')
    await form('Add role').getByLabel('Role name').fill('writer')
    await form('Add role').getByRole('button', { name: 'Add role' }).click()
    await expect.poll(() => page.getByRole('status').first().innerText()).toBe('Added role writer.')
    const grant = form('Grant permission')
    await grant.getByLabel('To role').fill('writer')
    await grant.getByLabel('Permission').selectOption('WRITE')
    await grant.getByLabel('On key').fill('jobs/')
    await grant.getByRole('button', { name: 'Grant permission' }).click()
    await expect.poll(() => page.getByRole('table', { name: 'Roles' }).innerText()).toContain('WRITE jobs/*')
    await form('Grant role').getByLabel('User').fill('bob')
    await form('Grant role').getByLabel('Role').fill('writer')
    await form('Grant role').getByRole('button', { name: 'Grant role' }).click()
    await expect.poll(() => page.getByRole('table', { name: 'Users' }).innerText()).toContain('writer')
    expect((await engine.services.auth.userGet({ name: 'bob' })).roles).toEqual(['writer'])

    const check = form('Check access')
    await check.getByLabel('Can user').fill('bob')
    await check.getByLabel('read or write key').fill('jobs/42')
    await check.getByRole('button', { name: 'Check' }).click()
    await expect.poll(() => check.getByRole('status').innerText()).toBe('bob on “jobs/42”: read no, write yes')
    await check.getByLabel('read or write key').fill('other')
    await check.getByRole('button', { name: 'Check' }).click()
    await expect.poll(() => check.getByRole('status').innerText()).toBe('bob on “other”: read no, write no')
    await form('Grant role').getByLabel('User').fill('nobody')
    await form('Grant role').getByRole('button', { name: 'Grant role' }).click()
    await expect.poll(() => page.getByRole('alert').first().innerText()).toBe('etcdserver: user name not found')
  })

  test('import and export: a prefix out as JSON or YAML, back in after a dry run that changes nothing', async () => {
    await engine.put('exp/name', 'shop')
    await engine.put('exp/bin', Buffer.from([0, 1, 255]))
    await tab('Import/export')
    await page.getByLabel('Export prefix').fill('exp/')
    await page.getByRole('button', { name: 'Export' }).click()
    const doc = page.getByLabel('Document')
    await expect.poll(() => doc.inputValue()).toBe('{\n  "exp/bin": {\n    "base64": "AAH/"\n  },\n  "exp/name": "shop"\n}\n')
    await page.getByLabel('As').selectOption('yaml')
    await page.getByRole('button', { name: 'Export' }).click()
    await expect.poll(() => doc.inputValue()).toBe('exp/bin:\n  base64: AAH/\nexp/name: shop\n')

    await doc.fill('exp/bin:\n  base64: AAH/\nexp/name: market\nexp/new: "1"\n')
    const revision = engine.revision
    await page.getByRole('button', { name: 'Preview import' }).click()
    const preview = page.getByLabel('Import preview')
    await expect.poll(() => preview.innerText()).toContain('Dry run: 1 to create, 1 to update, 1 to leave unchanged.')
    expect(engine.revision).toBe(revision)
    await page.getByRole('button', { name: 'Apply import' }).click()
    await expect.poll(() => page.getByRole('status').first().innerText()).toBe('Imported 2 keys in 1 transaction.')
    expect((await engine.get('exp/name')).kvs[0]!.value.toString()).toBe('market')
    expect((await engine.get('exp/new')).kvs[0]!.value.toString()).toBe('1')
    expect(engine.revision).toBe(revision + 1)

    await doc.fill('[1, 2]')
    await page.getByRole('button', { name: 'Preview import' }).click()
    await expect.poll(() => page.getByRole('alert').first().innerText()).toBe('the document must be an object from key to value')
  })
})
