import type { CallCredentials } from './auth.ts'
import type { BytesLike } from '../util/bytes.ts'
import type { KeyValue, ResponseHeader } from './kv.ts'
import type { BidiStream } from './stream.ts'

/** The services-level messages of etcd's Watch service, in lowerCamelCase. */

export const watchFilters = ['NOPUT', 'NODELETE'] as const
export type WatchFilter = (typeof watchFilters)[number]

export interface WatchCreateRequest {
  key: BytesLike
  /** rangeEnd watches [key, rangeEnd); "\0" watches every key >= key; absent watches key alone. */
  rangeEnd?: BytesLike
  /** startRevision replays history from that revision; 0 (the default) starts after the current revision. */
  startRevision?: number
  /** progressNotify asks for periodic empty responses carrying the current revision while idle. */
  progressNotify?: boolean
  filters?: WatchFilter[]
  prevKv?: boolean
  /** watchId asks for a given id on the stream; 0 (the default) lets the stream choose. */
  watchId?: number
  /** fragment lets a response larger than the request limit be split across several responses. */
  fragment?: boolean
}

export interface WatchCancelRequest {
  watchId: number
}

export type WatchRequest =
  | { createRequest: WatchCreateRequest }
  | { cancelRequest: WatchCancelRequest }
  | { progressRequest: Record<string, never> }

export type EventType = 'PUT' | 'DELETE'

export interface Event {
  type: EventType
  /** kv is the pair after the event; for a DELETE only key and modRevision are set. */
  kv: KeyValue
  /** prevKv is the pair before the event, when the watcher asked for it and it is still in history. */
  prevKv?: KeyValue
}

/**
 * WatchResponse is one response on a watch stream. Immutability rule: the in-process engine shares an events
 * response among every watcher that receives the same events (one object per commit, watch id and options), so it
 * hands it out frozen, with its header, events array, events and KeyValues frozen too; the key and value bytes are
 * shared Buffers, which cannot be frozen and must not be written to. Copy a response (or its bytes) to change it.
 */
export interface WatchResponse {
  header: ResponseHeader
  watchId: number
  created: boolean
  canceled: boolean
  /** compactRevision is set when the watcher asked for history that compaction removed; it is canceled. */
  compactRevision: number
  cancelReason: string
  /** fragment is true on every piece of a split response but the last. */
  fragment: boolean
  events: Event[]
}

/**
 * Watch is etcd's Watch service: one bidirectional stream carries create, cancel and progress requests for any
 * number of watchers, and every watcher's responses. Responses are read-only and their bytes shared between watchers
 * (see WatchResponse).
 */
export interface Watch {
  /** watch opens a stream; once auth is on, each watch it creates needs read permission over its range. */
  watch(credentials?: CallCredentials): BidiStream<WatchRequest, WatchResponse>
}
