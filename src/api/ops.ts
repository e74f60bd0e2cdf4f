import type { BytesLike } from '../util/bytes.ts'
import type {
  Compare,
  CompareResult,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseIdLike,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
} from '../messages/kv.ts'
import { keyRange, type DeleteOptions, type GetOptions, type KeyRangeOptions, type PutOptions } from './options.ts'

/**
 * Client-level operations and compares, as etcd's Go client builds them (clientv3.OpGet, OpPut, OpDelete, OpTxn,
 * Compare(Value(k), "=", v), ...). Each helper returns the services-level message, so ops and compares can be passed
 * to `etcd.do()`, to the txn builder, or straight to `etcd.services.kv.txn()`.
 */

/** Op is one operation: a services-level RequestOp. */
export type Op = RequestOp

/** OpResponse is the answer to one Op: exactly one of get, put, delete, txn. */
export type OpResponse =
  | { get: RangeResponse }
  | { put: PutResponse }
  | { delete: DeleteRangeResponse }
  | { txn: TxnResult }

/** TxnResult is a txn's answer at the client level. */
export interface TxnResult {
  header: ResponseHeader
  /** succeeded tells whether the compares held (the `then` branch ran) or not (`else`). */
  succeeded: boolean
  /** responses answers the ops of the branch that ran, in order. */
  responses: OpResponse[]
}

/** rangeRequest builds the RangeRequest of a get. */
export function rangeRequest(key: BytesLike, options: GetOptions = {}): RangeRequest {
  const { prefix: _p, fromKey: _f, rangeEnd: _r, ...rest } = options
  return { ...rest, ...keyRange(key, options) }
}

/** deleteRequest builds the DeleteRangeRequest of a delete. */
export function deleteRequest(key: BytesLike, options: DeleteOptions = {}): DeleteRangeRequest {
  return { ...keyRange(key, options), prevKv: options.prevKv ?? false }
}

export const op = {
  /** get reads a key or a range. */
  get(key: BytesLike, options: GetOptions = {}): Op {
    return { requestRange: rangeRequest(key, options) }
  },
  /** put writes a key. */
  put(key: BytesLike, value: BytesLike, options: PutOptions = {}): Op {
    return { requestPut: { key, value, ...options } }
  },
  /** delete removes a key or a range. */
  delete(key: BytesLike, options: DeleteOptions = {}): Op {
    return { requestDeleteRange: deleteRequest(key, options) }
  },
  /** txn nests a txn: `compares`, then the ops run when they all hold, else the others. */
  txn(compares: Compare[], thenOps: Op[] = [], elseOps: Op[] = []): Op {
    return { requestTxn: { compare: compares, success: thenOps, failure: elseOps } }
  },
}

/** CompareOperator is the operator of a compare, as etcd's client spells it. */
export type CompareOperator = '=' | '!=' | '<' | '>'

const resultOf: Record<CompareOperator, CompareResult> = {
  '=': 'EQUAL',
  '!=': 'NOT_EQUAL',
  '<': 'LESS',
  '>': 'GREATER',
}

function result(operator: CompareOperator): CompareResult {
  const r = resultOf[operator]
  if (r === undefined) throw new TypeError(`unknown compare operator ${String(operator)}; use =, !=, < or >`)
  return r
}

function target(key: BytesLike, range: KeyRangeOptions | undefined): { key: BytesLike; rangeEnd?: Uint8Array } {
  return keyRange(key, range)
}

/**
 * compare builds txn conditions. With range options the condition must hold for every key in the range.
 * @example
 * compare.value('k', '=', 'v'); compare.version('k', '>', 0); compare.modRevision('cfg/', '<', 10, { prefix: true })
 */
export const compare = {
  value(key: BytesLike, operator: CompareOperator, value: BytesLike, range?: KeyRangeOptions): Compare {
    return { ...target(key, range), target: 'VALUE', result: result(operator), value }
  },
  version(key: BytesLike, operator: CompareOperator, version: number, range?: KeyRangeOptions): Compare {
    return { ...target(key, range), target: 'VERSION', result: result(operator), version }
  },
  createRevision(key: BytesLike, operator: CompareOperator, revision: number, range?: KeyRangeOptions): Compare {
    return { ...target(key, range), target: 'CREATE', result: result(operator), createRevision: revision }
  },
  modRevision(key: BytesLike, operator: CompareOperator, revision: number, range?: KeyRangeOptions): Compare {
    return { ...target(key, range), target: 'MOD', result: result(operator), modRevision: revision }
  },
  lease(key: BytesLike, operator: CompareOperator, lease: LeaseIdLike, range?: KeyRangeOptions): Compare {
    return { ...target(key, range), target: 'LEASE', result: result(operator), lease }
  },
}

/** opResponse turns a services-level ResponseOp into the client-level OpResponse. */
export function opResponse(response: ResponseOp): OpResponse {
  if ('responseRange' in response) return { get: response.responseRange }
  if ('responsePut' in response) return { put: response.responsePut }
  if ('responseDeleteRange' in response) return { delete: response.responseDeleteRange }
  const t = response.responseTxn
  return { txn: { header: t.header, succeeded: t.succeeded, responses: t.responses.map(opResponse) } }
}
