import { fileURLToPath } from 'node:url'
import { open } from '../../src/api/engine.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { browserPath, NO_BROWSER_REASON, startConsole } from './browser.ts'

/**
 * Screenshots of the console's main views for the README (docs/console-*.png), taken from a live server on a small
 * example store: `npm run console:screenshots`.
 */

if (browserPath === undefined) throw new Error(NO_BROWSER_REASON)
const docs = fileURLToPath(new URL('../../docs/', import.meta.url))
// On a ManualClock, so the leases view shows its "advance time" control.
const engine = await open({ clock: new ManualClock(Date.UTC(2026, 0, 15, 9, 30)) })
const rig = await startConsole({ engine })
try {
  for (const [i, svc] of ['billing', 'checkout', 'search'].entries()) {
    await engine.put(`config/${svc}/replicas`, String(i + 1))
    await engine.put(`config/${svc}/settings.json`, JSON.stringify({ timeoutMs: 500 * (i + 1), retries: 3, features: ['a', 'b'] }))
  }
  await engine.put('config/checkout/settings.json', JSON.stringify({ timeoutMs: 1500, retries: 5, features: ['a', 'b', 'fast-pay'] }))
  await engine.put('feature-flags', 'dark-mode,beta')
  await engine.put(Buffer.from([0xca, 0xfe, 0x00, 0x01]), Buffer.from([1, 2, 3, 4]))
  const { id } = await engine.grant(300)
  await engine.put('sessions/node-1', 'alive', { lease: id })

  const page = await rig.newPage()
  await page.setViewportSize({ width: 1400, height: 900 })
  await page.getByRole('list', { name: 'Keys' }).getByRole('button', { name: 'config/ …' }).click()
  await page.getByRole('list', { name: 'Keys' }).getByRole('button', { name: 'checkout/ …' }).click()
  await page.getByRole('list', { name: 'Keys' }).getByRole('button', { name: 'settings.json' }).click()
  await page.getByRole('button', { name: 'History' }).click()
  await page.getByRole('checkbox', { name: /compare revision/ }).first().check()
  await page.getByRole('checkbox', { name: /compare revision/ }).last().check()
  await page.getByLabel('Diff').waitFor()
  await page.screenshot({ path: `${docs}console-keys.png`, fullPage: true })

  await page.getByRole('tab', { name: 'Latest changes' }).click()
  await page.getByLabel('Changes under').fill('config/')
  await page.getByLabel('How many').fill('8')
  await page.getByRole('button', { name: 'Show' }).click()
  await page.getByRole('table', { name: 'Feed' }).getByRole('row').nth(7).waitFor()
  await engine.put('config/billing/replicas', '2')
  await page.getByRole('table', { name: 'Feed' }).getByText('config/billing/replicas').first().waitFor()
  await page.screenshot({ path: `${docs}console-latest.png` })

  await page.getByRole('tab', { name: 'Leases' }).click()
  await page.getByRole('form', { name: 'Advance time' }).waitFor()
  await page.getByRole('region', { name: 'Leases' }).getByRole('row').nth(1).waitFor()
  await page.screenshot({ path: `${docs}console-leases.png` })

  await page.getByRole('tab', { name: 'Watch' }).click()
  await page.getByLabel('Watch prefix').fill('config/')
  await page.getByLabel('From revision').fill('2')
  await page.getByRole('button', { name: 'Start' }).click()
  await page.getByRole('list', { name: 'Events' }).getByRole('listitem').nth(6).waitFor()
  await engine.put('config/search/replicas', '4')
  await page.getByText(/^\d+ PUT config\/search\/replicas = 4$/).last().waitFor()
  await page.screenshot({ path: `${docs}console-watch.png` })

  await page.getByRole('tab', { name: 'Cluster' }).click()
  for (let s = 0; s < 6; s++) {
    for (let i = 0; i < 200 * (s + 1); i++) await engine.put(`load/${i % 50}`, String(i))
    await page.waitForTimeout(1000)
  }
  await page.screenshot({ path: `${docs}console-cluster.png`, fullPage: true })
} finally {
  await rig.close()
  await engine.close()
}
