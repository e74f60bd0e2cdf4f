import type { BytesLike } from '../util/bytes.ts'
import type { KeyValue, ResponseHeader } from '../messages/kv.ts'
import { isPollStream, type BidiStream, type PollStream, type StreamReader } from '../messages/stream.ts'
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

function clientEvent(e: Event): WatchEvent {
  return Object.freeze({ type: e.type === 'PUT' ? 'put' : 'delete', kv: e.kv, ...(e.prevKv ? { prevKv: e.prevKv } : {}) })
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
  const step: IteratorResult<WatchResult> = Object.freeze({ done: false, value: Object.freeze(result(r, Object.freeze(r.events.map(clientEvent)))) })
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

const DONE: IteratorResult<WatchResult> = Object.freeze({ done: true, value: undefined })

/**
 * captureResolve is the one executor of every promise a waiting next() makes: it hands the resolve function over in
 * `captured` (the executor runs synchronously inside `new Promise`), so a wait allocates no closure of its own.
 */
let captured: ((step: IteratorResult<WatchResult>) => void) | undefined
function captureResolve(resolve: (step: IteratorResult<WatchResult>) => void): void {
  captured = resolve
}

/**
 * WatchIterator pulls one services-level response per step (an async generator costs twice as much per event).
 * Over the in-process engine (a PollStream) a result whose response is already queued costs one resolved promise,
 * and a wait costs one promise, resolved by the stream when a response arrives; other streams are awaited.
 */
class WatchIterator implements Watching, StreamReader {
  readonly #stream: BidiStream<WatchRequest, WatchResponse>
  readonly #poll: PollStream<WatchRequest, WatchResponse> | undefined
  /** #partial collects the events of fragments until the last piece of their response. */
  #partial: WatchEvent[] | undefined
  #resolve: ((step: IteratorResult<WatchResult>) => void) | undefined
  #done = false

  constructor(stream: BidiStream<WatchRequest, WatchResponse>) {
    this.#stream = stream
    this.#poll = isPollStream(stream) ? stream : undefined
  }

  next(): Promise<IteratorResult<WatchResult>> {
    const poll = this.#poll
    if (poll === undefined) return this.#await()
    const step = this.#drain(poll)
    if (step !== undefined) return Promise.resolve(step)
    const promise = new Promise(captureResolve)
    this.#resolve = captured
    captured = undefined
    poll.onReady(this)
    return promise
  }

  /** ready is the stream telling a waiting next() that a response is queued or the stream ended. */
  ready(): void {
    const poll = this.#poll!
    const step = this.#drain(poll)
    if (step === undefined) {
      poll.onReady(this)
      return
    }
    const resolve = this.#resolve
    this.#resolve = undefined
    resolve?.(step)
  }

  /** take is the stream handing a waiting next() a response directly (see StreamReader.take). */
  take(response: unknown): boolean {
    if (this.#done) return false
    const step = this.#step(response as WatchResponse)
    if (step === undefined) return false
    const resolve = this.#resolve
    this.#resolve = undefined
    resolve?.(step)
    return true
  }

  /** #drain takes queued responses until one makes a result; undefined when it must wait for more. */
  #drain(poll: PollStream<WatchRequest, WatchResponse>): IteratorResult<WatchResult> | undefined {
    while (!this.#done) {
      const r = poll.poll()
      if (r === undefined) {
        if (!poll.ended) return undefined
        break
      }
      const step = this.#step(r)
      if (step !== undefined) return step
    }
    this.#finish()
    return DONE
  }

  async #await(): Promise<IteratorResult<WatchResult>> {
    const it = this.#stream[Symbol.asyncIterator]()
    while (!this.#done) {
      const next = await it.next()
      if (next.done === true) break
      const step = this.#step(next.value)
      if (step !== undefined) return step
    }
    this.#finish()
    return DONE
  }

  /**
   * #step turns one services-level response into a result, or undefined when it makes none: the created response
   * is consumed and fragments are joined; a cancellation ends the iteration after it.
   */
  #step(r: WatchResponse): IteratorResult<WatchResult> | undefined {
    if (r.created && !r.canceled) return undefined
    if (r.fragment) {
      const events = r.events.map(clientEvent)
      this.#partial = this.#partial === undefined ? events : this.#partial.concat(events)
      return undefined
    }
    if (r.canceled) this.#end()
    const partial = this.#partial
    if (partial !== undefined) {
      this.#partial = undefined
      return { done: false, value: result(r, partial.concat(r.events.map(clientEvent))) }
    }
    if (r.canceled || r.events.length === 0) return { done: false, value: result(r, r.events.map(clientEvent)) }
    return sharedStep(r)
  }

  return(): Promise<IteratorResult<WatchResult>> {
    this.#finish()
    return Promise.resolve(DONE)
  }

  cancel(): Promise<void> {
    this.#finish()
    return Promise.resolve()
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** #end stops the watch: the stream is closed and later steps are done. */
  #end(): void {
    this.#done = true
    this.#stream.close()
  }

  /** #finish ends the watch and answers a waiting next() with done. */
  #finish(): void {
    this.#end()
    const resolve = this.#resolve
    this.#resolve = undefined
    resolve?.(DONE)
  }
}
