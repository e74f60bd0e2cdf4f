import { toBin, toBinOptional, type Bin, type BytesLike } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import { int, leaseId } from '../util/fields.ts'
import { bool, compareKinds, list, opField, requestObject, sortOption } from '../messages/request-checks.ts'
import {
  type Compare,
  type CompareResult,
  type CompareTarget,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type SortOrder,
  type SortTarget,
  type TxnRequest,
} from '../messages/kv.ts'

/**
 * The engine's parsed form of KV requests: bytes as latin1 strings, defaults filled in, etcd's static checks done.
 * Parsing mirrors the checks etcd's gRPC layer makes before a request reaches the store, in the same order, so the
 * same bad request fails with the same error: a programming mistake (a number where bytes belong) is a TypeError,
 * what etcd itself rejects is an EtcdError.
 */

export interface RangeOp {
  readonly kind: 'range'
  readonly key: Bin
  /** end: '' for the key alone, '\0' for every key from `key` on, else the exclusive end. */
  readonly end: Bin
  readonly limit: number
  readonly revision: number
  readonly sortOrder: SortOrder
  readonly sortTarget: SortTarget
  readonly keysOnly: boolean
  readonly countOnly: boolean
  readonly minModRevision: number
  readonly maxModRevision: number
  readonly minCreateRevision: number
  readonly maxCreateRevision: number
  /** countLimit: stop counting at this many keys (0: count all); see RangeRequest.countLimit. */
  readonly countLimit?: number
}

export interface PutOp {
  readonly kind: 'put'
  readonly key: Bin
  readonly value: Bin
  readonly lease: bigint
  readonly prevKv: boolean
  readonly ignoreValue: boolean
  readonly ignoreLease: boolean
}

export interface DeleteOp {
  readonly kind: 'delete'
  readonly key: Bin
  readonly end: Bin
  readonly prevKv: boolean
}

export interface CompareOp {
  readonly target: CompareTarget
  readonly result: CompareResult
  readonly key: Bin
  readonly end: Bin
  /** operand: a number for VERSION / CREATE / MOD, a bigint for LEASE, bytes for VALUE. */
  readonly operand: number | bigint | Bin
}

export interface TxnOp {
  readonly kind: 'txn'
  readonly compares: readonly CompareOp[]
  readonly success: readonly Op[]
  readonly failure: readonly Op[]
}

export type Op = RangeOp | PutOp | DeleteOp | TxnOp

/** Limits that parsing enforces; the defaults are etcd's. */
export interface RequestLimits {
  /** maxTxnOps caps the compares, and the operations of each branch, of a txn. @default 128 */
  maxTxnOps: number
}

export function parseRange(req: RangeRequest): RangeOp {
  requestObject(req, 'range request')
  const key = toBin(req.key, 'key')
  if (key === '') throw new EtcdError('ETCD_EMPTY_KEY')
  sortOption(req.sortOrder, req.sortTarget)
  const sortOrder = req.sortOrder ?? 'NONE'
  const sortTarget = req.sortTarget ?? 'KEY'
  return {
    kind: 'range',
    key,
    end: toBinOptional(req.rangeEnd, 'rangeEnd'),
    limit: int(req.limit, 'limit'),
    revision: int(req.revision, 'revision'),
    sortOrder,
    sortTarget,
    keysOnly: bool(req.keysOnly, 'keysOnly'),
    countOnly: bool(req.countOnly, 'countOnly'),
    minModRevision: int(req.minModRevision, 'minModRevision'),
    maxModRevision: int(req.maxModRevision, 'maxModRevision'),
    minCreateRevision: int(req.minCreateRevision, 'minCreateRevision'),
    maxCreateRevision: int(req.maxCreateRevision, 'maxCreateRevision'),
    countLimit: count(req.countLimit, 'countLimit'),
  }
}

/** count reads a field that counts something: an integer, 0 or more. @throws RangeError */
function count(value: number | undefined, what: string): number {
  const n = int(value, what)
  if (n < 0) throw new RangeError(`${what} must be 0 or more, got ${n}`)
  return n
}

export function parsePut(req: PutRequest): PutOp {
  requestObject(req, 'put request')
  const key = toBin(req.key, 'key')
  const value = toBinOptional(req.value, 'value')
  const lease = leaseId(req.lease, 'lease')
  const ignoreValue = bool(req.ignoreValue, 'ignoreValue')
  const ignoreLease = bool(req.ignoreLease, 'ignoreLease')
  if (key === '') throw new EtcdError('ETCD_EMPTY_KEY')
  if (ignoreValue && value !== '') throw new EtcdError('ETCD_VALUE_PROVIDED')
  if (ignoreLease && lease !== 0n) throw new EtcdError('ETCD_LEASE_PROVIDED')
  return { kind: 'put', key, value, lease, prevKv: bool(req.prevKv, 'prevKv'), ignoreValue, ignoreLease }
}

export function parseDelete(req: DeleteRangeRequest): DeleteOp {
  requestObject(req, 'delete request')
  const key = toBin(req.key, 'key')
  if (key === '') throw new EtcdError('ETCD_EMPTY_KEY')
  return { kind: 'delete', key, end: toBinOptional(req.rangeEnd, 'rangeEnd'), prevKv: bool(req.prevKv, 'prevKv') }
}

/**
 * parseTxn parses a txn and its nested txns. As etcd 3.4 does: the compare list and each branch may hold at most
 * `budget` entries (maxTxnOps at the top); a nested txn's budget is its parent's minus the parent's longest list, so
 * a deep txn cannot multiply the limit. Compares need a key, an empty RequestOp is "key not found", and each op gets
 * its own checks. The duplicate-key check comes after (see txn-intervals.ts).
 */
export function parseTxn(req: TxnRequest, limits: RequestLimits, budget = limits.maxTxnOps): TxnOp {
  requestObject(req, 'txn request')
  const compare = list(req.compare, 'compare')
  const success = list(req.success, 'success')
  const failure = list(req.failure, 'failure')
  const longest = Math.max(compare.length, success.length, failure.length)
  if (longest > budget) throw new EtcdError('ETCD_TOO_MANY_OPS')
  const compares = compare.map(parseCompare)
  const inner = budget - longest
  return {
    kind: 'txn',
    compares,
    success: success.map((op) => parseRequestOp(op, limits, inner)),
    failure: failure.map((op) => parseRequestOp(op, limits, inner)),
  }
}

export function parseRequestOp(op: RequestOp, limits: RequestLimits, budget = limits.maxTxnOps): Op {
  const o = op as Partial<Record<NonNullable<ReturnType<typeof opField>>, unknown>>
  switch (opField(op)) {
    case 'requestRange':
      return parseRange(o.requestRange as RangeRequest)
    case 'requestPut':
      return parsePut(o.requestPut as PutRequest)
    case 'requestDeleteRange':
      return parseDelete(o.requestDeleteRange as DeleteRangeRequest)
    case 'requestTxn':
      return parseTxn(o.requestTxn as TxnRequest, limits, budget)
  }
  // etcd answers an operation with no request in it as a missing key.
  throw new EtcdError('ETCD_KEY_NOT_FOUND')
}

function parseCompare(c: Compare): CompareOp {
  compareKinds(c)
  const key = toBin(c.key, 'compare key')
  if (key === '') throw new EtcdError('ETCD_EMPTY_KEY')
  let operand: number | bigint | Bin
  switch (c.target) {
    case 'VERSION':
      operand = int(c.version, 'compare version')
      break
    case 'CREATE':
      operand = int(c.createRevision, 'compare createRevision')
      break
    case 'MOD':
      operand = int(c.modRevision, 'compare modRevision')
      break
    case 'LEASE':
      operand = leaseId(c.lease, 'compare lease')
      break
    case 'VALUE':
      operand = toBinOptional(c.value as BytesLike | undefined, 'compare value')
      break
  }
  return { target: c.target, result: c.result, key, end: toBinOptional(c.rangeEnd, 'compare rangeEnd'), operand }
}
