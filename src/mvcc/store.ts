import type { Bin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import { HistoryLog } from './history-log.ts'
import type { KeyIndex } from './key-index.ts'
import { isTombstone, makeRecord, makeTombstone, type KeyRecord } from './key-record.ts'
import { StoreIndex } from './store-index.ts'
import { sortByRevision } from './sort-by-revision.ts'

/** Change is one change a write made: the new record, and the live version it replaced or deleted. */
export interface Change {
  readonly record: KeyRecord
  readonly prev: KeyRecord | undefined
}

/** Commit is what one write txn changed, announced to commit listeners (watch hub, lessor, backend). */
export interface Commit {
  readonly rev: number
  readonly changes: readonly Change[]
}

export type CommitListener = (commit: Commit) => void
export type CompactListener = (rev: number) => void

/** CompactionSink hears what compaction removes, so a backend can remove it too. */
export interface CompactionSink {
  /** dropped: records compaction at `rev` removed from the index (one chunk of them). */
  dropped(rev: number, records: KeyRecord[]): void
  /** finished: every record compaction at `rev` removes is gone. */
  finished(rev: number): void
}

/** RangeOptions select what a range reads: `rev` 0 is the view's revision; `limit` 0 is unlimited. */
export interface RangeOptions {
  rev?: number
  limit?: number
  countOnly?: boolean
  /** countLimit stops the count (and the walk) at that many keys; 0 counts every key in range. */
  countLimit?: number
}

/** RangeResult: the visible records (at most `limit`), the count of keys in range, and the view's revision. */
export interface RangeResult {
  records: KeyRecord[]
  count: number
  rev: number
}

/** ReadView is what a read needs: ranges at the view's revision or an older retained one. */
export interface ReadView {
  /** rev is the revision the view reads at by default. */
  readonly rev: number
  /** firstRev is the compact revision: the oldest revision still readable. */
  readonly firstRev: number
  range(key: Bin, end: Bin, options?: RangeOptions): RangeResult
  /** get is the version of one key visible at the view's revision (a range of the key alone, without arrays). */
  get(key: Bin): KeyRecord | undefined
}

/** WriteView adds changes; they all share one main revision and become visible to others at end(). */
export interface WriteView extends ReadView {
  put(key: Bin, value: Bin, lease: bigint): Change
  deleteRange(key: Bin, end: Bin): Change[]
}

/** Config of the compactor: keys compacted per chunk before yielding to the event loop. */
const COMPACT_CHUNK = 10_000

/**
 * MvccStore is the multi-version store: the key index, the history log, the current and compact revisions.
 *
 * Reads and writes happen in transactions. A write txn applies its changes to the index at once (so its own later
 * reads see them) and keeps an undo list; end() commits them as one new revision, abort() takes them back. A write
 * txn that changed nothing consumes no revision. Transactions are synchronous: nothing else runs between a txn's
 * start and its end, so each one is isolated by construction.
 */
export class MvccStore {
  #index = new StoreIndex()
  #log = new HistoryLog()
  #rev = 1
  /** #compactRev is -1 before any compaction, as in etcd: compacting at 0 or 1 is then allowed once. */
  #compactRev = -1
  #writing = false
  #compaction: Promise<void> = Promise.resolve()
  readonly #commitListeners: CommitListener[] = []
  /**
   * #liveDelta: live keys created minus keys deleted by commits; #liveBase makes it a count (see liveKeys). A new
   * store starts from 0 live keys; one that loads records counts them when first asked (undefined until then).
   */
  #liveDelta = 0
  #liveBase: number | undefined = 0
  readonly #compactListeners: CompactListener[] = []
  /** compactionSink, when set, hears every record compaction removes (the engine hands in its backend). */
  compactionSink: CompactionSink | undefined
  #loadedUnordered: KeyRecord[] = []

  /** index holds every key's history (the hash map, and the ordered tree for ranges). */
  get index(): StoreIndex {
    return this.#index
  }

  /** log holds every retained change in revision order. */
  get log(): HistoryLog {
    return this.#log
  }

  /**
   * adopt replaces this store's contents (index, history, revisions) with those of `loaded`, a store filled with
   * load() and restoreRevisions() that nothing else uses, at once: a restore from a snapshot. The revision may go
   * back. Listeners stay; no commit is announced. Call it with compaction held (exclusive) and no write txn open.
   */
  adopt(loaded: MvccStore): void {
    if (this.#writing) throw new Error('adopt during a write txn')
    this.#index.stopBackground()
    this.#index = loaded.#index
    this.#log = loaded.#log
    this.#rev = loaded.#rev
    this.#compactRev = loaded.#compactRev
    this.#liveDelta = 0
    this.#liveBase = undefined
    this.#loadedUnordered = []
  }

  /** rev is the revision of the last committed write (1 in a fresh store). */
  get rev(): number {
    return this.#rev
  }

  /** compactRev is the revision of the last compaction (-1 before any). */
  get compactRev(): number {
    return this.#compactRev
  }

  /** onCommit registers a listener called synchronously after each write that changed something. */
  /**
   * liveKeys is the number of keys with a live version (etcd_debugging_mvcc_keys_total). Commits keep it up to
   * date; in a store that loaded records (from disk, a snapshot) the first call counts the keys once. A store that
   * only ever committed never walks its keys (at 1M keys the walk held the event loop about 50 ms).
   */
  liveKeys(): number {
    if (this.#liveBase === undefined) {
      let live = 0
      for (const ki of this.index.values()) if (ki.live) live++
      this.#liveBase = live - this.#liveDelta
    }
    return this.#liveBase + this.#liveDelta
  }

  onCommit(listener: CommitListener): void {
    this.#commitListeners.push(listener)
  }

  /** onCompact registers a listener called when the compact revision moves. */
  onCompact(listener: CompactListener): void {
    this.#compactListeners.push(listener)
  }

  /** close ends the store's background work (the index's ordering steps); reads and writes still work. */
  close(): void {
    this.index.stopBackground()
  }

  /** read opens a read txn at the current revision. */
  read(): ReadTxn {
    return new ReadTxn(this, this.#rev)
  }

  /** write opens the write txn; only one can be open, and it must end before control returns to the event loop. */
  write(): WriteTxn {
    if (this.#writing) throw new Error('mvcc: a write txn is already open')
    this.#writing = true
    return new WriteTxn(this, this.#rev)
  }

  /**
   * compact makes every revision below `rev` unreadable at once and removes the history they alone need, in chunks,
   * in the background. The returned promise settles when that removal is done.
   * @throws EtcdError ETCD_COMPACTED when rev is at or below the compact revision, ETCD_FUTURE_REV above the current.
   */
  compact(rev: number): Promise<void> {
    if (rev <= this.#compactRev) throw new EtcdError('ETCD_COMPACTED')
    if (rev > this.#rev) throw new EtcdError('ETCD_FUTURE_REV')
    this.#compactRev = rev
    this.log.compact(rev)
    for (const listener of this.#compactListeners) listener(rev)
    this.#compaction = this.#compaction.then(() => this.#compactIndex(rev))
    return this.#compaction
  }

  async #compactIndex(rev: number): Promise<void> {
    let from: Bin | undefined = ''
    while (from !== undefined) {
      const dropped: KeyRecord[] | undefined = this.compactionSink === undefined ? undefined : []
      from = this.index.compactChunk(rev, from, COMPACT_CHUNK, dropped)
      if (dropped !== undefined && dropped.length > 0) this.compactionSink!.dropped(rev, dropped)
      if (from !== undefined) await new Promise((resolve) => setImmediate(resolve))
    }
    this.compactionSink?.finished(rev)
  }

  /**
   * exclusive runs `fn` with compaction held: it starts once any running compaction has finished, and compactions
   * asked for meanwhile wait for it (a snapshot walks the index undisturbed). Revisions stay readable as usual.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#compaction.then(fn)
    this.#compaction = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  /**
   * load adds records read back from a backend, in revision order, to the index and the history log, without
   * announcing them. Used only while opening, before anything else touches the store.
   */
  load(records: readonly KeyRecord[]): void {
    this.#flushLoaded()
    this.#liveBase = undefined
    for (const record of records) {
      this.index.loadRecord(record)
      if (record.modRevision > this.#rev) this.#rev = record.modRevision
    }
    this.log.appendRecords(records)
  }

  /**
   * loadUnordered is load() for records in key order (a checkpoint): each key's records in order, keys in any
   * order. The history log needs revision order, so they are sorted into it once loading moves on.
   */
  loadUnordered(records: readonly KeyRecord[]): void {
    this.#liveBase = undefined
    for (const record of records) {
      this.index.loadRecord(record)
      if (record.modRevision > this.#rev) this.#rev = record.modRevision
      this.#loadedUnordered.push(record)
    }
  }

  #flushLoaded(): void {
    if (this.#loadedUnordered.length === 0) return
    const records = sortByRevision(this.#loadedUnordered)
    this.#loadedUnordered = []
    this.log.appendRecords(records)
  }

  /** restoreRevisions ends loading: it sets the revisions read back (the revision never goes back). */
  restoreRevisions(rev: number, compactRev: number): void {
    this.#flushLoaded()
    this.index.finishLoad()
    this.#rev = Math.max(this.#rev, rev)
    this.#compactRev = compactRev
    if (compactRev >= 0) this.log.compact(compactRev)
  }

  /**
   * finishCompaction re-runs, after a restart, a compaction the backend had recorded but not finished: the index
   * and log are compacted again at `rev` and the sink removes what the interrupted run left on disk.
   */
  finishCompaction(rev: number): Promise<void> {
    this.log.compact(rev)
    this.#compaction = this.#compaction.then(() => this.#compactIndex(rev))
    return this.#compaction
  }

  /**
   * readHistory returns the committed changes with fromRev <= revision <= toRev, in order, whole revisions only,
   * stopping once at least `max` are collected (for watchers catching up).
   */
  readHistory(fromRev: number, toRev: number, max: number): KeyRecord[] {
    return this.log.read(fromRev, toRev, max)
  }

  /**
   * prevOf returns the key's version just before `record`'s revision, as etcd computes a watch event's prevKv (a
   * read at the revision before): undefined when the key did not exist then, or that revision is compacted.
   */
  prevOf(record: KeyRecord): KeyRecord | undefined {
    const rev = record.modRevision - 1
    if (rev < this.#compactRev) return undefined
    return this.index.get(record.key)?.at(rev)
  }

  /** rangeAt serves ranges for the txns. */
  rangeAt(viewRev: number, key: Bin, end: Bin, options: RangeOptions | undefined): RangeResult {
    let rev = options?.rev ?? 0
    if (rev > viewRev) throw new EtcdError('ETCD_FUTURE_REV')
    if (rev <= 0) rev = viewRev
    if (rev < this.#compactRev) throw new EtcdError('ETCD_COMPACTED')
    const { records, count } = this.index.range(key, end, rev, options?.limit ?? 0, options?.countOnly ?? false, options?.countLimit ?? 0)
    return { records, count, rev: viewRev }
  }

  /**
   * put is a write txn of a single put, without the txn objects: the fast path of a one-shot put. It has the same
   * effect as write(), put(), end().
   */
  put(key: Bin, value: Bin, lease: bigint): Commit {
    if (this.#writing) throw new Error('mvcc: a write txn is already open')
    const rev = this.#rev + 1
    return this.#commit(rev, [newVersion(this.index, key, value, lease, rev, 0)])
  }

  /** finishWrite commits or discards a write txn's changes. */
  finishWrite(txn: WriteTxn, changes: Change[], commit: boolean): Commit | undefined {
    this.#writing = false
    if (changes.length === 0) return undefined
    if (!commit) {
      for (let i = changes.length - 1; i >= 0; i--) {
        const key = changes[i]!.record.key
        if (this.index.get(key)!.dropLatest()) this.index.delete(key)
      }
      return undefined
    }
    return this.#commit(txn.beginRev + 1, changes)
  }

  /** #commit makes `changes`, already in the index, revision `rev`: the log, the live count, the listeners. */
  #commit(rev: number, changes: Change[]): Commit {
    this.#rev = rev
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!
      if (isTombstone(c.record)) this.#liveDelta--
      else if (c.prev === undefined) this.#liveDelta++
    }
    this.log.appendChanges(changes)
    const done: Commit = { rev, changes }
    const listeners = this.#commitListeners
    for (let i = 0; i < listeners.length; i++) listeners[i]!(done)
    return done
  }
}

/**
 * newVersion writes the next version of `key` into the index at revision {main, sub}, continuing the key's
 * generation or starting a new one, and returns the change.
 */
function newVersion(index: StoreIndex, key: Bin, value: Bin, lease: bigint, main: number, sub: number): Change {
  const ki: KeyIndex | undefined = index.get(key)
  if (ki === undefined) {
    const record = makeRecord(key, value, main, main, sub, 1, lease)
    index.insert(key, record)
    return { record, prev: undefined }
  }
  const prev = ki.live ? ki.latest : undefined
  const record =
    prev === undefined
      ? makeRecord(key, value, main, main, sub, 1, lease)
      : makeRecord(key, value, prev.createRevision, main, sub, prev.version + 1, lease)
  ki.append(record)
  return { record, prev }
}

/** ReadTxn reads the store as of the revision it was opened at (or an older retained one). */
export class ReadTxn implements ReadView {
  readonly #store: MvccStore
  readonly rev: number

  constructor(store: MvccStore, rev: number) {
    this.#store = store
    this.rev = rev
  }

  get firstRev(): number {
    return this.#store.compactRev
  }

  range(key: Bin, end: Bin, options?: RangeOptions): RangeResult {
    return this.#store.rangeAt(this.rev, key, end, options)
  }

  get(key: Bin): KeyRecord | undefined {
    return this.#store.index.get(key)?.at(this.rev)
  }

  end(): void {}

  [Symbol.dispose](): void {
    this.end()
  }
}

/**
 * WriteTxn makes changes at revision beginRev + 1, sub-revisions 0, 1, 2... in order. Its reads see its own changes.
 * `end()` commits; `abort()` (or disposing it without end) takes everything back.
 */
export class WriteTxn implements WriteView {
  readonly #store: MvccStore
  readonly beginRev: number
  readonly #changes: Change[] = []
  #open = true

  constructor(store: MvccStore, beginRev: number) {
    this.#store = store
    this.beginRev = beginRev
  }

  /** rev is what reads see: beginRev, or the pending revision once the txn has changed something. */
  get rev(): number {
    return this.#changes.length > 0 ? this.beginRev + 1 : this.beginRev
  }

  get firstRev(): number {
    return this.#store.compactRev
  }

  /** changes lists what the txn changed so far, in order. */
  get changes(): readonly Change[] {
    return this.#changes
  }

  range(key: Bin, end: Bin, options?: RangeOptions): RangeResult {
    return this.#store.rangeAt(this.rev, key, end, options)
  }

  get(key: Bin): KeyRecord | undefined {
    return this.#store.index.get(key)?.at(this.rev)
  }

  /** put writes a new version of `key`, continuing its generation or starting a new one. */
  put(key: Bin, value: Bin, lease: bigint): Change {
    this.#assertOpen()
    const change = newVersion(this.#store.index, key, value, lease, this.beginRev + 1, this.#changes.length)
    this.#changes.push(change)
    return change
  }

  /** deleteRange ends the generation of every live key in [key, end), in key order. */
  deleteRange(key: Bin, end: Bin): Change[] {
    this.#assertOpen()
    const index = this.#store.index
    const live: KeyIndex[] = []
    if (end === '') {
      const ki = index.get(key)
      if (ki !== undefined && ki.live) live.push(ki)
    } else {
      index.forEachIn(key, end, (ki) => {
        if (ki.live) live.push(ki)
      })
    }
    const main = this.beginRev + 1
    const deleted: Change[] = []
    for (const ki of live) {
      const change: Change = { record: makeTombstone(ki.key, main, this.#changes.length), prev: ki.latest }
      ki.append(change.record)
      this.#changes.push(change)
      deleted.push(change)
    }
    return deleted
  }

  /** end commits the changes as one revision (none if nothing changed) and returns what was committed. */
  end(): Commit | undefined {
    this.#assertOpen()
    this.#open = false
    return this.#store.finishWrite(this, this.#changes, true)
  }

  /** abort takes back every change; the store is as if the txn never ran. */
  abort(): void {
    if (!this.#open) return
    this.#open = false
    this.#store.finishWrite(this, this.#changes, false)
  }

  [Symbol.dispose](): void {
    this.abort()
  }

  #assertOpen(): void {
    if (!this.#open) throw new Error('mvcc: write txn already ended')
  }
}
