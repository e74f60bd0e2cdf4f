import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../api/engine.ts'
import { answerJson, bytesField, countField, credentialsOf } from './console-json.ts'
import { kvJson } from './page-range.ts'

/**
 * POST /ui/api/changes: the console's feed of the latest changes under a prefix, through engine.latestChanges (the
 * caller's token, read permission over the range, etcd's compaction errors). Request `{ key, range_end, limit,
 * revision }` in the gateway's JSON (bytes in base64); answer `{ header, events, compact_revision }`, the events
 * newest first, each `{ type, kv }` as a watch event is in the gateway's JSON.
 */
export function serveLatestChanges(req: IncomingMessage, res: ServerResponse, engine: Engine): void {
  answerJson(req, res, async (body) => {
    const r = await engine.latestChanges(
      {
        key: bytesField(body.key, 'key'),
        ...(body.range_end === undefined ? {} : { rangeEnd: bytesField(body.range_end, 'range_end') }),
        limit: countField(body.limit, 'limit'),
        revision: countField(body.revision, 'revision'),
      },
      credentialsOf(req),
    )
    return {
      header: { revision: String(r.header.revision) },
      events: r.events.map((e) => ({ ...(e.type === 'DELETE' ? { type: 'DELETE' } : {}), kv: kvJson(e.kv) })),
      compact_revision: String(r.compactRevision),
    }
  })
}
