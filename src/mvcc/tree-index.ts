import { BTree, bulkLoad, defaultComparator, MAX_NODE_SIZE } from '../util/btree.ts'
import type { Bin } from '../util/bytes.ts'
import { KeyIndex } from './key-index.ts'
import type { KeyRecord } from './key-record.ts'

/** UNBOUNDED is the range end that means "every key from `key` on", as etcd spells it: a single zero byte. */
export const UNBOUNDED: Bin = '\0'

/** RangeResult is what a range over the index finds at one revision. */
export interface IndexRangeResult {
  /** records holds the visible versions in key order, at most `limit` of them (all when limit is 0). */
  records: KeyRecord[]
  /** count is the number of keys visible in the range, whatever the limit. */
  count: number
}

/**
 * TreeIndex is the key index: every key with retained history, each with its KeyIndex, held twice: in a B+ tree in
 * unsigned byte order (latin1 strings compare that way) for ranges, and in a hash map for single keys. A put of an
 * existing key or a read of one key costs one hash lookup; a new key adds one tree insert; a range costs
 * O(log keys + keys in range).
 */
export class TreeIndex {
  #tree = new BTree<Bin, KeyIndex>()
  readonly #byKey = new Map<Bin, KeyIndex>()
  /** #unsorted holds keys loaded into the map and not yet into the tree (see loadRecord). */
  #unsorted: Bin[] = []

  /** size is the number of keys with retained history (live or deleted). */
  get size(): number {
    return this.#byKey.size
  }

  /** get finds a key's history by hash lookup. */
  get(key: Bin): KeyIndex | undefined {
    return this.#byKey.get(key)
  }

  /** insert adds a key seen for the first time; the caller has checked that it is absent. */
  insert(key: Bin, first: KeyRecord): KeyIndex {
    const ki = new KeyIndex(key, first)
    this.#tree.set(key, ki)
    this.#byKey.set(key, ki)
    return ki
  }

  /**
   * loadRecord adds a record read back from disk. Keys seen for the first time go to the hash map only; the
   * ordered tree is built from them, in sorted order, by finishLoad() (several times faster than random inserts).
   */
  loadRecord(record: KeyRecord): void {
    const ki = this.#byKey.get(record.key)
    if (ki !== undefined) ki.append(record)
    else {
      this.#byKey.set(record.key, new KeyIndex(record.key, record))
      this.#unsorted.push(record.key)
    }
  }

  /** finishLoad puts the keys loaded since the last call into the ordered tree. */
  finishLoad(): void {
    const keys = this.#unsorted.sort()
    this.#unsorted = []
    if (this.#tree.size === 0) {
      this.#tree = bulkLoad(keys, keys.map((key) => this.#byKey.get(key)!), MAX_NODE_SIZE, defaultComparator)
      return
    }
    for (const key of keys) this.#tree.set(key, this.#byKey.get(key)!)
  }

  /** values iterates every key's history, in no particular order (cheaper than entries()). */
  values(): IterableIterator<KeyIndex> {
    return this.#byKey.values()
  }

  delete(key: Bin): void {
    this.#tree.delete(key)
    this.#byKey.delete(key)
  }

  /**
   * range finds the versions visible at revision `rev` of the keys in [key, end): `end` '' is the key alone and
   * UNBOUNDED every key from `key` on. With `countOnly` no records are collected.
   */
  range(key: Bin, end: Bin, rev: number, limit: number, countOnly: boolean): IndexRangeResult {
    const records: KeyRecord[] = []
    if (end === '') {
      const record = this.#byKey.get(key)?.at(rev)
      if (record === undefined) return { records, count: 0 }
      if (!countOnly) records.push(record)
      return { records, count: 1 }
    }
    let count = 0
    const take = countOnly ? 0 : limit > 0 ? limit : Infinity
    this.forEachIn(key, end, (ki) => {
      const record = ki.at(rev)
      if (record === undefined) return
      if (count < take) records.push(record)
      count++
    })
    return { records, count }
  }

  /** forEachIn calls `fn` for every indexed key in [key, end) in key order (end as in `range`, but not ''). */
  forEachIn(key: Bin, end: Bin, fn: (ki: KeyIndex) => void): void {
    const tree = this.#tree
    if (end === UNBOUNDED) {
      const max = tree.maxKey()
      if (max === undefined || max < key) return
      tree.forRange(key, max, true, (_k, ki) => {
        fn(ki)
      })
      return
    }
    if (end <= key) return
    tree.forRange(key, end, false, (_k, ki) => {
      fn(ki)
    })
  }

  /**
   * compactChunk compacts at revision `rev` up to `max` keys from `fromKey` on (inclusive), collecting the dropped
   * records, and returns the key to resume from, or undefined when the end was reached. Chunks let a large compaction yield to the event loop.
   */
  compactChunk(rev: number, fromKey: Bin, max: number, dropped?: KeyRecord[]): Bin | undefined {
    const tree = this.#tree
    const emptied: Bin[] = []
    let next: Bin | undefined
    let seen = 0
    const top = tree.maxKey()
    if (top === undefined || top < fromKey) return undefined
    tree.forRange(fromKey, top, true, (k, ki) => {
      if (seen === max) {
        next = k
        return { break: true }
      }
      seen++
      if (ki.compact(rev, dropped)) emptied.push(k)
      return undefined
    })
    for (const k of emptied) this.delete(k)
    return next
  }

  /**
   * page returns up to `max` keys' histories in key order, starting after `after` (from the first key when
   * undefined). Walking the index a page at a time stays correct while writes change it between pages, where an
   * iterator held across them would not.
   */
  page(after: Bin | undefined, max: number): KeyIndex[] {
    const out: KeyIndex[] = []
    const tree = this.#tree
    const top = tree.maxKey()
    if (top === undefined) return out
    const from = after ?? tree.minKey()!
    if (from > top) return out
    tree.forRange(from, top, true, (k, ki) => {
      if (after !== undefined && k === after) return undefined
      out.push(ki)
      return out.length >= max ? { break: true } : undefined
    })
    return out
  }

  /** entries iterates every indexed key with its history, in key order; the index must not change meanwhile. */
  *entries(): IterableIterator<[Bin, KeyIndex]> {
    yield* this.#tree.entries()
  }
}
