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
import type { Event, WatchCreateRequest, WatchRequest, WatchResponse } from '../messages/watch.ts'
import { header, keyValue, request, type Codec } from './codec.ts'
import { messageCodec } from './message-codec.ts'
import type { WireMessage } from './proto.ts'

/** The codecs of etcd's Watch and Lease services (see codec.ts for the conventions). */

// ---- Watch

/** watchCreateRequest: etcd 3.4 drops filter values it does not know (the table drops unknown repeated enums). */
const watchCreateRequest = messageCodec<WatchCreateRequest>('etcdserverpb.WatchCreateRequest', {
  request: 'watch create request',
  keys: ['key'],
})

const watchCancelRequest = messageCodec<{ watchId: number }>('etcdserverpb.WatchCancelRequest', { request: 'watch cancel request' })

/**
 * watchRequest: a WatchRequest with none of create, cancel and progress decodes as `{}`; etcd ignores such a
 * request (no answer), and so does the server (see isEmptyWatchRequest).
 */
export const watchRequest: Codec<WatchRequest> = {
  fromWire(w) {
    if (w.createRequest) return { createRequest: watchCreateRequest.fromWire(w.createRequest as WireMessage) }
    if (w.cancelRequest) return { cancelRequest: watchCancelRequest.fromWire(w.cancelRequest as WireMessage) }
    if (w.progressRequest) return { progressRequest: {} }
    return {} as WatchRequest
  },
  toWire(r) {
    request(r, 'watch request')
    if ('createRequest' in r && r.createRequest) return { createRequest: watchCreateRequest.toWire(r.createRequest) }
    if ('cancelRequest' in r && r.cancelRequest) return { cancelRequest: watchCancelRequest.toWire(r.cancelRequest) }
    if ('progressRequest' in r && r.progressRequest) return { progressRequest: {} }
    // A request with nothing in it goes out empty; etcd ignores it.
    return {}
  },
}

/** isEmptyWatchRequest tells a decoded WatchRequest that asks for nothing. */
export function isEmptyWatchRequest(r: WatchRequest): boolean {
  return !('createRequest' in r) && !('cancelRequest' in r) && !('progressRequest' in r)
}

const eventFields = messageCodec<Event>('mvccpb.Event', { messages: { kv: keyValue, prevKv: keyValue }, optional: ['prevKv'] })

/** wireEvents caches each event's wire form: watchers (on every stream) share the engine's events. */
const wireEvents = new WeakMap<Event, WireMessage>()

export const event: Codec<Event> = {
  fromWire: eventFields.fromWire,
  toWire(e) {
    let w = wireEvents.get(e)
    if (w === undefined) {
      w = eventFields.toWire(e)
      wireEvents.set(e, w)
    }
    return w
  },
}

const watchResponseFields = messageCodec<WatchResponse>('etcdserverpb.WatchResponse', { messages: { header, events: event } })

/**
 * sharedWire caches the wire form of each shared (frozen) response: the engine hands one frozen response to every
 * watcher of the same shape, so every stream writes the same wire message. It is frozen in turn, which tells the
 * server it may encode it once for all of them (see CallResponder.message).
 */
const sharedWire = new WeakMap<WatchResponse, WireMessage>()

export const watchResponse: Codec<WatchResponse> = {
  fromWire: watchResponseFields.fromWire,
  toWire(r) {
    if (!Object.isFrozen(r)) return watchResponseFields.toWire(r)
    let w = sharedWire.get(r)
    if (w === undefined) sharedWire.set(r, (w = Object.freeze(watchResponseFields.toWire(r))))
    return w
  },
}


// ---- Lease

/** LEASE_NAMES: etcd spells the lease fields in capitals; the services level does not. */
const LEASE_NAMES = { ID: 'id', TTL: 'ttl', grantedTTL: 'grantedTtl' } as const

/** leaseRequest is the codec of a Lease request: its ID a lease id. */
function leaseRequest<T>(name: string, what: string): Codec<T> {
  return messageCodec<T>(`etcdserverpb.${name}`, { request: what, ids: ['ID'], names: LEASE_NAMES })
}

const leaseStatus = messageCodec<{ id: bigint }>('etcdserverpb.LeaseStatus', { ids: ['ID'], names: LEASE_NAMES })

/** leaseResponse is the codec of a Lease response. */
function leaseResponse<T>(name: string): Codec<T> {
  return messageCodec<T>(`etcdserverpb.${name}`, { ids: ['ID'], names: LEASE_NAMES, messages: { header, leases: leaseStatus } })
}

export const leaseGrantRequest = leaseRequest<LeaseGrantRequest>('LeaseGrantRequest', 'lease grant request')
export const leaseRevokeRequest = leaseRequest<LeaseRevokeRequest>('LeaseRevokeRequest', 'lease revoke request')
export const leaseKeepAliveRequest = leaseRequest<LeaseKeepAliveRequest>('LeaseKeepAliveRequest', 'lease keepalive request')
export const leaseTimeToLiveRequest = leaseRequest<LeaseTimeToLiveRequest>('LeaseTimeToLiveRequest', 'lease time-to-live request')

export const leaseGrantResponse = leaseResponse<LeaseGrantResponse>('LeaseGrantResponse')
export const leaseRevokeResponse = leaseResponse<LeaseRevokeResponse>('LeaseRevokeResponse')
export const leaseKeepAliveResponse = leaseResponse<LeaseKeepAliveResponse>('LeaseKeepAliveResponse')
export const leaseTimeToLiveResponse = leaseResponse<LeaseTimeToLiveResponse>('LeaseTimeToLiveResponse')
export const leaseLeasesResponse = leaseResponse<LeaseLeasesResponse>('LeaseLeasesResponse')

/** emptyRequest is the codec of the requests without fields (LeaseLeases, Status, Defragment, Hash, MemberList). */
export const emptyRequest: Codec<Record<string, never>> = {
  fromWire: () => ({}),
  toWire: (r) => {
    if (r !== undefined && (typeof r !== 'object' || r === null)) throw new TypeError('the request must be an object')
    return {}
  },
}
