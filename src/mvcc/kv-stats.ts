import type { DeleteOp, Op, PutOp, TxnOp } from './requests.ts'
import type { OpOutcome } from './txn.ts'

/**
 * KvStats counts what the KV service runs against the store, by etcd 3.4's rules for its mvcc counters
 * (etcd_mvcc_range_total, _put_total, _delete_total, _txn_total), observed on a real etcd:
 *
 * - every range, put and delete-range run against the store counts one, a delete that matches nothing included;
 *   so do the reads a request makes on the side: a put or delete with prevKv (or a put with ignoreValue or
 *   ignoreLease) reads the old value, each compare of a txn reads its key, and a compaction reads once;
 * - a txn counts when one store transaction ran more than one of those. A txn that writes evaluates its compares
 *   in a read transaction of their own, then runs its ops in a write transaction; a read-only txn runs both in one.
 *
 * Counting is a few additions per request; the numbers are read when metrics are scraped.
 */
export class KvStats {
  ranges = 0
  puts = 0
  deletes = 0
  txns = 0
  /** putBytes adds up the key and value sizes of every put (etcd_debugging_mvcc_total_put_size_in_bytes). */
  putBytes = 0

  /** countPut counts a one-shot put: a store transaction of its own. */
  countPut(op: PutOp): void {
    this.puts++
    this.putBytes += op.key.length + op.value.length
    if (readsOld(op)) {
      this.ranges++
      this.txns++
    }
  }

  /** countDelete counts a one-shot delete-range. */
  countDelete(op: DeleteOp): void {
    this.deletes++
    if (op.prevKv) {
      this.ranges++
      this.txns++
    }
  }

  /** countTxn counts a txn that was applied: its compares, and the ops of the branches that ran. */
  countTxn(op: TxnOp, succeeded: boolean, responses: readonly OpOutcome[]): void {
    const ops = this.#countOps(succeeded ? op.success : op.failure, responses)
    const compares = op.compares.length
    this.ranges += compares
    if (writes(op)) {
      if (compares > 1) this.txns++
      if (ops > 1) this.txns++
    } else if (compares + ops > 1) {
      this.txns++
    }
  }

  /** #countOps counts the ops that ran (nested txns' ops and compares included) and returns how many store ops that was. */
  #countOps(ops: readonly Op[], responses: readonly OpOutcome[]): number {
    let n = 0
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!
      const outcome = responses[i]!
      if (op.kind === 'range') {
        this.ranges++
        n++
      } else if (op.kind === 'put') {
        this.puts++
        this.putBytes += op.key.length + op.value.length
        n++
        if (readsOld(op)) {
          this.ranges++
          n++
        }
      } else if (op.kind === 'delete') {
        this.deletes++
        n++
        if (op.prevKv) {
          this.ranges++
          n++
        }
      } else if (outcome.kind === 'txn') {
        this.ranges += op.compares.length
        n += op.compares.length + this.#countOps(outcome.succeeded ? op.success : op.failure, outcome.responses)
      }
    }
    return n
  }
}

function readsOld(op: PutOp): boolean {
  return op.prevKv || op.ignoreValue || op.ignoreLease
}

/** writes tells whether a txn holds a put or a delete in either branch, at any depth (etcd's read-only test). */
function writes(op: TxnOp): boolean {
  for (const o of [...op.success, ...op.failure]) {
    if (o.kind === 'put' || o.kind === 'delete') return true
    if (o.kind === 'txn' && writes(o)) return true
  }
  return false
}
