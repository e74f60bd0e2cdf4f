import type { CallCredentials } from './auth.ts'
import type { BytesLike } from '../util/bytes.ts'
import type { ResponseHeader } from './header.ts'

/**
 * The services-level messages of etcd's KV service (etcdserverpb), field for field, in lowerCamelCase.
 * Requests accept bytes as `Uint8Array | string` (UTF-8); responses carry `Uint8Array` (Node Buffers, so
 * `kv.value.toString()` decodes UTF-8). Revisions are numbers; lease and cluster/member ids are bigints.
 * A field left out of a request has the proto's default value.
 */

/** LeaseId is an etcd lease id: an int64. A number is accepted where it is a safe integer. */
export type LeaseIdLike = bigint | number

export type { ResponseHeader } from './header.ts'

export interface KeyValue {
  key: Uint8Array
  /** createRevision is the revision that created the key's current generation. */
  createRevision: number
  /** modRevision is the revision of the key's last change. */
  modRevision: number
  /** version counts the puts of the key's current generation, from 1. */
  version: number
  value: Uint8Array
  /** lease is the id of the lease the key is attached to, 0n for none. */
  lease: bigint
}

export const sortOrders = ['NONE', 'ASCEND', 'DESCEND'] as const
export type SortOrder = (typeof sortOrders)[number]
export const sortTargets = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const
export type SortTarget = (typeof sortTargets)[number]

export interface RangeRequest {
  key: BytesLike
  /** rangeEnd selects [key, rangeEnd); "\0" selects every key >= key; absent selects key alone. */
  rangeEnd?: BytesLike
  /** limit caps the number of kvs returned; 0 means no limit. */
  limit?: number
  /** revision reads the store as of that revision; 0 means the current one. */
  revision?: number
  sortOrder?: SortOrder
  sortTarget?: SortTarget
  /** serializable is accepted; a single-member store is always linearizable. */
  serializable?: boolean
  keysOnly?: boolean
  countOnly?: boolean
  minModRevision?: number
  maxModRevision?: number
  minCreateRevision?: number
  maxCreateRevision?: number
  /**
   * countLimit (etcdlite, in process only: no etcd request carries it) stops counting the keys of the range once
   * `count` reaches it, so a page of a huge range costs the page, not the range: `count` is then a lower bound. The
   * web console's listings use it. @default 0 (count every key, as etcd does)
   */
  countLimit?: number
}

export interface RangeResponse {
  header: ResponseHeader
  kvs: KeyValue[]
  /** more tells whether the range held more kvs than `limit` let through. */
  more: boolean
  /** count is the number of keys in the range at the revision read, ignoring limit and revision filters. */
  count: number
}

export interface PutRequest {
  key: BytesLike
  value?: BytesLike
  /** lease attaches the key to a lease; 0 (the default) detaches it from any lease. */
  lease?: LeaseIdLike
  prevKv?: boolean
  ignoreValue?: boolean
  ignoreLease?: boolean
}

export interface PutResponse {
  header: ResponseHeader
  /** prevKv is the pair before the put, when asked for and the key existed. */
  prevKv?: KeyValue
}

export interface DeleteRangeRequest {
  key: BytesLike
  rangeEnd?: BytesLike
  prevKv?: boolean
}

export interface DeleteRangeResponse {
  header: ResponseHeader
  deleted: number
  prevKvs: KeyValue[]
}

export const compareResults = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const
export type CompareResult = (typeof compareResults)[number]
export const compareTargets = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'] as const
export type CompareTarget = (typeof compareTargets)[number]

/**
 * Compare is one condition of a txn. The field matching `target` holds the operand (`version`, `createRevision`,
 * `modRevision`, `value` or `lease`); an absent operand is the proto default (0 or empty bytes).
 */
export interface Compare {
  result: CompareResult
  target: CompareTarget
  key: BytesLike
  rangeEnd?: BytesLike
  version?: number
  createRevision?: number
  modRevision?: number
  value?: BytesLike
  lease?: LeaseIdLike
}

export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: PutRequest }
  | { requestDeleteRange: DeleteRangeRequest }
  | { requestTxn: TxnRequest }

export type ResponseOp =
  | { responseRange: RangeResponse }
  | { responsePut: PutResponse }
  | { responseDeleteRange: DeleteRangeResponse }
  | { responseTxn: TxnResponse }

export interface TxnRequest {
  compare?: Compare[]
  success?: RequestOp[]
  failure?: RequestOp[]
}

export interface TxnResponse {
  header: ResponseHeader
  succeeded: boolean
  responses: ResponseOp[]
}

export interface CompactionRequest {
  revision: number
  /** physical makes the response wait until the compacted history is gone from the store. */
  physical?: boolean
}

export interface CompactionResponse {
  header: ResponseHeader
}

/** KV is etcd's KV service: every method mirrors the gRPC method of the same name. */
export interface KV {
  range(request: RangeRequest, credentials?: CallCredentials): Promise<RangeResponse>
  put(request: PutRequest, credentials?: CallCredentials): Promise<PutResponse>
  deleteRange(request: DeleteRangeRequest, credentials?: CallCredentials): Promise<DeleteRangeResponse>
  txn(request: TxnRequest, credentials?: CallCredentials): Promise<TxnResponse>
  compact(request: CompactionRequest, credentials?: CallCredentials): Promise<CompactionResponse>
}
