import type { OpOutcome } from './txn.ts'

/**
 * KvStats counts the operations the KV service has applied, as etcd's mvcc counters do (etcd_mvcc_range_total,
 * _put_total, _delete_total, _txn_total): every range, put and delete-range, inside a txn or alone; a txn counts
 * when it ran more than one operation. Counting is one addition per request; the numbers are read at a scrape.
 */
export class KvStats {
  ranges = 0
  puts = 0
  deletes = 0
  txns = 0

  /** countTxn counts the operations a txn ran (nested ones included), and the txn itself when it ran several. */
  countTxn(responses: readonly OpOutcome[]): void {
    const before = this.ranges + this.puts + this.deletes
    this.#countOps(responses)
    if (this.ranges + this.puts + this.deletes - before > 1) this.txns++
  }

  #countOps(responses: readonly OpOutcome[]): void {
    for (const r of responses) {
      if (r.kind === 'range') this.ranges++
      else if (r.kind === 'put') this.puts++
      else if (r.kind === 'delete') this.deletes++
      else this.#countOps(r.responses)
    }
  }
}
