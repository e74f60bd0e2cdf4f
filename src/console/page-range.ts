import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../api/engine.ts'
import type { KeyValue } from '../messages/kv.ts'
import { answerJson, bytesField, countField, credentialsOf } from './console-json.ts'

/**
 * POST /ui/api/range: one page of a range, for the console's listings. The gateway's /v3/kv/range cannot serve a
 * page of a huge range cheaply, because etcd's answer counts every key of the range whatever the limit. This is
 * the same engine call as every client's Range (the caller's token, etcd's permission checks and errors), with the
 * count stopped just past the page (RangeRequest.countLimit): a page of a million keys costs a page. The request
 * and the answer are the gateway's JSON (bytes in base64, int64 as strings); `count` is then a lower bound.
 */
export function servePageRange(req: IncomingMessage, res: ServerResponse, engine: Engine): void {
  answerJson(req, res, async (body) => {
    const limit = countField(body.limit, 'limit')
    const request = {
      key: bytesField(body.key, 'key'),
      ...(body.range_end === undefined ? {} : { rangeEnd: bytesField(body.range_end, 'range_end') }),
      limit,
      revision: countField(body.revision, 'revision'),
      keysOnly: body.keys_only === true,
      countLimit: limit > 0 ? limit + 1 : 0,
    }
    const r = await engine.services.kv.range(request, credentialsOf(req))
    return {
      header: { revision: String(r.header.revision) },
      kvs: r.kvs.map(kvJson),
      ...(r.more ? { more: true } : {}),
      count: String(r.count),
    }
  })
}

/** kvJson is a KeyValue in the gateway's JSON (bytes in base64, int64 as strings, empty fields left out). */
export function kvJson(kv: KeyValue): Record<string, string> {
  return {
    key: Buffer.from(kv.key).toString('base64'),
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    ...(kv.value.length === 0 ? {} : { value: Buffer.from(kv.value).toString('base64') }),
    ...(kv.lease === 0n ? {} : { lease: String(kv.lease) }),
  }
}
