import { toBinOptional, type Bin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import { int } from '../util/fields.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import { watchFilters, type WatchCreateRequest, type WatchRequest, type WatchResponse } from '../messages/watch.ts'
import type { BidiStream } from '../messages/stream.ts'
import { UNBOUNDED } from '../mvcc/store-index.ts'
import { INFINITE } from './interval-tree.ts'
import { emptyResponse, type WatchHub, type WatchOutput } from './watch-hub.ts'
import { Watcher } from './watcher.ts'

/** StreamContext is what a watch stream needs from the engine. */
export interface StreamContext {
  /**
   * checkRead, once auth is on, throws unless the stream's caller may read [key, end) (`end` '' for one key, '\0'
   * for every key from `key` on). It runs on every create request, so a token that expired is noticed.
   */
  readonly checkRead?: (key: Bin, end: Bin) => void
  readonly hub: WatchHub
  /** rev is the store's current revision. */
  rev(): number
  header(revision: number): ResponseHeader
  assertOpen(): void
}

interface Item {
  readonly response: WatchResponse
  readonly watcher: Watcher | undefined
}

/** GO_CODE_NAMES: how Go's gRPC names a status code in an error text. */
const GO_CODE_NAMES: Record<string, string> = {
  INVALID_ARGUMENT: 'InvalidArgument',
  PERMISSION_DENIED: 'PermissionDenied',
  UNAUTHENTICATED: 'Unauthenticated',
  FAILED_PRECONDITION: 'FailedPrecondition',
  UNKNOWN: 'Unknown',
}

/**
 * WatchStream is one Watch RPC: it takes create, cancel and progress requests and queues every watcher's responses
 * for one consumer, in order.
 *
 * Watch ids are allocated as etcd allocates them: counting up from 0, skipping ids in use; a requested id in use is
 * refused with a created-and-canceled response (watch id -1). Like etcd, a watcher canceled for compaction keeps its
 * id until the client cancels it.
 */
export class WatchStream implements BidiStream<WatchRequest, WatchResponse>, WatchOutput {
  readonly id: number
  readonly #ctx: StreamContext
  readonly #watchers = new Map<number, Watcher>()
  readonly #items: Item[] = []
  #head = 0
  #nextId = 0
  #waiting: ((r: IteratorResult<WatchResponse>) => void) | undefined
  #closed = false
  readonly #onClose: (s: WatchStream) => void

  constructor(id: number, ctx: StreamContext, onClose: (s: WatchStream) => void) {
    this.id = id
    this.#ctx = ctx
    this.#onClose = onClose
    ctx.hub.attach(id, this)
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
    this.#ctx.hub.detach(this.id)
    this.#items.length = 0
    this.#head = 0
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.({ value: undefined, done: true })
    this.#onClose(this)
  }

  deliver(watcher: Watcher | undefined, response: WatchResponse): void {
    if (this.#closed) return
    if (watcher !== undefined) watcher.pending++
    const waiting = this.#waiting
    if (waiting !== undefined) {
      this.#waiting = undefined
      if (watcher !== undefined) this.#ctx.hub.taken(watcher)
      waiting({ value: response, done: false })
    } else {
      this.#items.push({ response, watcher })
    }
  }

  next(): Promise<IteratorResult<WatchResponse>> {
    if (this.#head < this.#items.length) {
      const item = this.#items[this.#head]!
      this.#items[this.#head++] = undefined as unknown as Item
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items.splice(0, this.#head)
        this.#head = 0
      }
      if (item.watcher !== undefined) this.#ctx.hub.taken(item.watcher)
      return Promise.resolve({ value: item.response, done: false })
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => (this.#waiting = resolve))
  }

  return(): Promise<IteratorResult<WatchResponse>> {
    this.close()
    return Promise.resolve({ value: undefined, done: true })
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
      this.deliver(undefined, {
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
      this.deliver(undefined, {
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
      this.id,
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
    this.deliver(undefined, { ...emptyResponse(ctx.header(current), id), created: true })
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
      this.deliver(undefined, {
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
    this.deliver(undefined, { ...emptyResponse(this.#ctx.header(this.#ctx.rev()), id), canceled: true })
  }

  /** #progress answers a progress request at once with the current revision, as etcd 3.4 does. */
  #progress(): void {
    this.deliver(undefined, emptyResponse(this.#ctx.header(this.#ctx.rev()), -1))
  }
}
