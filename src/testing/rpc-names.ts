import * as ac from '../server/codec-auth.ts'
import {
  campaignRequest,
  leaderRequest,
  lockRequest,
  proclaimRequest,
  resignRequest,
  unlockRequest,
} from '../server/codec-concurrency.ts'
import { alarmRequest, hashKVRequest } from '../server/codec-maintenance.ts'
import {
  emptyRequest,
  leaseGrantRequest,
  leaseKeepAliveRequest,
  leaseRevokeRequest,
  leaseTimeToLiveRequest,
  watchRequest,
} from '../server/codec-streams.ts'
import { compactionRequest, deleteRangeRequest, putRequest, rangeRequest, txnRequest, type Codec } from '../server/codec.ts'
import { methods, SERVICES, type ServiceName, type WireMessage } from '../server/wire.ts'
import type { LeaderKey } from '../messages/concurrency.ts'
import type { RequestOp, TxnRequest } from '../messages/kv.ts'

/**
 * The testing kit names an RPC as `Service.Method` with the .proto's short names ('KV.Put', 'Watch.Watch',
 * 'Lease.LeaseKeepAlive', 'Lock.Lock'), and reads each request in the engine's typed form with the server's own codecs
 * (the same decoding the handler does), to see its keys.
 */

/** RpcInfo is one RPC the server answers. */
export interface RpcInfo {
  /** name is 'Service.Method', e.g. 'KV.Put'. */
  readonly name: string
  /** service is the short service name, e.g. 'KV'. */
  readonly service: string
  readonly method: string
  /** stream: the call streams responses (Watch, LeaseKeepAlive, Snapshot, Observe). */
  readonly stream: boolean
  /** decode reads a wire request as the engine's typed object. */
  readonly decode: (wire: WireMessage) => unknown
}


/** REQUEST_CODECS: the codec each handler decodes its request with (see src/server/handlers.ts). */
const REQUEST_CODECS: Record<string, Codec<unknown>> = {
  'KV.Range': rangeRequest,
  'KV.Put': putRequest,
  'KV.DeleteRange': deleteRangeRequest,
  'KV.Txn': txnRequest,
  'KV.Compact': compactionRequest,
  'Watch.Watch': watchRequest,
  'Lease.LeaseGrant': leaseGrantRequest,
  'Lease.LeaseRevoke': leaseRevokeRequest,
  'Lease.LeaseKeepAlive': leaseKeepAliveRequest,
  'Lease.LeaseTimeToLive': leaseTimeToLiveRequest,
  'Maintenance.Alarm': alarmRequest,
  'Maintenance.HashKV': hashKVRequest,
  'Auth.Authenticate': ac.authenticateRequest,
  'Auth.UserAdd': ac.userAddRequest,
  'Auth.UserGet': ac.nameRequest,
  'Auth.UserDelete': ac.nameRequest,
  'Auth.UserChangePassword': ac.changePasswordRequest,
  'Auth.UserGrantRole': ac.grantRoleRequest,
  'Auth.UserRevokeRole': ac.revokeRoleRequest,
  'Auth.RoleAdd': ac.nameRequest,
  'Auth.RoleGet': ac.roleRequest,
  'Auth.RoleDelete': ac.roleRequest,
  'Auth.RoleGrantPermission': ac.grantPermissionRequest,
  'Auth.RoleRevokePermission': ac.revokePermissionRequest,
  'Lock.Lock': lockRequest,
  'Lock.Unlock': unlockRequest,
  'Election.Campaign': campaignRequest,
  'Election.Proclaim': proclaimRequest,
  'Election.Leader': leaderRequest,
  'Election.Observe': leaderRequest,
  'Election.Resign': resignRequest,
}

/** shortName is a service's name without its package: 'etcdserverpb.KV' -> 'KV'. */
export function shortName(service: ServiceName): string {
  return service.slice(service.lastIndexOf('.') + 1)
}

let table: Map<string, RpcInfo> | undefined

/** rpcs lists every RPC by 'Service.Method'. */
export function rpcs(): ReadonlyMap<string, RpcInfo> {
  if (table !== undefined) return table
  table = new Map()
  for (const service of SERVICES) {
    const short = shortName(service)
    for (const m of methods(service)) {
      const name = `${short}.${m.name}`
      const codec = REQUEST_CODECS[name] ?? (service === 'grpc.health.v1.Health' ? undefined : emptyRequest)
      table.set(name, {
        name,
        service: short,
        method: m.name,
        stream: m.responseStream,
        decode: codec === undefined ? (wire) => ({ ...wire }) : (wire) => codec.fromWire(wire),
      })
    }
  }
  return table
}

/** serviceNames lists the short service names ('KV', 'Watch', ...). */
export function serviceNames(): Set<string> {
  return new Set(SERVICES.map(shortName))
}

/**
 * requestKeys lists the keys a typed request names: a range's, put's or delete's key (a range's first key), every key
 * a txn compares or touches (nested txns included), a watch create's key, a lock's name or key, an election's name or
 * leader key. Other requests name none.
 */
export function requestKeys(name: string, request: unknown): Uint8Array[] {
  const r = request as Record<string, unknown>
  const keys: Uint8Array[] = []
  const add = (k: unknown) => {
    if (k instanceof Uint8Array) keys.push(k)
    else if (typeof k === 'string') keys.push(Buffer.from(k, 'utf8'))
  }
  switch (name) {
    case 'KV.Range':
    case 'KV.Put':
    case 'KV.DeleteRange':
    case 'Lock.Unlock':
      add(r.key)
      break
    case 'KV.Txn':
      txnKeys(request as TxnRequest, add)
      break
    case 'Watch.Watch':
      add((r.createRequest as { key?: unknown } | undefined)?.key)
      break
    case 'Lock.Lock':
    case 'Election.Campaign':
    case 'Election.Leader':
    case 'Election.Observe':
      add(r.name)
      break
    case 'Election.Proclaim':
    case 'Election.Resign':
      add((r.leader as LeaderKey | undefined)?.name)
      break
  }
  return keys
}

function txnKeys(txn: TxnRequest, add: (k: unknown) => void): void {
  for (const c of txn.compare ?? []) add(c.key)
  const op = (o: RequestOp) => {
    if ('requestRange' in o) add(o.requestRange.key)
    else if ('requestPut' in o) add(o.requestPut.key)
    else if ('requestDeleteRange' in o) add(o.requestDeleteRange.key)
    else if ('requestTxn' in o) txnKeys(o.requestTxn, add)
  }
  for (const o of txn.success ?? []) op(o)
  for (const o of txn.failure ?? []) op(o)
}

/** hasPrefix tells whether `key` begins with `prefix` (bytewise). */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false
  return true
}
