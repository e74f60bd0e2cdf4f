import { isTombstone, type KeyRecord } from './key-record.ts'

/**
 * HistoryLog holds every retained change in revision order ({main, sub}), so that history can be read by revision:
 * a watcher that starts in the past or falls behind catches up from here, as etcd's unsynced watchers read the
 * revision-keyed backend.
 *
 * It covers revisions from the compact revision on. At the compact revision itself only puts remain: compaction at r
 * drops a tombstone at r (the key is simply absent there), while a put at r is still the key's visible version.
 */
export class HistoryLog {
  #records: KeyRecord[] = []

  /** size is the number of retained changes. */
  get size(): number {
    return this.#records.length
  }

  /** appendRecords adds records read back from disk, in revision order. */
  appendRecords(records: readonly KeyRecord[]): void {
    for (const record of records) this.#records.push(record)
  }

  /** appendChanges adds the records of one committed write, in sub-revision order. */
  appendChanges(changes: readonly { readonly record: KeyRecord }[]): void {
    for (let i = 0; i < changes.length; i++) this.#records.push(changes[i]!.record)
  }

  /**
   * read returns the changes with fromRev <= modRevision <= toRev, in order, stopping at a revision boundary once at
   * least `max` changes are collected (so a revision is never split). O(log size + result).
   */
  read(fromRev: number, toRev: number, max = Infinity): KeyRecord[] {
    const records = this.#records
    const out: KeyRecord[] = []
    for (let i = this.#firstAtOrAfter(fromRev); i < records.length; i++) {
      const record = records[i]!
      if (record.modRevision > toRev) break
      if (out.length >= max && record.modRevision !== out[out.length - 1]!.modRevision) break
      out.push(record)
    }
    return out
  }

  /** compact drops the changes that compaction at `rev` makes unreachable (see the class comment). */
  compact(rev: number): void {
    const records = this.#records
    const cut = this.#firstAtOrAfter(rev)
    let end = cut
    while (end < records.length && records[end]!.modRevision === rev) end++
    const keptAtRev = records.slice(cut, end).filter((r) => !isTombstone(r))
    this.#records = keptAtRev.concat(records.slice(end))
  }

  /** firstAtOrAfter is the index of the first change with modRevision >= rev. */
  #firstAtOrAfter(rev: number): number {
    const records = this.#records
    let lo = 0
    let hi = records.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (records[mid]!.modRevision < rev) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
