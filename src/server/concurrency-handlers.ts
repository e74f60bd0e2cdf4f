import { status as Status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js'
import type { CallCredentials } from '../messages/auth.ts'
import type { ElectionService, LeaderRequest, LeaderResponse } from '../messages/concurrency.ts'
import { EtcdError } from '../util/errors.ts'
import type { WireMessage } from '../wire/proto.ts'
import type { Rpc } from '../wire/rpc-table.ts'
import { toGrpcStatus } from '../wire/status.ts'
import { credentialsOf } from './call-credentials.ts'
import type { Streams } from './stream-bridge.ts'
import { unary } from './unary-handler.ts'

/**
 * What the lock and election services need beyond a plain unary handler. etcd serves both through a client of its
 * own, so every error reaches the caller as code Unknown with the error's text ("etcdserver: requested lease not
 * found", "election: no leader"), whatever code the same error has on the KV or Lease service; so do these (the rows'
 * errorsAsUnknown). Lock and Campaign wait (for the lock, for leadership): a caller that cancels its call, or a server
 * that shuts down, ends the wait, and the waiter's key is removed, as etcd's server does when the call's context
 * ends. Observe streams until the caller goes away.
 */

/** waiting builds a unary handler whose call may wait long: it is aborted when the caller cancels or the server stops. */
export function waiting<Req, Res>(
  streams: Streams,
  row: Rpc<Req, Res>,
  fn: (request: Req, credentials: CallCredentials | undefined, signal: AbortSignal) => Promise<Res>,
): (call: ServerUnaryCall<WireMessage, WireMessage>, callback: sendUnaryData<WireMessage>) => void {
  return (call, callback) => {
    const abort = new AbortController()
    const shutdown = (): void => abort.abort(new EtcdError('ETCD_STOPPED'))
    call.on('cancelled', () => abort.abort(new Error('the call was canceled')))
    streams.add(shutdown)
    const handler = unary(row.request, row.response, (r: Req, c) => fn(r, c, abort.signal).catch(asUnknown))
    handler(call, (err, value) => {
      streams.delete(shutdown)
      callback(err, value)
    })
  }
}

/** unknownText is an error's text as etcd's lock and election services send it (with code Unknown). */
function unknownText(err: unknown): string {
  return err instanceof EtcdError ? err.wireMessage : err instanceof Error ? err.message : String(err)
}

/** asUnknown rethrows an error so that it is answered with code Unknown and its etcd text. */
export function asUnknown(err: unknown): never {
  throw new Error(unknownText(err))
}

/** observeHandler serves Election.Observe: the leader now and each change, until the caller goes away. */
export function observeHandler(
  row: Rpc,
  streams: Streams,
  elections: ElectionService,
): (call: ServerWritableStream<WireMessage, WireMessage>) => void {
  const { request: requests, response: responses } = row as Rpc<LeaderRequest, LeaderResponse>
  return (call) => {
    let request
    try {
      request = requests.fromWire(call.request)
    } catch (err) {
      call.emit('error', toGrpcStatus(err))
      return
    }
    const leaders = elections.observe(request, credentialsOf(call))
    const stop = (): void => leaders.close()
    call.on('cancelled', stop)
    streams.add(stop)
    void (async () => {
      try {
        for await (const leader of leaders) {
          if (call.cancelled) return
          call.write(responses.toWire(leader))
        }
        if (!call.cancelled) call.end()
      } catch (err) {
        if (!call.cancelled) call.emit('error', { code: Status.UNKNOWN, details: unknownText(err) })
      } finally {
        streams.delete(stop)
      }
    })()
  }
}
