import type { Bin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import {
  applyDelete,
  applyPut,
  applyRange,
  type DeleteOutcome,
  type LeaseRegistry,
  type PutOutcome,
  type RangeOutcome,
} from './apply.ts'
import type { KeyRecord } from './key-record.ts'
import type { CompareOp, TxnOp } from './requests.ts'
import type { ReadView, WriteView } from './store.ts'

/**
 * Txn evaluation, as etcd 3.4 runs a txn, in three passes over one write view:
 *
 * 1. Choose the path: evaluate the compares of the txn and, along the chosen branch, of every nested txn, all against
 *    the state before the txn (a nested txn's compares do not see the writes of the ops before it).
 * 2. Check the path: every put along it (ignoreValue / ignoreLease need the key to exist before the txn; its lease
 *    must be granted), then every range (its revision must be neither compacted nor in the future).
 * 3. Apply the ops in order. Reads see the txn's earlier writes.
 *
 * A failure in pass 2 happens before anything is written. A failure in pass 3 (possible only where etcd 3.4 itself
 * crashes: a put with ignoreValue or ignoreLease of a key the same txn deleted) throws, and the caller aborts the
 * write view, which takes every change back.
 */

export type OpOutcome = RangeOutcome | PutOutcome | DeleteOutcome | TxnOutcome

export interface TxnOutcome {
  readonly kind: 'txn'
  readonly succeeded: boolean
  readonly responses: OpOutcome[]
  /**
   * revs holds, for each response, the revision its header reports in etcd: the txn's view revision right after the
   * op ran (the starting revision until the txn first changes something, the new one from then on).
   */
  readonly revs: number[]
}

/** evaluateTxn runs a parsed txn over `view` (see above). The caller commits or aborts the view. */
export function evaluateTxn(view: WriteView, txn: TxnOp, leases: LeaseRegistry): TxnOutcome {
  const path: boolean[] = []
  choosePath(view, txn, path)
  const cursor: PathCursor = { next: 0 }
  checkPuts(view, txn, path, cursor, leases)
  cursor.next = 0
  checkRanges(view, txn, path, cursor)
  cursor.next = 0
  return applyBranch(view, txn, path, cursor, leases)
}

/** PathCursor walks the chosen path: `next` is the index of the next txn's entry in it (depth-first order). */
interface PathCursor {
  next: number
}

/** evaluateCompares tells whether every compare holds against `view`. */
export function evaluateCompares(view: ReadView, compares: readonly CompareOp[]): boolean {
  for (const c of compares) if (!evaluateCompare(view, c)) return false
  return true
}

/**
 * evaluateCompare checks one compare. Over a range, every key in it must satisfy the compare. A missing key (or an
 * empty range) compares as version, revisions and lease 0, but a VALUE compare on it always fails, NOT_EQUAL
 * included: etcd cannot tell a missing value from an empty one, so it refuses to decide.
 */
export function evaluateCompare(view: ReadView, c: CompareOp): boolean {
  if (c.end === '') {
    const record = view.get(c.key)
    return record === undefined ? c.target !== 'VALUE' && holds(c, undefined) : holds(c, record)
  }
  const { records } = view.range(c.key, c.end)
  if (records.length === 0) return c.target === 'VALUE' ? false : holds(c, undefined)
  for (const record of records) if (!holds(c, record)) return false
  return true
}

function holds(c: CompareOp, record: KeyRecord | undefined): boolean {
  let cmp: number
  switch (c.target) {
    case 'VALUE':
      cmp = compareOrdered(record?.value ?? '', c.operand as Bin)
      break
    case 'VERSION':
      cmp = compareOrdered(record?.version ?? 0, c.operand as number)
      break
    case 'CREATE':
      cmp = compareOrdered(record?.createRevision ?? 0, c.operand as number)
      break
    case 'MOD':
      cmp = compareOrdered(record?.modRevision ?? 0, c.operand as number)
      break
    case 'LEASE':
      cmp = compareOrdered(record?.lease ?? 0n, c.operand as bigint)
      break
  }
  switch (c.result) {
    case 'EQUAL':
      return cmp === 0
    case 'NOT_EQUAL':
      return cmp !== 0
    case 'GREATER':
      return cmp > 0
    case 'LESS':
      return cmp < 0
  }
}

function compareOrdered<T extends number | bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** choosePath appends, in depth-first order, the outcome of the compares of `txn` and of each nested txn it runs. */
function choosePath(view: ReadView, txn: TxnOp, path: boolean[]): void {
  const succeeded = evaluateCompares(view, txn.compares)
  path.push(succeeded)
  for (const op of succeeded ? txn.success : txn.failure) if (op.kind === 'txn') choosePath(view, op, path)
}

/** checkPuts checks every put along the chosen path, in order (pass 2). */
function checkPuts(view: ReadView, txn: TxnOp, path: readonly boolean[], cursor: PathCursor, leases: LeaseRegistry): void {
  const ops = path[cursor.next++]! ? txn.success : txn.failure
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!
    if (op.kind === 'txn') checkPuts(view, op, path, cursor, leases)
    else if (op.kind === 'put') checkPut(view, op.key, op.ignoreValue || op.ignoreLease, op.lease, leases)
  }
}

/** checkRanges checks the revision of every range along the chosen path, in order (pass 2, after the puts). */
function checkRanges(view: ReadView, txn: TxnOp, path: readonly boolean[], cursor: PathCursor): void {
  const ops = path[cursor.next++]! ? txn.success : txn.failure
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!
    if (op.kind === 'txn') checkRanges(view, op, path, cursor)
    else if (op.kind === 'range') checkRangeRevision(view, op.revision)
  }
}

function checkPut(view: ReadView, key: Bin, needsKey: boolean, lease: bigint, leases: LeaseRegistry): void {
  if (needsKey && view.get(key) === undefined) throw new EtcdError('ETCD_KEY_NOT_FOUND')
  if (lease !== 0n && !leases.has(lease)) throw new EtcdError('ETCD_LEASE_NOT_FOUND')
}

function checkRangeRevision(view: ReadView, revision: number): void {
  if (revision === 0) return
  if (revision > view.rev) throw new EtcdError('ETCD_FUTURE_REV')
  if (revision < view.firstRev) throw new EtcdError('ETCD_COMPACTED')
}

function applyBranch(
  view: WriteView,
  txn: TxnOp,
  path: readonly boolean[],
  cursor: PathCursor,
  leases: LeaseRegistry,
): TxnOutcome {
  const succeeded = path[cursor.next++]!
  const responses: OpOutcome[] = []
  const revs: number[] = []
  const ops = succeeded ? txn.success : txn.failure
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!
    switch (op.kind) {
      case 'range':
        responses.push(applyRange(view, op))
        break
      case 'put':
        responses.push(applyPut(view, op, leases))
        break
      case 'delete':
        responses.push(applyDelete(view, op))
        break
      case 'txn':
        responses.push(applyBranch(view, op, path, cursor, leases))
        break
    }
    revs.push(view.rev)
  }
  return { kind: 'txn', succeeded, responses, revs }
}
