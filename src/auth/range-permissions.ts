import type { Bin } from '../util/bytes.ts'

/**
 * RangePermissions answers "may this user read (or write) [key, end)?" in O(log n) in the number of ranges the user
 * was granted, as etcd's per-user interval trees do.
 *
 * Every permission of every role the user holds becomes an interval: a key alone is [key, key\0), a range is
 * [key, rangeEnd), and a range ending in "\0" runs to the end of the key space. Reads and writes each get a sorted
 * list of disjoint intervals, built by merging those that overlap or touch. etcd's rule, that the granted intervals
 * overlapping a request must cover it without a gap (touching counts), is then: one merged interval contains the
 * request. A READWRITE grant goes in both lists.
 *
 * Keys are Bin strings (latin1, one char per byte), so string order is byte order. An `end` of '' asks about the key
 * alone; '\0' about every key from `key` on.
 */

/** Interval is [begin, end); an end of undefined is the end of the key space. */
interface Interval {
  readonly begin: Bin
  readonly end: Bin | undefined
}

/** GrantedRange is one permission as the store holds it. */
export interface GrantedRange {
  readonly read: boolean
  readonly write: boolean
  readonly key: Bin
  /** rangeEnd: '' for the key alone, '\0' for every key from `key` on. */
  readonly rangeEnd: Bin
}

export class RangePermissions {
  readonly #read: Interval[]
  readonly #write: Interval[]

  constructor(grants: Iterable<GrantedRange>) {
    const read: Interval[] = []
    const write: Interval[] = []
    for (const g of grants) {
      const interval: Interval = {
        begin: g.key,
        end: g.rangeEnd === '' ? `${g.key}\0` : g.rangeEnd === '\0' ? undefined : g.rangeEnd,
      }
      // An empty or inverted range grants nothing.
      if (interval.end !== undefined && interval.end <= interval.begin) continue
      if (g.read) read.push(interval)
      if (g.write) write.push(interval)
    }
    this.#read = merge(read)
    this.#write = merge(write)
  }

  /** canRead tells whether the user may read [key, end) (`end` '' for the key alone, '\0' for all keys from it). */
  canRead(key: Bin, end: Bin): boolean {
    return covers(this.#read, key, end)
  }

  /** canWrite tells whether the user may write [key, end). */
  canWrite(key: Bin, end: Bin): boolean {
    return covers(this.#write, key, end)
  }
}

/** merge sorts intervals and joins those that overlap or touch. */
function merge(intervals: Interval[]): Interval[] {
  intervals.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : 0))
  const out: Interval[] = []
  for (const next of intervals) {
    const last = out[out.length - 1]
    if (last !== undefined && (last.end === undefined || next.begin <= last.end)) {
      if (last.end !== undefined && (next.end === undefined || next.end > last.end)) {
        out[out.length - 1] = { begin: last.begin, end: next.end }
      }
      continue
    }
    out.push(next)
  }
  return out
}

/** covers tells whether one interval contains the request: found by binary search on the begins. */
function covers(intervals: readonly Interval[], key: Bin, end: Bin): boolean {
  let lo = 0
  let hi = intervals.length - 1
  let at = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (intervals[mid]!.begin <= key) {
      at = mid
      lo = mid + 1
    } else {
      hi = mid - 1
    }
  }
  if (at < 0) return false
  const i = intervals[at]!
  if (i.end === undefined) return true
  if (end === '') return key < i.end
  if (end === '\0') return false
  return end <= i.end
}
