import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Engine } from '../api/engine.ts'
import { ETCD_VERSION } from '../maintenance/maintenance-service.ts'
import { createGateway, plainError, type GatewayOptions } from './gateway/gateway.ts'
import type { ServerMetrics } from './metrics.ts'

/**
 * The HTTP/1.1 face of the client port, as etcd 3.4 serves it: the JSON gateway under /v3/, and /health, /version
 * and /metrics. Any other path gets Go's plain "404 page not found".
 */

/** ETCD_CLUSTER_VERSION is the cluster version a 3.4 member reports. */
export const ETCD_CLUSTER_VERSION = '3.4.0'

export interface HttpFaceOptions extends GatewayOptions {
  readonly engine: Engine
  readonly metrics: ServerMetrics
  /** routes answers requests of its own (returning true) before the gateway and the endpoints here. */
  readonly routes?: (req: IncomingMessage, res: ServerResponse) => boolean
}

/** HttpFace is the HTTP/1.1 server, which never listens: the front door hands it connections. */
export interface HttpFace {
  readonly server: Server
  /** idle resolves once no request is in flight (streams included). */
  idle(): Promise<void>
  /** closeAll cuts every connection. */
  closeAll(): void
}

export function createHttpFace(options: HttpFaceOptions): HttpFace {
  const gateway = createGateway(options)
  let inFlight = 0
  let onIdle: (() => void)[] = []
  const server = createServer(
    {
      // Watch and keepalive bodies stay open as long as the stream does.
      requestTimeout: 0,
      keepAlive: true,
    },
    (req, res) => {
      inFlight++
      res.once('close', () => {
        if (--inFlight > 0) return
        const waiting = onIdle
        onIdle = []
        for (const fn of waiting) fn()
      })
      // etcd's client port sends these on every response.
      res.setHeader('Access-Control-Allow-Headers', 'accept, content-type, authorization')
      res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS, PUT, DELETE')
      res.setHeader('Access-Control-Allow-Origin', '*')
      try {
        if (req.method === 'OPTIONS') {
          req.resume()
          res.writeHead(200, { 'Content-Length': 0 })
          res.end()
          return
        }
        if (options.routes?.(req, res) === true) return
        if (gateway(req, res)) return
        serveEndpoint(req, res, options)
      } catch {
        if (!res.headersSent) plainError(res, 500, 'Internal Server Error')
        else res.destroy()
      }
    },
  )
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request')
    else socket.destroy()
  })
  return {
    server,
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => onIdle.push(resolve))),
    closeAll: () => server.closeAllConnections(),
  }
}

function serveEndpoint(req: IncomingMessage, res: ServerResponse, options: HttpFaceOptions): void {
  const path = (req.url ?? '/').split('?')[0]!
  req.resume()
  if ((path === '/health' || path === '/version') && req.method !== 'GET') {
    res.setHeader('Allow', 'GET')
    plainError(res, 405, 'Method Not Allowed')
    return
  }
  switch (path) {
    case '/health':
      void health(options.engine).then((ok) => {
        if (ok) json(res, 200, '{"health":"true"}')
        else plainError(res, 503, '{"health":"false"}')
      })
      return
    case '/version':
      json(res, 200, `{"etcdserver":"${ETCD_VERSION}","etcdcluster":"${ETCD_CLUSTER_VERSION}"}`, 'application/json')
      return
    case '/metrics':
      options.metrics.render().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': options.metrics.contentType, 'Content-Length': Buffer.byteLength(text) })
          res.end(text)
        },
        () => plainError(res, 500, 'Internal Server Error'),
      )
      return
    default:
      plainError(res, 404, '404 page not found')
  }
}

/**
 * health is etcd's check: the member answers, and no alarm is raised (with no raft here, a leader always exists).
 * Like etcd's, it reads nothing from the key space, so it moves no KV counter.
 */
async function health(engine: Engine): Promise<boolean> {
  if (engine.closed) return false
  try {
    const status = await engine.services.maintenance.status({})
    return (status.errors ?? []).length === 0
  } catch {
    return false
  }
}

/** json answers a small JSON body; etcd sets no Content-Type on a healthy /health, so Go's sniffing makes it text/plain. */
function json(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}
