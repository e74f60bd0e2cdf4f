import { EtcdError } from '../util/errors.ts'
import type { KeyRecord } from './key-record.ts'
import type { DeleteOp, PutOp, RangeOp } from './requests.ts'
import type { ReadView, WriteView } from './store.ts'

/**
 * Applying single KV operations to a store view, with etcd's semantics. These functions are shared by the one-shot
 * requests and by txn evaluation; they return records, and the service turns them into response messages once the
 * write has committed (so headers carry the final revision).
 */

/** LeaseRegistry is what KV operations need from the lessor: whether a lease id is granted. */
export interface LeaseRegistry {
  has(id: bigint): boolean
}

/** NO_LEASES is the registry of an engine without a lessor: every lease id is unknown. */
export const NO_LEASES: LeaseRegistry = { has: () => false }

export interface RangeOutcome {
  readonly kind: 'range'
  readonly records: KeyRecord[]
  readonly count: number
  readonly more: boolean
  readonly keysOnly: boolean
}

export interface PutOutcome {
  readonly kind: 'put'
  readonly prev: KeyRecord | undefined
}

export interface DeleteOutcome {
  readonly kind: 'delete'
  readonly deleted: number
  readonly prevs: KeyRecord[] | undefined
}

type SortKey = (r: KeyRecord) => number | string

const sortKeys: Record<RangeOp['sortTarget'], SortKey> = {
  KEY: (r) => r.key,
  VERSION: (r) => r.version,
  CREATE: (r) => r.createRevision,
  MOD: (r) => r.modRevision,
  VALUE: (r) => r.value,
}

/**
 * applyRange reads a range as etcd's Range does: fetch (limit + 1 when no sort or filter needs every key), drop what
 * the mod/create revision filters exclude, sort, then cut to `limit`, setting `more` when something was cut.
 * `count` is the number of keys in the range at that revision, before filters and limit. Sorting is stable, so ties
 * stay in key order. Cost: O(log keys + keys in range) without sort or filters, plus the sort.
 */
export function applyRange(view: ReadView, op: RangeOp): RangeOutcome {
  if (op.end === '' && op.revision === 0 && !hasFilters(op)) {
    // One key at the view's revision: a hash lookup, nothing to sort or cut.
    const record = view.get(op.key)
    const records = record === undefined || op.countOnly ? [] : [record]
    return { kind: 'range', records, count: record === undefined ? 0 : 1, more: false, keysOnly: op.keysOnly }
  }
  const needsAll =
    op.sortOrder !== 'NONE' ||
    op.minModRevision !== 0 ||
    op.maxModRevision !== 0 ||
    op.minCreateRevision !== 0 ||
    op.maxCreateRevision !== 0
  const fetch = needsAll ? 0 : op.limit > 0 ? op.limit + 1 : 0
  // A count limit never hides a record the answer needs: counting goes on at least as far as fetching.
  const countLimit = op.countLimit === undefined || op.countLimit === 0 || needsAll || fetch === 0 ? 0 : Math.max(op.countLimit, fetch)
  const result = view.range(op.key, op.end, { rev: op.revision, limit: fetch, countOnly: op.countOnly, countLimit })
  let records = result.records
  if (op.maxModRevision !== 0) records = records.filter((r) => r.modRevision <= op.maxModRevision)
  if (op.minModRevision !== 0) records = records.filter((r) => r.modRevision >= op.minModRevision)
  if (op.maxCreateRevision !== 0) records = records.filter((r) => r.createRevision <= op.maxCreateRevision)
  if (op.minCreateRevision !== 0) records = records.filter((r) => r.createRevision >= op.minCreateRevision)

  // etcd sorts ascending when a target other than KEY is named without an order; records come in key order already.
  const order = op.sortOrder === 'NONE' && op.sortTarget !== 'KEY' ? 'ASCEND' : op.sortOrder
  if (order !== 'NONE' && !(order === 'ASCEND' && op.sortTarget === 'KEY')) {
    const key = sortKeys[op.sortTarget]
    const sign = order === 'ASCEND' ? 1 : -1
    records = records.slice().sort((a, b) => {
      const x = key(a)
      const y = key(b)
      return x < y ? -sign : x > y ? sign : 0
    })
  }
  let more = false
  if (op.limit > 0 && records.length > op.limit) {
    records = records.slice(0, op.limit)
    more = true
  }
  return { kind: 'range', records, count: result.count, more, keysOnly: op.keysOnly }
}

function hasFilters(op: RangeOp): boolean {
  return op.minModRevision !== 0 || op.maxModRevision !== 0 || op.minCreateRevision !== 0 || op.maxCreateRevision !== 0
}

/**
 * applyPut writes one key as etcd's Put does: ignoreValue / ignoreLease take the value / lease of the current version
 * (ETCD_KEY_NOT_FOUND when there is none); a lease must be granted (ETCD_LEASE_NOT_FOUND). Nothing is written when
 * it throws.
 */
export function applyPut(view: WriteView, op: PutOp, leases: LeaseRegistry): PutOutcome {
  let current: KeyRecord | undefined
  if (op.ignoreValue || op.ignoreLease || op.prevKv) {
    current = view.get(op.key)
    if ((op.ignoreValue || op.ignoreLease) && current === undefined) throw new EtcdError('ETCD_KEY_NOT_FOUND')
  }
  const value = op.ignoreValue ? current!.value : op.value
  const lease = op.ignoreLease ? current!.lease : op.lease
  if (!op.ignoreLease && lease !== 0n && !leases.has(lease)) throw new EtcdError('ETCD_LEASE_NOT_FOUND')
  view.put(op.key, value, lease)
  return { kind: 'put', prev: op.prevKv ? current : undefined }
}

/** applyDelete ends every live key in the range; with prevKv it returns the deleted versions, in key order. */
export function applyDelete(view: WriteView, op: DeleteOp): DeleteOutcome {
  const changes = view.deleteRange(op.key, op.end)
  return {
    kind: 'delete',
    deleted: changes.length,
    prevs: op.prevKv ? changes.map((c) => c.prev!) : undefined,
  }
}
