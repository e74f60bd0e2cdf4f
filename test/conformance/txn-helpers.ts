import {
  compare,
  op,
  type Compare,
  type Op,
  type OpResponse,
  type RequestOp,
  type PutResponse,
  type RangeResponse,
  type DeleteRangeResponse,
  type ResponseHeader,
  type TxnRequest,
  type TxnResult,
} from '../../src/index.ts'

/** Builders and unwrappers shared by the txn suites (txn.ts, txn-checks.ts). */

/** MISSING_LEASE is a lease id that no fresh target has granted. */
export const MISSING_LEASE = 12345n

/** puts builds n puts of distinct keys `${prefix}000`, `${prefix}001`, ... */
export function puts(n: number, prefix = 'k'): Op[] {
  return Array.from({ length: n }, (_, i) => op.put(`${prefix}${String(i).padStart(3, '0')}`, 'v'))
}

/** trueCompares builds n compares that hold on a fresh target (version of a missing key is 0). */
export function trueCompares(n: number): Compare[] {
  return Array.from({ length: n }, (_, i) => compare.version(`c${String(i).padStart(3, '0')}`, '=', 0))
}

/** nested wraps a txn request as an op. */
export function nested(request: TxnRequest): RequestOp {
  return { requestTxn: request }
}

/** del builds a services-level delete of [key, rangeEnd), or of key alone. */
export function del(key: string, rangeEnd?: string): RequestOp {
  return { requestDeleteRange: rangeEnd === undefined ? { key } : { key, rangeEnd } }
}

/** put builds a services-level put. */
export function put(key: string, value = 'v'): RequestOp {
  return { requestPut: { key, value } }
}

/** kindOf names the kind of an op response. */
export function kindOf(response: OpResponse | undefined): string {
  if (response === undefined) return 'none'
  return Object.keys(response)[0] ?? 'none'
}

/** getOf, putOf, deleteOf, txnOf unwrap an op response of a known kind (failing the test otherwise). */
export function getOf(response: OpResponse | undefined): RangeResponse {
  if (response === undefined || !('get' in response)) throw new Error(`expected a get response, got ${kindOf(response)}`)
  return response.get
}
export function putOf(response: OpResponse | undefined): PutResponse {
  if (response === undefined || !('put' in response)) throw new Error(`expected a put response, got ${kindOf(response)}`)
  return response.put
}
export function deleteOf(response: OpResponse | undefined): DeleteRangeResponse {
  if (response === undefined || !('delete' in response)) {
    throw new Error(`expected a delete response, got ${kindOf(response)}`)
  }
  return response.delete
}
export function txnOf(response: OpResponse | undefined): TxnResult {
  if (response === undefined || !('txn' in response)) throw new Error(`expected a txn response, got ${kindOf(response)}`)
  return response.txn
}

/** headerOf is the header of any op response. */
export function headerOf(response: OpResponse | undefined): ResponseHeader {
  if (response === undefined) throw new Error('no response')
  if ('get' in response) return response.get.header
  if ('put' in response) return response.put.header
  if ('delete' in response) return response.delete.header
  return response.txn.header
}
