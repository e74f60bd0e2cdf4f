import type { ServerDuplexStream } from '@grpc/grpc-js'
import { EtcdError } from '../util/errors.ts'
import type { BidiStream } from '../messages/stream.ts'
import type { Codec } from '../wire/codec.ts'
import { toGrpcStatus } from '../wire/status.ts'
import type { WireMessage } from '../wire/proto.ts'

/** BridgeOptions: how a bidirectional RPC maps onto a services-level stream. */
export interface BridgeOptions<Req> {
  /**
   * endOnHalfClose: when the client closes its sending side, finish the call once the answers to what it sent are
   * written (etcd's LeaseKeepAlive returns on EOF). Otherwise the call stays open for its responses, as etcd's Watch
   * does, until the client cancels it.
   */
  readonly endOnHalfClose: boolean
  /** ignore tells requests that get no answer and never reach the engine (an empty WatchRequest). */
  readonly ignore?: (request: Req) => boolean
}

/** Streams tracks the open bridged calls, so a server shutting down can end them. */
export type Streams = Set<() => void>

/**
 * bridge serves one bidirectional gRPC call with a services-level stream: each request read is decoded and sent to
 * the stream; each response is encoded and written to the call.
 *
 * Backpressure: the engine stream is read one response at a time, and not again until the call has taken the last
 * write (`write()` returned true, or 'drain'); a slow client therefore leaves responses in the engine, whose watchers
 * fall back to catching up from history instead of buffering without bound.
 *
 * A client that cancels or disconnects closes the engine stream at once. A request the engine rejects ends the call
 * with that error's status. When the server shuts down (`streams` entries are called), the call ends with
 * UNAVAILABLE "etcdserver: server stopped", as clients expect of a member going away.
 */
export function bridge<Req, Res>(
  call: ServerDuplexStream<WireMessage, WireMessage>,
  open: () => BidiStream<Req, Res>,
  requests: Codec<Req>,
  responses: Codec<Res>,
  options: BridgeOptions<Req>,
  streams: Streams,
): void {
  let stream: BidiStream<Req, Res>
  try {
    stream = open()
  } catch (err) {
    call.emit('error', toGrpcStatus(err))
    return
  }
  let finished = false
  let drainWaiter: (() => void) | undefined

  /** finish ends the call once: with a status for an error, OK otherwise; `quietly` when the client is gone. */
  const finish = (err?: unknown, quietly = false) => {
    if (finished) return
    finished = true
    streams.delete(shutdown)
    stream.close()
    const w = drainWaiter
    drainWaiter = undefined
    w?.()
    if (quietly) return
    if (err === undefined) call.end()
    else call.emit('error', toGrpcStatus(err))
  }
  const shutdown = () => finish(new EtcdError('ETCD_STOPPED'))
  streams.add(shutdown)

  const gone = () => finish(undefined, true)
  call.on('cancelled', gone)
  call.on('close', gone)
  call.on('error', gone)
  call.on('drain', () => {
    const w = drainWaiter
    drainWaiter = undefined
    w?.()
  })
  call.on('data', (wire: WireMessage) => {
    if (finished) return
    try {
      const request = requests.fromWire(wire)
      if (options.ignore?.(request) === true) return
      stream.send(request)
    } catch (err) {
      finish(err)
    }
  })
  call.on('end', () => {
    // Half-close. LeaseKeepAlive: the answers to every request sent are already queued; closing the engine
    // stream lets them drain, and then the loop below ends the call.
    if (options.endOnHalfClose && !finished) stream.close()
  })

  void (async () => {
    const it = stream[Symbol.asyncIterator]()
    try {
      for (;;) {
        const step = await it.next()
        if (step.done === true || finished) break
        const ok = call.write(responses.toWire(step.value))
        if (!ok && !finished) await new Promise<void>((resolve) => (drainWaiter = resolve))
      }
      finish()
    } catch (err) {
      finish(err)
    }
  })()
}
