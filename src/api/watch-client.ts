import type { BytesLike } from '../util/bytes.ts'
import type { KeyValue, ResponseHeader } from '../messages/kv.ts'
import type { BidiStream } from '../messages/stream.ts'
import type { Event, Watch, WatchFilter, WatchRequest, WatchResponse } from '../messages/watch.ts'
import { keyRange, type KeyRangeOptions } from './options.ts'

/** WatchOptions: one field per option of etcd's Go client Watch (clientv3.WithRev, WithPrefix, WithPrevKV, ...). */
export interface WatchOptions extends KeyRangeOptions {
  /** startRevision replays history from that revision. @default 0, events after the current revision */
  startRevision?: number
  /** prevKv adds each event's previous pair. */
  prevKv?: boolean
  /** filters drop puts ('NOPUT') or deletes ('NODELETE'). */
  filters?: WatchFilter[]
  /** progressNotify asks for periodic empty responses carrying the revision while nothing happens. */
  progressNotify?: boolean
}

/** WatchEvent is one change, as etcd's client reports it. */
export interface WatchEvent {
  type: 'put' | 'delete'
  kv: KeyValue
  prevKv?: KeyValue
}

/** WatchResult is one response of a watch: events of whole revisions, or a progress notice, or the cancellation. */
export interface WatchResult {
  header: ResponseHeader
  watchId: number
  events: WatchEvent[]
  /** compactRevision is set when the requested history was compacted away; the watch is then canceled. */
  compactRevision: number
  canceled: boolean
  cancelReason: string
}

/** Watching is a running watch: iterate it with `for await`; `cancel()` or `break` stops it. */
export interface Watching extends AsyncIterableIterator<WatchResult> {
  cancel(): Promise<void>
}

/**
 * watchLoop opens a watch stream for one watcher and turns its responses into client results: the created response
 * is consumed, fragments are joined, and the iteration ends after a cancellation (which it yields when it carries a
 * reason or a compact revision). It reads the stream only as fast as the caller iterates, so a slow caller leaves
 * the engine's watcher behind, to catch up from history later, instead of buffering without bound.
 */
export function watchLoop(watch: Watch, key: BytesLike, options: WatchOptions = {}): Watching {
  const stream = watch.watch()
  stream.send({
    createRequest: {
      ...keyRange(key, options),
      startRevision: options.startRevision ?? 0,
      prevKv: options.prevKv ?? false,
      filters: options.filters ?? [],
      progressNotify: options.progressNotify ?? false,
      fragment: true,
    },
  })
  return new WatchIterator(stream)
}

/** clientEvents caches each services-level event's client form: watchers share events, so they share these too. */
const clientEvents = new WeakMap<Event, WatchEvent>()

function clientEvent(e: Event): WatchEvent {
  let c = clientEvents.get(e)
  if (c === undefined) {
    c = { type: e.type === 'PUT' ? 'put' : 'delete', kv: e.kv, ...(e.prevKv ? { prevKv: e.prevKv } : {}) }
    clientEvents.set(e, c)
  }
  return c
}

/** WatchIterator pulls one services-level response per step (an async generator costs twice as much per event). */
class WatchIterator implements Watching {
  readonly #stream: BidiStream<WatchRequest, WatchResponse>
  #done = false

  constructor(stream: BidiStream<WatchRequest, WatchResponse>) {
    this.#stream = stream
  }

  async next(): Promise<IteratorResult<WatchResult>> {
    const it = this.#stream[Symbol.asyncIterator]()
    let partial: WatchEvent[] | undefined
    while (!this.#done) {
      const step = await it.next()
      if (step.done === true) break
      const r = step.value
      if (r.created && !r.canceled) continue
      const events = r.events.map(clientEvent)
      if (r.fragment) {
        partial = partial === undefined ? events : partial.concat(events)
        continue
      }
      if (r.canceled) this.#finish()
      return {
        done: false,
        value: {
          header: r.header,
          watchId: r.watchId,
          events: partial === undefined ? events : partial.concat(events),
          compactRevision: r.compactRevision,
          canceled: r.canceled,
          cancelReason: r.cancelReason,
        },
      }
    }
    this.#finish()
    return { done: true, value: undefined }
  }

  async return(): Promise<IteratorResult<WatchResult>> {
    this.#finish()
    return { done: true, value: undefined }
  }

  async cancel(): Promise<void> {
    this.#finish()
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  #finish(): void {
    this.#done = true
    this.#stream.close()
  }
}
