import type { CallCredentials } from './auth.ts'
import type { LeaseIdLike, ResponseHeader } from './kv.ts'
import type { BidiStream } from './stream.ts'

/** The services-level messages of etcd's Lease service, in lowerCamelCase (`ID` -> `id`, `TTL` -> `ttl`). */

export interface LeaseGrantRequest {
  /** ttl in seconds; below the minimum (2 s by default) it is raised to the minimum. */
  ttl: number
  /** id asks for a given lease id; 0 (the default) lets the engine choose one. */
  id?: LeaseIdLike
}

export interface LeaseGrantResponse {
  header: ResponseHeader
  id: bigint
  ttl: number
  error: string
}

export interface LeaseRevokeRequest {
  id: LeaseIdLike
}

export interface LeaseRevokeResponse {
  header: ResponseHeader
}

export interface LeaseKeepAliveRequest {
  id: LeaseIdLike
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader
  id: bigint
  /** ttl is the renewed TTL, or 0 when the lease does not exist (expired or revoked). */
  ttl: number
}

export interface LeaseTimeToLiveRequest {
  id: LeaseIdLike
  /** keys asks for the keys attached to the lease. */
  keys?: boolean
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader
  id: bigint
  /** ttl is the remaining time in whole seconds, rounded down; -1 when the lease does not exist. */
  ttl: number
  grantedTtl: number
  keys: Uint8Array[]
}

export interface LeaseLeasesRequest {}

export interface LeaseStatus {
  id: bigint
}

export interface LeaseLeasesResponse {
  header: ResponseHeader
  leases: LeaseStatus[]
}

/** Lease is etcd's Lease service: every method mirrors the gRPC method of the same name. */
export interface Lease {
  leaseGrant(request: LeaseGrantRequest, credentials?: CallCredentials): Promise<LeaseGrantResponse>
  /** leaseRevoke needs, once auth is on, write permission over every key the lease holds. */
  leaseRevoke(request: LeaseRevokeRequest, credentials?: CallCredentials): Promise<LeaseRevokeResponse>
  /** leaseKeepAlive opens a stream: each request renews a lease and is answered with its TTL. */
  leaseKeepAlive(credentials?: CallCredentials): BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>
  leaseTimeToLive(request: LeaseTimeToLiveRequest, credentials?: CallCredentials): Promise<LeaseTimeToLiveResponse>
  leaseLeases(request?: LeaseLeasesRequest, credentials?: CallCredentials): Promise<LeaseLeasesResponse>
}
