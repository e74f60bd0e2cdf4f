import { status as Status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js'
import { electionService } from '../concurrency/election-service.ts'
import { lockService } from '../concurrency/lock-service.ts'
import type { CallCredentials } from '../messages/auth.ts'
import {
  campaignRequest,
  campaignResponse,
    leaderRequest,
  leaderResponse,
  lockRequest,
  lockResponse,
  proclaimRequest,
  resignRequest,
  unlockRequest,
} from './codec-concurrency.ts'
import { headerOnlyResponse, type Codec } from './codec.ts'
import { credentialsOf, unary, type HandlerContext } from './handlers.ts'
import { EtcdError } from '../util/errors.ts'
import { toGrpcStatus } from './status.ts'
import type { WireMessage } from './wire.ts'

/**
 * The gRPC handlers of etcd's lock and election services. etcd serves both through a client of its own, so every
 * error reaches the caller as code Unknown with the error's text ("etcdserver: requested lease not found",
 * "election: no leader"), whatever code the same error has on the KV or Lease service; so do these. Lock and Campaign wait (for the lock, for leadership):
 * a caller that cancels its call, or a server that shuts down, ends the wait, and the waiter's key is removed, as
 * etcd's server does when the call's context ends. Observe streams until the caller goes away.
 */

/** waiting builds a unary handler whose call may wait long: it is aborted when the caller cancels or the server stops. */
function waiting<Req, Res>(
  ctx: HandlerContext,
  requests: Codec<Req>,
  responses: Codec<Res>,
  fn: (request: Req, credentials: CallCredentials | undefined, signal: AbortSignal) => Promise<Res>,
): (call: ServerUnaryCall<WireMessage, WireMessage>, callback: sendUnaryData<WireMessage>) => void {
  return (call, callback) => {
    const abort = new AbortController()
    const shutdown = (): void => abort.abort(new EtcdError('ETCD_STOPPED'))
    call.on('cancelled', () => abort.abort(new Error('the call was canceled')))
    ctx.streams.add(shutdown)
    const handler = unary(requests, responses, (r: Req, c) => fn(r, c, abort.signal).catch(asUnknown))
    handler(call, (err, value) => {
      ctx.streams.delete(shutdown)
      callback(err, value)
    })
  }
}

/** unknownText is an error's text as etcd's lock and election services send it (with code Unknown). */
function unknownText(err: unknown): string {
  return err instanceof EtcdError ? err.wireMessage : err instanceof Error ? err.message : String(err)
}

/** asUnknown rethrows an error so that it is answered with code Unknown and its etcd text. */
function asUnknown(err: unknown): never {
  throw new Error(unknownText(err))
}

export function lockHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const locks = lockService(ctx.services)
  return {
    Lock: waiting(ctx, lockRequest, lockResponse, (r, c, signal) => locks.lock(r, c, signal)),
    Unlock: unary(unlockRequest, headerOnlyResponse, (r, c) => locks.unlock(r, c).catch(asUnknown)),
  }
}

export function electionHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const elections = electionService(ctx.services)
  return {
    Campaign: waiting(ctx, campaignRequest, campaignResponse, (r, c, signal) => elections.campaign(r, c, signal)),
    Proclaim: unary(proclaimRequest, headerOnlyResponse, (r, c) => elections.proclaim(r, c).catch(asUnknown)),
    Leader: unary(leaderRequest, leaderResponse, (r, c) => elections.leader(r, c).catch(asUnknown)),
    Resign: unary(resignRequest, headerOnlyResponse, (r, c) => elections.resign(r, c).catch(asUnknown)),
    Observe: (call: ServerWritableStream<WireMessage, WireMessage>) => {
      let request
      try {
        request = leaderRequest.fromWire(call.request)
      } catch (err) {
        call.emit('error', toGrpcStatus(err))
        return
      }
      const leaders = elections.observe(request, credentialsOf(call))
      const stop = (): void => leaders.close()
      call.on('cancelled', stop)
      ctx.streams.add(stop)
      void (async () => {
        try {
          for await (const leader of leaders) {
            if (call.cancelled) return
            call.write(leaderResponse.toWire(leader))
          }
          if (!call.cancelled) call.end()
        } catch (err) {
          if (!call.cancelled) call.emit('error', { code: Status.UNKNOWN, details: unknownText(err) })
        } finally {
          ctx.streams.delete(stop)
        }
      })()
    },
  }
}
