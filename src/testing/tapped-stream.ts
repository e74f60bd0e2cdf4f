import { EventEmitter } from 'node:events'
import { status as Status } from '@grpc/grpc-js'
import type { Engine } from '../api/engine.ts'
import { header as headerCodec, int } from '../wire/codec.ts'
import { watchResponse } from '../wire/codec-streams.ts'
import { toGrpcStatus, type GrpcStatus } from '../wire/status.ts'
import type { WireMessage } from '../wire/proto.ts'
import type { ResponseHeader } from '../messages/header.ts'
import { Decoded } from './decoded-request.ts'
import { errorStatus, revisionOf, STOPPED, WATCH_PERMISSION_REASON } from './fault-answers.ts'
import type { ActiveRule, Fault, FaultError, Faults } from './faults.ts'
import { finish, type RecordedRequest, type RequestLog } from './requests.ts'
import type { Rpc } from '../wire/rpc-table.ts'

/** UnaryCall is the part of a grpc-js call (or the gateway's stand-in) the tap uses on every call. */
export interface UnaryCall {
  readonly request: WireMessage
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

/** StreamCall is a streaming call, as grpc-js hands it to a handler. */
export interface StreamCall extends UnaryCall {
  readonly metadata: unknown
  readonly cancelled: boolean
  getAuthContext?(): unknown
  getPeer?(): string
  write(message: WireMessage): boolean
  end(): void
  emit(event: string | symbol, ...args: unknown[]): boolean
}

export type StreamFn = (call: StreamCall) => void

/** ViewCall is the stand-in call a streaming handler sees: a call's shape, with listeners that can be removed. */
interface ViewCall extends StreamCall {
  once(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown
}

/** TapState is what a tapped stream shares with the tap: the rules, the log, the engine, the open streams. */
export interface TapState {
  readonly faults: Faults | undefined
  readonly requests: RequestLog | undefined
  readonly engine: () => Engine
  readonly streams: Set<TappedStream>
}

/** notDrop accepts every fault but a drop, which applies to what a stream writes, not to the call arriving. */
export const notDrop = (f: Fault) => f !== 'drop'

/**
 * TappedStream stands between a streaming call and its handler. The handler sees `view`, a call of the same shape:
 * requests reach it through #request (recorded, then passed on, delayed, swallowed or refused by a fault), and what it
 * writes leaves through #response (where drops and a watch's compaction apply). It tracks a watch stream's watchers
 * (id -> key), so that rules with a key prefix find them.
 */
export class TappedStream {
  readonly #rpc: Rpc
  readonly #call: StreamCall
  readonly #tap: TapState
  readonly #inner = new EventEmitter()
  readonly view: ViewCall
  #ended = false
  /** #entries: this stream's recorded requests, which take its final status. */
  readonly #entries: RecordedRequest[] = []
  /** #awaiting: recorded requests not yet followed by a response (their revision is the next one's). */
  #awaiting: RecordedRequest[] = []
  /** #creates: keys of watch creates passed on and not yet answered, in order (etcd answers creates in order). */
  readonly #creates: Uint8Array[] = []
  /** #watchers: the key of each watcher the engine created on this stream, by watch id. */
  readonly #watchers = new Map<number, Uint8Array>()
  /** #killed: watchers a fault canceled; the engine's own answers for them (its cancel ack) are swallowed. */
  readonly #killed = new Set<number>()
  /** #backlog: requests waiting behind a delayed one, to keep the stream's order. */
  #backlog: (() => void)[] | undefined
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(rpc: Rpc, call: StreamCall, tap: TapState) {
    this.#rpc = rpc
    this.#call = call
    this.#tap = tap
    const inner = this.#inner
    const ended = () => this.#ended
    this.view = {
      get request() {
        return call.request
      },
      get metadata() {
        return call.metadata
      },
      get cancelled() {
        return call.cancelled || ended()
      },
      getAuthContext: () => call.getAuthContext?.(),
      getPeer: () => call.getPeer?.() ?? '',
      on(event: string, listener: (...args: unknown[]) => void) {
        inner.on(event, listener)
        return this
      },
      once(event: string, listener: (...args: unknown[]) => void) {
        inner.once(event, listener)
        return this
      },
      off(event: string, listener: (...args: unknown[]) => void) {
        inner.off(event, listener)
        return this
      },
      removeListener(event: string, listener: (...args: unknown[]) => void) {
        inner.off(event, listener)
        return this
      },
      write: (message: WireMessage) => this.#response(message),
      end: () => {
        if (this.#ended) return
        this.#finish(Status.OK)
        call.end()
      },
      emit: (event: string | symbol, ...args: unknown[]) => {
        if (event !== 'error') return inner.emit(event, ...args)
        if (this.#ended) return true
        const status = args[0] as GrpcStatus
        this.#finish(status.code ?? Status.UNKNOWN)
        return call.emit('error', status)
      },
    }
  }

  start(handler: StreamFn): void {
    const call = this.#call
    this.#tap.streams.add(this)
    for (const event of ['end', 'drain']) call.on(event, (...args: unknown[]) => this.#inner.emit(event, ...args))
    // An 'error' with no listener would throw: pass it on only to a handler that listens for it.
    call.on('error', (...args: unknown[]) => {
      if (this.#inner.listenerCount('error') > 0) this.#inner.emit('error', ...args)
    })
    for (const event of ['cancelled', 'close']) {
      call.on(event, (...args: unknown[]) => {
        this.#finish(Status.CANCELLED)
        this.#inner.emit(event, ...args)
      })
    }
    if (this.#rpc.name === 'Watch.Watch' || this.#rpc.name === 'Lease.LeaseKeepAlive') {
      call.on('data', (wire: unknown) => this.#request(wire as WireMessage))
      handler(this.view)
      return
    }
    // A server stream (Snapshot, Observe): its one request came with the call.
    const request = new Decoded(this.#rpc, call.request)
    const entry = request.record(this.#tap.requests)
    if (entry !== undefined) {
      this.#entries.push(entry)
      this.#awaiting.push(entry)
    }
    const rule = this.#tap.faults?.take(this.#rpc, notDrop, request.keys)
    if (rule === undefined) {
      handler(this.view)
      return
    }
    if (entry !== undefined) entry.fault = rule.rule.fault
    const fault = rule.rule.fault
    if (typeof fault === 'object') this.#after(fault.delayMs, () => handler(this.view))
    else if (fault !== 'black-hole') this.#fail(errorStatus(this.#rpc, fault as FaultError))
  }

  /** dropIfMatched ends the stream if a 'drop' rule matches it now (a rule just added). */
  dropIfMatched(): void {
    if (this.#ended) return
    const keys = () => [...this.#watchers.values()]
    if (this.#tap.faults?.take(this.#rpc, (f) => f === 'drop', keys) !== undefined) this.#drop()
  }

  clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }

  #request(wire: WireMessage): void {
    if (this.#ended) return
    const request = new Decoded(this.#rpc, wire)
    const entry = request.record(this.#tap.requests)
    if (entry !== undefined) {
      this.#entries.push(entry)
      this.#awaiting.push(entry)
    }
    const watch = this.#rpc.name === 'Watch.Watch'
    const create = watch ? (request.typed as { createRequest?: unknown } | undefined)?.createRequest : undefined
    const pass = () => {
      if (this.#ended) return
      if (create !== undefined) this.#creates.push(request.keys()[0] ?? Buffer.alloc(0))
      this.#inner.emit('data', wire)
    }
    // 'compacted' on a watch applies to watchers (at their created answer), not to requests.
    const accepts = (f: Fault) => !(watch && f === 'compacted') && !(watch && f === 'permission-denied' && create === undefined)
    const rule = this.#tap.faults?.take(this.#rpc, accepts, request.keys)
    if (rule !== undefined && entry !== undefined) entry.fault = rule.rule.fault
    const fault = rule?.rule.fault
    if (fault === undefined) this.#inOrder(pass)
    else if (typeof fault === 'object') this.#inOrder(() => this.#after(fault.delayMs, pass))
    else if (fault === 'black-hole') return
    else if (fault === 'drop') this.#drop()
    else if (fault === 'permission-denied' && create !== undefined) this.#inOrder(() => void this.#refuseWatch())
    else this.#fail(errorStatus(this.#rpc, fault as FaultError))
  }

  /** #inOrder runs `fn` now, or after the requests held by a delay. */
  #inOrder(fn: () => void): void {
    if (this.#backlog === undefined) fn()
    else this.#backlog.push(fn)
  }

  /** #after runs `fn` after `ms` real milliseconds; requests arriving meanwhile wait behind it. */
  #after(ms: number, fn: () => void): void {
    this.#backlog ??= []
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      fn()
      const waiting = this.#backlog ?? []
      this.#backlog = undefined
      for (const next of waiting) this.#inOrder(next)
    }, ms)
    timer.unref()
    this.#timers.add(timer)
  }

  /** #refuseWatch answers a create as etcd 3.4 answers one outside the caller's permissions. */
  async #refuseWatch(): Promise<void> {
    let header: ResponseHeader
    try {
      header = (await this.#tap.engine().services.maintenance.status({})).header
    } catch (err) {
      this.#fail(toGrpcStatus(err))
      return
    }
    if (this.#ended) return
    this.#write(
      watchResponse.toWire({
        header,
        watchId: -1,
        created: true,
        canceled: true,
        compactRevision: 0,
        cancelReason: WATCH_PERMISSION_REASON,
        fragment: false,
        events: [],
      }),
    )
  }

  #response(message: WireMessage): boolean {
    if (this.#ended) return true
    const faults = this.#tap.faults
    if (this.#rpc.name !== 'Watch.Watch') {
      if (faults?.take(this.#rpc, (f) => f === 'drop', () => []) !== undefined) {
        this.#drop()
        return true
      }
      return this.#write(message)
    }
    const id = int(message.watchId as number)
    const created = message.created === true
    const canceled = message.canceled === true
    if (this.#killed.has(id)) {
      if (canceled) this.#killed.delete(id)
      return true
    }
    if (created) {
      const key = this.#creates.shift()
      if (!canceled && key !== undefined) this.#watchers.set(id, key)
    } else if (canceled) {
      this.#watchers.delete(id)
    }
    const key = canceled ? undefined : this.#watchers.get(id)
    const rule: ActiveRule | undefined =
      key === undefined ? undefined : faults?.take(this.#rpc, (f) => f === 'compacted' || f === 'drop', () => [key])
    if (rule === undefined) return this.#write(message)
    if (rule.rule.fault === 'drop') {
      this.#drop()
      return true
    }
    const ok = created ? this.#write(message) : true
    this.#cancelCompacted(id, headerCodec.fromWire(message.header as WireMessage))
    return ok
  }

  /**
   * #cancelCompacted cancels a watcher as etcd cancels one whose history was compacted away: a response with its
   * watch id, canceled, and the compact revision (the store's, or its current revision if it never compacted). The
   * engine's watcher is canceled behind the client's back and its last answers swallowed.
   */
  #cancelCompacted(id: number, header: ResponseHeader): void {
    const engine = this.#tap.engine()
    const compactRevision = engine.stats().compactRevision || engine.revision
    this.#killed.add(id)
    this.#watchers.delete(id)
    this.#write(
      watchResponse.toWire({ header, watchId: id, created: false, canceled: true, compactRevision, cancelReason: '', fragment: false, events: [] }),
    )
    this.#inner.emit('data', { cancelRequest: { watchId: id } })
  }

  #write(message: WireMessage): boolean {
    if (this.#awaiting.length > 0) {
      const revision = revisionOf(message)
      for (const e of this.#awaiting) e.revision = revision
      this.#awaiting = []
    }
    return this.#call.write(message)
  }

  /** #drop ends the stream as a member going away does; the handler hears that its caller is gone. */
  #drop(): void {
    for (const e of this.#entries) e.fault ??= 'drop'
    this.#fail(STOPPED())
  }

  #fail(status: GrpcStatus): void {
    if (this.#ended) return
    this.#finish(status.code)
    this.#call.emit('error', status)
    this.#inner.emit('cancelled')
  }

  #finish(code: number): void {
    if (this.#ended) return
    this.#ended = true
    this.#tap.streams.delete(this)
    this.clearTimers()
    for (const e of this.#entries) finish(e, code)
  }
}

