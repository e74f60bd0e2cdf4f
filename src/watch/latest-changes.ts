import type { CallCredentials } from '../messages/auth.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import type { Event } from '../messages/watch.ts'
import type { KvAccess } from '../mvcc/kv-access.ts'
import { isTombstone, type KeyRecord } from '../mvcc/key-record.ts'
import { keyValue } from '../mvcc/kv-service.ts'
import { UNBOUNDED } from '../mvcc/store-index.ts'
import { toBinOptional, type Bin, type BytesLike } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'

/**
 * Latest changes: the most recent events under a key range, newest first, read from the retained history. etcd has
 * no call for this (a watch replays history oldest first, from a revision the caller must guess); it is what a feed
 * of recent activity needs. It reads the same history a watch from a past revision replays, with the same rules: read
 * permission over the range once auth is on, and nothing below the compact revision.
 *
 * The history is read backwards in windows of revisions that double (from WINDOW_FIRST up to WINDOW_MAX), yielding
 * to the event loop between windows, so a rare prefix on a long history never blocks writers for long. Cost: the
 * changes of the revisions read, which for a busy range is about `limit`, and at most the whole retained history.
 */

/** LatestChangesRequest asks for the newest `limit` changes to [key, rangeEnd) made at or before `revision`. */
export interface LatestChangesRequest {
  /** key, with rangeEnd as in a Range: absent for the key alone, '\0' for every key from `key` on. */
  key: BytesLike
  rangeEnd?: BytesLike
  /** limit: how many events at most, 1 to MAX_LATEST_CHANGES. */
  limit: number
  /** revision: the newest revision to look at; 0 (the default) for the current one. */
  revision?: number
}

export interface LatestChangesResponse {
  header: ResponseHeader
  /** events are newest first; within one revision, in reverse of the order the txn made them. */
  events: Event[]
  /** compactRevision: history below it is gone, so a feed that ends above it may have had older events. */
  compactRevision: number
}

/** MAX_LATEST_CHANGES caps `limit`: a feed, not an export. */
export const MAX_LATEST_CHANGES = 1000

const WINDOW_FIRST = 256
const WINDOW_MAX = 65_536

/** HistorySource is what reading the latest changes needs from the store. */
export interface HistorySource {
  readonly rev: number
  readonly compactRev: number
  readHistory(fromRev: number, toRev: number, max: number): KeyRecord[]
}

export interface LatestChangesContext {
  readonly store: HistorySource
  header(revision: number): ResponseHeader
  assertOpen(): void
  readonly access?: KvAccess
}

/** latestChanges answers a LatestChangesRequest. @throws EtcdError (permission, compacted or future revision) */
export async function latestChanges(ctx: LatestChangesContext, request: LatestChangesRequest, credentials?: CallCredentials): Promise<LatestChangesResponse> {
  ctx.assertOpen()
  if (typeof request !== 'object' || request === null) throw new TypeError('latestChanges: the request is an object')
  const key = toBinOptional(request.key, 'key')
  if (key === '') throw new EtcdError('ETCD_EMPTY_KEY')
  const end = toBinOptional(request.rangeEnd, 'rangeEnd')
  const limit = request.limit
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LATEST_CHANGES) {
    throw new RangeError(`latestChanges: limit must be a whole number from 1 to ${MAX_LATEST_CHANGES}`)
  }
  const asked = request.revision ?? 0
  if (!Number.isSafeInteger(asked) || asked < 0) throw new RangeError('latestChanges: revision must be a non-negative integer')
  if (ctx.access !== undefined && (credentials !== undefined || ctx.access.enabled)) ctx.access.check(credentials, [[key, end]], [])

  const current = ctx.store.rev
  if (asked > current) throw new EtcdError('ETCD_FUTURE_REV')
  if (asked !== 0 && asked < ctx.store.compactRev) throw new EtcdError('ETCD_COMPACTED')
  const covers = coverage(key, end)
  const events: Event[] = []
  let to = asked === 0 ? current : asked
  let window = WINDOW_FIRST
  while (events.length < limit) {
    // The compact revision moves on while this yields: never read below it.
    const low = Math.max(ctx.store.compactRev, 1)
    if (to < low) break
    const from = Math.max(low, to - window + 1)
    const records = ctx.store.readHistory(from, to, Infinity)
    for (let i = records.length - 1; i >= 0 && events.length < limit; i--) {
      const record = records[i]!
      if (covers(record.key)) events.push({ type: isTombstone(record) ? 'DELETE' : 'PUT', kv: keyValue(record, false) })
    }
    to = from - 1
    window = Math.min(window * 2, WINDOW_MAX)
    if (events.length < limit && to >= low) {
      await new Promise((resolve) => setImmediate(resolve))
      ctx.assertOpen()
    }
  }
  return { header: ctx.header(current), events, compactRevision: ctx.store.compactRev }
}

/** coverage is the test of a key against [key, end): the key alone for end '', every key from `key` for '\0'. */
function coverage(key: Bin, end: Bin): (k: Bin) => boolean {
  if (end === '') return (k) => k === key
  if (end === UNBOUNDED) return (k) => k >= key
  return (k) => key <= k && k < end
}
