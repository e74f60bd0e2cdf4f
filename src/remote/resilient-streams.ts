import type { CallCredentials } from '../messages/auth.ts'
import type { BidiStream } from '../messages/stream.ts'
import type { LeaseKeepAliveRequest, LeaseKeepAliveResponse } from '../messages/lease.ts'
import type { WatchCreateRequest, WatchRequest, WatchResponse } from '../messages/watch.ts'
import { AsyncQueue } from '../util/async-queue.ts'
import type { RemoteServices } from './remote-services.ts'
import { asEtcdError, isUnreachable, type Endpoints } from './endpoints.ts'

/** RECONNECT_DELAYS_MS: waits between attempts to reopen a broken stream, one round over the endpoints each. */
const RECONNECT_DELAYS_MS = [0, 100, 250, 500, 1000, 2000]

/**
 * reopen opens a new stream on the endpoint in use, or the next ones, waiting a little longer after each round
 * over all of them; it gives up (returns undefined) after the last delay. It answers the stream and the endpoint it
 * is on.
 */
async function reopen<S>(
  endpoints: Endpoints,
  open: (s: RemoteServices) => S,
  probe: (s: RemoteServices) => Promise<unknown>,
): Promise<{ stream: S; on: number } | undefined> {
  for (const delay of RECONNECT_DELAYS_MS) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
    for (let k = 0; k < endpoints.size; k++) {
      if (endpoints.closed) return undefined
      const i = endpoints.current
      const services = endpoints.services(i)
      try {
        // A cheap call first: a stream opened on a dead endpoint only fails later.
        await probe(services)
        endpoints.answered(i)
        return { stream: open(services), on: i }
      } catch (err) {
        if (!isUnreachable(err)) throw err
        endpoints.failed(i)
      }
    }
  }
  return undefined
}

/**
 * ResilientStream is a bidirectional stream that outlives its connection. Responses pass through `receive`; when
 * the stream breaks because its endpoint is unreachable, a new one is opened (on the next endpoint if need be) and
 * `replay` sends it whatever the subclass must send again. Other failures end the iteration with the error.
 */
abstract class ResilientStream<Req, Res> implements BidiStream<Req, Res> {
  readonly #endpoints: Endpoints
  readonly #open: (s: RemoteServices) => BidiStream<Req, Res>
  protected readonly out: AsyncQueue<Res>
  protected stream: BidiStream<Req, Res> | undefined
  protected closed = false
  /** #on is the endpoint the stream is connected to: the one to blame when it breaks. */
  #on: number

  constructor(endpoints: Endpoints, open: (s: RemoteServices) => BidiStream<Req, Res>) {
    this.#endpoints = endpoints
    this.#open = open
    this.out = new AsyncQueue(() => this.close())
    this.#on = endpoints.current
    this.stream = open(endpoints.services(this.#on))
    void this.#pump(this.stream)
  }

  abstract send(request: Req): void
  /** receive handles one response (and passes it on, or not). */
  protected abstract receive(response: Res): void
  /** replay sends a newly opened stream what the broken one was doing. */
  protected abstract replay(stream: BidiStream<Req, Res>): void

  close(): void {
    if (this.closed) return
    this.closed = true
    this.stream?.close()
    this.out.end()
  }

  [Symbol.asyncIterator](): AsyncIterator<Res> {
    return this.out
  }

  async #pump(stream: BidiStream<Req, Res>): Promise<void> {
    try {
      for await (const r of stream) this.receive(r)
      if (!this.closed) this.out.end()
    } catch (err) {
      if (this.closed) return
      if (!isUnreachable(err)) {
        this.out.fail(asEtcdError(err))
        return
      }
      // Blame the endpoint this stream was on: the one in use may have moved on already (other calls saw it fail).
      this.#endpoints.failed(this.#on)
      this.stream = undefined
      let next: { stream: BidiStream<Req, Res>; on: number } | undefined
      try {
        next = await reopen(this.#endpoints, this.#open, (s) => s.maintenance.status())
      } catch (e) {
        this.out.fail(asEtcdError(e))
        return
      }
      if (next === undefined || this.closed) {
        next?.stream.close()
        if (!this.closed) this.out.fail(asEtcdError(err, this.#endpoints.address(this.#on)))
        return
      }
      this.#on = next.on
      this.stream = next.stream
      this.replay(next.stream)
      void this.#pump(next.stream)
    }
  }
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
export class ResilientWatch extends ResilientStream<WatchRequest, WatchResponse> {
  readonly #watchers = new Map<number, WatchState>()
  /** #unassigned: create requests sent without an id, waiting for the id their created response gives them. */
  readonly #unassigned: WatchState[] = []
  /** #recreating: ids whose next created response belongs to a re-creation, not to the consumer. */
  readonly #recreating = new Set<number>()

  constructor(endpoints: Endpoints, credentials?: CallCredentials) {
    super(endpoints, (s) => s.watch.watch(credentials))
  }

  send(request: WatchRequest): void {
    if (this.closed) throw new TypeError('watch: the stream is closed')
    if ('createRequest' in request && request.createRequest) {
      const state: WatchState = { create: request.createRequest, nextRev: request.createRequest.startRevision ?? 0, created: false }
      const id = request.createRequest.watchId ?? 0
      if (id !== 0) this.#watchers.set(id, state)
      else this.#unassigned.push(state)
    } else if ('cancelRequest' in request && request.cancelRequest) {
      this.#watchers.delete(request.cancelRequest.watchId)
    }
    // While reconnecting, requests wait: the new stream replays the registry instead.
    this.stream?.send(request)
  }

  protected receive(r: WatchResponse): void {
    if (r.created && r.watchId >= 0) {
      if (this.#recreating.delete(r.watchId)) return
      // A create with its own id is known by it; otherwise the answer is to the oldest create without one.
      const known = this.#watchers.get(r.watchId)
      const state = known !== undefined && !known.created ? known : this.#unassigned.shift()
      if (state !== undefined) {
        state.created = true
        if (state.nextRev === 0) state.nextRev = r.header.revision + 1
        this.#watchers.set(r.watchId, state)
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
    this.out.push(r)
  }

  protected replay(stream: BidiStream<WatchRequest, WatchResponse>): void {
    // Watchers with an id are re-created under it, from where they stood; creates that never got one, as they were.
    for (const [id, state] of this.#watchers) {
      this.#recreating.add(id)
      stream.send({ createRequest: { ...state.create, watchId: id, startRevision: state.nextRev } })
    }
    for (const state of this.#unassigned) stream.send({ createRequest: state.create })
  }
}

/**
 * ResilientKeepAlive is a lease keepalive stream that survives its endpoint going away: requests not yet answered
 * when the stream broke, and those sent while it is down, are sent again once a new one is open. A lease that
 * expired meanwhile is then answered with TTL 0, which is how the consumer learns it is lost.
 */
export class ResilientKeepAlive extends ResilientStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
  /** #unanswered: requests sent (or waiting to be) whose answer has not come; responses come in request order. */
  readonly #unanswered: LeaseKeepAliveRequest[] = []

  constructor(endpoints: Endpoints, credentials?: CallCredentials) {
    super(endpoints, (s) => s.lease.leaseKeepAlive(credentials))
  }

  send(request: LeaseKeepAliveRequest): void {
    if (this.closed) throw new TypeError('leaseKeepAlive: the stream is closed')
    this.#unanswered.push(request)
    this.stream?.send(request)
  }

  protected receive(r: LeaseKeepAliveResponse): void {
    this.#unanswered.shift()
    this.out.push(r)
  }

  protected replay(stream: BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>): void {
    for (const request of this.#unanswered) stream.send(request)
  }
}
