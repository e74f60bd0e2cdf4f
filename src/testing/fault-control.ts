import type { IncomingMessage, ServerResponse } from 'node:http'
import { isLoopback } from '../util/loopback.ts'
import type { Engine } from '../api/engine.ts'
import type { Faults, FaultRule } from './faults.ts'

/**
 * The fault control: `fake.faults` as a small JSON HTTP API on the server's own port, for tests in other processes
 * and languages (`etcdlite serve --fault-control`). Off unless asked for.
 *
 * - `GET /etcdlite/faults`: `{"faults":[{"id":1,"rule":{...},"remaining":2}]}` (remaining null: every call)
 * - `POST /etcdlite/faults` with a rule (`{"method":"KV.Put","fault":"no-leader","times":1}`): 201 `{"id":1}`
 * - `DELETE /etcdlite/faults/{id}`: 200 `{"removed":1}`, or 404
 * - `DELETE /etcdlite/faults`: removes every rule, 200 `{"removed":n}`
 *
 * A bad rule answers 400 `{"error":"..."}` (the TypeError faults.add() raises) and changes nothing. Only loopback
 * clients are served, unless auth is enabled and the request carries (in `Authorization`) the token of a user with
 * the root role; others get 403.
 */

/** FAULTS_PATH is the control's path. */
export const FAULTS_PATH = '/etcdlite/faults'

/** MAX_BODY_BYTES caps a rule's JSON. */
const MAX_BODY_BYTES = 64 * 1024

/** faultControl returns the HTTP handler of the control: it answers paths under FAULTS_PATH and returns false for others. */
export function faultControl(faults: Faults, engine: () => Engine): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path !== FAULTS_PATH && !path.startsWith(`${FAULTS_PATH}/`)) return false
    void allowed(req, engine).then(
      (refusal) => {
        if (refusal !== undefined) {
          req.resume()
          send(res, 403, { error: refusal })
          return
        }
        route(req, res, path, faults)
      },
      () => send(res, 500, { error: 'fault control: cannot check the caller' }),
    )
    return true
  }
}

function route(req: IncomingMessage, res: ServerResponse, path: string, faults: Faults): void {
  const rest = path.slice(FAULTS_PATH.length)
  if (rest === '' || rest === '/') {
    if (req.method === 'GET') {
      req.resume()
      send(res, 200, { faults: faults.list().map((f) => ({ ...f, rule: jsonRule(f.rule) })) })
    } else if (req.method === 'POST') {
      readJson(req).then(
        (body) => {
          try {
            const { id } = faults.add(body as FaultRule)
            send(res, 201, { id })
          } catch (err) {
            send(res, 400, { error: (err as Error).message })
          }
        },
        (err: Error) => send(res, 400, { error: err.message }),
      )
    } else if (req.method === 'DELETE') {
      req.resume()
      const removed = faults.size
      faults.clear()
      send(res, 200, { removed })
    } else {
      req.resume()
      send(res, 405, { error: `fault control: ${req.method ?? ''} is not allowed here (GET, POST, DELETE)` })
    }
    return
  }
  req.resume()
  const id = Number(rest.slice(1))
  if (req.method !== 'DELETE') send(res, 405, { error: 'fault control: only DELETE is allowed on a rule' })
  else if (!Number.isSafeInteger(id) || !faults.remove(id)) send(res, 404, { error: `fault control: no rule ${rest.slice(1)}` })
  else send(res, 200, { removed: 1 })
}

/** allowed answers undefined for a caller the control serves, or why it refuses. */
async function allowed(req: IncomingMessage, engine: () => Engine): Promise<string | undefined> {
  if (isLoopback(req.socket.remoteAddress ?? '')) return undefined
  const services = engine().services
  if (!(await services.auth.authStatus({})).enabled) {
    return 'fault control: only loopback clients may use it while auth is off'
  }
  const token = req.headers.authorization
  if (token === undefined) return 'fault control: a token of a root user is required (Authorization header)'
  try {
    // Listing roles is an admin call: it succeeds only with a root user's token.
    await services.auth.roleList({}, { token })
    return undefined
  } catch {
    return 'fault control: the token is not a root user\'s'
  }
}


function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('fault control: the rule is too large'))
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        reject(new Error('fault control: the body is not JSON'))
      }
    })
    req.on('error', reject)
  })
}

/** jsonRule shows a rule as JSON: a byte prefix as a string. */
function jsonRule(rule: FaultRule): unknown {
  return rule.prefix instanceof Uint8Array ? { ...rule, prefix: Buffer.from(rule.prefix).toString('utf8') } : rule
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  const bytes = Buffer.from(JSON.stringify(body), 'utf8')
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length })
  res.end(bytes)
}
