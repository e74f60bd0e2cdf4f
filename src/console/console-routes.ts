import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../api/engine.ts'
import { isLoopback } from '../util/loopback.ts'
import { serveLatestChanges } from './latest-changes-route.ts'
import { servePageRange } from './page-range.ts'
import { serveAdvanceTime, serveClockStatus } from './time-control.ts'

export { isLoopback } from '../util/loopback.ts'

/**
 * The web console's HTTP routes, on the client port beside the JSON gateway: the page's static files under /ui/
 * (built by `npm run build:console` into dist/console-web), and small JSON calls the gateway has no route for:
 * /ui/api/status (the compact revision, which etcd 3.4's Status does not report, and whether auth is on: the 3.4
 * gateway has no AuthStatus route), /ui/api/range (a page of a range without counting the whole range; see
 * page-range.ts), /ui/api/changes (the latest changes under a prefix, newest first; see latest-changes-route.ts),
 * and /ui/api/clock and /ui/api/advance-time (moving a ManualClock; see time-control.ts). Every
 * other read and write the page makes goes through the JSON gateway: a real etcd request with etcd's auth checks
 * and errors.
 */

/** CONSOLE_PATH is where the console is served. */
export const CONSOLE_PATH = '/ui/'

/** ConsoleMode: on, off, or 'auto' (on for loopback clients' listeners; elsewhere only over TLS with auth on). */
export type ConsoleMode = boolean | 'auto'

export interface ConsoleRoutesOptions {
  readonly mode: ConsoleMode
  /** engine is the engine served now. */
  readonly engine: () => Engine
  readonly authEnabled: () => Promise<boolean>
  /** bundleDir holds index.html, app.js and app.css. @default dist/console-web of this package */
  readonly bundleDir?: URL
}

/** CONSOLE_BUNDLE_DIR is where `npm run build:console` writes the page, from src/console or dist/console alike. */
export const CONSOLE_BUNDLE_DIR = new URL('../../dist/console-web/', import.meta.url)

const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
}

/** POST_CALLS are the console's JSON calls that take a request body. */
const POST_CALLS: Readonly<Record<string, (req: IncomingMessage, res: ServerResponse, options: ConsoleRoutesOptions) => void>> = {
  'api/range': (req, res, options) => servePageRange(req, res, options.engine()),
  'api/changes': (req, res, options) => serveLatestChanges(req, res, options.engine()),
  'api/advance-time': (req, res, options) => serveAdvanceTime(req, res, { engine: options.engine(), authEnabled: options.authEnabled }),
}

/**
 * consoleRoutes answers requests under /ui (returning true) and returns false for every other path. A request the
 * console is not enabled for gets the client port's plain 404, as if there were no console.
 */
export function consoleRoutes(options: ConsoleRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const dir = options.bundleDir ?? CONSOLE_BUNDLE_DIR
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path !== '/ui' && !path.startsWith(CONSOLE_PATH)) return false
    void enabledFor(req, options).then(
      (enabled) => {
        if (!enabled) {
          req.resume()
          return text(res, 404, '404 page not found')
        }
        const name = path.slice(CONSOLE_PATH.length)
        const post = POST_CALLS[name]
        if (post !== undefined) {
          if (req.method !== 'POST') return text(res, 405, 'Method Not Allowed')
          return post(req, res, options)
        }
        if (name === 'api/clock' && req.method === 'GET') {
          return serveClockStatus(req, res, { engine: options.engine(), authEnabled: options.authEnabled })
        }
        req.resume()
        if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method Not Allowed')
        if (path === '/ui') {
          res.writeHead(301, { Location: CONSOLE_PATH, 'Content-Length': 0 })
          return res.end()
        }
        if (name === 'api/status') {
          return void options.authEnabled().then((authEnabled) =>
            text(res, 200, JSON.stringify({ ...statusOf(options.engine()), authEnabled }), 'application/json'),
          )
        }
        const entry = FILES[name]
        if (entry === undefined) return text(res, 404, '404 page not found')
        return void readFile(new URL(entry.file, dir)).then(
          (body) => {
            res.writeHead(200, { 'Content-Type': entry.type, 'Content-Length': body.length, 'Cache-Control': 'no-cache' })
            res.end(req.method === 'HEAD' ? undefined : body)
          },
          () => text(res, 503, 'etcdlite: the web console is not built; run `npm run build` (or `npm run build:console`)'),
        )
      },
      () => text(res, 500, 'Internal Server Error'),
    )
    return true
  }
}

/**
 * enabledFor decides per request, from the listener the request came in on: 'auto' serves loopback listeners, and
 * others only when the connection is TLS and auth is on (so no one reaches the store's contents in clear or without
 * a password).
 */
async function enabledFor(req: IncomingMessage, options: ConsoleRoutesOptions): Promise<boolean> {
  if (options.mode !== 'auto') return options.mode
  if (isLoopback(req.socket.localAddress ?? '')) return true
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true
  return encrypted && (await options.authEnabled())
}

/** ConsoleStatus is what /ui/api/status answers: counters the engine keeps, as /metrics also publishes them. */
export interface ConsoleStatus {
  readonly revision: number
  readonly compactRevision: number
  readonly keys: number
  readonly watchers: number
  readonly leases: number
  readonly authEnabled: boolean
}

function statusOf(engine: Engine): Omit<ConsoleStatus, 'authEnabled'> {
  const s = engine.stats()
  return { revision: s.revision, compactRevision: Math.max(s.compactRevision, 0), keys: s.keys, watchers: s.watchers, leases: s.leases }
}

function text(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}
