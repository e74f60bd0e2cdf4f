import { createServer } from 'node:net'
import type { UntypedServiceImplementation } from '@grpc/grpc-js'
import { defaults, open, type Engine, type OpenOptions } from '../api/engine.ts'
import { startAutoCompaction, type AutoCompactionOptions } from './auto-compaction.ts'
import { openFrontDoor, type FrontDoor, type Handoff, type Listener, type TlsOptions } from './front-door.ts'
import { GRPC_OVERHEAD_BYTES } from './gateway/gateway.ts'
import { GrpcServer } from './grpc-server.ts'
import { createHttpFace, type HttpFace } from './http-face.ts'
import { currentServices } from './current-services.ts'
import type { ServerTap } from './server-tap.ts'
import { ServerMetrics } from './metrics.ts'
import { serviceHandlers, type HandlerContext } from './handlers.ts'
import type { Streams } from './stream-bridge.ts'
import { EtcdError } from '../util/errors.ts'
import { consoleRoutes } from '../console/console-routes.ts'
import type { ServiceName } from '../wire/proto.ts'

export type { TlsOptions } from './front-door.ts'

/** DEFAULT_PORT is etcd's client port. */
export const DEFAULT_PORT = 2379

/** ServeOptions configure `serve()`. Engine options (name, limits, clock, ...) are open()'s when no engine is given. */
export interface ServeOptions extends OpenOptions {
  /** engine to serve; serve() then leaves it open on close(). @default a new engine from open(options) */
  engine?: Engine
  /** host to listen on when `listenUrls` is not given. @default '127.0.0.1' */
  host?: string
  /** port to listen on when `listenUrls` is not given; 0 picks a free port. @default 2379 */
  port?: number
  /**
   * listenUrls, as etcd's --listen-client-urls: `http://host:port` serves plaintext, `https://host:port` TLS (needs
   * `tls`). Overrides host and port.
   */
  listenUrls?: string[]
  /** advertiseUrls are reported as this member's client URLs (etcd's --advertise-client-urls). @default the listen URLs */
  advertiseUrls?: string[]
  /** tls: server certificates, and optionally client-certificate authentication. */
  tls?: TlsOptions
  /** autoCompaction compacts old revisions on a timer, as etcd's --auto-compaction-mode/-retention. @default off */
  autoCompaction?: AutoCompactionOptions
  /** shutdownGraceMs: how long close() waits for calls in flight before cutting them off. @default 5000 */
  shutdownGraceMs?: number
  /**
   * ui serves the web console at /ui/ on this port (true), or not (false). By default it is on for loopback
   * listeners, and on other listeners only for TLS connections while auth is enabled.
   * @default 'auto'
   */
  ui?: boolean
  /** tap wraps every handler (the testing kit's faults and recording). @internal */
  tap?: ServerTap
}

/** Serving is a running server. */
export interface Serving extends AsyncDisposable {
  /** endpoint is `host:port` of the first listener: what a client's `hosts` / `--endpoints` takes. */
  readonly endpoint: string
  /** endpoints lists `host:port` of every listener. */
  readonly endpoints: readonly string[]
  /** urls lists every listener as a URL (`http://127.0.0.1:2379`). */
  readonly urls: readonly string[]
  /** engine is the engine served now (see replaceEngine). */
  readonly engine: Engine
  /**
   * replaceEngine serves `next` from now on, on the same listeners: open streams (watches, keepalives) and calls
   * waiting on the old engine end with UNAVAILABLE "etcdserver: server stopped", as from a member going away, and the
   * old engine is closed. Metrics, /health, the gateway and snapshots follow the new engine. close() then closes
   * `next` only if serve() opened the first engine itself.
   */
  replaceEngine(next: Engine): Promise<void>
  /**
   * close stops accepting calls, lets calls in flight finish (up to shutdownGraceMs), ends open streams with
   * UNAVAILABLE, and closes the engine if serve() opened it. Idempotent.
   */
  close(): Promise<void>
}


/**
 * serve serves an engine over etcd's v3 gRPC API (KV, Watch, Lease, Maintenance, Cluster, Auth; membership changes
 * and leader moves answer UNIMPLEMENTED), so etcdctl, the etcd3 npm client and Go's clientv3 work against it unchanged. The same port
 * answers HTTP/1.1 as etcd's does: the JSON gateway (`POST /v3/kv/range`, ...), `/health`, `/version` and
 * `/metrics`; and etcdlite's web console at `/ui/` (see the `ui` option).
 *
 * @example
 * const server = await serve({ port: 0 })           // an in-memory etcd on a free port
 * const client = new Etcd3({ hosts: server.endpoint })
 * ...
 * await server.close()
 */
export async function serve(options: ServeOptions = {}): Promise<Serving> {
  const listeners = listenersOf(options)
  if (listeners.some((l) => l.secure) && options.tls === undefined) {
    throw new TypeError('serve: an https listen URL needs tls (cert and key)')
  }
  if (options.tls?.clientCertAuth === true && options.tls.ca === undefined) {
    throw new TypeError('serve: clientCertAuth needs a trusted CA (tls.ca)')
  }
  for (const l of listeners) if (l.port !== 0) await assertPortFree(l)

  const { engine: given, host: _h, port: _p, listenUrls: _l, advertiseUrls, tls, autoCompaction, shutdownGraceMs, tap, ui, ...engineOptions } = options
  let engine = given ?? (await open(engineOptions))
  const maxRequestBytes = options.maxRequestBytes ?? defaults.maxRequestBytes
  const server = new GrpcServer({ maxReceiveMessageBytes: maxRequestBytes + GRPC_OVERHEAD_BYTES })
  const streams: Streams = new Set()
  const urls: string[] = []
  const ctx: HandlerContext = {
    services: currentServices(() => engine.services),
    clientUrls: () => advertiseUrls ?? urls,
    streams,
    snapshot: (credentials) => engine.snapshot(credentials),
  }
  const implementations = serviceHandlers(ctx)
  // etcd 3.4 lists the grpc_server_* series of its lock and election services only once they are called.
  const lazy: ServiceName[] = ['v3lockpb.Lock', 'v3electionpb.Election']
  const { header } = await engine.services.maintenance.status({})
  const metrics = new ServerMetrics(
    { get engine() { return engine }, memberId: header.memberId },
    implementations.map(([name]) => name).filter((name) => !lazy.includes(name)),
    lazy,
  )
  const handlers = new Map<ServiceName, UntypedServiceImplementation>()
  for (const [name, impl] of implementations) {
    const counted = metrics.instrument(name, tap === undefined ? impl : tap.wrap(name, impl))
    handlers.set(name, counted)
    server.addService(name, counted)
  }

  // One port, both faces: the front door hands HTTP/2 to the gRPC server and HTTP/1.1 to the gateway's server.
  const authEnabled = async () => (await engine.services.auth.authStatus({})).enabled
  const webConsole = consoleRoutes({ mode: ui ?? 'auto', engine: () => engine, authEnabled })
  const http = createHttpFace({
    handlers,
    maxRequestBytes,
    get engine() {
      return engine
    },
    metrics,
    authEnabled,
    routes: tap?.http === undefined ? webConsole : (req, res) => tap.http!(req, res) || webConsole(req, res),
  })
  const handoff: Handoff = {
    grpc: (socket) => (tap?.refusing?.() === true ? socket.destroy() : server.injectConnection(socket)),
    http: (socket) => http.server.emit('connection', socket),
  }
  const doors: FrontDoor[] = []
  const endpoints: string[] = []
  try {
    for (const l of listeners) {
      const door = await openFrontDoor(l, l.secure ? tls : undefined, handoff)
      doors.push(door)
      const hostPort = `${l.host.includes(':') ? `[${l.host}]` : l.host}:${door.port}`
      endpoints.push(hostPort)
      urls.push(`${l.secure ? 'https' : 'http'}://${hostPort}`)
    }
  } catch (err) {
    for (const door of doors) door.stopAccepting()
    server.forceShutdown()
    if (given === undefined) await engine.close()
    throw err
  }
  tap?.attach?.({ cutConnections: () => server.cutSessions() })
  let stopCompaction = autoCompaction === undefined ? () => {} : startAutoCompaction(engine, autoCompaction)

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      stopCompaction()
      for (const door of doors) door.stopAccepting()
      tap?.release?.()
      await shutdown(server, http, streams, shutdownGraceMs ?? 5_000)
      for (const door of doors) door.destroyPending()
      if (given === undefined) await engine.close()
    })()
    return closing
  }
  const replaceEngine = async (next: Engine) => {
    if (closing !== undefined) throw new EtcdError('ETCD_STOPPED')
    const old = engine
    if (next === old) return
    stopCompaction()
    engine = next
    stopCompaction = autoCompaction === undefined ? () => {} : startAutoCompaction(engine, autoCompaction)
    tap?.release?.()
    for (const end of [...streams]) end()
    await old.close()
  }
  return {
    endpoint: endpoints[0]!,
    endpoints,
    urls,
    get engine() {
      return engine
    },
    replaceEngine,
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** listenersOf reads the listen URLs, or host and port. */
function listenersOf(options: ServeOptions): Listener[] {
  if (options.listenUrls === undefined || options.listenUrls.length === 0) {
    const port = options.port ?? DEFAULT_PORT
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`serve: bad port ${port}`)
    return [{ secure: options.tls !== undefined, host: options.host ?? '127.0.0.1', port }]
  }
  return options.listenUrls.map(parseListenUrl)
}

/** parseListenUrl reads one of etcd's client URLs: http(s)://host:port. */
export function parseListenUrl(text: string): Listener {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new TypeError(`serve: ${JSON.stringify(text)} is not a URL (expected http://host:port)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`serve: ${text}: only http:// and https:// listen URLs are supported`)
  }
  if (url.port === '') throw new TypeError(`serve: ${text}: the URL needs a port`)
  if (url.pathname !== '/' && url.pathname !== '') throw new TypeError(`serve: ${text}: a listen URL has no path`)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return { secure: url.protocol === 'https:', host, port: Number(url.port) }
}

/** PortInUseError: the address to listen on is taken (by another etcd, most likely). */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE'
  constructor(readonly address: string) {
    super(`etcdlite: cannot listen on ${address}: address already in use`)
    this.name = 'PortInUseError'
  }
}

/** assertPortFree checks that the port can be bound, so a port in use gets one clear error. */
export function assertPortFree(l: Listener): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const address = `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(address) : new Error(`etcdlite: cannot listen on ${address}: ${err.message}`))
    })
    probe.listen({ host: l.host, port: l.port, exclusive: true }, () => probe.close(() => resolve()))
  })
}

/**
 * shutdown stops the server: no new calls; streams (which never finish on their own) end with UNAVAILABLE; unary
 * calls in flight finish, up to `graceMs`, after which every connection is cut.
 */
async function shutdown(server: GrpcServer, http: HttpFace, streams: Streams, graceMs: number): Promise<void> {
  const grpcDone = new Promise<void>((resolve) => server.tryShutdown(() => resolve()))
  const done = Promise.all([grpcDone, http.idle()])
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs)
    timer.unref()
  })
  for (const end of [...streams]) end()
  if ((await Promise.race([done, timeout])) === 'timeout') server.forceShutdown()
  http.closeAll()
  clearTimeout(timer)
}
