import { BTree, bulkLoad, defaultComparator, MAX_NODE_SIZE } from '../util/btree.ts'
import type { Bin } from '../util/bytes.ts'
import { KeyIndex } from './key-index.ts'
import type { KeyRecord } from './key-record.ts'

/** UNBOUNDED is the range end that means "every key from `key` on", as etcd spells it: a single zero byte. */
export const UNBOUNDED: Bin = '\0'

/** IndexRangeResult is what a range over the index finds at one revision. */
export interface IndexRangeResult {
  /** records holds the visible versions in key order, at most `limit` of them (all when limit is 0). */
  records: KeyRecord[]
  /** count is the number of keys visible in the range, whatever the limit. */
  count: number
}

/**
 * REBUILD_SHARE: when the keys waiting for the ordered tree are at least this share of the tree, the tree is rebuilt
 * from one merged sorted list (O(keys), sequential) instead of taking them one insert at a time (O(log keys) each,
 * with a cache miss per string compared). Measured at 1M random 16-byte keys: 62.5k single inserts 141 ms, a rebuild
 * about 600 ms, so the cross-over is near a quarter.
 */
const REBUILD_SHARE = 4

/**
 * IDLE_BATCH: once this many new keys wait for the ordered tree, they are taken in while the event loop is idle,
 * this many per turn (sorted, then inserted in order), so that a range after a burst of new keys rarely has to order
 * them itself, and no turn is held for long.
 */
const IDLE_BATCH = 8192

/**
 * StoreIndex is the key index: every key with retained history, each with its KeyIndex, found by hash for single
 * keys and in unsigned byte order (latin1 strings compare that way) for ranges.
 *
 * Writes pay for the hash only. A key seen for the first time goes into the hash map and onto a list of keys the
 * ordered tree does not hold yet; the tree takes them in bulk the next time something needs order (a range, a
 * delete of a range, compaction, a snapshot walk): the waiting keys are sorted once, then either inserted in order
 * or, when they are many, merged with the tree's keys into a new tree built bottom-up. So a put of a new key costs
 * O(1), a put of an existing key or a read of one key one hash lookup, and a range O(log keys + keys in range) once
 * the waiting keys are in.
 *
 * Invariant: every key of the hash map is either in the tree or on the waiting list (#pending), never both; a
 * waiting entry whose KeyIndex is no longer the map's (the key left the index, and perhaps came back) is stale and
 * skipped when the list is taken in.
 */
export class StoreIndex {
  #tree = new BTree<Bin, KeyIndex>()
  readonly #byKey = new Map<Bin, KeyIndex>()
  /** #pending holds keys in the map and not yet in the tree, in arrival order (possibly stale, see the invariant). */
  #pending: KeyIndex[] = []
  #idleScheduled = false
  #background = true
  /**
   * #ascending: every key in the map was loaded by loadRecord, in strictly ascending order, and #loadedLast holds the
   * greatest (undefined while the map is empty). Any other change to the map ends it for good.
   */
  #ascending = true
  #loadedLast: KeyIndex | undefined
  /** #staleMayWait: a key left the index while waiting, so #pending may hold stale entries (see the invariant). */
  #staleMayWait = false

  /** size is the number of keys with retained history (live or deleted). */
  get size(): number {
    return this.#byKey.size
  }

  /** waiting is the number of new keys not yet in the ordered tree (stale entries included). */
  get waiting(): number {
    return this.#pending.length
  }

  /** get finds a key's history by hash lookup. */
  get(key: Bin): KeyIndex | undefined {
    return this.#byKey.get(key)
  }

  /** insert adds a key seen for the first time; the caller has checked that it is absent. O(1). */
  insert(key: Bin, first: KeyRecord): KeyIndex {
    if (this.#ascending) this.#endAscending()
    const ki = new KeyIndex(first)
    this.#byKey.set(key, ki)
    if (this.#pending.push(ki) >= IDLE_BATCH && !this.#idleScheduled && this.#background) this.#scheduleIdle()
    return ki
  }

  /**
   * loadRecord adds a record read back from disk. A key seen for the first time waits for order as a new key does,
   * but no background step starts: finishLoad orders all of them at once, in one bulk build.
   */
  loadRecord(record: KeyRecord): void {
    const key = record.key
    if (this.#ascending) {
      // Every key so far came in ascending order (a checkpoint is read so), so the map holds only keys up to the
      // last one: the same key continues its history, a greater one is new, and neither needs a lookup.
      const last = this.#loadedLast
      if (last !== undefined && key === last.key) {
        last.append(record)
        return
      }
      if (last === undefined || key > last.key) {
        this.#loadedLast = this.#loadNew(key, record)
        return
      }
      this.#endAscending()
    }
    const ki = this.#byKey.get(key)
    if (ki !== undefined) ki.append(record)
    else this.#loadNew(key, record)
  }

  #endAscending(): void {
    this.#ascending = false
    this.#loadedLast = undefined
  }

  #loadNew(key: Bin, record: KeyRecord): KeyIndex {
    const first = new KeyIndex(record)
    this.#byKey.set(key, first)
    this.#pending.push(first)
    return first
  }

  /** finishLoad takes the loaded keys into the ordered tree now, while opening, rather than at the first range. */
  finishLoad(): void {
    this.#endAscending()
    this.#order()
  }

  /** values iterates every key's history, in no particular order (cheaper than entries()). */
  values(): IterableIterator<KeyIndex> {
    return this.#byKey.values()
  }

  /** delete removes a key and its history from the index. */
  delete(key: Bin): void {
    const ki = this.#byKey.get(key)
    if (ki === undefined) return
    if (this.#ascending) this.#endAscending()
    this.#byKey.delete(key)
    // A waiting key is not in the tree: its list entry is now stale and is skipped when the list is taken in. Keys
    // leave mostly through compaction, which orders the index first, or an aborted write, whose new keys are last.
    if (this.#pending.length === 0 || this.#pending.lastIndexOf(ki) < 0) this.#tree.delete(key)
    else this.#staleMayWait = true
  }

  /**
   * range finds the versions visible at revision `rev` of the keys in [key, end): `end` '' is the key alone and
   * UNBOUNDED every key from `key` on. With `countOnly` no records are collected. A `countLimit` above 0 ends the
   * walk once that many keys are counted: O(log keys + countLimit) instead of O(log keys + keys in range).
   */
  range(key: Bin, end: Bin, rev: number, limit: number, countOnly: boolean, countLimit = 0): IndexRangeResult {
    const records: KeyRecord[] = []
    if (end === '') {
      const record = this.#byKey.get(key)?.at(rev)
      if (record === undefined) return { records, count: 0 }
      if (!countOnly) records.push(record)
      return { records, count: 1 }
    }
    let count = 0
    const take = countOnly ? 0 : limit > 0 ? limit : Infinity
    const stopAt = countLimit > 0 ? countLimit : Infinity
    this.forEachIn(key, end, (ki) => {
      const record = ki.at(rev)
      if (record === undefined) return false
      if (count < take) records.push(record)
      count++
      return count >= stopAt
    })
    return { records, count }
  }

  /**
   * forEachIn calls `fn` for every indexed key in [key, end) in key order (end as in `range`, but not ''), until `fn`
   * returns true.
   */
  forEachIn(key: Bin, end: Bin, fn: (ki: KeyIndex) => boolean | void): void {
    const tree = this.#order()
    if (end === UNBOUNDED) {
      const max = tree.maxKey()
      if (max === undefined || max < key) return
      tree.forRange(key, max, true, (_k, ki) => (fn(ki) === true ? { break: true } : undefined))
      return
    }
    if (end <= key) return
    tree.forRange(key, end, false, (_k, ki) => (fn(ki) === true ? { break: true } : undefined))
  }

  /**
   * compactChunk compacts at revision `rev` up to `max` keys from `fromKey` on (inclusive), collecting the dropped
   * records, and returns the key to resume from, or undefined when the end was reached. Chunks let a large
   * compaction yield to the event loop.
   */
  compactChunk(rev: number, fromKey: Bin, max: number, dropped?: KeyRecord[]): Bin | undefined {
    const tree = this.#order()
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
    const tree = this.#order()
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
    yield* this.#order().entries()
  }

  /**
   * orderSome takes up to `max` waiting keys into the ordered tree (the newest first) and tells how many still wait.
   * The background steps use it; so can a caller that wants order ready before a burst of ranges.
   */
  orderSome(max: number): number {
    const pending = this.#pending
    if (pending.length <= max) this.#order()
    else this.#takeIn(pending.splice(pending.length - max, max))
    return this.#pending.length
  }

  /** stopBackground ends the background steps (the engine closed): waiting keys are ordered only on demand. */
  stopBackground(): void {
    this.#background = false
  }

  /** #scheduleIdle runs orderSome(IDLE_BATCH) on later event-loop turns until no key waits. */
  #scheduleIdle(): void {
    this.#idleScheduled = true
    setImmediate(() => {
      this.#idleScheduled = false
      if (this.#background && this.orderSome(IDLE_BATCH) > 0) this.#scheduleIdle()
    })
  }

  /** #order takes every waiting key into the tree (see the class comment) and returns the tree. */
  #order(): InstanceType<typeof BTree<Bin, KeyIndex>> {
    if (this.#pending.length === 0) return this.#tree
    const waiting = this.#pending
    this.#pending = []
    this.#takeIn(waiting)
    this.#staleMayWait = false
    return this.#tree
  }

  /**
   * #takeIn puts the given waiting entries (skipping stale ones) into the ordered tree. Entries that arrived in key
   * order with none stale (a reopen reads its checkpoint in key order) go in as they are: no sort, no lookups.
   */
  #takeIn(waiting: KeyIndex[]): void {
    const byKey = this.#byKey
    let keys = this.#staleMayWait ? undefined : ascendingKeys(waiting)
    let values: KeyIndex[] | undefined
    if (keys !== undefined) values = waiting
    else {
      // Sorting the keys as plain strings (no comparator) is V8's fastest sort; each key finds its KeyIndex again.
      keys = []
      for (const ki of waiting) if (byKey.get(ki.key) === ki) keys.push(ki.key)
      keys.sort()
    }
    const tree = this.#tree
    if (keys.length * REBUILD_SHARE < tree.size) {
      for (let i = 0; i < keys.length; i++) tree.set(keys[i]!, values?.[i] ?? byKey.get(keys[i]!)!)
      return
    }
    values ??= keys.map((key) => byKey.get(key)!)
    const merged = tree.size === 0 ? { keys, values } : mergeSorted(tree.keysArray(), tree.valuesArray(), keys, values)
    this.#tree = bulkLoad(merged.keys, merged.values, MAX_NODE_SIZE, defaultComparator)
  }
}

/** ascendingKeys returns the entries' keys when they are strictly ascending, undefined as soon as one is not. */
function ascendingKeys(entries: readonly KeyIndex[]): Bin[] | undefined {
  const keys = new Array<Bin>(entries.length)
  let previous: Bin | undefined
  for (let i = 0; i < entries.length; i++) {
    const key = entries[i]!.key
    if (previous !== undefined && key <= previous) return undefined
    keys[i] = previous = key
  }
  return keys
}

/** mergeSorted merges two ascending lists of distinct keys that share none, with their values. */
function mergeSorted(
  aKeys: Bin[],
  aValues: KeyIndex[],
  bKeys: Bin[],
  bValues: KeyIndex[],
): { keys: Bin[]; values: KeyIndex[] } {
  const n = aKeys.length + bKeys.length
  const keys = new Array<Bin>(n)
  const values = new Array<KeyIndex>(n)
  let i = 0
  let j = 0
  let k = 0
  while (i < aKeys.length && j < bKeys.length) {
    if (aKeys[i]! < bKeys[j]!) {
      keys[k] = aKeys[i]!
      values[k++] = aValues[i++]!
    } else {
      keys[k] = bKeys[j]!
      values[k++] = bValues[j++]!
    }
  }
  for (; i < aKeys.length; i++, k++) {
    keys[k] = aKeys[i]!
    values[k] = aValues[i]!
  }
  for (; j < bKeys.length; j++, k++) {
    keys[k] = bKeys[j]!
    values[k] = bValues[j]!
  }
  return { keys, values }
}
