import {
  status as Status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import type { Services } from '../api/services.ts'
import type { SnapshotResponse } from '../messages/maintenance.ts'
import {
  compactionRequest,
  compactionResponse,
  deleteRangeRequest,
  deleteRangeResponse,
  putRequest,
  putResponse,
  rangeRequest,
  rangeResponse,
  txnRequest,
  txnResponse,
  type Codec,
} from './codec.ts'
import {
  alarmRequest,
  alarmResponse,
  defragmentResponse,
  hashKVRequest,
  hashKVResponse,
  hashResponse,
  memberListResponse,
  snapshotResponse,
  statusResponse,
} from './codec-maintenance.ts'
import {
  emptyRequest,
  isEmptyWatchRequest,
  leaseGrantRequest,
  leaseGrantResponse,
  leaseKeepAliveRequest,
  leaseKeepAliveResponse,
  leaseLeasesResponse,
  leaseRevokeRequest,
  leaseRevokeResponse,
  leaseTimeToLiveRequest,
  leaseTimeToLiveResponse,
  watchRequest,
  watchResponse,
} from './codec-streams.ts'
import { bridge, type Streams } from './stream-bridge.ts'
import { toGrpcStatus } from './status.ts'
import type { WireMessage } from './wire.ts'

/**
 * The gRPC method handlers: each decodes its request, calls the services level, and encodes the answer. They hold
 * no etcd semantics of their own; every rule lives in the engine behind `services`.
 */

/** HandlerContext is what the handlers need from the server around them. */
export interface HandlerContext {
  readonly services: Services
  /** clientUrls are the URLs this member serves clients on; MemberList reports them. */
  clientUrls(): string[]
  /** streams tracks open bidirectional calls so that shutdown can end them. */
  readonly streams: Streams
}

type UnaryHandler = (call: ServerUnaryCall<WireMessage, WireMessage>, callback: sendUnaryData<WireMessage>) => void

/** unary builds a unary handler: decode, call, encode; any error becomes its gRPC status. */
function unary<Req, Res>(requests: Codec<Req>, responses: Codec<Res>, fn: (request: Req) => Promise<Res>): UnaryHandler {
  return (call, callback) => {
    let pending: Promise<Res>
    try {
      pending = fn(requests.fromWire(call.request))
    } catch (err) {
      callback(toGrpcStatus(err))
      return
    }
    pending.then(
      (response) => {
        let wire: WireMessage
        try {
          wire = responses.toWire(response)
        } catch (err) {
          callback(toGrpcStatus(err))
          return
        }
        callback(null, wire)
      },
      (err: unknown) => callback(toGrpcStatus(err)),
    )
  }
}

export function kvHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const kv = ctx.services.kv
  return {
    Range: unary(rangeRequest, rangeResponse, (r) => kv.range(r)),
    Put: unary(putRequest, putResponse, (r) => kv.put(r)),
    DeleteRange: unary(deleteRangeRequest, deleteRangeResponse, (r) => kv.deleteRange(r)),
    Txn: unary(txnRequest, txnResponse, (r) => kv.txn(r)),
    Compact: unary(compactionRequest, compactionResponse, (r) => kv.compact(r)),
  }
}

export function watchHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  return {
    Watch: (call: ServerDuplexStream<WireMessage, WireMessage>) =>
      bridge(call, () => ctx.services.watch.watch(), watchRequest, watchResponse, {
        endOnHalfClose: false,
        ignore: isEmptyWatchRequest,
      }, ctx.streams),
  }
}

export function leaseHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const lease = ctx.services.lease
  return {
    LeaseGrant: unary(leaseGrantRequest, leaseGrantResponse, (r) => lease.leaseGrant(r)),
    LeaseRevoke: unary(leaseRevokeRequest, leaseRevokeResponse, (r) => lease.leaseRevoke(r)),
    LeaseKeepAlive: (call: ServerDuplexStream<WireMessage, WireMessage>) =>
      bridge(call, () => lease.leaseKeepAlive(), leaseKeepAliveRequest, leaseKeepAliveResponse, {
        endOnHalfClose: true,
      }, ctx.streams),
    LeaseTimeToLive: unary(leaseTimeToLiveRequest, leaseTimeToLiveResponse, (r) => lease.leaseTimeToLive(r)),
    LeaseLeases: unary(emptyRequest, leaseLeasesResponse, () => lease.leaseLeases({})),
  }
}

/** SnapshotSource is the optional `snapshot()` a Maintenance service may offer: the store as a stream of chunks. */
interface SnapshotSource {
  snapshot?(): AsyncIterable<SnapshotResponse>
}

export function maintenanceHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const m = ctx.services.maintenance
  return {
    Status: unary(emptyRequest, statusResponse, () => m.status({})),
    Alarm: unary(alarmRequest, alarmResponse, (r) => m.alarm(r)),
    Defragment: unary(emptyRequest, defragmentResponse, () => m.defragment({})),
    Hash: unary(emptyRequest, hashResponse, () => m.hash({})),
    HashKV: unary(hashKVRequest, hashKVResponse, (r) => m.hashKV(r)),
    Snapshot: (call: ServerWritableStream<WireMessage, WireMessage>) => {
      const source = (m as SnapshotSource).snapshot
      if (typeof source !== 'function') {
        call.emit('error', { code: Status.UNIMPLEMENTED, details: 'etcdlite: snapshot is not supported by this engine yet' })
        return
      }
      void streamSnapshot(call, source.call(m))
    },
  }
}

async function streamSnapshot(call: ServerWritableStream<WireMessage, WireMessage>, chunks: AsyncIterable<SnapshotResponse>) {
  let gone = false
  call.on('cancelled', () => (gone = true))
  try {
    for await (const chunk of chunks) {
      if (gone) break
      if (!call.write(snapshotResponse.toWire(chunk))) await new Promise((resolve) => call.once('drain', resolve))
    }
    if (!gone) call.end()
  } catch (err) {
    if (!gone) call.emit('error', toGrpcStatus(err))
  }
}

export function clusterHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  return {
    // The engine lists itself; its client URLs are where this server actually listens (or advertises).
    MemberList: unary(emptyRequest, memberListResponse, async () => {
      const r = await ctx.services.cluster.memberList({})
      const urls = ctx.clientUrls()
      return { ...r, members: r.members.map((m) => ({ ...m, clientURLs: [...urls] })) }
    }),
  }
}

/** healthHandlers: gRPC's standard health check, which etcd also serves: SERVING while the engine is open. */
export function healthHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  return {
    Check: (_call: ServerUnaryCall<WireMessage, WireMessage>, callback: sendUnaryData<WireMessage>) => {
      ctx.services.maintenance.status({}).then(
        () => callback(null, { status: 1 }),
        () => callback(null, { status: 2 }),
      )
    },
  }
}
