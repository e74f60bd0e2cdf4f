import type { KeyValue } from '../messages/kv.ts'
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../messages/lease.ts'
import {
  watchFilters,
  type Event,
  type WatchCreateRequest,
  type WatchFilter,
  type WatchRequest,
  type WatchResponse,
} from '../messages/watch.ts'
import {
  boolArg,
  bytes,
  bytesArg,
  field,
  header,
  id,
  idArg,
  int,
  intArg,
  keyArg,
  keyValue,
  long,
  request,
  type Codec,
} from './codec.ts'
import type { WireInt, WireMessage } from './proto.ts'

/** The codecs of etcd's Watch and Lease services (see codec.ts for the conventions). */

// ---- Watch

interface WireWatchCreateRequest {
  key: Uint8Array
  rangeEnd: Uint8Array
  startRevision: WireInt
  progressNotify: boolean
  filters: number[]
  prevKv: boolean
  watchId: WireInt
  fragment: boolean
}

interface WireWatchRequest {
  createRequest: WireWatchCreateRequest | null
  cancelRequest: { watchId: WireInt } | null
  progressRequest: WireMessage | null
}

/**
 * watchRequest: a WatchRequest with none of create, cancel and progress decodes as `{}`; etcd ignores such a
 * request (no answer), and so does the server (see isEmptyWatchRequest).
 */
export const watchRequest: Codec<WatchRequest> = {
  fromWire(w) {
    const m = w as unknown as WireWatchRequest
    const c = m.createRequest
    if (c) {
      const r: WatchCreateRequest = {
        key: bytes(c.key),
        rangeEnd: bytes(c.rangeEnd),
        startRevision: int(c.startRevision),
        progressNotify: c.progressNotify === true,
        // etcd 3.4 drops filter values it does not know.
        filters: c.filters.length === 0 ? [] : c.filters.map((f) => watchFilters[f]).filter((f) => f !== undefined),
        prevKv: c.prevKv === true,
        watchId: int(c.watchId),
        fragment: c.fragment === true,
      }
      return { createRequest: r }
    }
    if (m.cancelRequest) return { cancelRequest: { watchId: int(m.cancelRequest.watchId) } }
    if (m.progressRequest) return { progressRequest: {} }
    return {} as WatchRequest
  },
  toWire(r) {
    request(r, 'watch request')
    if ('createRequest' in r && r.createRequest) {
      const c = request(r.createRequest, 'watch create request')
      const w: WireMessage = {}
      field(w, 'key', keyArg(c.key))
      field(w, 'rangeEnd', bytesArg(c.rangeEnd, 'rangeEnd'))
      field(w, 'startRevision', intArg(c.startRevision, 'startRevision'))
      field(w, 'progressNotify', boolArg(c.progressNotify, 'progressNotify'))
      const filters = c.filters ?? []
      if (!Array.isArray(filters) || filters.some((f) => !watchFilters.includes(f))) {
        throw new TypeError(`watch filters must be a list of ${watchFilters.join(', ')}`)
      }
      if (filters.length > 0) w.filters = filters.map((f: WatchFilter) => watchFilters.indexOf(f))
      field(w, 'prevKv', boolArg(c.prevKv, 'prevKv'))
      field(w, 'watchId', intArg(c.watchId, 'watchId'))
      field(w, 'fragment', boolArg(c.fragment, 'fragment'))
      return { createRequest: w }
    }
    if ('cancelRequest' in r && r.cancelRequest) {
      const w: WireMessage = {}
      field(w, 'watchId', intArg(request(r.cancelRequest, 'watch cancel request').watchId, 'watchId'))
      return { cancelRequest: w }
    }
    if ('progressRequest' in r && r.progressRequest) return { progressRequest: {} }
    // A request with nothing in it goes out empty; etcd ignores it.
    return {}
  },
}

/** isEmptyWatchRequest tells a decoded WatchRequest that asks for nothing. */
export function isEmptyWatchRequest(r: WatchRequest): boolean {
  return !('createRequest' in r) && !('cancelRequest' in r) && !('progressRequest' in r)
}

interface WireEvent {
  type: number
  kv: WireMessage | null
  prevKv: WireMessage | null
}

const EMPTY_KV: KeyValue = Object.freeze({
  key: Buffer.alloc(0),
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: Buffer.alloc(0),
  lease: 0n,
})

/** wireEvents caches each event's wire form: watchers (on every stream) share the engine's events. */
const wireEvents = new WeakMap<Event, WireMessage>()

export const event: Codec<Event> = {
  fromWire(w) {
    const m = w as unknown as WireEvent
    const e: Event = { type: m.type === 1 ? 'DELETE' : 'PUT', kv: m.kv ? keyValue.fromWire(m.kv) : { ...EMPTY_KV } }
    if (m.prevKv) e.prevKv = keyValue.fromWire(m.prevKv)
    return e
  },
  toWire(e) {
    let w = wireEvents.get(e)
    if (w === undefined) {
      w = { kv: keyValue.toWire(e.kv) }
      if (e.type === 'DELETE') w.type = 1
      if (e.prevKv !== undefined) w.prevKv = keyValue.toWire(e.prevKv)
      wireEvents.set(e, w)
    }
    return w
  },
}

interface WireWatchResponse {
  header: WireMessage | null
  watchId: WireInt
  created: boolean
  canceled: boolean
  compactRevision: WireInt
  cancelReason: string
  fragment: boolean
  events: WireMessage[]
}

/**
 * sharedWire caches the wire form of each shared (frozen) response: the engine hands one frozen response to every
 * watcher of the same shape, so every stream writes the same wire message. It is frozen in turn, which tells the
 * server it may encode it once for all of them (see CallResponder.message).
 */
const sharedWire = new WeakMap<WatchResponse, WireMessage>()

export const watchResponse: Codec<WatchResponse> = {
  fromWire(w) {
    const m = w as unknown as WireWatchResponse
    return {
      header: header.fromWire(m.header!),
      watchId: int(m.watchId),
      created: m.created === true,
      canceled: m.canceled === true,
      compactRevision: int(m.compactRevision),
      cancelReason: m.cancelReason ?? '',
      fragment: m.fragment === true,
      events: m.events.length === 0 ? [] : m.events.map(event.fromWire),
    }
  },
  toWire(r) {
    if (!Object.isFrozen(r)) return watchResponseWire(r)
    let w = sharedWire.get(r)
    if (w === undefined) sharedWire.set(r, (w = Object.freeze(watchResponseWire(r))))
    return w
  },
}

function watchResponseWire(r: WatchResponse): WireMessage {
  const w: WireMessage = { header: header.toWire(r.header) }
  field(w, 'watchId', r.watchId)
  field(w, 'created', r.created)
  field(w, 'canceled', r.canceled)
  field(w, 'compactRevision', r.compactRevision)
  field(w, 'cancelReason', r.cancelReason)
  field(w, 'fragment', r.fragment)
  if (r.events.length > 0) w.events = r.events.map(event.toWire)
  return w
}

// ---- Lease

interface WireLeaseRequest {
  TTL: WireInt
  ID: WireInt
  keys: boolean
}

export const leaseGrantRequest: Codec<LeaseGrantRequest> = {
  fromWire(w) {
    const m = w as unknown as WireLeaseRequest
    return { ttl: int(m.TTL), id: id(m.ID) }
  },
  toWire(r) {
    request(r, 'lease grant request')
    const w: WireMessage = {}
    field(w, 'TTL', intArg(r.ttl, 'ttl'))
    field(w, 'ID', idArg(r.id, 'id'))
    return w
  },
}

/** leaseIdRequest is the codec of the requests that carry only a lease id (revoke, keepalive). */
function leaseIdRequest<T extends { id: bigint | number }>(what: string): Codec<T> {
  return {
    fromWire: (w) => ({ id: id((w as unknown as WireLeaseRequest).ID) }) as T,
    toWire(r) {
      request(r, what)
      const w: WireMessage = {}
      field(w, 'ID', idArg(r.id, 'id'))
      return w
    },
  }
}

export const leaseRevokeRequest: Codec<LeaseRevokeRequest> = leaseIdRequest('lease revoke request')
export const leaseKeepAliveRequest: Codec<LeaseKeepAliveRequest> = leaseIdRequest('lease keepalive request')

export const leaseTimeToLiveRequest: Codec<LeaseTimeToLiveRequest> = {
  fromWire(w) {
    const m = w as unknown as WireLeaseRequest
    return { id: id(m.ID), keys: m.keys === true }
  },
  toWire(r) {
    request(r, 'lease time-to-live request')
    const w: WireMessage = {}
    field(w, 'ID', idArg(r.id, 'id'))
    field(w, 'keys', boolArg(r.keys, 'keys'))
    return w
  },
}

interface WireLeaseResponse {
  header: WireMessage | null
  ID: WireInt
  TTL: WireInt
  grantedTTL: WireInt
  error: string
  keys: Uint8Array[]
  leases: { ID: WireInt }[]
}

export const leaseGrantResponse: Codec<LeaseGrantResponse> = {
  fromWire(w) {
    const m = w as unknown as WireLeaseResponse
    return { header: header.fromWire(m.header!), id: id(m.ID), ttl: int(m.TTL), error: m.error ?? '' }
  },
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    if (r.id !== 0n) w.ID = long(r.id)
    field(w, 'TTL', r.ttl)
    field(w, 'error', r.error)
    return w
  },
}

export const leaseRevokeResponse: Codec<LeaseRevokeResponse> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage) }),
  toWire: (r) => ({ header: header.toWire(r.header) }),
}

export const leaseKeepAliveResponse: Codec<LeaseKeepAliveResponse> = {
  fromWire(w) {
    const m = w as unknown as WireLeaseResponse
    return { header: header.fromWire(m.header!), id: id(m.ID), ttl: int(m.TTL) }
  },
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    if (r.id !== 0n) w.ID = long(r.id)
    field(w, 'TTL', r.ttl)
    return w
  },
}

export const leaseTimeToLiveResponse: Codec<LeaseTimeToLiveResponse> = {
  fromWire(w) {
    const m = w as unknown as WireLeaseResponse
    return {
      header: header.fromWire(m.header!),
      id: id(m.ID),
      ttl: int(m.TTL),
      grantedTtl: int(m.grantedTTL),
      keys: m.keys.length === 0 ? [] : m.keys.map(bytes),
    }
  },
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    if (r.id !== 0n) w.ID = long(r.id)
    field(w, 'TTL', r.ttl)
    field(w, 'grantedTTL', r.grantedTtl)
    if (r.keys.length > 0) w.keys = r.keys
    return w
  },
}

export const leaseLeasesResponse: Codec<LeaseLeasesResponse> = {
  fromWire(w) {
    const m = w as unknown as WireLeaseResponse
    return { header: header.fromWire(m.header!), leases: m.leases.map((l) => ({ id: id(l.ID) })) }
  },
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    if (r.leases.length > 0) w.leases = r.leases.map((l) => (l.id === 0n ? {} : { ID: long(l.id) }))
    return w
  },
}

/** emptyRequest is the codec of the requests without fields (LeaseLeases, Status, Defragment, Hash, MemberList). */
export const emptyRequest: Codec<Record<string, never>> = {
  fromWire: () => ({}),
  toWire: (r) => {
    if (r !== undefined && (typeof r !== 'object' || r === null)) throw new TypeError('the request must be an object')
    return {}
  },
}
