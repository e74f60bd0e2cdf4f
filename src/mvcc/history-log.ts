import { isTombstone, type KeyRecord } from './key-record.ts'

/** CHUNK_SIZE is the number of changes per chunk of the log. */
const CHUNK_SIZE = 4096

/**
 * HistoryLog holds every retained change in revision order ({main, sub}), so that history can be read by revision:
 * a watcher that starts in the past or falls behind catches up from here, as etcd's unsynced watchers read the
 * revision-keyed backend.
 *
 * It covers revisions from the compact revision on. At the compact revision itself only puts remain: compaction at r
 * drops a tombstone at r (the key is simply absent there), while a put at r is still the key's visible version.
 *
 * The changes are kept in chunks (CHUNK_SIZE by default), so a growing log never copies what it holds, and compaction drops
 * whole chunks and copies only the changes at the compact revision and the rest of the chunk they end in. A chunk
 * may be shorter or longer than the chunk size after compaction; appends start a new chunk once the last one is full.
 */
export class HistoryLog {
  readonly #chunkSize: number
  #chunks: KeyRecord[][] = [[]]
  #size = 0

  /** @param chunkSize changes per chunk (small ones let tests cross chunk edges). @default 4096 */
  constructor(chunkSize = CHUNK_SIZE) {
    this.#chunkSize = chunkSize
  }

  /** size is the number of retained changes. */
  get size(): number {
    return this.#size
  }

  /** appendRecords adds records read back from disk, in revision order. */
  appendRecords(records: readonly KeyRecord[]): void {
    for (let i = 0; i < records.length; i++) this.#append(records[i]!)
  }

  /** appendChanges adds the records of one committed write, in sub-revision order. */
  appendChanges(changes: readonly { readonly record: KeyRecord }[]): void {
    for (let i = 0; i < changes.length; i++) this.#append(changes[i]!.record)
  }

  #append(record: KeyRecord): void {
    let last = this.#chunks[this.#chunks.length - 1]!
    if (last.length >= this.#chunkSize) {
      last = []
      this.#chunks.push(last)
    }
    last.push(record)
    this.#size++
  }

  /**
   * read returns the changes with fromRev <= modRevision <= toRev, in order, stopping at a revision boundary once at
   * least `max` changes are collected (so a revision is never split). O(log size + result).
   */
  read(fromRev: number, toRev: number, max = Infinity): KeyRecord[] {
    const chunks = this.#chunks
    const out: KeyRecord[] = []
    let [c, i] = this.#firstAtOrAfter(fromRev)
    for (; c < chunks.length; c++, i = 0) {
      const chunk = chunks[c]!
      for (; i < chunk.length; i++) {
        const record = chunk[i]!
        if (record.modRevision > toRev) return out
        if (out.length >= max && record.modRevision !== out[out.length - 1]!.modRevision) return out
        out.push(record)
      }
    }
    return out
  }

  /** compact drops the changes that compaction at `rev` makes unreachable (see the class comment). */
  compact(rev: number): void {
    const chunks = this.#chunks
    let [c, i] = this.#firstAtOrAfter(rev)
    // Of the changes at `rev` itself (they may span chunks) only puts stay; everything before them goes.
    const first: KeyRecord[] = []
    for (; c < chunks.length; c++, i = 0) {
      const chunk = chunks[c]!
      while (i < chunk.length && chunk[i]!.modRevision === rev) {
        if (!isTombstone(chunk[i]!)) first.push(chunk[i]!)
        i++
      }
      if (i < chunk.length) break
    }
    if (c < chunks.length) {
      const chunk = chunks[c]!
      for (; i < chunk.length; i++) first.push(chunk[i]!)
      c++
    }
    this.#chunks = [first, ...chunks.slice(c)]
    this.#size = 0
    for (const chunk of this.#chunks) this.#size += chunk.length
  }

  /** #firstAtOrAfter locates the first change with modRevision >= rev: [chunk, position], or [chunks, 0] if none. */
  #firstAtOrAfter(rev: number): [number, number] {
    const chunks = this.#chunks
    // The chunk: the first whose last change is at or after rev.
    let lo = 0
    let hi = chunks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const chunk = chunks[mid]!
      if (chunk.length === 0 || chunk[chunk.length - 1]!.modRevision < rev) lo = mid + 1
      else hi = mid
    }
    if (lo === chunks.length) return [lo, 0]
    const chunk = chunks[lo]!
    let a = 0
    let b = chunk.length
    while (a < b) {
      const mid = (a + b) >>> 1
      if (chunk[mid]!.modRevision < rev) a = mid + 1
      else b = mid
    }
    return [lo, a]
  }
}
