import type { IncomingMessage, ServerResponse } from 'node:http'
import { status as Status, type UntypedServiceImplementation } from '@grpc/grpc-js'
import type { Engine } from '../api/engine.ts'
import type { ServerTap } from '../server/server-tap.ts'
import type { GrpcStatus } from '../wire/status.ts'
import type { ServiceName, WireMessage } from '../wire/proto.ts'
import { rpcTable, shortName, type Rpc } from '../wire/rpc-table.ts'
import { Decoded } from './decoded-request.ts'
import { errorStatus, revisionOf, STOPPED } from './fault-answers.ts'
import { kindOf, type FaultError, type Faults } from './faults.ts'
import { finish, type RequestLog } from './requests.ts'
import { notDrop, TappedStream, type StreamCall, type StreamFn, type TapState, type UnaryCall } from './tapped-stream.ts'

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

/** Tap is the shared state of one server's wrapped handlers. */
class Tap implements TapState {
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

  get engine(): () => Engine {
    return this.options.engine
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
  const table = rpcTable()
  return {
    wrap(service: ServiceName, impl: UntypedServiceImplementation): UntypedServiceImplementation {
      if (options.faults === undefined && options.requests === undefined) return impl
      const out: UntypedServiceImplementation = {}
      for (const [name, handler] of Object.entries(impl)) {
        const rpc = table.get(`${shortName(service)}.${name}`)
        if (rpc === undefined) out[name] = handler
        else if (rpc.kind === 'unary') out[name] = unaryTap(rpc, handler as UnaryFn, tap)
        else out[name] = (call: StreamCall) => new TappedStream(rpc, call, tap).start(handler as StreamFn)
      }
      return out
    },
    ...(options.http === undefined ? {} : { http: options.http }),
    release: () => tap.release(),
  }
}

function unaryTap(rpc: Rpc, handler: UnaryFn, tap: Tap): UnaryFn {
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

