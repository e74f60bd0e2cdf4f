import type { Services } from '../api/services.ts'
import type { ElectionService, LockService } from '../messages/concurrency.ts'
import * as auth from './codec-auth.ts'
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
import {
  compactionRequest,
  compactionResponse,
  deleteRangeRequest,
  deleteRangeResponse,
  headerOnlyResponse,
  putRequest,
  putResponse,
  rangeRequest,
  rangeResponse,
  txnRequest,
  txnResponse,
  type Codec,
} from './codec.ts'
import { methods, SERVICES, type MethodInfo, type ServiceName, type WireMessage } from './proto.ts'

/**
 * The RPC table: every method of every service etcdlite knows (all of rpc.proto, v3lock, v3election and gRPC's
 * health check), one row each, with what each side needs to speak it. The gRPC server's handlers, the JSON gateway
 * (which drives those handlers), the remote backend's services and the testing kit's names are all built from these
 * rows, so a method, its codecs and the engine call behind it are written down once.
 */

/** RpcKind: how a call flows. */
export type RpcKind = 'unary' | 'server-stream' | 'bidi'

/**
 * AuthNeed: what a call asks of the caller once auth is enabled. 'none': nothing (signing in, the health check);
 * 'user': a signed-in user, whose permissions the engine checks per key; 'root': the root role (etcd 3.4's admin
 * calls: user and role management, disabling auth, and the maintenance calls it guards with the auth package).
 */
export type AuthNeed = 'none' | 'user' | 'root'

/** EngineTargets are what rows call: the services level, and the lock and election services built over it. */
export interface EngineTargets extends Services {
  readonly lock: LockService
  readonly election: ElectionService
}

/** EngineCall names the services-level method a row calls: `targets[group][method](request, credentials)`. */
export interface EngineCall {
  readonly group: keyof EngineTargets
  readonly method: string
}

/** Rpc is one row of the table. */
export interface Rpc<Req = unknown, Res = unknown> {
  /** name is 'Service.Method' with the .proto's short names: 'KV.Put', 'Watch.Watch', 'Lock.Lock'. */
  readonly name: string
  /** service is the full service name, 'etcdserverpb.KV'. */
  readonly service: ServiceName
  /** short is the service without its package, 'KV'. */
  readonly short: string
  /** method is the .proto's method name, 'Put'. */
  readonly method: string
  /** path is the gRPC path, '/etcdserverpb.KV/Put'. */
  readonly path: string
  readonly kind: RpcKind
  /** proto: the message types and the gateway's HTTP routes, from the .proto. */
  readonly proto: MethodInfo
  readonly request: Codec<Req>
  readonly response: Codec<Res>
  /** engine is the services-level call behind the row; undefined for the health check, which asks no engine method. */
  readonly engine: EngineCall | undefined
  readonly auth: AuthNeed
  /**
   * served: etcd 3.4 serves the method. The rest (membership changes, leader moves, downgrades, etcd 3.5's
   * AuthStatus) answer UNIMPLEMENTED here as they do there; a remote client may still call them on a newer etcd.
   */
  readonly served: boolean
  /**
   * errorsAsUnknown: etcd serves the lock and election services through a client of its own, so each of their errors
   * reaches the caller as code Unknown with the error's text.
   */
  readonly errorsAsUnknown: boolean
  /** waits: the call may wait long (for a lock, for leadership) and ends when its caller cancels. */
  readonly waits: boolean
  /**
   * endOnHalfClose (bidirectional streams): the call ends once the client half-closes and its answers are written, as
   * etcd's LeaseKeepAlive returns on EOF; otherwise it stays open for its responses (Watch).
   */
  readonly endOnHalfClose: boolean
  /** ignore tells stream requests that get no answer and never reach the engine (an empty WatchRequest). */
  readonly ignore: ((request: Req) => boolean) | undefined
}

/** rawMessage is the codec of messages no engine call reads (the health check, unserved methods): the wire form as is. */
const rawMessage: Codec<WireMessage> = { fromWire: (w) => ({ ...w }), toWire: (m) => m }

/** RowSpec is a row as written below; the rest comes from the .proto. */
interface RowSpec {
  readonly request: Codec<never>
  readonly response: Codec<never>
  readonly engine?: readonly [EngineCall['group'], string]
  readonly auth?: AuthNeed
  readonly served?: false
  readonly waits?: true
  readonly endOnHalfClose?: true
  readonly ignore?: (request: never) => boolean
}

type Specs = Partial<Record<ServiceName, Record<string, RowSpec>>>

const row = <Req, Res>(
  request: Codec<Req>,
  response: Codec<Res>,
  engine?: readonly [EngineCall['group'], string],
  extra: Omit<RowSpec, 'request' | 'response' | 'engine'> = {},
): RowSpec => ({ request: request as Codec<never>, response: response as Codec<never>, ...(engine && { engine }), ...extra })

const ROOT = { auth: 'root' } as const

/** SPECS: the rows of the served methods (and of AuthStatus, which the remote client calls on etcd 3.5). */
const SPECS: Specs = {
  'etcdserverpb.KV': {
    Range: row(rangeRequest, rangeResponse, ['kv', 'range']),
    Put: row(putRequest, putResponse, ['kv', 'put']),
    DeleteRange: row(deleteRangeRequest, deleteRangeResponse, ['kv', 'deleteRange']),
    Txn: row(txnRequest, txnResponse, ['kv', 'txn']),
    Compact: row(compactionRequest, compactionResponse, ['kv', 'compact']),
  },
  'etcdserverpb.Watch': {
    Watch: row(watchRequest, watchResponse, ['watch', 'watch'], { ignore: isEmptyWatchRequest as (r: never) => boolean }),
  },
  'etcdserverpb.Lease': {
    LeaseGrant: row(leaseGrantRequest, leaseGrantResponse, ['lease', 'leaseGrant']),
    LeaseRevoke: row(leaseRevokeRequest, leaseRevokeResponse, ['lease', 'leaseRevoke']),
    LeaseKeepAlive: row(leaseKeepAliveRequest, leaseKeepAliveResponse, ['lease', 'leaseKeepAlive'], { endOnHalfClose: true }),
    LeaseTimeToLive: row(leaseTimeToLiveRequest, leaseTimeToLiveResponse, ['lease', 'leaseTimeToLive']),
    LeaseLeases: row(emptyRequest, leaseLeasesResponse, ['lease', 'leaseLeases']),
  },
  'etcdserverpb.Cluster': {
    MemberList: row(emptyRequest, memberListResponse, ['cluster', 'memberList']),
  },
  'etcdserverpb.Maintenance': {
    Alarm: row(alarmRequest, alarmResponse, ['maintenance', 'alarm']),
    Status: row(emptyRequest, statusResponse, ['maintenance', 'status']),
    Defragment: row(emptyRequest, defragmentResponse, ['maintenance', 'defragment'], ROOT),
    Hash: row(emptyRequest, hashResponse, ['maintenance', 'hash'], ROOT),
    HashKV: row(hashKVRequest, hashKVResponse, ['maintenance', 'hashKV'], ROOT),
    // The engine's snapshot is a byte stream (engine.snapshot()); the server cuts it into these messages.
    Snapshot: row(emptyRequest, snapshotResponse, undefined, ROOT),
  },
  'etcdserverpb.Auth': {
    AuthEnable: row(emptyRequest, headerOnlyResponse, ['auth', 'authEnable']),
    AuthDisable: row(emptyRequest, headerOnlyResponse, ['auth', 'authDisable'], ROOT),
    AuthStatus: row(emptyRequest, auth.authStatusResponse, ['auth', 'authStatus'], { served: false }),
    Authenticate: row(auth.authenticateRequest, auth.authenticateResponse, ['auth', 'authenticate'], { auth: 'none' }),
    UserAdd: row(auth.userAddRequest, headerOnlyResponse, ['auth', 'userAdd'], ROOT),
    UserGet: row(auth.nameRequest, auth.userGetResponse, ['auth', 'userGet'], ROOT),
    UserList: row(emptyRequest, auth.userListResponse, ['auth', 'userList'], ROOT),
    UserDelete: row(auth.nameRequest, headerOnlyResponse, ['auth', 'userDelete'], ROOT),
    UserChangePassword: row(auth.changePasswordRequest, headerOnlyResponse, ['auth', 'userChangePassword'], ROOT),
    UserGrantRole: row(auth.grantRoleRequest, headerOnlyResponse, ['auth', 'userGrantRole'], ROOT),
    UserRevokeRole: row(auth.revokeRoleRequest, headerOnlyResponse, ['auth', 'userRevokeRole'], ROOT),
    RoleAdd: row(auth.nameRequest, headerOnlyResponse, ['auth', 'roleAdd'], ROOT),
    RoleGet: row(auth.roleRequest, auth.roleGetResponse, ['auth', 'roleGet'], ROOT),
    RoleList: row(emptyRequest, auth.roleListResponse, ['auth', 'roleList'], ROOT),
    RoleDelete: row(auth.roleRequest, headerOnlyResponse, ['auth', 'roleDelete'], ROOT),
    RoleGrantPermission: row(auth.grantPermissionRequest, headerOnlyResponse, ['auth', 'roleGrantPermission'], ROOT),
    RoleRevokePermission: row(auth.revokePermissionRequest, headerOnlyResponse, ['auth', 'roleRevokePermission'], ROOT),
  },
  'v3lockpb.Lock': {
    Lock: row(lockRequest, lockResponse, ['lock', 'lock'], { waits: true }),
    Unlock: row(unlockRequest, headerOnlyResponse, ['lock', 'unlock']),
  },
  'v3electionpb.Election': {
    Campaign: row(campaignRequest, campaignResponse, ['election', 'campaign'], { waits: true }),
    Proclaim: row(proclaimRequest, headerOnlyResponse, ['election', 'proclaim']),
    Leader: row(leaderRequest, leaderResponse, ['election', 'leader']),
    Observe: row(leaderRequest, leaderResponse, ['election', 'observe']),
    Resign: row(resignRequest, headerOnlyResponse, ['election', 'resign']),
  },
  'grpc.health.v1.Health': {
    // SERVING while the engine answers; gRPC's Watch of the health service is not one etcd 3.4 serves.
    Check: row(rawMessage, rawMessage, undefined, { auth: 'none' }),
  },
}

/** shortName is a service's name without its package: 'etcdserverpb.KV' -> 'KV'. */
export function shortName(service: ServiceName): string {
  return service.slice(service.lastIndexOf('.') + 1)
}

function buildRow(service: ServiceName, proto: MethodInfo): Rpc {
  const spec = SPECS[service]?.[proto.name]
  const kind: RpcKind = proto.requestStream ? 'bidi' : proto.responseStream ? 'server-stream' : 'unary'
  const short = shortName(service)
  return {
    name: `${short}.${proto.name}`,
    service,
    short,
    method: proto.name,
    path: proto.path,
    kind,
    proto,
    request: (spec?.request ?? rawMessage) as Codec<unknown>,
    response: (spec?.response ?? rawMessage) as Codec<unknown>,
    engine: spec?.engine === undefined ? undefined : { group: spec.engine[0], method: spec.engine[1] },
    auth: spec?.auth ?? 'user',
    served: spec !== undefined && spec.served !== false,
    errorsAsUnknown: service === 'v3lockpb.Lock' || service === 'v3electionpb.Election',
    waits: spec?.waits === true,
    endOnHalfClose: spec?.endOnHalfClose === true,
    ignore: spec?.ignore as ((request: unknown) => boolean) | undefined,
  }
}

let table: ReadonlyMap<string, Rpc> | undefined

/** rpcTable is every row by 'Service.Method', services in SERVICES order and methods in .proto order. */
export function rpcTable(): ReadonlyMap<string, Rpc> {
  if (table !== undefined) return table
  const t = new Map<string, Rpc>()
  for (const service of SERVICES) for (const m of methods(service)) t.set(`${shortName(service)}.${m.name}`, buildRow(service, m))
  for (const [service, specs] of Object.entries(SPECS)) {
    for (const name of Object.keys(specs)) {
      if (!t.has(`${shortName(service as ServiceName)}.${name}`)) throw new Error(`etcdlite: the .proto has no ${service}/${name}`)
    }
  }
  table = t
  return t
}

/** rpc returns one row by 'Service.Method'. */
export function rpc(name: string): Rpc {
  const r = rpcTable().get(name)
  if (r === undefined) throw new Error(`etcdlite: no RPC ${name}`)
  return r
}

/** rowsOf lists a service's rows in .proto order. */
export function rowsOf(service: ServiceName): Rpc[] {
  return [...rpcTable().values()].filter((r) => r.service === service)
}

/** serviceNames lists the short service names ('KV', 'Watch', ...). */
export function serviceNames(): Set<string> {
  return new Set(SERVICES.map(shortName))
}

/**
 * engineMethod returns the services-level function a row calls, bound to its object: `targets.kv.put` for KV.Put.
 * A unary or server-stream row's function takes (request, credentials); a bidirectional row's opens the stream and
 * takes (credentials).
 * @throws Error for a row without an engine call (a programming mistake in a builder).
 */
export function engineMethod(targets: Partial<EngineTargets>, row: Rpc): (...args: unknown[]) => unknown {
  const call = row.engine
  if (call === undefined) throw new Error(`etcdlite: ${row.name} calls no engine method`)
  const group = targets[call.group] as unknown as Record<string, (...args: unknown[]) => unknown> | undefined
  const fn = group?.[call.method]
  if (typeof fn !== 'function') throw new Error(`etcdlite: ${call.group}.${call.method} is not a function`)
  return fn.bind(group)
}

/** SERVICE_GROUPS: the objects of the services level (src/api/services.ts); lock and election are built over them. */
const SERVICE_GROUPS = ['kv', 'lease', 'watch', 'maintenance', 'cluster', 'auth'] as const

/**
 * buildServices makes a services level from the table: one method per row whose engine call is on one of its objects,
 * `method(row)` giving each (a remote call, a forward to another services level). Requests without fields may be
 * left out of the methods of rows whose request codec is `emptyRequest`: `method` sees the row and decides.
 */
export function buildServices(method: (row: Rpc & { engine: EngineCall }) => (...args: never[]) => unknown): Services {
  const groups: Record<string, Record<string, unknown>> = Object.fromEntries(SERVICE_GROUPS.map((g) => [g, {}]))
  for (const row of rpcTable().values()) {
    const group = row.engine === undefined ? undefined : groups[row.engine.group]
    if (group !== undefined) group[row.engine!.method] = method(row as Rpc & { engine: EngineCall })
  }
  return groups as unknown as Services
}
