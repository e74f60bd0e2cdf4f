import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody } from '../server/gateway/gateway.ts'
import { sendError, sendJson } from '../server/gateway/gateway-call.ts'
import { toGrpcStatus } from '../wire/status.ts'

/**
 * The console's own JSON calls (/ui/api/...) read and answer as the gateway does: a JSON object in, a JSON object
 * out, and a failure as the gateway's error body (`{"error","message","code"}`, the HTTP status from the gRPC code),
 * so the page reads etcd's errors and the console's refusals the same way.
 */

/** MAX_BODY_BYTES caps a console request: a key and a range end, both under etcd's request limit, in base64. */
const MAX_BODY_BYTES = 4 * 1024 * 1024

/**
 * ConsoleRefusal is a console call refused for a reason of the console's own (not a request to the engine): the gRPC
 * code picks the HTTP status, as for etcd's errors.
 */
export class ConsoleRefusal extends Error {
  constructor(
    readonly grpcCode: number,
    message: string,
  ) {
    super(message)
    this.name = 'ConsoleRefusal'
  }
}

/**
 * answerJson reads the request's JSON object, hands it to `handle` and answers what it returns; a malformed body
 * (TypeError), a refusal or an engine error is answered as the gateway answers errors.
 */
export function answerJson(req: IncomingMessage, res: ServerResponse, handle: (body: Record<string, unknown>) => Promise<unknown>): void {
  readBody(req, MAX_BODY_BYTES)
    .then((text) => {
      if (text === undefined) throw new ConsoleRefusal(3, 'etcdserver: request is too large')
      let body: unknown
      try {
        body = JSON.parse(text || '{}')
      } catch {
        throw new TypeError('the request body is not JSON')
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TypeError('the request body is a JSON object')
      return handle(body as Record<string, unknown>)
    })
    .then(
      (answer) => sendJson(res, 200, JSON.stringify(answer)),
      (err: unknown) => sendError(res, err instanceof ConsoleRefusal ? { code: err.grpcCode, details: err.message } : toGrpcStatus(err)),
    )
}

/** bytesField reads a base64 field (a key or a range end). @throws TypeError */
export function bytesField(v: unknown, name: string): Buffer {
  if (typeof v !== 'string') throw new TypeError(`${name} is a base64 string`)
  return Buffer.from(v, 'base64')
}

/** countField reads a non-negative integer field, a JSON number or a decimal string; absent is 0. @throws TypeError */
export function countField(v: unknown, name: string): number {
  if (v === undefined) return 0
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new TypeError(`${name} is a non-negative integer`)
  return n
}

/** credentialsOf is the caller's token, as the gateway reads it (the Authorization header). */
export function credentialsOf(req: IncomingMessage): { token: string } | undefined {
  const token = req.headers.authorization
  return token === undefined ? undefined : { token }
}
