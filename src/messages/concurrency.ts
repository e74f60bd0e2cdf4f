import type { CallCredentials } from './auth.ts'
import type { KeyValue, LeaseIdLike, ResponseHeader } from './kv.ts'
import type { BytesLike } from '../util/bytes.ts'

/**
 * The services-level messages of etcd's lock (v3lockpb.Lock) and election (v3electionpb.Election) services, in
 * lowerCamelCase as the rest of src/messages. Both are built on the concurrency recipes (src/concurrency).
 */

export interface LockRequest {
  name: BytesLike
  /** lease holds the lock; 0 grants a lease of 60 seconds for it, as etcd does. */
  lease?: LeaseIdLike
}

export interface LockResponse {
  header: ResponseHeader
  /** key holds the lock while it exists; Unlock deletes it. */
  key: Uint8Array
}

export interface UnlockRequest {
  key: BytesLike
}

export interface UnlockResponse {
  header: ResponseHeader
}

/** LeaderKey names one leadership, as Campaign answers it; Proclaim and Resign act on it. */
export interface LeaderKey {
  name: BytesLike
  key: BytesLike
  /** rev is the create revision of the leader's key. */
  rev: number
  lease: LeaseIdLike
}

export interface CampaignRequest {
  name: BytesLike
  /** lease holds the candidacy; 0 grants a lease of 60 seconds for it, as etcd does. */
  lease?: LeaseIdLike
  value?: BytesLike
}

export interface CampaignResponse {
  header: ResponseHeader
  leader: { name: Uint8Array; key: Uint8Array; rev: number; lease: bigint }
}

export interface ProclaimRequest {
  /** leader is required: without it etcd answers `"leader" field must be provided`. */
  leader?: LeaderKey
  value?: BytesLike
}

export interface ProclaimResponse {
  header: ResponseHeader
}

export interface LeaderRequest {
  name: BytesLike
}

export interface LeaderResponse {
  header: ResponseHeader
  kv: KeyValue
}

export interface ResignRequest {
  leader?: LeaderKey
}

export interface ResignResponse {
  header: ResponseHeader
}

/**
 * ServerStream is a services-level server stream (one request, many responses), as Observe is: read it with
 * `for await`; `close()` (or breaking out of the loop) ends it.
 */
export interface ServerStream<Res> extends AsyncIterable<Res> {
  close(): void
}

/** LockService is etcd's v3lockpb.Lock service at the services level. */
export interface LockService {
  /** lock waits for the named lock; `signal` gives up waiting (the waiter's key is removed). */
  lock(request: LockRequest, credentials?: CallCredentials, signal?: AbortSignal): Promise<LockResponse>
  unlock(request: UnlockRequest, credentials?: CallCredentials): Promise<UnlockResponse>
}

/** ElectionService is etcd's v3electionpb.Election service at the services level. */
export interface ElectionService {
  /** campaign waits to lead; `signal` gives up waiting (the candidacy is withdrawn). */
  campaign(request: CampaignRequest, credentials?: CallCredentials, signal?: AbortSignal): Promise<CampaignResponse>
  proclaim(request: ProclaimRequest, credentials?: CallCredentials): Promise<ProclaimResponse>
  leader(request: LeaderRequest, credentials?: CallCredentials): Promise<LeaderResponse>
  observe(request: LeaderRequest, credentials?: CallCredentials): ServerStream<LeaderResponse>
  resign(request: ResignRequest, credentials?: CallCredentials): Promise<ResignResponse>
}
