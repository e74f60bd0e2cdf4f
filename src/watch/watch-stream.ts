import { toBinOptional, type Bin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import { int } from '../util/fields.ts'
import { watchFilters, type WatchCreateRequest, type WatchRequest, type WatchResponse } from '../messages/watch.ts'
import type { PollStream, StreamReader } from '../messages/stream.ts'
import { UNBOUNDED } from '../mvcc/store-index.ts'
import { INFINITE } from './interval-tree.ts'
import type { EventBatch } from './event-batch.ts'
import type { WatchHub } from './watch-hub.ts'
import { ResponseQueue } from './response-queue.ts'
import { emptyResponse, wireResponsesOf, type WireContext } from './watch-wire.ts'
import { Watcher, type WatchOutput } from './watcher.ts'

/** StreamContext is what a watch stream needs from the engine. */
export interface StreamContext extends WireContext {
  /**
   * checkRead, once auth is on, throws unless the stream's caller may read [key, end) (`end` '' for one key, '\0'
   * for every key from `key` on). It runs on every create request, so a token that expired is noticed.
   */
  readonly checkRead?: (key: Bin, end: Bin) => void
  readonly hub: WatchHub
  /** rev is the store's current revision. */
  rev(): number
  assertOpen(): void
}

/** GO_CODE_NAMES: how Go's gRPC names a status code in an error text. */
const GO_CODE_NAMES: Record<string, string> = {
  INVALID_ARGUMENT: 'InvalidArgument',
  PERMISSION_DENIED: 'PermissionDenied',
  UNAUTHENTICATED: 'Unauthenticated',
  FAILED_PRECONDITION: 'FailedPrecondition',
  UNKNOWN: 'Unknown',
}

/** DONE is the iterator result of an ended stream (frozen, so it can be shared). */
const DONE: IteratorResult<WatchResponse> = Object.freeze({ value: undefined, done: true })

/** TAKING is a stream's reader while its real reader takes a response (see WatchStream.#push). */
const TAKING: StreamReader = Object.freeze({ ready: () => undefined })

/** Waiter resolves a pending next() of the async iterator when a response is queued or the stream ends. */
class Waiter implements StreamReader {
  readonly #stream: WatchStream
  readonly #resolve: (r: IteratorResult<WatchResponse>) => void

  constructor(stream: WatchStream, resolve: (r: IteratorResult<WatchResponse>) => void) {
    this.#stream = stream
    this.#resolve = resolve
  }

  ready(): void {
    const r = this.#stream.poll()
    this.#resolve(r === undefined ? DONE : { value: r, done: false })
  }
}

/**
 * WatchStream is one Watch RPC: it takes create, cancel and progress requests and queues every watcher's responses
 * for one consumer, in order. It turns the hub's storage events into responses (watch-wire.ts); those responses are
 * frozen and shared with other watchers and streams (see the sharing rule there).
 *
 * Watch ids are allocated as etcd allocates them: counting up from 0, skipping ids in use; a requested id in use is
 * refused with a created-and-canceled response (watch id -1). Like etcd, a watcher canceled for compaction keeps its
 * id until the client cancels it.
 */
export class WatchStream implements PollStream<WatchRequest, WatchResponse>, WatchOutput {
  readonly id: number
  readonly #ctx: StreamContext
  readonly #watchers = new Map<number, Watcher>()
  readonly #queue = new ResponseQueue()
  #nextId = 0
  #reader: StreamReader | undefined
  #closed = false
  readonly #onClose: (s: WatchStream) => void

  constructor(id: number, ctx: StreamContext, onClose: (s: WatchStream) => void) {
    this.id = id
    this.#ctx = ctx
    this.#onClose = onClose
  }

  send(request: WatchRequest): void {
    this.#ctx.assertOpen()
    if (this.#closed) throw new TypeError('watch: the stream is closed')
    if (typeof request !== 'object' || request === null) throw new TypeError('watch request must be an object')
    if ('createRequest' in request && request.createRequest) this.#create(request.createRequest)
    else if ('cancelRequest' in request && request.cancelRequest) this.#cancel(int(request.cancelRequest.watchId, 'watchId'))
    else if ('progressRequest' in request && request.progressRequest) this.#progress()
    // etcd ignores a request with none of them set, and the stream goes on.
  }

  /** close ends the stream: every watcher stops, queued responses are dropped, iteration ends. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const w of this.#watchers.values()) this.#ctx.hub.remove(w)
    this.#watchers.clear()
    this.#queue.clear()
    this.#wake()
    this.#onClose(this)
  }

  events(watcher: Watcher, batch: EventBatch): void {
    if (this.#closed) return
    const responses = wireResponsesOf(batch, watcher.id, watcher.wireFlags, watcher.options, this.#ctx)
    for (let i = 0; i < responses.length; i++) this.#push(responses[i]!, watcher)
  }

  compacted(watcher: Watcher, compactRevision: number): void {
    this.#push({ ...emptyResponse(this.#ctx.header(0), watcher.id), canceled: true, compactRevision }, watcher)
  }

  canceled(watcher: Watcher, reason: string): void {
    this.#push({ ...emptyResponse(this.#ctx.header(this.#ctx.rev()), watcher.id), canceled: true, cancelReason: reason }, watcher)
  }

  progress(watcher: Watcher, revision: number): void {
    this.#push(emptyResponse(this.#ctx.header(revision), watcher.id), watcher)
  }

  /**
   * #push queues a response, counted against `watcher` until read, and wakes a waiting consumer; a consumer that
   * waits and can take responses directly (the client-level watch) gets it at once, with nothing queued or counted.
   * A reader is registered only while the queue is empty (onReady, and #push wakes it at the first response queued),
   * so a registered reader never overtakes a queued response.
   */
  #push(response: WatchResponse, watcher?: Watcher): void {
    if (this.#closed) return
    const reader = this.#reader
    if (reader?.take !== undefined) {
      // TAKING stands in for the reader while it takes: a cancellation taken closes the stream, which must not wake
      // the reader a second time, and a response pushed meanwhile is queued (and wakes TAKING, which clears it).
      this.#reader = TAKING
      const satisfied = reader.take(response)
      if (this.#reader === TAKING) this.#reader = satisfied ? undefined : reader
      else if (!satisfied && !this.#closed && this.#reader === undefined) reader.ready()
      return
    }
    if (watcher !== undefined) watcher.pending++
    this.#queue.push(response, watcher)
    this.#wake()
  }

  #wake(): void {
    const reader = this.#reader
    if (reader !== undefined) {
      this.#reader = undefined
      reader.ready()
    }
  }

  poll(): WatchResponse | undefined {
    const queue = this.#queue
    if (queue.size === 0) return undefined
    const watcher = queue.peekWatcher()
    const response = queue.shift()
    if (watcher !== undefined) this.#ctx.hub.taken(watcher)
    return response
  }

  get ended(): boolean {
    return this.#closed && this.#queue.size === 0
  }

  onReady(reader: StreamReader): void {
    if (this.#closed || this.#queue.size > 0) reader.ready()
    else this.#reader = reader
  }

  next(): Promise<IteratorResult<WatchResponse>> {
    const r = this.poll()
    if (r !== undefined) return Promise.resolve({ value: r, done: false })
    if (this.#closed) return Promise.resolve(DONE)
    return new Promise((resolve) => (this.#reader = new Waiter(this, resolve)))
  }

  return(): Promise<IteratorResult<WatchResponse>> {
    this.close()
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    return this
  }

  #create(req: WatchCreateRequest): void {
    const ctx = this.#ctx
    if (typeof req !== 'object' || req === null) throw new TypeError('createRequest must be an object')
    // Like etcd: an empty key watches the key "\0"; an empty range ([key, end) with end <= key) is refused.
    const key = toBinOptional(req.key, 'key') || '\0'
    let end = toBinOptional(req.rangeEnd, 'rangeEnd')
    if (end === UNBOUNDED) end = INFINITE
    if (ctx.checkRead !== undefined && !this.#permitted(key, end === INFINITE ? UNBOUNDED : end)) return
    if (end !== '' && end <= key) {
      this.#push({
        ...emptyResponse(ctx.header(ctx.rev()), -1),
        created: true,
        canceled: true,
        cancelReason: 'mvcc: watcher range is empty',
      })
      return
    }
    const filters = req.filters ?? []
    if (!Array.isArray(filters) || filters.some((f) => !watchFilters.includes(f))) {
      throw new TypeError(`watch filters must be a list of ${watchFilters.join(', ')}`)
    }
    const startRevision = int(req.startRevision, 'startRevision')
    let id = int(req.watchId, 'watchId')
    if (id !== 0 && this.#watchers.has(id)) {
      this.#push({
        ...emptyResponse(ctx.header(ctx.rev()), -1),
        created: true,
        canceled: true,
        cancelReason: 'mvcc: duplicate watch ID provided on the WatchStream',
      })
      return
    }
    if (id === 0) {
      while (this.#watchers.has(this.#nextId)) this.#nextId++
      id = this.#nextId++
    }
    const current = ctx.rev()
    const w = new Watcher(
      this,
      id,
      key,
      end,
      {
        prevKv: req.prevKv === true,
        noPut: filters.includes('NOPUT'),
        noDelete: filters.includes('NODELETE'),
        progressNotify: req.progressNotify === true,
        fragment: req.fragment === true,
      },
      startRevision > 0 ? startRevision : current + 1,
    )
    this.#watchers.set(id, w)
    this.#push({ ...emptyResponse(ctx.header(current), id), created: true })
    ctx.hub.add(w)
  }

  /**
   * #permitted checks a create request against the caller's permissions. As in etcd, a refusal does not end the
   * stream: the request is answered created-and-canceled with watch id -1, the reason in gRPC's words.
   */
  #permitted(key: Bin, end: Bin): boolean {
    const ctx = this.#ctx
    try {
      ctx.checkRead!(key, end)
      return true
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err
      this.#push({
        ...emptyResponse(ctx.header(ctx.rev()), -1),
        created: true,
        canceled: true,
        cancelReason: `rpc error: code = ${GO_CODE_NAMES[err.grpcStatus] ?? err.grpcStatus} desc = ${err.wireMessage}`,
      })
      return false
    }
  }

  #cancel(id: number): void {
    const w = this.#watchers.get(id)
    if (w === undefined) return // etcd answers nothing for an unknown id
    this.#watchers.delete(id)
    this.#ctx.hub.remove(w)
    this.#push({ ...emptyResponse(this.#ctx.header(this.#ctx.rev()), id), canceled: true })
  }

  /** #progress answers a progress request at once with the current revision, as etcd 3.4 does. */
  #progress(): void {
    this.#push(emptyResponse(this.#ctx.header(this.#ctx.rev()), -1))
  }
}
