import { EtcdError } from '../util/errors.ts'
import { compareResults, compareTargets, sortOrders, sortTargets, type Compare, type RequestOp, type SortOrder, type SortTarget } from './kv.ts'

/**
 * The shape checks of a services-level request, written once: the engine parses every request with them (so an
 * in-process caller's mistake is a TypeError), and the wire codec runs the same ones before it encodes a request for
 * the network (it cannot encode a number where bytes belong). etcd's own checks (an empty key, a value with
 * ignoreValue, too many operations) stay in the engine alone: over the wire the server answers them, real etcd
 * included, which the differential tests rely on.
 */

/** requestObject checks that a request (or a part of one) is an object. */
export function requestObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${what} must be an object`)
}

/** bool reads an optional boolean field; absent is false. */
export function bool(value: boolean | undefined | null, what: string): boolean {
  if (value === undefined || value === null) return false
  if (typeof value === 'boolean') return value
  throw new TypeError(`${what} must be a boolean, got ${typeof value}`)
}

/** list reads one of a txn's optional lists (compare, success, failure); absent is empty. */
export function list<T>(value: T[] | undefined | null, what: string): T[] {
  if (value === undefined || value === null) return []
  if (Array.isArray(value)) return value
  throw new TypeError(`txn ${what} must be an array`)
}

/** OpField names the member of a RequestOp's oneof. */
export type OpField = 'requestRange' | 'requestPut' | 'requestDeleteRange' | 'requestTxn'

const OP_FIELDS: readonly OpField[] = ['requestRange', 'requestPut', 'requestDeleteRange', 'requestTxn']

/** opField returns which member of a txn operation's oneof is set (undefined for none); setting two is a TypeError. */
export function opField(op: RequestOp): OpField | undefined {
  requestObject(op, 'a txn operation')
  const o = op as Partial<Record<OpField, unknown>>
  const set = OP_FIELDS.filter((f) => o[f] !== undefined && o[f] !== null)
  if (set.length > 1) throw new TypeError(`a txn operation sets more than one of ${set.join(', ')}`)
  return set[0]
}

/** compareKinds checks a compare's target and result names, returning their enum numbers. */
export function compareKinds(c: Compare): { target: number; result: number } {
  requestObject(c, 'a compare')
  const target = compareTargets.indexOf(c.target)
  const result = compareResults.indexOf(c.result)
  if (target < 0) throw new TypeError(`unknown compare target ${String(c.target)}`)
  if (result < 0) throw new TypeError(`unknown compare result ${String(c.result)}`)
  return { target, result }
}

/** sortOption checks a range's sort order and target (defaults NONE and KEY), returning their enum numbers. */
export function sortOption(order: SortOrder | undefined, target: SortTarget | undefined): { order: number; target: number } {
  const o = sortOrders.indexOf(order ?? 'NONE')
  const t = sortTargets.indexOf(target ?? 'KEY')
  if (o < 0 || t < 0) throw new EtcdError('ETCD_INVALID_SORT_OPTION')
  return { order: o, target: t }
}
