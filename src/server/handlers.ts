import { createHash } from 'node:crypto'
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
  /** snapshot streams a consistent copy of the store (`engine.snapshot()`), when the engine has one. */
  readonly snapshot?: () => AsyncIterable<Uint8Array>
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

/** SNAPSHOT_CHUNK_BYTES: the blob size of each Snapshot message, as etcd sends them (32 KiB). */
const SNAPSHOT_CHUNK_BYTES = 32 * 1024

export function maintenanceHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const m = ctx.services.maintenance
  return {
    Status: unary(emptyRequest, statusResponse, () => m.status({})),
    Alarm: unary(alarmRequest, alarmResponse, (r) => m.alarm(r)),
    Defragment: unary(emptyRequest, defragmentResponse, () => m.defragment({})),
    Hash: unary(emptyRequest, hashResponse, () => m.hash({})),
    HashKV: unary(hashKVRequest, hashKVResponse, (r) => m.hashKV(r)),
    Snapshot: (call: ServerWritableStream<WireMessage, WireMessage>) => {
      if (ctx.snapshot === undefined) {
        call.emit('error', { code: Status.UNIMPLEMENTED, details: 'etcdlite: this engine has no snapshots' })
        return
      }
      void streamSnapshot(ctx, ctx.snapshot, call)
    },
  }
}

/**
 * streamSnapshot answers Snapshot with the engine's snapshot (etcdlite's own format, which `open({ dir,
 * restoreFrom })` restores; not a bbolt file for `etcdctl snapshot restore`). The snapshot is taken whole before
 * the first message, so that each message's remainingBytes is exact, as etcd's are.
 */
async function streamSnapshot(
  ctx: HandlerContext,
  snapshot: () => AsyncIterable<Uint8Array>,
  call: ServerWritableStream<WireMessage, WireMessage>,
): Promise<void> {
  let gone = false
  call.on('cancelled', () => (gone = true))
  try {
    const { header } = await ctx.services.maintenance.status({})
    const parts: Uint8Array[] = []
    for await (const part of snapshot()) {
      if (gone) return
      parts.push(part)
    }
    const blob = etcdctlSized(Buffer.concat(parts))
    let sent = 0
    do {
      const chunk = blob.subarray(sent, sent + SNAPSHOT_CHUNK_BYTES)
      sent += chunk.length
      const response: SnapshotResponse = { header, remainingBytes: blob.length - sent, blob: chunk }
      if (!call.write(snapshotResponse.toWire(response))) await drained(call)
    } while (sent < blob.length && !gone)
    if (!gone) call.end()
  } catch (err) {
    if (!gone) call.emit('error', toGrpcStatus(err))
  }
}

/**
 * etcdctlSized pads an etcdlite snapshot so that etcdctl 3.4's `snapshot save` accepts it: etcdctl checks that the
 * size is a multiple of 512 (bbolt pages) plus a 32-byte SHA-256. The snapshot begins with a JSON header line and
 * ends with an end marker and the SHA-256 of everything before the marker; spaces after the header's JSON are
 * still the same header, so the padding goes there and the checksum is recomputed. Anything not shaped like that
 * is sent as it is.
 */
export function etcdctlSized(snapshot: Buffer): Buffer {
  const newline = snapshot.indexOf(0x0a)
  const end = snapshot.length - 33
  if (newline <= 0 || end < newline + 1 || snapshot[end] !== 0xff) return snapshot
  const header = snapshot.subarray(0, newline)
  const body = snapshot.subarray(newline + 1, end)
  const size = header.length + 1 + body.length + 33
  const pad = (((32 - size) % 512) + 512) % 512
  if (pad === 0) return snapshot
  const before = Buffer.concat([header, Buffer.alloc(pad, 0x20), Buffer.from([0x0a]), body])
  return Buffer.concat([before, Buffer.from([0xff]), createHash('sha256').update(before).digest()])
}

/** drained resolves when a paused call can take writes again, or is gone. */
function drained(call: ServerWritableStream<WireMessage, WireMessage>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done)
      call.off('close', done)
      resolve()
    }
    call.on('drain', done)
    call.on('close', done)
  })
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
