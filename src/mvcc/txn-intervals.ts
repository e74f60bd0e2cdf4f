import type { Bin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import type { Op } from './requests.ts'

/**
 * Duplicate-key rule of a txn, as etcd 3.4 enforces it before running anything: within one branch (and the branches
 * nested in it) a key may be written at most once.
 *
 * - Two puts of the same key in one list, or a put of a key that a delete in the same list covers, are duplicates,
 *   whatever their order.
 * - A nested txn's writes count as writes of the list that holds it. Its success and failure branches may both put
 *   the same key (only one of them runs), but neither may put a key the outer list puts or deletes.
 * - Deletes may overlap each other freely.
 * - A delete's interval is [key, rangeEnd), or the key alone without rangeEnd. etcd compares the interval ends as
 *   plain bytes, so a delete with rangeEnd "\0" ("from key on") covers no put at all here; we keep that quirk so
 *   that the same txn is accepted or refused exactly as etcd does.
 */

/** DeleteInterval: [begin, end), or the key `begin` alone when end is ''. */
interface DeleteInterval {
  readonly begin: Bin
  readonly end: Bin
}

/** checkDuplicateKeys throws ETCD_DUPLICATE_KEY when a branch writes a key twice (see above). */
export function checkDuplicateKeys(success: readonly Op[], failure: readonly Op[]): void {
  if (canRepeat(success)) writesOf(success)
  if (canRepeat(failure)) writesOf(failure)
}

/** canRepeat: a branch of at most one op that is not a txn cannot write a key twice (most txns: compare and swap). */
function canRepeat(ops: readonly Op[]): boolean {
  return ops.length > 1 || (ops.length === 1 && ops[0]!.kind === 'txn')
}

interface Writes {
  puts: Set<Bin>
  dels: DeleteInterval[]
}

function covers(dels: readonly DeleteInterval[], key: Bin): boolean {
  for (const d of dels) {
    if (d.end === '' ? key === d.begin : d.begin <= key && key < d.end) return true
  }
  return false
}

function writesOf(ops: readonly Op[]): Writes {
  const dels: DeleteInterval[] = []
  for (const op of ops) if (op.kind === 'delete') dels.push({ begin: op.key, end: op.end })

  const puts = new Set<Bin>()
  for (const op of ops) {
    if (op.kind !== 'txn') continue
    const then = writesOf(op.success)
    const otherwise = writesOf(op.failure)
    for (const key of then.puts) {
      if (puts.has(key) || covers(dels, key)) throw new EtcdError('ETCD_DUPLICATE_KEY')
      puts.add(key)
    }
    for (const key of otherwise.puts) {
      // A key both branches put is fine: only one branch runs.
      if ((puts.has(key) && !then.puts.has(key)) || covers(dels, key)) throw new EtcdError('ETCD_DUPLICATE_KEY')
      puts.add(key)
    }
    dels.push(...then.dels, ...otherwise.dels)
  }

  for (const op of ops) {
    if (op.kind !== 'put') continue
    if (puts.has(op.key) || covers(dels, op.key)) throw new EtcdError('ETCD_DUPLICATE_KEY')
    puts.add(op.key)
  }
  return { puts, dels }
}
