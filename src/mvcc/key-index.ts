import type { Bin } from '../util/bytes.ts'
import { isTombstone, type KeyRecord } from './key-record.ts'

/**
 * KeyIndex is the history of one key: every retained version, oldest first, as a list of generations.
 *
 * A generation is the life of the key from the put that creates it to the delete that ends it. A delete appends a
 * tombstone, which closes the current generation; the next put opens a new one (version 1 again, a new
 * createRevision). The records are kept flat, in revision order, and the tombstones mark where generations end.
 *
 * Example: key "k" put at revisions 2 and 3, deleted at 4, put at 6, put at 8:
 *
 *   records:      put@2 (v1)  put@3 (v2)  tomb@4 | put@6 (v1)  put@8 (v2)
 *   generations:  [2, 3, 4(t)]                   [6, 8]        (the last one is open)
 *
 * Reading at revision r finds the newest record with modRevision <= r: at 3 it is put@3, at 5 the tombstone (so the
 * key does not exist), at 7 put@6, at 1 nothing.
 *
 * Compacting at revision r keeps, of everything at or below r, only the newest record, and drops even that when it is
 * a tombstone; everything above r stays. Compacting the example at 5 leaves [put@6, put@8]; at 7 leaves
 * [put@6, put@8] as well (put@6 is the newest at or below 7); at 4 leaves [put@6, put@8] (tomb@4 goes); at 3 leaves
 * [put@3, tomb@4, put@6, put@8]. A key whose list becomes empty leaves the index.
 */
export class KeyIndex {
  readonly key: Bin
  /** records holds the key's retained versions in revision order. It is never empty while the key is indexed. */
  readonly records: KeyRecord[]

  constructor(key: Bin, first: KeyRecord) {
    this.key = key
    this.records = [first]
  }

  /** latest is the key's last record: its current version, or a tombstone when it is deleted. */
  get latest(): KeyRecord {
    return this.records[this.records.length - 1]!
  }

  /** live tells whether the key exists at the newest revision. */
  get live(): boolean {
    return !isTombstone(this.latest)
  }

  /**
   * at returns the version visible at revision `rev`: the newest record with modRevision <= rev, unless that is a
   * tombstone or there is none. O(1) at the newest revision, O(log versions) in the past.
   */
  at(rev: number): KeyRecord | undefined {
    const records = this.records
    let hi = records.length - 1
    const last = records[hi]!
    if (last.modRevision <= rev) return isTombstone(last) ? undefined : last
    // Binary search for the newest record with modRevision <= rev.
    let lo = 0
    let found = -1
    hi--
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (records[mid]!.modRevision <= rev) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    if (found < 0) return undefined
    const record = records[found]!
    return isTombstone(record) ? undefined : record
  }

  /**
   * before returns the version the key had just before `record` (for a watch event's prevKv), or undefined when the
   * key did not exist then or that version has been compacted away.
   */
  before(record: KeyRecord): KeyRecord | undefined {
    const i = this.records.indexOf(record)
    if (i <= 0) return undefined
    const prev = this.records[i - 1]!
    return isTombstone(prev) ? undefined : prev
  }

  /** append adds the key's next version; its revision must be above every retained one. */
  append(record: KeyRecord): void {
    this.records.push(record)
  }

  /** dropLatest undoes the last append (an aborted write). */
  dropLatest(): void {
    this.records.pop()
  }

  /**
   * compact drops the history that compaction at revision `rev` makes unreachable (see the class comment).
   * Returns true when nothing is left, so the key should leave the index.
   */
  compact(rev: number): boolean {
    const records = this.records
    // newest is the index of the newest record at or below rev.
    let newest = -1
    for (let i = 0; i < records.length && records[i]!.modRevision <= rev; i++) newest = i
    if (newest < 0) return false
    const drop = isTombstone(records[newest]!) ? newest + 1 : newest
    if (drop > 0) records.splice(0, drop)
    return records.length === 0
  }

  /** generations returns the history split into generations, oldest first (for inspection and tests). */
  generations(): KeyRecord[][] {
    const gens: KeyRecord[][] = []
    let current: KeyRecord[] = []
    for (const record of this.records) {
      current.push(record)
      if (isTombstone(record)) {
        gens.push(current)
        current = []
      }
    }
    if (current.length > 0) gens.push(current)
    return gens
  }
}
