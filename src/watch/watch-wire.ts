import type { KeyValue, ResponseHeader } from '../messages/kv.ts'
import type { Event, WatchResponse } from '../messages/watch.ts'
import { isTombstone } from '../mvcc/key-record.ts'
import { keyValue } from '../mvcc/kv-service.ts'
import type { EventBatch, StorageEvent } from './event-batch.ts'

/** WireOptions are the watcher choices that shape its responses to a batch (besides its watch id). */
export interface WireOptions {
  readonly prevKv: boolean
  readonly fragment: boolean
}

/** WireContext is what building responses needs from the engine. */
export interface WireContext {
  header(revision: number): ResponseHeader
  /** maxResponseBytes: above it a response is split, for watchers that asked for fragments. */
  readonly maxResponseBytes: number
}

/**
 * The stream layer's half of watch: storage events (EventBatch) to services-level WatchResponses, as etcd's v3rpc
 * watch stream adds prevKv, headers and fragments to what its watchable store emits.
 *
 * Sharing rule: every response built here, its header, its events array, each Event and each KeyValue in it are
 * frozen and shared: all watchers with the same (watch id, prevKv, fragment) that receive a batch receive the same
 * response objects, and each event's KeyValue is shared by every response made from the batch. A consumer
 * that tries to change one gets a TypeError (ESM code is strict). The key and value bytes are Buffers, which cannot
 * be frozen: they are shared too, and must not be written to (the Watch interface documents this). Copying them per
 * watcher would cost what sharing saves; a consumer that wants to change bytes copies them first.
 */

/** WireCache is what a batch remembers of its services-level forms (kept in EventBatch.wire). */
interface WireCache {
  header: ResponseHeader | undefined
  plain: readonly Event[] | undefined
  withPrev: readonly Event[] | undefined
  /** the responses of the shape asked for last: watchers of one commit are usually all alike. */
  lastId: number
  lastFlags: number
  last: readonly WatchResponse[] | undefined
  /** the responses of the other shapes, by `${watchId}/${flags}`. */
  others: Map<string, readonly WatchResponse[]> | undefined
}

/**
 * wireResponses returns the responses a watcher receives for a batch: one response, or with
 * `fragment` a large one's pieces (every piece but the last marked fragment). Built on first use per batch, watch id and
 * options, then shared (see the sharing rule above). O(events) the first time, O(1) after.
 */
export function wireResponses(batch: EventBatch, watchId: number, options: WireOptions, ctx: WireContext): readonly WatchResponse[] {
  return wireResponsesOf(batch, watchId, wireFlags(options), options, ctx)
}

/** wireFlags packs the WireOptions into the number wireResponsesOf takes. */
export function wireFlags(options: WireOptions): number {
  return (options.prevKv ? 2 : 0) | (options.fragment ? 1 : 0)
}

/** wireResponsesOf is wireResponses with the options also given packed, as `wireFlags(options)` (the watcher keeps them). */
export function wireResponsesOf(batch: EventBatch, watchId: number, flags: number, options: WireOptions, ctx: WireContext): readonly WatchResponse[] {
  let cache = batch.wire as WireCache | undefined
  if (cache === undefined) {
    batch.wire = cache = { header: undefined, plain: undefined, withPrev: undefined, lastId: 0, lastFlags: 0, last: undefined, others: undefined }
  } else if (cache.last !== undefined) {
    if (cache.lastId === watchId && cache.lastFlags === flags) return cache.last
    const other = cache.others?.get(`${watchId}/${flags}`)
    if (other !== undefined) return other
  }
  const responses = build(batch, cache, watchId, options, ctx)
  if (cache.last !== undefined) (cache.others ??= new Map()).set(`${cache.lastId}/${cache.lastFlags}`, cache.last)
  cache.lastId = watchId
  cache.lastFlags = flags
  cache.last = responses
  return responses
}

function build(batch: EventBatch, cache: WireCache, watchId: number, options: WireOptions, ctx: WireContext): readonly WatchResponse[] {
  const header = (cache.header ??= Object.freeze(ctx.header(batch.rev)))
  const events = options.prevKv ? (cache.withPrev ??= eventsOf(batch, cache, true)) : (cache.plain ??= eventsOf(batch, cache, false))
  if (options.fragment) {
    const limit = ctx.maxResponseBytes
    const pieces: WatchResponse[] = []
    let size = 0
    let start = 0
    for (let i = 0; i < events.length; i++) {
      const s = eventSize(events[i]!)
      if (size + s > limit && i > start) {
        pieces.push(eventsResponse(header, watchId, Object.freeze(events.slice(start, i)), true))
        start = i
        size = 0
      }
      size += s
    }
    if (start > 0) {
      pieces.push(eventsResponse(header, watchId, Object.freeze(events.slice(start)), false))
      return Object.freeze(pieces)
    }
  }
  return Object.freeze([eventsResponse(header, watchId, events, false)])
}

/**
 * eventsOf makes a batch's events without or with prevKv; the second reuses the first's KeyValues when it was made.
 * (A change in several batches of one commit, for watchers with other ranges or filters, is made once per batch.)
 */
function eventsOf(batch: EventBatch, cache: WireCache, withPrev: boolean): readonly Event[] {
  const plain = withPrev ? cache.plain : undefined
  const n = batch.events.length
  // Sized up front: a list grown by push from empty would reserve room for 16 events.
  const out = new Array<Event>(n)
  for (let i = 0; i < n; i++) {
    const { record, prev } = batch.events[i]!
    const type = isTombstone(record) ? 'DELETE' : 'PUT'
    const kv = plain?.[i]!.kv ?? frozenKeyValue(record)
    out[i] = Object.freeze(withPrev && prev !== undefined ? { type, kv, prevKv: frozenKeyValue(prev) } : { type, kv })
  }
  return Object.freeze(out)
}

function frozenKeyValue(record: StorageEvent['record']): KeyValue {
  return Object.freeze(keyValue(record, false))
}

/** eventsResponse is a frozen WatchResponse carrying events. */
function eventsResponse(header: ResponseHeader, watchId: number, events: readonly Event[], fragment: boolean): WatchResponse {
  const response = emptyResponse(header, watchId)
  response.fragment = fragment
  response.events = events as Event[]
  return Object.freeze(response)
}

/** emptyResponse is a WatchResponse with every field at its default (not shared, not frozen). */
export function emptyResponse(header: ResponseHeader, watchId: number): WatchResponse {
  return {
    header,
    watchId,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events: [],
  }
}

function eventSize(e: Event): number {
  return 32 + e.kv.key.length + e.kv.value.length + (e.prevKv === undefined ? 0 : 32 + e.prevKv.key.length + e.prevKv.value.length)
}
