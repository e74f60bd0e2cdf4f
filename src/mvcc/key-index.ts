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
/** EXACT_UP_TO: histories shorter than this many records are kept in arrays of exactly their length (see append). */
const EXACT_UP_TO = 8

export class KeyIndex {
  /**
   * #versions holds the records: the one record alone while the key has one version (most keys, and reads at the
   * current revision need only the newest), then every retained record, oldest first, in an array. One field keeps a
   * key's entry at its smallest: the key itself is the records' key.
   */
  #versions: KeyRecord | KeyRecord[]

  constructor(first: KeyRecord) {
    this.#versions = first
  }

  /** key is the key whose history this is. */
  get key(): Bin {
    return this.latest.key
  }

  /** latest is the key's last record: its current version, or a tombstone when it is deleted. */
  get latest(): KeyRecord {
    const v = this.#versions
    return Array.isArray(v) ? v[v.length - 1]! : v
  }

  /** live tells whether the key exists at the newest revision. */
  get live(): boolean {
    return !isTombstone(this.latest)
  }

  /** records lists every retained record, oldest first (a copy; for compaction, inspection and tests). */
  get records(): KeyRecord[] {
    const v = this.#versions
    return Array.isArray(v) ? v.slice() : [v]
  }

  /**
   * at returns the version visible at revision `rev`: the newest record with modRevision <= rev, unless that is a
   * tombstone or there is none. O(1) at the newest revision, O(log versions) in the past.
   */
  at(rev: number): KeyRecord | undefined {
    const v = this.#versions
    if (!Array.isArray(v)) return v.modRevision <= rev && !isTombstone(v) ? v : undefined
    const last = v[v.length - 1]!
    if (last.modRevision <= rev) return isTombstone(last) ? undefined : last
    // Binary search for the newest record with modRevision <= rev.
    let lo = 0
    let hi = v.length - 2
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (v[mid]!.modRevision <= rev) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    if (found < 0) return undefined
    const record = v[found]!
    return isTombstone(record) ? undefined : record
  }

  /**
   * append adds the key's next version; its revision must be above every retained one. A short history is copied
   * into an array of exactly its new length: `push` would grow a full array of 2 to 19 slots (V8 adds half and 16),
   * 150 bytes for a key with three versions. Longer histories grow by `push`, amortised.
   */
  append(record: KeyRecord): void {
    const v = this.#versions
    if (!Array.isArray(v)) this.#versions = [v, record]
    else if (v.length >= EXACT_UP_TO) v.push(record)
    else {
      const grown = new Array<KeyRecord>(v.length + 1)
      for (let i = 0; i < v.length; i++) grown[i] = v[i]!
      grown[v.length] = record
      this.#versions = grown
    }
  }

  /** dropLatest undoes the last append (an aborted write); returns true when no record is left. */
  dropLatest(): boolean {
    const v = this.#versions
    if (!Array.isArray(v)) return true
    v.pop()
    if (v.length === 1) this.#versions = v[0]!
    return false
  }

  /**
   * compact drops the history that compaction at revision `rev` makes unreachable (see the class comment), adding
   * the dropped records to `dropped`. Returns true when nothing is left, so the key should leave the index.
   */
  compact(rev: number, dropped?: KeyRecord[]): boolean {
    const v = this.#versions
    if (!Array.isArray(v)) {
      if (v.modRevision > rev || !isTombstone(v)) return false
      dropped?.push(v)
      return true
    }
    // newest is the index of the newest record at or below rev.
    let newest = -1
    for (let i = 0; i < v.length && v[i]!.modRevision <= rev; i++) newest = i
    if (newest < 0) return false
    const drop = isTombstone(v[newest]!) ? newest + 1 : newest
    if (drop === 0) return false
    if (dropped !== undefined) for (let i = 0; i < drop; i++) dropped.push(v[i]!)
    if (drop === v.length) return true
    this.#versions = drop === v.length - 1 ? v[drop]! : v.slice(drop)
    return false
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
