import type { BidiStream } from '../messages/stream.ts'
import type { LeaseKeepAliveRequest, LeaseKeepAliveResponse } from '../messages/lease.ts'
import type { WatchCreateRequest, WatchRequest, WatchResponse } from '../messages/watch.ts'
import { AsyncQueue } from '../util/async-queue.ts'
import { EtcdError } from '../util/errors.ts'
import type { RemoteServices } from '../server/remote-services.ts'
import { asEtcdError, isUnreachable, type Endpoints } from './endpoints.ts'

/** RECONNECT_DELAYS_MS: waits between attempts to reopen a broken stream, one round over the endpoints each. */
const RECONNECT_DELAYS_MS = [0, 100, 250, 500, 1000, 2000]

/**
 * reopen opens a new stream on the endpoint in use, or the next ones, waiting a little longer after each round
 * over all of them; it gives up (returns undefined) after the last delay.
 */
async function reopen<S>(endpoints: Endpoints, open: (s: RemoteServices) => S, probe: (s: RemoteServices) => Promise<unknown>): Promise<S | undefined> {
  for (const delay of RECONNECT_DELAYS_MS) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
    for (let k = 0; k < endpoints.size; k++) {
      if (endpoints.closed) return undefined
      const i = endpoints.current
      const services = endpoints.services(i)
      try {
        // A cheap call first: a stream opened on a dead endpoint only fails later.
        await probe(services)
        return open(services)
      } catch (err) {
        if (!isUnreachable(err)) throw err
        endpoints.failed(i)
      }
    }
  }
  return undefined
}

interface WatchState {
  create: WatchCreateRequest
  /** nextRev is where a re-created watcher starts: after the last event delivered (0: from the current revision). */
  nextRev: number
  created: boolean
}

/**
 * ResilientWatch is a watch stream that survives its endpoint going away. It remembers every watcher's create
 * request and the last revision it delivered; when the stream breaks it opens a new one (on the next endpoint if
 * need be) and re-creates each watcher under the same id from the revision after its last event, so the consumer
 * sees no gap and no event twice. The re-created watchers' "created" responses are not passed on.
 */
export class ResilientWatch implements BidiStream<WatchRequest, WatchResponse> {
  readonly #endpoints: Endpoints
  readonly #out: AsyncQueue<WatchResponse>
  readonly #watchers = new Map<number, WatchState>()
  /** #unassigned: create requests sent without an id, waiting for the id their created response gives them. */
  readonly #unassigned: WatchState[] = []
  /** #recreating: ids whose next created response belongs to a re-creation, not to the consumer. */
  readonly #recreating = new Set<number>()
  #stream: BidiStream<WatchRequest, WatchResponse> | undefined
  #closed = false

  constructor(endpoints: Endpoints) {
    this.#endpoints = endpoints
    this.#out = new AsyncQueue(() => this.close())
    const i = endpoints.current
    this.#stream = endpoints.services(i).watch.watch()
    void this.#pump(this.#stream)
  }

  send(request: WatchRequest): void {
    if (this.#closed) throw new TypeError('watch: the stream is closed')
    if ('createRequest' in request && request.createRequest) {
      const state: WatchState = { create: request.createRequest, nextRev: request.createRequest.startRevision ?? 0, created: false }
      const id = request.createRequest.watchId ?? 0
      if (id !== 0) this.#watchers.set(id, state)
      else this.#unassigned.push(state)
    } else if ('cancelRequest' in request && request.cancelRequest) {
      this.#watchers.delete(request.cancelRequest.watchId)
    }
    // While reconnecting, requests wait: the re-created stream replays the registry instead.
    this.#stream?.send(request)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#stream?.close()
    this.#out.end()
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    return this.#out
  }

  async #pump(stream: BidiStream<WatchRequest, WatchResponse>): Promise<void> {
    try {
      for await (const r of stream) this.#receive(r)
      if (!this.#closed) this.#out.end()
    } catch (err) {
      if (this.#closed) return
      if (!isUnreachable(err)) {
        this.#out.fail(asEtcdError(err))
        return
      }
      this.#endpoints.failed(this.#endpoints.current)
      await this.#resume(err)
    }
  }

  #receive(r: WatchResponse): void {
    if (r.created && r.watchId >= 0) {
      if (this.#recreating.delete(r.watchId)) return
      const state = this.#unassigned.shift()
      if (state !== undefined) {
        state.created = true
        if (state.nextRev === 0) state.nextRev = r.header.revision + 1
        this.#watchers.set(r.watchId, state)
      } else {
        const known = this.#watchers.get(r.watchId)
        if (known !== undefined) {
          known.created = true
          if (known.nextRev === 0) known.nextRev = r.header.revision + 1
        }
      }
    } else if (r.created && r.watchId < 0) {
      // A refused create (duplicate id, empty range): the request it answers is the oldest unassigned one.
      this.#unassigned.shift()
    }
    const state = this.#watchers.get(r.watchId)
    if (state !== undefined) {
      const last = r.events[r.events.length - 1]
      if (last !== undefined && !r.fragment) state.nextRev = last.kv.modRevision + 1
      if (r.canceled) this.#watchers.delete(r.watchId)
    }
    this.#out.push(r)
  }

  async #resume(cause: unknown): Promise<void> {
    this.#stream = undefined
    let stream: BidiStream<WatchRequest, WatchResponse> | undefined
    try {
      stream = await reopen(this.#endpoints, (s) => s.watch.watch(), (s) => s.maintenance.status())
    } catch (err) {
      this.#out.fail(asEtcdError(err))
      return
    }
    if (stream === undefined || this.#closed) {
      stream?.close()
      if (!this.#closed) this.#out.fail(asEtcdError(cause))
      return
    }
    this.#stream = stream
    // Creates that never got their id are re-sent as they were; the others under their id, from where they stood.
    for (const [id, state] of this.#watchers) {
      this.#recreating.add(id)
      stream.send({ createRequest: { ...state.create, watchId: id, startRevision: state.nextRev } })
    }
    for (const state of this.#unassigned) stream.send({ createRequest: state.create })
    void this.#pump(stream)
  }
}

/**
 * ResilientKeepAlive is a lease keepalive stream that survives its endpoint going away: requests not yet answered
 * when the stream broke, and those sent while it is down, are sent again once a new one is open. A lease that expired meanwhile is then answered with TTL 0,
 * which is how the consumer learns it is lost.
 */
export class ResilientKeepAlive implements BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
  readonly #endpoints: Endpoints
  readonly #out: AsyncQueue<LeaseKeepAliveResponse>
  #stream: BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> | undefined
  /** #unanswered: requests sent (or waiting to be) whose answer has not come; resent on a new stream. */
  #unanswered: LeaseKeepAliveRequest[] = []
  #closed = false

  constructor(endpoints: Endpoints) {
    this.#endpoints = endpoints
    this.#out = new AsyncQueue(() => this.close())
    this.#stream = endpoints.services(endpoints.current).lease.leaseKeepAlive()
    void this.#pump(this.#stream)
  }

  send(request: LeaseKeepAliveRequest): void {
    if (this.#closed) throw new TypeError('leaseKeepAlive: the stream is closed')
    this.#unanswered.push(request)
    this.#stream?.send(request)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#stream?.close()
    this.#out.end()
  }

  [Symbol.asyncIterator](): AsyncIterator<LeaseKeepAliveResponse> {
    return this.#out
  }

  async #pump(stream: BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>): Promise<void> {
    try {
      for await (const r of stream) {
        this.#unanswered.shift()
        this.#out.push(r)
      }
      if (!this.#closed) this.#out.end()
    } catch (err) {
      if (this.#closed) return
      if (!isUnreachable(err)) {
        this.#out.fail(asEtcdError(err))
        return
      }
      this.#endpoints.failed(this.#endpoints.current)
      this.#stream = undefined
      let next: BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> | undefined
      try {
        next = await reopen(this.#endpoints, (s) => s.lease.leaseKeepAlive(), (s) => s.maintenance.status())
      } catch (e) {
        this.#out.fail(asEtcdError(e))
        return
      }
      if (next === undefined || this.#closed) {
        next?.close()
        if (!this.#closed) this.#out.fail(new EtcdError('ETCD_UNAVAILABLE'))
        return
      }
      this.#stream = next
      for (const request of this.#unanswered) next.send(request)
      void this.#pump(next)
    }
  }
}
