import type { CallCredentials } from './auth.ts'
import type { ResponseHeader } from './kv.ts'

/** The services-level messages of etcd's Maintenance and Cluster services, in lowerCamelCase. */

export interface StatusResponse {
  header: ResponseHeader
  /** version is the etcd version whose API and behaviour etcdlite follows. */
  version: string
  dbSize: number
  leader: bigint
  raftIndex: number
  raftTerm: number
  raftAppliedIndex: number
  errors: string[]
  dbSizeInUse: number
  isLearner: boolean
}

export type AlarmType = 'NONE' | 'NOSPACE' | 'CORRUPT'

export interface AlarmMember {
  memberId: bigint
  alarm: AlarmType
}

export interface AlarmRequest {
  action?: 'GET' | 'ACTIVATE' | 'DEACTIVATE'
  memberId?: bigint
  alarm?: AlarmType
}

export interface AlarmResponse {
  header: ResponseHeader
  alarms: AlarmMember[]
}

export interface DefragmentResponse {
  header: ResponseHeader
}

export interface HashResponse {
  header: ResponseHeader
  hash: number
}

export interface HashKVRequest {
  /** revision hashes the key space as of that revision; 0 means the current one. */
  revision?: number
}

export interface HashKVResponse {
  header: ResponseHeader
  hash: number
  compactRevision: number
}

export interface SnapshotResponse {
  header: ResponseHeader
  remainingBytes: number
  blob: Uint8Array
}

/** Maintenance is etcd's Maintenance service, as far as a single-member store has it. */
export interface Maintenance {
  status(request?: Record<string, never>, credentials?: CallCredentials): Promise<StatusResponse>
  alarm(request: AlarmRequest, credentials?: CallCredentials): Promise<AlarmResponse>
  /** defragment, hash and hashKV need the root role once auth is on. */
  defragment(request?: Record<string, never>, credentials?: CallCredentials): Promise<DefragmentResponse>
  hash(request?: Record<string, never>, credentials?: CallCredentials): Promise<HashResponse>
  hashKV(request: HashKVRequest, credentials?: CallCredentials): Promise<HashKVResponse>
}

export interface Member {
  id: bigint
  name: string
  peerURLs: string[]
  clientURLs: string[]
  isLearner: boolean
}

export interface MemberListResponse {
  header: ResponseHeader
  members: Member[]
}

/** Cluster is etcd's Cluster service: this single member lists itself. */
export interface Cluster {
  memberList(request?: Record<string, never>, credentials?: CallCredentials): Promise<MemberListResponse>
}
