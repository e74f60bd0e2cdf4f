import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { status as Status, type UntypedServiceImplementation } from '@grpc/grpc-js'
import type { Engine } from '../api/engine.ts'
import { header as headerCodec, int } from '../server/codec.ts'
import { watchResponse } from '../server/codec-streams.ts'
import type { ServerTap } from '../server/server-tap.ts'
import { toGrpcStatus, type GrpcStatus } from '../server/status.ts'
import type { ServiceName, WireMessage } from '../server/wire.ts'
import { EtcdError, type EtcdErrorCode } from '../util/errors.ts'
import type { ResponseHeader } from '../messages/header.ts'
import { FAULT_ERRORS, kindOf, type ActiveRule, type Fault, type FaultError, type Faults } from './faults.ts'
import { finish, type RecordedRequest, type RequestLog } from './requests.ts'
import { requestKeys, rpcs, shortName, type RpcInfo } from './rpc-names.ts'

/**
 * The testing kit's tap on the server (a ServerTap): every handler is wrapped so that fault rules are consulted and
 * requests recorded as calls arrive, whatever face they came through (gRPC or the JSON gateway) and whatever the
 * transport. Unary calls are wrapped around their callback. Streaming calls get a stand-in call object between the
 * transport's call and the handler: requests pass through it on their way in, responses on their way out, so a fault
 * can hold, answer, cancel or end what the handler never sees.
 */

/** TapOptions: what the tap consults. Without faults and requests, handlers are served unwrapped. */
export interface TapOptions {
  readonly faults?: Faults
  readonly requests?: RequestLog
  /** engine is the engine served now (for headers and the compact revision of answers the tap writes itself). */
  readonly engine: () => Engine
  /** http answers requests of the tap's own (the fault control). */
  readonly http?: (req: IncomingMessage, res: ServerResponse) => boolean
}

type Callback = (err: GrpcStatus | null, value?: WireMessage) => void
type UnaryFn = (call: UnaryCall, callback: Callback) => void
type StreamFn = (call: StreamCall) => void

interface UnaryCall {
  readonly request: WireMessage
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

interface StreamCall extends UnaryCall {
  readonly metadata: unknown
  readonly cancelled: boolean
  getAuthContext?(): unknown
  getPeer?(): string
  write(message: WireMessage): boolean
  end(): void
  emit(event: string | symbol, ...args: unknown[]): boolean
}

/** ViewCall is the stand-in call a streaming handler sees: a call's shape, with listeners that can be removed. */
interface ViewCall extends StreamCall {
  once(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown
}

/** STOPPED is how a member going away ends a call: what drops, black holes and shutdowns answer. */
const STOPPED = (): GrpcStatus => toGrpcStatus(new EtcdError('ETCD_STOPPED'))

/** MAINTENANCE_ADMIN: the maintenance calls etcd 3.4 refuses with the auth package's own text, as code Unknown. */
const MAINTENANCE_ADMIN = new Set(['Maintenance.Hash', 'Maintenance.HashKV', 'Maintenance.Defragment', 'Maintenance.Snapshot'])

/**
 * errorStatus is the status a real etcd 3.4 answers for a fault's error on this RPC: the error's own code and text;
 * on Lock and Election (which etcd serves through a client of its own) code Unknown with the text; a permission
 * refusal of an admin maintenance call is "auth: permission denied" (Unknown), as etcd 3.4 lets it through.
 */
export function errorStatus(rpc: RpcInfo, kind: FaultError): GrpcStatus {
  let code: EtcdErrorCode = FAULT_ERRORS[kind]
  if (kind === 'permission-denied' && MAINTENANCE_ADMIN.has(rpc.name)) code = 'ETCD_MAINTENANCE_PERMISSION_DENIED'
  const err = new EtcdError(code)
  if (rpc.service === 'Lock' || rpc.service === 'Election') return { code: Status.UNKNOWN, details: err.wireMessage }
  return toGrpcStatus(err)
}

/** watchPermissionReason: the cancel reason etcd 3.4 gives a watch created outside the caller's permissions. */
const WATCH_PERMISSION_REASON = `rpc error: code = PermissionDenied desc = ${new EtcdError('ETCD_PERMISSION_DENIED').wireMessage}`

/** revisionOf reads the header revision of a wire response. */
function revisionOf(value: WireMessage | undefined): number | undefined {
  const h = value?.header as { revision?: unknown } | undefined
  return h === undefined || h === null ? undefined : int(h.revision as number)
}

/** Tap is the shared state of one server's wrapped handlers. */
class Tap {
  /** held: release functions of unary calls held unanswered (delays, black holes). */
  readonly held = new Set<() => void>()
  /** streams: the open tapped streams, for drops on add and release. */
  readonly streams = new Set<TappedStream>()

  constructor(readonly options: TapOptions) {
    options.faults?.onAdd((rule) => {
      if (kindOf(rule.rule.fault) !== 'drop') return
      for (const s of [...this.streams]) s.dropIfMatched()
    })
  }

  get faults(): Faults | undefined {
    return this.options.faults
  }

  get requests(): RequestLog | undefined {
    return this.options.requests
  }

  release(): void {
    for (const release of [...this.held]) release()
    for (const s of [...this.streams]) s.clearTimers()
  }
}

/** createTap builds the ServerTap that applies `options.faults` and records into `options.requests`. */
export function createTap(options: TapOptions): ServerTap {
  const tap = new Tap(options)
  const table = rpcs()
  return {
    wrap(service: ServiceName, impl: UntypedServiceImplementation): UntypedServiceImplementation {
      if (options.faults === undefined && options.requests === undefined) return impl
      const out: UntypedServiceImplementation = {}
      for (const [name, handler] of Object.entries(impl)) {
        const rpc = table.get(`${shortName(service)}.${name}`)
        if (rpc === undefined) out[name] = handler
        else if (!rpc.stream) out[name] = unaryTap(rpc, handler as UnaryFn, tap)
        else out[name] = (call: StreamCall) => new TappedStream(rpc, call, tap).start(handler as StreamFn)
      }
      return out
    },
    ...(options.http === undefined ? {} : { http: options.http }),
    release: () => tap.release(),
  }
}

/** Decoded is a request read once, lazily: its typed form and keys. */
class Decoded {
  #typed: unknown
  #keys: Uint8Array[] | undefined
  #done = false

  constructor(
    readonly rpc: RpcInfo,
    readonly wire: WireMessage,
  ) {}

  get typed(): unknown {
    if (!this.#done) {
      this.#done = true
      try {
        this.#typed = this.rpc.decode(this.wire)
      } catch {
        // The handler will refuse it with the codec's own error; record it as it came.
        this.#typed = undefined
      }
    }
    return this.#typed
  }

  keys = (): Uint8Array[] => {
    this.#keys ??= this.typed === undefined ? [] : requestKeys(this.rpc.name, this.typed)
    return this.#keys
  }

  record(log: RequestLog | undefined): RecordedRequest | undefined {
    return log?.add(this.rpc.name, this.typed ?? this.wire, this.keys())
  }
}

const notDrop = (f: Fault) => f !== 'drop'

function unaryTap(rpc: RpcInfo, handler: UnaryFn, tap: Tap): UnaryFn {
  return (call, callback) => {
    const faults = tap.faults
    if (tap.requests === undefined && (faults === undefined || faults.size === 0)) {
      handler(call, callback)
      return
    }
    const request = new Decoded(rpc, call.request)
    const entry = request.record(tap.requests)
    let answered = false
    const done: Callback = (err, value) => {
      if (answered) return
      answered = true
      if (entry !== undefined) {
        finish(entry, err === null ? Status.OK : (err.code ?? Status.UNKNOWN))
        if (err === null) entry.revision = revisionOf(value)
      }
      callback(err, value)
    }
    const rule = faults?.take(rpc, notDrop, request.keys)
    if (rule === undefined) {
      handler(call, done)
      return
    }
    if (entry !== undefined) entry.fault = rule.rule.fault
    const fault = rule.rule.fault
    if (typeof fault === 'object') hold(tap, call, done, fault.delayMs, () => handler(call, done))
    else if (fault === 'black-hole') hold(tap, call, done)
    else done(errorStatus(rpc, fault as FaultError))
  }
}

/**
 * hold keeps a unary call unanswered: for `ms` then `run`s it (a delay), or for good (a black hole). Releasing the
 * tap (server close, reset) answers it as a member going away; a caller that gives up lets it go.
 */
function hold(tap: Tap, call: UnaryCall, done: Callback, ms?: number, run?: () => void): void {
  let timer: NodeJS.Timeout | undefined
  const release = () => {
    clearTimeout(timer)
    tap.held.delete(release)
    done(STOPPED())
  }
  tap.held.add(release)
  call.on('cancelled', () => {
    clearTimeout(timer)
    tap.held.delete(release)
  })
  if (ms !== undefined && run !== undefined) {
    timer = setTimeout(() => {
      tap.held.delete(release)
      run()
    }, ms)
    timer.unref()
  }
}

/**
 * TappedStream stands between a streaming call and its handler. The handler sees `view`, a call of the same shape:
 * requests reach it through #request (recorded, then passed on, delayed, swallowed or refused by a fault), and what it
 * writes leaves through #response (where drops and a watch's compaction apply). It tracks a watch stream's watchers
 * (id -> key), so that rules with a key prefix find them.
 */
class TappedStream {
  readonly #rpc: RpcInfo
  readonly #call: StreamCall
  readonly #tap: Tap
  readonly #inner = new EventEmitter()
  readonly view: ViewCall
  #ended = false
  /** #entries: this stream's recorded requests, which take its final status. */
  readonly #entries: RecordedRequest[] = []
  /** #awaiting: recorded requests not yet followed by a response (their revision is the next one's). */
  #awaiting: RecordedRequest[] = []
  /** #creates: keys of watch creates passed on and not yet answered, in order (etcd answers creates in order). */
  readonly #creates: Uint8Array[] = []
  readonly #watchers = new Map<number, Uint8Array>()
  /** #killed: watchers a fault canceled; the engine's own answers for them (its cancel ack) are swallowed. */
  readonly #killed = new Set<number>()
  /** #backlog: requests waiting behind a delayed one, to keep the stream's order. */
  #backlog: (() => void)[] | undefined
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(rpc: RpcInfo, call: StreamCall, tap: Tap) {
    this.#rpc = rpc
    this.#call = call
    this.#tap = tap
    const inner = this.#inner
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this
    this.view = {
      get request() {
        return call.request
      },
      get metadata() {
        return call.metadata
      },
      get cancelled() {
        return call.cancelled || self.#ended
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
      header = (await this.#tap.options.engine().services.maintenance.status({})).header
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
    const engine = this.#tap.options.engine()
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
