import type { BytesLike } from '../util/bytes.ts'
import { isPollStream, type BidiStream, type PollStream, type StreamReader } from '../messages/stream.ts'
import type { Watch, WatchFilter, WatchRequest, WatchResponse } from '../messages/watch.ts'
import { keyRange, type KeyRangeOptions } from './options.ts'
import { WatchResults, type WatchResult } from './watch-results.ts'

export type { WatchEvent, WatchResult } from './watch-results.ts'

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
  return new WatchIterator(openWatchStream(watch, key, options))
}

/** openWatchStream opens a watch stream and sends the create request of one watcher (fragments asked for, and joined by WatchResults). */
export function openWatchStream(watch: Watch, key: BytesLike, options: WatchOptions): BidiStream<WatchRequest, WatchResponse> {
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
  return stream
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
  readonly #results = new WatchResults()
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

  /** #step turns one services-level response into a result (see WatchResults); a cancellation ends the watch after it. */
  #step(r: WatchResponse): IteratorResult<WatchResult> | undefined {
    const step = this.#results.step(r)
    if (this.#results.ended) this.#end()
    return step
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
