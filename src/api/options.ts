import { prefixEnd, toBin, fromBin, type BytesLike } from '../util/bytes.ts'
import type { LeaseIdLike, SortOrder, SortTarget } from '../messages/kv.ts'

/**
 * Client-level options, one field per option of etcd's Go client (clientv3.OpOption), in camelCase.
 */

/** RangeOptions pick the keys an operation covers, beside its `key`. At most one of them may be set. */
export interface KeyRangeOptions {
  /** prefix covers every key that starts with `key` (clientv3.WithPrefix). */
  prefix?: boolean
  /** fromKey covers every key >= `key` (clientv3.WithFromKey). */
  fromKey?: boolean
  /** rangeEnd covers [key, rangeEnd) (clientv3.WithRange). */
  rangeEnd?: BytesLike
}

export interface GetOptions extends KeyRangeOptions {
  /** revision reads as of that revision (clientv3.WithRev). @default 0, the current revision */
  revision?: number
  /** limit caps the number of kvs (clientv3.WithLimit). @default 0, no limit */
  limit?: number
  /** sortOrder with sortTarget sorts the result (clientv3.WithSort). @default 'NONE' */
  sortOrder?: SortOrder
  /** @default 'KEY' */
  sortTarget?: SortTarget
  /** serializable is accepted for compatibility; a local engine is always up to date. */
  serializable?: boolean
  /** keysOnly leaves values out (clientv3.WithKeysOnly). */
  keysOnly?: boolean
  /** countOnly returns only the count (clientv3.WithCountOnly). */
  countOnly?: boolean
  minModRevision?: number
  maxModRevision?: number
  minCreateRevision?: number
  maxCreateRevision?: number
}

export interface PutOptions {
  /** lease attaches the key to a granted lease (clientv3.WithLease). */
  lease?: LeaseIdLike
  /** prevKv returns the pair before the put (clientv3.WithPrevKV). */
  prevKv?: boolean
  /** ignoreValue keeps the current value (clientv3.WithIgnoreValue); the key must exist. */
  ignoreValue?: boolean
  /** ignoreLease keeps the current lease (clientv3.WithIgnoreLease); the key must exist. */
  ignoreLease?: boolean
}

export interface DeleteOptions extends KeyRangeOptions {
  /** prevKv returns the deleted pairs (clientv3.WithPrevKV). */
  prevKv?: boolean
}

/**
 * keyRange turns a key and range options into the key and rangeEnd etcd takes. As in etcd's Go client, an empty key
 * with prefix or fromKey covers every key.
 * @throws TypeError when more than one of prefix, fromKey and rangeEnd is given.
 */
export function keyRange(
  key: BytesLike,
  options: KeyRangeOptions | undefined,
): { key: BytesLike; rangeEnd?: Uint8Array } {
  if (options === undefined) return { key }
  const given = [options.prefix === true, options.fromKey === true, options.rangeEnd !== undefined].filter(Boolean)
  if (given.length > 1) throw new TypeError('give at most one of prefix, fromKey and rangeEnd')
  if (options.prefix === true || options.fromKey === true) {
    const bin = toBin(key)
    if (bin === '') return { key: ZERO, rangeEnd: ZERO }
    return { key, rangeEnd: options.prefix === true ? fromBin(prefixEnd(bin)) : ZERO }
  }
  if (options.rangeEnd !== undefined) return { key, rangeEnd: fromBin(toBin(options.rangeEnd, 'rangeEnd')) }
  return { key }
}

const ZERO = new Uint8Array([0])
