import type { Clock, Timer } from '../util/clock.ts'
import { isTombstone, type KeyRecord } from '../mvcc/key-record.ts'
import type { Commit, MvccStore } from '../mvcc/store.ts'
import { CommitBatches } from './commit-batches.ts'
import { EventBatch, type StorageEvent } from './event-batch.ts'
import { IntervalTree, type IntervalHandle } from './interval-tree.ts'
import type { Watcher } from './watcher.ts'

export interface WatchHubOptions {
  /** maxPending: responses a watcher may have unread before it falls back to catching up from history. */
  maxPending: number
  /** catchUpBatch: changes read from history per catch-up step. */
  catchUpBatch: number
  /** progressIntervalMs: how often progressNotify watchers hear the revision while idle. */
  progressIntervalMs: number
  clock: Clock
  /**
   * durableRev is the newest revision whose commit is on disk (the store's revision, for a memory engine). Watchers
   * only ever see durable history: catch-up reads stop there, and later commits arrive through notify().
   */
  durableRev: () => number
}

/**
 * WatchHub connects the store to the watchers, as etcd's watchable store does. It emits storage events only
 * (EventBatch, to each watcher's WatchOutput); the stream layer builds the responses.
 *
 * Synced watchers are indexed by what they watch: single keys in a hash map, ranges in an interval tree, so a commit
 * costs O(changes x (1 + log ranges) + matching watchers), never a scan of every watcher, and a commit no watcher
 * matches allocates nothing. Each commit's events go to each matching watcher in one batch, in sub-revision order;
 * watchers that get the same events share one batch (CommitBatches).
 *
 * No writer ever waits: a watcher whose consumer has `maxPending` responses unread is moved aside (unsynced) at the
 * first revision it missed. Unsynced watchers catch up from the store's history, a batch per event-loop turn and
 * only while their consumer keeps up; a catch-up batch holds several revisions, as etcd's unsynced watchers get them.
 * When a watcher reaches the current revision it rejoins the synced ones, in the same turn, so no commit falls
 * between. If compaction overtakes a watcher, it is canceled with the compact revision. Memory per watcher is
 * bounded by maxPending responses of at most one batch each.
 */
export class WatchHub {
  readonly #store: MvccStore
  readonly #options: WatchHubOptions
  readonly #prevOf: (record: KeyRecord) => KeyRecord | undefined
  readonly #single = new Map<string, Set<Watcher>>()
  /**
   * #ranges holds one interval per distinct watched range, its value the synced watchers of that range (#rangeSets
   * finds it by range), so a thousand watchers of one prefix cost one interval in every lookup.
   */
  readonly #ranges = new IntervalTree<Set<Watcher>>()
  readonly #rangeSets = new Map<string, { readonly watchers: Set<Watcher>; readonly handle: IntervalHandle }>()
  readonly #unsynced = new Set<Watcher>()
  readonly #progressWatchers = new Set<Watcher>()
  /** #matched and #stabbed are notify's scratch lists, empty between calls (notify is never re-entered). */
  readonly #matched = new Scratch<Watcher>()
  readonly #stabbed = new Scratch<Watcher>()
  readonly #stabbedSets = new Scratch<Set<Watcher>>()
  #progressTimer: Timer | undefined
  #closed = false

  constructor(store: MvccStore, options: WatchHubOptions) {
    this.#store = store
    this.#options = options
    this.#prevOf = (record) => store.prevOf(record)
  }

  /** size is the number of watchers, synced or not. */
  get size(): number {
    let n = this.#unsynced.size
    for (const set of this.#single.values()) n += set.size
    for (const { watchers } of this.#rangeSets.values()) n += watchers.size
    return n
  }

  /** add starts a watcher: synced when it starts after the current revision, else catching up from history. */
  add(w: Watcher): void {
    if (w.options.progressNotify) {
      this.#progressWatchers.add(w)
      this.#armProgress()
    }
    if (w.nextRev > this.#options.durableRev()) this.#sync(w)
    else {
      this.#unsynced.add(w)
      this.#scheduleCatchUp(w)
    }
  }

  /** remove stops a watcher; nothing more is delivered to it. */
  remove(w: Watcher): void {
    w.canceled = true
    this.#progressWatchers.delete(w)
    if (w.synced) this.#unsync(w)
    this.#unsynced.delete(w)
  }

  /** taken is called when the consumer read one of `w`'s responses; a watcher behind resumes catching up. */
  taken(w: Watcher): void {
    w.pending--
    if (!w.synced && !w.canceled && w.pending < this.#options.maxPending / 2) this.#scheduleCatchUp(w)
  }

  /** cancelAll cancels every watcher, telling each `reason`: the history they follow was replaced (a restore). */
  cancelAll(reason: string): void {
    const all = [...this.#unsynced]
    for (const set of this.#single.values()) all.push(...set)
    for (const { watchers } of this.#rangeSets.values()) all.push(...watchers)
    for (const w of all) {
      this.remove(w)
      w.output.canceled(w, reason)
    }
  }

  close(): void {
    this.#closed = true
    if (this.#progressTimer !== undefined) this.#options.clock.clearTimer(this.#progressTimer)
    this.#progressTimer = undefined
  }

  #sync(w: Watcher): void {
    w.synced = true
    if (w.end === '') {
      let set = this.#single.get(w.key)
      if (set === undefined) this.#single.set(w.key, (set = new Set()))
      set.add(w)
    } else {
      const id = rangeId(w.key, w.end)
      let range = this.#rangeSets.get(id)
      if (range === undefined) {
        const watchers = new Set<Watcher>()
        range = { watchers, handle: this.#ranges.insert(w.key, w.end, watchers) }
        this.#rangeSets.set(id, range)
      }
      range.watchers.add(w)
    }
  }

  #unsync(w: Watcher): void {
    w.synced = false
    if (w.end === '') {
      const set = this.#single.get(w.key)
      set?.delete(w)
      if (set?.size === 0) this.#single.delete(w.key)
    } else {
      const id = rangeId(w.key, w.end)
      const range = this.#rangeSets.get(id)
      if (range !== undefined && range.watchers.delete(w) && range.watchers.size === 0) {
        this.#ranges.remove(range.handle)
        this.#rangeSets.delete(id)
      }
    }
  }

  /** notify delivers one durable commit's events to the synced watchers that cover them. Commits come in order. */
  notify(commit: Commit): void {
    if (this.#closed || (this.#single.size === 0 && this.#ranges.size === 0)) return
    const changes = commit.changes
    const rev = commit.rev
    const matched = this.#matched
    if (changes.length === 1) return this.#notifyOne(commit, changes[0]!.record.key)
    try {
      // Several changes: each watcher collects the indexes of the changes it covers (its hits), once per commit.
      const stabbed = this.#stabbed
      for (let i = 0; i < changes.length; i++) {
        this.#match(changes[i]!.record.key, rev, stabbed)
        for (let j = 0; j < stabbed.size; j++) {
          const w = stabbed.at(j)
          if (w.stamp !== rev) {
            w.stamp = rev
            w.hits.length = 0
            matched.push(w)
          }
          w.hits.push(i)
        }
        stabbed.clear()
      }
      if (matched.size === 0) return
      const batches = new CommitBatches(commit, this.#prevOf)
      for (let j = 0; j < matched.size; j++) {
        const w = matched.at(j)
        this.#deliver(w, rev, batches, w.hits)
      }
    } finally {
      matched.clear()
      this.#stabbed.clear()
    }
  }

  /**
   * #notifyOne delivers a commit of one change: every watcher it matches gets the whole commit, so each is served as
   * it is found, in one pass over its watcher set. Delivering may take a watcher out of the set being walked (it is
   * moved aside, or its stream closes): a Set's iteration allows that. Nothing joins a set during notify (watchers
   * return to sync only in catch-up turns), and the `nextRev` test skips any watcher that does not want `rev`.
   */
  #notifyOne(commit: Commit, key: string): void {
    const rev = commit.rev
    let batches: CommitBatches | undefined
    const set = this.#single.get(key)
    if (set !== undefined) {
      for (const w of set) if (w.nextRev <= rev) this.#deliver(w, rev, (batches ??= new CommitBatches(commit, this.#prevOf)), undefined)
    }
    if (this.#ranges.size === 0) return
    const sets = this.#stabbedSets
    this.#ranges.stab(key, sets)
    try {
      for (let j = 0; j < sets.size; j++) {
        for (const w of sets.at(j)) if (w.nextRev <= rev) this.#deliver(w, rev, (batches ??= new CommitBatches(commit, this.#prevOf)), undefined)
      }
    } finally {
      sets.clear()
    }
  }

  /** #match appends the synced watchers of `key` that want revision `rev` (not starting later) to `out`. */
  #match(key: string, rev: number, out: Scratch<Watcher>): void {
    const set = this.#single.get(key)
    if (set !== undefined) for (const w of set) if (w.nextRev <= rev) out.push(w)
    if (this.#ranges.size > 0) {
      const sets = this.#stabbedSets
      this.#ranges.stab(key, sets)
      for (let j = 0; j < sets.size; j++) for (const w of sets.at(j)) if (w.nextRev <= rev) out.push(w)
      sets.clear()
    }
  }

  /** #deliver sends a matched watcher its batch of the commit at `rev`, or moves it aside if its consumer is behind. */
  #deliver(w: Watcher, rev: number, batches: CommitBatches, hits: readonly number[] | undefined): void {
    if (w.pending >= this.#options.maxPending) {
      // The consumer is behind: catch up from history from this revision on, without holding the writer.
      this.#unsync(w)
      w.nextRev = rev
      this.#unsynced.add(w)
      return
    }
    w.nextRev = rev + 1
    const batch = hits === undefined ? batches.wholeFor(w.filterBits) : batches.batchFor(w.options, hits)
    if (batch !== undefined) this.#send(w, batch)
  }

  #scheduleCatchUp(w: Watcher): void {
    if (w.catchUpScheduled || this.#closed) return
    w.catchUpScheduled = true
    setImmediate(() => {
      w.catchUpScheduled = false
      this.#catchUp(w)
    })
  }

  /** #catchUp sends a watcher the next batch of history; back in sync at the current revision. */
  #catchUp(w: Watcher): void {
    if (w.canceled || w.synced || this.#closed) return
    const store = this.#store
    if (w.nextRev < store.compactRev) {
      this.#unsynced.delete(w)
      this.#progressWatchers.delete(w)
      w.canceled = true
      w.output.compacted(w, store.compactRev)
      return
    }
    if (w.pending >= this.#options.maxPending) return // resumes when the consumer reads (taken)
    const durable = this.#options.durableRev()
    const records = store.readHistory(w.nextRev, durable, this.#options.catchUpBatch)
    if (records.length === 0) {
      this.#unsynced.delete(w)
      this.#sync(w)
      w.nextRev = durable + 1
      return
    }
    const events: StorageEvent[] = []
    const { prevKv, noPut, noDelete } = w.options
    for (const record of records) {
      if (!w.covers(record.key)) continue
      if (isTombstone(record) ? noDelete : noPut) continue
      // Like etcd, a create event (version 1) carries no prevKv; others the version before their revision.
      events.push({ record, prev: prevKv && record.version !== 1 ? store.prevOf(record) : undefined })
    }
    w.nextRev = records[records.length - 1]!.modRevision + 1
    if (events.length > 0) this.#send(w, new EventBatch(store.rev, events))
    this.#scheduleCatchUp(w)
  }

  #send(w: Watcher, batch: EventBatch): void {
    w.quiet = false
    w.output.events(w, batch)
  }

  #armProgress(): void {
    if (this.#progressTimer !== undefined || this.#closed || this.#progressWatchers.size === 0) return
    this.#progressTimer = this.#options.clock.setTimer(() => {
      this.#progressTimer = undefined
      this.#notifyProgress()
      this.#armProgress()
    }, this.#options.progressIntervalMs)
  }

  /** #notifyProgress tells each idle synced progressNotify watcher the current revision, as etcd does. */
  #notifyProgress(): void {
    const rev = this.#store.rev
    for (const w of this.#progressWatchers) {
      if (w.synced && w.quiet) w.output.progress(w, rev)
      w.quiet = true
    }
  }
}

/** rangeId names a range [key, end) in a map: the key's length first, so no two ranges share a name. */
function rangeId(key: string, end: string): string {
  return `${key.length}:${key}${end}`
}

/**
 * Scratch is a list reused from call to call: clear() drops its items but keeps the array's capacity, so a commit
 * matching a thousand watchers does not regrow an array from empty every time.
 */
class Scratch<T> {
  readonly #items: (T | undefined)[] = []
  #size = 0

  get size(): number {
    return this.#size
  }

  push(item: T): void {
    this.#items[this.#size++] = item
  }

  /** at is item j, for 0 <= j < size. */
  at(j: number): T {
    return this.#items[j] as T
  }

  /** clear empties the list, keeping no references to its items. */
  clear(): void {
    if (this.#size === 0) return
    this.#items.fill(undefined, 0, this.#size)
    this.#size = 0
  }
}
