import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../api/engine.ts'
import type { KeyValue, RangeRequest } from '../messages/kv.ts'
import { errorBody, httpStatusOf } from '../server/gateway/http-errors.ts'
import { toGrpcStatus } from '../wire/status.ts'

/**
 * POST /ui/api/range: one page of a range, for the console's listings. The gateway's /v3/kv/range cannot serve a
 * page of a huge range cheaply, because etcd's answer counts every key of the range whatever the limit. This is
 * the same engine call as every client's Range (the caller's token, etcd's permission checks and errors), with the
 * count stopped just past the page (RangeRequest.countLimit): a page of a million keys costs a page. The request
 * and the answer are the gateway's JSON (bytes in base64, int64 as strings); `count` is then a lower bound.
 */

/** MAX_BODY_BYTES caps a page request: a key and a range end, both under etcd's request limit, in base64. */
const MAX_BODY_BYTES = 4 * 1024 * 1024

export function servePageRange(req: IncomingMessage, res: ServerResponse, engine: Engine): void {
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size <= MAX_BODY_BYTES) chunks.push(chunk)
  })
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) return send(res, 400, errorBody({ code: 3, details: 'etcdserver: request is too large' }))
    let request: RangeRequest
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>
      if (typeof body !== 'object' || body === null) throw new TypeError('a page request is a JSON object')
      const limit = intField(body.limit)
      request = {
        key: bytesField(body.key),
        ...(body.range_end === undefined ? {} : { rangeEnd: bytesField(body.range_end) }),
        limit,
        revision: intField(body.revision),
        keysOnly: body.keys_only === true,
        countLimit: limit > 0 ? limit + 1 : 0,
      }
    } catch (err) {
      return send(res, 400, errorBody({ code: 3, details: (err as Error).message }))
    }
    const auth = req.headers.authorization
    engine.services.kv.range(request, auth === undefined ? undefined : { token: auth }).then(
      (r) =>
        send(
          res,
          200,
          JSON.stringify({
            header: { revision: String(r.header.revision) },
            kvs: r.kvs.map(kvJson),
            ...(r.more ? { more: true } : {}),
            count: String(r.count),
          }),
        ),
      (err: unknown) => {
        const status = toGrpcStatus(err)
        send(res, httpStatusOf(status.code).status, errorBody(status))
      },
    )
  })
}

function bytesField(v: unknown): Buffer {
  if (typeof v !== 'string') throw new TypeError('key and range_end are base64 strings')
  return Buffer.from(v, 'base64')
}

function intField(v: unknown): number {
  if (v === undefined) return 0
  const n = typeof v === 'string' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new TypeError('limit and revision are non-negative integers')
  return n
}

function kvJson(kv: KeyValue): Record<string, string> {
  return {
    key: Buffer.from(kv.key).toString('base64'),
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    ...(kv.value.length === 0 ? {} : { value: Buffer.from(kv.value).toString('base64') }),
    ...(kv.lease === 0n ? {} : { lease: String(kv.lease) }),
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}
