import {
  status as Status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import type { Services } from '../api/services.ts'
import type { CallCredentials } from '../messages/auth.ts'
/** ac: the Auth codecs. */
import * as ac from './codec-auth.ts'
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
import type { CallMetadata } from './grpc-call.ts'
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
  /** snapshot streams a consistent copy of the store (`engine.snapshot()`), for a caller holding the root role. */
  readonly snapshot?: (credentials: CallCredentials | undefined) => SizedStream
}

/** SizedStream is a stream of bytes whose total `size` may be known once its first chunk is out. */
type SizedStream = AsyncIterable<Uint8Array> & { readonly size?: number | undefined }

type UnaryHandler = (call: ServerUnaryCall<WireMessage, WireMessage>, callback: sendUnaryData<WireMessage>) => void

/** CallLike is the part of a call that carries credentials: metadata, and the TLS peer where there is one. */
interface CallLike {
  readonly metadata: CallMetadata
  getAuthContext?(): { sslPeerCertificate?: { subject?: { CN?: string | string[] } } }
}

/**
 * credentialsOf reads a call's credentials as etcd does: a token in the `token` metadata (or `authorization`, which
 * the gateway fills from its Authorization header), and the common name of a verified client certificate.
 */
export function credentialsOf(call: CallLike): CallCredentials | undefined {
  const md = call.metadata
  const token = md.get('token')[0] ?? md.get('authorization')[0]
  const cn = call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN
  const commonName = Array.isArray(cn) ? cn[0] : cn
  if (token === undefined && commonName === undefined) return undefined
  const credentials: { token?: string; commonName?: string } = {}
  if (token !== undefined) credentials.token = String(token)
  if (commonName !== undefined) credentials.commonName = commonName
  return credentials
}

/** unary builds a unary handler: decode, call (with the caller's credentials), encode; any error becomes its gRPC status. */
export function unary<Req, Res>(
  requests: Codec<Req>,
  responses: Codec<Res>,
  fn: (request: Req, credentials: CallCredentials | undefined) => Promise<Res>,
): UnaryHandler {
  return (call, callback) => {
    let pending: Promise<Res>
    try {
      pending = fn(requests.fromWire(call.request), credentialsOf(call))
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
    Range: unary(rangeRequest, rangeResponse, (r, c) => kv.range(r, c)),
    Put: unary(putRequest, putResponse, (r, c) => kv.put(r, c)),
    DeleteRange: unary(deleteRangeRequest, deleteRangeResponse, (r, c) => kv.deleteRange(r, c)),
    Txn: unary(txnRequest, txnResponse, (r, c) => kv.txn(r, c)),
    Compact: unary(compactionRequest, compactionResponse, (r, c) => kv.compact(r, c)),
  }
}

export function watchHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  return {
    Watch: (call: ServerDuplexStream<WireMessage, WireMessage>) =>
      bridge(call, () => ctx.services.watch.watch(credentialsOf(call)), watchRequest, watchResponse, {
        endOnHalfClose: false,
        ignore: isEmptyWatchRequest,
      }, ctx.streams),
  }
}

export function leaseHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const lease = ctx.services.lease
  return {
    LeaseGrant: unary(leaseGrantRequest, leaseGrantResponse, (r, c) => lease.leaseGrant(r, c)),
    LeaseRevoke: unary(leaseRevokeRequest, leaseRevokeResponse, (r, c) => lease.leaseRevoke(r, c)),
    LeaseKeepAlive: (call: ServerDuplexStream<WireMessage, WireMessage>) =>
      bridge(call, () => lease.leaseKeepAlive(credentialsOf(call)), leaseKeepAliveRequest, leaseKeepAliveResponse, {
        endOnHalfClose: true,
      }, ctx.streams),
    LeaseTimeToLive: unary(leaseTimeToLiveRequest, leaseTimeToLiveResponse, (r, c) => lease.leaseTimeToLive(r, c)),
    LeaseLeases: unary(emptyRequest, leaseLeasesResponse, (_r, c) => lease.leaseLeases({}, c)),
  }
}

/** SNAPSHOT_CHUNK_BYTES: the blob size of each Snapshot message, as etcd sends them (32 KiB). */
const SNAPSHOT_CHUNK_BYTES = 32 * 1024
/**
 * SNAPSHOT_QUEUE_BYTES: a snapshot stream waits for 'drain' only with this much unsent (an HTTP/2 stream asks for it
 * past 16 KiB, less than one message, which would hand the messages over one round trip at a time).
 */
const SNAPSHOT_QUEUE_BYTES = 1 << 20

export function maintenanceHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const m = ctx.services.maintenance
  return {
    Status: unary(emptyRequest, statusResponse, (_r, c) => m.status({}, c)),
    Alarm: unary(alarmRequest, alarmResponse, (r, c) => m.alarm(r, c)),
    Defragment: unary(emptyRequest, defragmentResponse, (_r, c) => m.defragment({}, c)),
    Hash: unary(emptyRequest, hashResponse, (_r, c) => m.hash({}, c)),
    HashKV: unary(hashKVRequest, hashKVResponse, (r, c) => m.hashKV(r, c)),
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
 * streamSnapshot answers Snapshot with the engine's snapshot: a bbolt file in etcd 3.4's layout and its SHA-256, which
 * `etcdctl snapshot save` stores and `etcdctl snapshot restore` reads. Each message's remainingBytes is exact, as
 * etcd's are: a stream whose size is known once its first chunk is out is sent as it is written; any other is
 * gathered whole first.
 */
async function streamSnapshot(
  ctx: HandlerContext,
  snapshot: (credentials: CallCredentials | undefined) => SizedStream,
  call: ServerWritableStream<WireMessage, WireMessage>,
): Promise<void> {
  let gone = false
  call.on('cancelled', () => (gone = true))
  try {
    const parts: Uint8Array[] = []
    const stream = snapshot(credentialsOf(call))
    const { header } = await ctx.services.maintenance.status({})
    let total: number | undefined
    let sent = 0
    // queued: bytes written since the call last drained; up to SNAPSHOT_QUEUE_BYTES go out without waiting.
    let queued = 0
    call.on('drain', () => (queued = 0))
    const send = async (chunks: Iterable<Uint8Array>) => {
      for (const chunk of chunks) {
        sent += chunk.length
        const response: SnapshotResponse = { header, remainingBytes: total! - sent, blob: chunk }
        if (!call.write(snapshotResponse.toWire(response)) && (queued += chunk.length) >= SNAPSHOT_QUEUE_BYTES) await drained(call)
        if (gone) return
      }
    }
    for await (const part of stream) {
      if (gone) return
      total ??= stream.size
      if (total === undefined) parts.push(part)
      else if (part.length > 0) await send(chunksOf([part], SNAPSHOT_CHUNK_BYTES))
    }
    if (total === undefined) {
      total = parts.reduce((n, p) => n + p.length, 0)
      await send(chunksOf(parts, SNAPSHOT_CHUNK_BYTES))
    }
    if (!gone) call.end()
  } catch (err) {
    if (!gone) call.emit('error', toGrpcStatus(err))
  }
}

/**
 * chunksOf cuts the concatenation of `parts` into chunks of `size` bytes (the last may be shorter; an empty input is
 * one empty chunk), copying only the chunks that straddle two parts.
 */
export function* chunksOf(parts: readonly Uint8Array[], size: number): Generator<Uint8Array> {
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  let any = false
  for (const part of parts) {
    let at = 0
    while (at < part.length) {
      const take = Math.min(size - pendingBytes, part.length - at)
      const piece = part.subarray(at, at + take)
      at += take
      if (pendingBytes === 0 && take === size) {
        any = true
        yield piece
        continue
      }
      pending.push(piece)
      pendingBytes += take
      if (pendingBytes === size) {
        any = true
        yield Buffer.concat(pending)
        pending = []
        pendingBytes = 0
      }
    }
  }
  if (pendingBytes > 0 || !any) yield Buffer.concat(pending)
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
    MemberList: unary(emptyRequest, memberListResponse, async (_r, c) => {
      const r = await ctx.services.cluster.memberList({}, c)
      const urls = ctx.clientUrls()
      return { ...r, members: r.members.map((m) => ({ ...m, clientURLs: [...urls] })) }
    }),
  }
}

export function authHandlers(ctx: HandlerContext): UntypedServiceImplementation {
  const a = ctx.services.auth
  return {
    AuthEnable: unary(emptyRequest, ac.headerOnlyResponse, (_r, c) => a.authEnable({}, c)),
    AuthDisable: unary(emptyRequest, ac.headerOnlyResponse, (_r, c) => a.authDisable({}, c)),
    // AuthStatus came with etcd 3.5: a 3.4 server answers it UNIMPLEMENTED, and so does this one.
    Authenticate: unary(ac.authenticateRequest, ac.authenticateResponse, (r, c) => a.authenticate(r, c)),
    UserAdd: unary(ac.userAddRequest, ac.headerOnlyResponse, (r, c) => a.userAdd(r, c)),
    UserGet: unary(ac.nameRequest, ac.userGetResponse, (r, c) => a.userGet(r, c)),
    UserList: unary(emptyRequest, ac.userListResponse, (_r, c) => a.userList({}, c)),
    UserDelete: unary(ac.nameRequest, ac.headerOnlyResponse, (r, c) => a.userDelete(r, c)),
    UserChangePassword: unary(ac.changePasswordRequest, ac.headerOnlyResponse, (r, c) => a.userChangePassword(r, c)),
    UserGrantRole: unary(ac.grantRoleRequest, ac.headerOnlyResponse, (r, c) => a.userGrantRole(r, c)),
    UserRevokeRole: unary(ac.revokeRoleRequest, ac.headerOnlyResponse, (r, c) => a.userRevokeRole(r, c)),
    RoleAdd: unary(ac.nameRequest, ac.headerOnlyResponse, (r, c) => a.roleAdd(r, c)),
    RoleGet: unary(ac.roleRequest, ac.roleGetResponse, (r, c) => a.roleGet(r, c)),
    RoleList: unary(emptyRequest, ac.roleListResponse, (_r, c) => a.roleList({}, c)),
    RoleDelete: unary(ac.roleRequest, ac.headerOnlyResponse, (r, c) => a.roleDelete(r, c)),
    RoleGrantPermission: unary(ac.grantPermissionRequest, ac.headerOnlyResponse, (r, c) => a.roleGrantPermission(r, c)),
    RoleRevokePermission: unary(ac.revokePermissionRequest, ac.headerOnlyResponse, (r, c) => a.roleRevokePermission(r, c)),
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
