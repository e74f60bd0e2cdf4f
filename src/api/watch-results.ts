import type { KeyValue, ResponseHeader } from '../messages/kv.ts'
import type { Event, WatchResponse } from '../messages/watch.ts'

/** WatchEvent is one change, as etcd's client reports it. */
export interface WatchEvent {
  type: 'put' | 'delete'
  kv: KeyValue
  prevKv?: KeyValue
}

/**
 * WatchResult is one response of a watch: events of whole revisions, or a progress notice, or the cancellation.
 * Results carrying events are shared by the watches that receive the same events and are frozen (the result, its
 * events array and each event); the key and value bytes are shared Buffers: read them, copy them to change them.
 */
export interface WatchResult {
  header: ResponseHeader
  watchId: number
  events: WatchEvent[]
  /** compactRevision is set when the requested history was compacted away; the watch is then canceled. */
  compactRevision: number
  canceled: boolean
  cancelReason: string
}

function clientEvent(e: Event): WatchEvent {
  const type = e.type === 'PUT' ? 'put' : 'delete'
  return Object.freeze(e.prevKv ? { type, kv: e.kv, prevKv: e.prevKv } : { type, kv: e.kv })
}

/** clientEvents converts a response's events (a list sized up front, not grown). */
function clientEvents(events: readonly Event[]): WatchEvent[] {
  const out = new Array<WatchEvent>(events.length)
  for (let i = 0; i < events.length; i++) out[i] = clientEvent(events[i]!)
  return out
}

/**
 * sharedStep makes the iterator result of a services-level events response. The engine shares one response among
 * the watchers that get the same events (see watch-wire.ts), and hands it to them one after another, so the result
 * made last is remembered and shared too: frozen, with a frozen events array, like the response it is made from.
 */
let lastResponse: WatchResponse | undefined
let lastStep: IteratorResult<WatchResult> | undefined
function sharedStep(r: WatchResponse): IteratorResult<WatchResult> {
  if (r === lastResponse) return lastStep!
  const step: IteratorResult<WatchResult> = Object.freeze({ done: false, value: Object.freeze(result(r, Object.freeze(clientEvents(r.events)))) })
  lastResponse = r
  lastStep = step
  return step
}

function result(r: WatchResponse, events: readonly WatchEvent[]): WatchResult {
  return {
    header: r.header,
    watchId: r.watchId,
    events: events as WatchEvent[],
    compactRevision: r.compactRevision,
    canceled: r.canceled,
    cancelReason: r.cancelReason,
  }
}

/**
 * WatchResults turns one watch stream's services-level responses into client results, for the iterator and the
 * listener forms alike: the created response is consumed, fragments are joined, and a cancellation ends the watch
 * after it (it is a result: it carries the reason or the compact revision).
 */
export class WatchResults {
  /** #partial collects the events of fragments until the last piece of their response. */
  #partial: WatchEvent[] | undefined
  /** ended is true once a cancellation came: nothing follows it. */
  ended = false

  /**
   * shared is step's answer in its common case, in O(1): the result of `r` when `r` is the response whose shared
   * result was made last and no fragments wait to be joined; else undefined (then call step).
   */
  shared(r: WatchResponse): WatchResult | undefined {
    return r === lastResponse && this.#partial === undefined ? lastStep!.value : undefined
  }

  /** step is the result `r` makes, or undefined when it makes none (the created response, a fragment). */
  step(r: WatchResponse): IteratorResult<WatchResult> | undefined {
    // The response shared last makes the result shared last, unless fragments wait to be joined to it.
    if (r === lastResponse && this.#partial === undefined) return lastStep
    if (r.created && !r.canceled) return undefined
    if (r.fragment) {
      const events = clientEvents(r.events)
      this.#partial = this.#partial === undefined ? events : this.#partial.concat(events)
      return undefined
    }
    if (r.canceled) this.ended = true
    const partial = this.#partial
    if (partial !== undefined) {
      this.#partial = undefined
      return { done: false, value: result(r, partial.concat(clientEvents(r.events))) }
    }
    if (r.canceled || r.events.length === 0) return { done: false, value: result(r, clientEvents(r.events)) }
    return sharedStep(r)
  }
}
