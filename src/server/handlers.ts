import {
  status as Status,
  type ServerDuplexStream,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import type { Services } from '../api/services.ts'
import { electionService } from '../concurrency/election-service.ts'
import { lockService } from '../concurrency/lock-service.ts'
import type { CallCredentials } from '../messages/auth.ts'
import type { MemberListResponse } from '../messages/maintenance.ts'
import type { BidiStream } from '../messages/stream.ts'
import { SERVICES, type ServiceName, type WireMessage } from '../wire/proto.ts'
import { engineMethod, rowsOf, type EngineTargets, type Rpc } from '../wire/rpc-table.ts'
import { credentialsOf } from './call-credentials.ts'
import { unary, type UnaryHandler } from './unary-handler.ts'
import { asUnknown, observeHandler, waiting } from './concurrency-handlers.ts'
import { streamSnapshot, type SizedStream } from './snapshot-handler.ts'
import { bridge, type Streams } from './stream-bridge.ts'

/**
 * The gRPC method handlers, built from the RPC table (src/wire/rpc-table.ts): each decodes its request with the row's
 * codec, calls the row's engine method, and encodes the answer. They hold no etcd semantics of their own; every rule
 * lives in the engine behind `services`. Only what is the server's own is written here: the snapshot byte stream cut
 * into messages, the member list's client URLs (where this server listens), and the health check.
 */

/** HandlerContext is what the handlers need from the server around them. */
export interface HandlerContext {
  readonly services: Services
  /** clientUrls are the URLs this member serves clients on; MemberList reports them. */
  clientUrls(): string[]
  /** streams tracks open streams and waiting calls so that shutdown can end them. */
  readonly streams: Streams
  /** snapshot streams a consistent copy of the store (`engine.snapshot()`), for a caller holding the root role. */
  readonly snapshot?: (credentials: CallCredentials | undefined) => SizedStream
}

/** serviceHandlers builds every served service's handlers, in SERVICES order. */
export function serviceHandlers(ctx: HandlerContext): [ServiceName, UntypedServiceImplementation][] {
  const targets: EngineTargets = { ...ctx.services, lock: lockService(ctx.services), election: electionService(ctx.services) }
  return SERVICES.map((service) => {
    const impl: UntypedServiceImplementation = {}
    for (const row of rowsOf(service)) if (row.served) impl[row.method] = handlerOf(row, ctx, targets)
    return [service, impl]
  })
}

/** handlerOf builds one row's handler. */
function handlerOf(row: Rpc, ctx: HandlerContext, targets: EngineTargets): UntypedServiceImplementation[string] {
  switch (row.name) {
    case 'Maintenance.Snapshot':
      return snapshotHandler(ctx)
    case 'Cluster.MemberList':
      return memberListHandler(row as Rpc<Record<string, never>, MemberListResponse>, ctx)
    case 'Health.Check':
      return healthHandler(ctx)
    case 'Election.Observe':
      return observeHandler(row, ctx.streams, targets.election)
  }
  const call = engineMethod(targets, row)
  if (row.kind === 'bidi') {
    return (stream: ServerDuplexStream<WireMessage, WireMessage>) =>
      bridge(stream, () => call(credentialsOf(stream)) as BidiStream<unknown, unknown>, row.request, row.response, row, ctx.streams)
  }
  if (row.waits) return waiting(ctx.streams, row, (r, c, signal) => call(r, c, signal) as Promise<unknown>)
  if (!row.errorsAsUnknown) return unary(row.request, row.response, call as (r: unknown, c: CallCredentials | undefined) => Promise<unknown>)
  return unary(row.request, row.response, (r, c) => (call(r, c) as Promise<unknown>).catch(asUnknown))
}

function snapshotHandler(ctx: HandlerContext): UntypedServiceImplementation[string] {
  return (call: ServerWritableStream<WireMessage, WireMessage>) => {
    if (ctx.snapshot === undefined) {
      call.emit('error', { code: Status.UNIMPLEMENTED, details: 'etcdlite: this engine has no snapshots' })
      return
    }
    void streamSnapshot(ctx.services, ctx.snapshot, call)
  }
}

/** memberListHandler: the engine lists itself; its client URLs are where this server actually listens (or advertises). */
function memberListHandler(row: Rpc<Record<string, never>, MemberListResponse>, ctx: HandlerContext): UnaryHandler {
  return unary(row.request, row.response, async (_r, c) => {
    const r = await ctx.services.cluster.memberList({}, c)
    const urls = ctx.clientUrls()
    return { ...r, members: r.members.map((m) => ({ ...m, clientURLs: [...urls] })) }
  })
}

/** healthHandler: gRPC's standard health check, which etcd also serves: SERVING while the engine is open. */
function healthHandler(ctx: HandlerContext): UnaryHandler {
  return (_call, callback) => {
    ctx.services.maintenance.status({}).then(
      () => callback(null, { status: 1 }),
      () => callback(null, { status: 2 }),
    )
  }
}
