import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { buildConsole } from '../../console/build.ts'
import { serve, type ServeOptions, type Serving } from '../../src/server/serve.ts'

/**
 * The console's browser tests drive a real headless Chromium (Debian's chromium-headless-shell, or chromium) with
 * playwright-core against a live serve() on port 0. The page is bundled first, so a test file runs alone too.
 */

const CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium', '/usr/lib/chromium/chromium-headless-shell']

/** browserPath is the Chromium to drive, or undefined when none is installed (the tests then skip, saying why). */
export const browserPath: string | undefined = [process.env.CHROMIUM_PATH, ...CANDIDATES].find((p) => p !== undefined && existsSync(p))

export const NO_BROWSER_REASON = `no Chromium found (looked for ${CANDIDATES.join(', ')}; apt-get install chromium-headless-shell)`

export interface ConsoleRig {
  readonly server: Serving
  readonly browser: BrowserContext
  readonly url: string
  newPage(): Promise<Page>
  close(): Promise<void>
}

/** startConsole bundles the page, serves an engine and launches the browser on a fresh profile (user data dir). */
export async function startConsole(options: ServeOptions = {}): Promise<ConsoleRig> {
  return consoleOn(await serve({ port: 0, ...options }))
}

/** consoleOn bundles the page and launches the browser on a server already running (a fake's, say); close() stops both. */
export async function consoleOn(server: Serving): Promise<ConsoleRig> {
  await buildConsole()
  const profile = await mkdtemp(join(tmpdir(), 'etcdlite-console-'))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: browserPath!,
    viewport: { width: 1280, height: 860 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  const url = `${server.urls[0]}/ui/`
  return {
    server,
    browser,
    url,
    newPage: async () => {
      const page = await browser.newPage()
      page.setDefaultTimeout(8_000)
      await page.goto(url)
      return page
    },
    close: async () => {
      await browser.close()
      await server.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
