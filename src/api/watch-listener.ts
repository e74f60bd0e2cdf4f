import type { BytesLike } from '../util/bytes.ts'
import { isPollStream, type BidiStream, type PollStream, type StreamReader } from '../messages/stream.ts'
import type { Watch, WatchRequest, WatchResponse } from '../messages/watch.ts'
import { openWatchStream, type WatchOptions } from './watch-client.ts'
import { WatchResults, type WatchResult } from './watch-results.ts'

/**
 * WatchListener is called with each result of a watch, in revision order, as etcd3's `watcher.on('data')` is: after
 * the commit that made it (never inside it), in a microtask that serves every listening watch of that commit. It is
 * handed the same frozen, shared results as the iterator form. A listener that throws does not stop its watch or the
 * others: the error is rethrown on its own, as an uncaught exception (Node's rule for throwing event listeners).
 */
export type WatchListener = (result: WatchResult) => void

/** WatchSubscription is a watch delivering to a listener: `cancel()` stops it; the listener is not called after it. */
export interface WatchSubscription {
  cancel(): Promise<void>
  /** active is true until the watch stops: by `cancel()`, after a cancellation result, or when its stream ends. */
  readonly active: boolean
  /**
   * done settles when the watch stops: it resolves, or rejects with the error that broke its stream (a remote
   * backend that lost its server for good), as the iterator form's next() would reject. Leave a rejection unobserved
   * and Node reports it, so a watch never stops silently.
   */
  readonly done: Promise<void>
}

/**
 * watchListen opens a watch whose results go to `listener` instead of an iterator. Over the in-process engine no
 * promise is made per result: the stream hands each response to the watch as it is sent, and results are queued for
 * one shared microtask (ListenerQueue). A listening watch never falls behind its stream, so it is never set aside
 * to catch up; what it is given, it is given at once.
 */
export function watchListen(watch: Watch, key: BytesLike, options: WatchOptions, listener: WatchListener): WatchSubscription {
  if (typeof listener !== 'function') throw new TypeError('watch listener must be a function')
  return new ListeningWatch(openWatchStream(watch, key, options), listener)
}

class ListeningWatch implements WatchSubscription, StreamReader {
  readonly listener: WatchListener
  readonly #stream: BidiStream<WatchRequest, WatchResponse>
  readonly #results = new WatchResults()
  /** stopped is set by cancel(): queued results are then dropped, not delivered. */
  stopped = false
  #ended = false
  readonly done: Promise<void>
  #settle!: (err?: unknown) => void

  constructor(stream: BidiStream<WatchRequest, WatchResponse>, listener: WatchListener) {
    this.listener = listener
    this.#stream = stream
    this.done = new Promise<void>((resolve, reject) => {
      this.#settle = (err) => (err === undefined ? resolve() : reject(err))
    })
    if (isPollStream(stream)) this.#drain(stream)
    else void this.#pump(stream)
  }

  get active(): boolean {
    return !this.#ended
  }

  /** ready: responses are queued on the stream (the created one, or some sent before this watch listened), or it ended. */
  ready(): void {
    this.#drain(this.#stream as PollStream<WatchRequest, WatchResponse>)
  }

  /** take is the stream handing over a response as it is sent; true once the watch has ended (it stops listening). */
  take(response: unknown): boolean {
    const shared = this.#results.shared(response as WatchResponse)
    if (shared !== undefined) listenerQueue.push(this, shared)
    else this.#handle(response as WatchResponse)
    return this.#ended
  }

  cancel(): Promise<void> {
    this.stopped = true
    this.#end()
    return Promise.resolve()
  }

  #drain(poll: PollStream<WatchRequest, WatchResponse>): void {
    while (!this.#ended) {
      const r = poll.poll()
      if (r === undefined) {
        if (poll.ended) this.#end()
        else poll.onReady(this)
        return
      }
      this.#handle(r)
    }
  }

  async #pump(stream: BidiStream<WatchRequest, WatchResponse>): Promise<void> {
    try {
      for await (const r of stream) {
        this.#handle(r)
        if (this.#ended) break
      }
      this.#end()
    } catch (err) {
      this.#end(err ?? new Error('watch stream failed'))
    }
  }

  #handle(r: WatchResponse): void {
    if (this.#ended) return
    const step = this.#results.step(r)
    if (step !== undefined) listenerQueue.push(this, step.value)
    if (this.#results.ended) this.#end()
  }

  #end(err?: unknown): void {
    if (this.#ended) return
    this.#ended = true
    this.#stream.close()
    this.#settle(err)
  }
}

/**
 * ListenerQueue holds the results waiting for their listeners and delivers them all in one microtask, in the order
 * they were made. Results made while it delivers (a listener that writes) wait for the next microtask.
 */
class ListenerQueue {
  #watches: (ListeningWatch | undefined)[] = []
  #results: (WatchResult | undefined)[] = []
  /** the lists of the delivery before, emptied, swapped in at the next delivery (so none is regrown from empty) */
  #spareWatches: (ListeningWatch | undefined)[] = []
  #spareResults: (WatchResult | undefined)[] = []
  #size = 0
  #scheduled = false
  readonly #flush = (): void => this.#deliver()

  push(watch: ListeningWatch, result: WatchResult): void {
    this.#watches[this.#size] = watch
    this.#results[this.#size++] = result
    if (!this.#scheduled) {
      this.#scheduled = true
      // A reaction on a settled promise is a microtask, and costs a third of queueMicrotask's (no async resource).
      void SETTLED.then(this.#flush)
    }
  }

  #deliver(): void {
    const watches = this.#watches
    const results = this.#results
    const size = this.#size
    // Results made during delivery go to the spare lists; these two become the spares once delivered.
    this.#watches = this.#spareWatches
    this.#results = this.#spareResults
    this.#size = 0
    this.#scheduled = false
    for (let i = 0; i < size; i++) {
      const w = watches[i]!
      if (w.stopped) continue
      try {
        w.listener(results[i]!)
      } catch (err) {
        queueMicrotask(() => {
          throw err
        })
      }
    }
    // Emptied by overwriting, not by `length = 0`, which would give up the lists' capacity.
    watches.fill(undefined, 0, size)
    results.fill(undefined, 0, size)
    this.#spareWatches = watches
    this.#spareResults = results
  }
}

const SETTLED = Promise.resolve()
const listenerQueue = new ListenerQueue()
