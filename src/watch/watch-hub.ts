import type { Clock, Timer } from '../util/clock.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import type { Event, WatchResponse } from '../messages/watch.ts'
import { isTombstone, type KeyRecord } from '../mvcc/key-record.ts'
import { keyValue } from '../mvcc/kv-service.ts'
import type { Commit, MvccStore } from '../mvcc/store.ts'
import { IntervalTree } from './interval-tree.ts'
import type { Watcher } from './watcher.ts'

/** WatchOutput is where the hub sends a watcher's responses: the watcher's stream. */
export interface WatchOutput {
  /** deliver queues a response of `watcher` (counted in watcher.pending until read). */
  deliver(watcher: Watcher, response: WatchResponse): void
}

export interface WatchHubOptions {
  /** maxPending: responses a watcher may have unread before it falls back to catching up from history. */
  maxPending: number
  /** catchUpBatch: changes read from history per catch-up step. */
  catchUpBatch: number
  /** progressIntervalMs: how often progressNotify watchers hear the revision while idle. */
  progressIntervalMs: number
  /** maxResponseBytes: above it a response is split, for watchers that asked for fragments. */
  maxResponseBytes: number
  clock: Clock
  /**
   * durableRev is the newest revision whose commit is on disk (the store's revision, for a memory engine). Watchers
   * only ever see durable history: catch-up reads stop there, and later commits arrive through notify().
   */
  durableRev: () => number
}

/**
 * WatchHub connects the store to the watchers, as etcd's watchable store does.
 *
 * Synced watchers are indexed by what they watch: single keys in a hash map, ranges in an interval tree, so a commit
 * costs O(changes x (1 + log ranges) + matching watchers), never a scan of every watcher. Each commit's events go to
 * each matching watcher in one response, in sub-revision order.
 *
 * No writer ever waits: a watcher whose consumer has `maxPending` responses unread is moved aside (unsynced) at the
 * first revision it missed. Unsynced watchers catch up from the store's history, a batch per event-loop turn and
 * only while their consumer keeps up; when a watcher reaches the current revision it rejoins the synced ones, in
 * the same turn, so no commit falls between. If compaction overtakes a watcher, it is canceled with the compact
 * revision. Memory per watcher is bounded by maxPending responses of at most one batch each.
 */
export class WatchHub {
  readonly #store: MvccStore
  readonly #header: (revision: number) => ResponseHeader
  readonly #options: WatchHubOptions
  readonly #outputs = new Map<number, WatchOutput>()
  readonly #single = new Map<string, Set<Watcher>>()
  readonly #ranges = new IntervalTree<Watcher>()
  readonly #unsynced = new Set<Watcher>()
  readonly #progressWatchers = new Set<Watcher>()
  #progressTimer: Timer | undefined
  #closed = false

  constructor(store: MvccStore, header: (revision: number) => ResponseHeader, options: WatchHubOptions) {
    this.#store = store
    this.#header = header
    this.#options = options
  }

  /** size is the number of watchers, synced or not. */
  get size(): number {
    let n = this.#unsynced.size + this.#ranges.size
    for (const set of this.#single.values()) n += set.size
    return n
  }

  /** attach registers a stream's output under its id. */
  attach(streamId: number, output: WatchOutput): void {
    this.#outputs.set(streamId, output)
  }

  detach(streamId: number): void {
    this.#outputs.delete(streamId)
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
      w.handle = this.#ranges.insert(w.key, w.end, w)
    }
  }

  #unsync(w: Watcher): void {
    w.synced = false
    if (w.end === '') {
      const set = this.#single.get(w.key)
      set?.delete(w)
      if (set?.size === 0) this.#single.delete(w.key)
    } else if (w.handle !== undefined) {
      this.#ranges.remove(w.handle)
      w.handle = undefined
    }
  }

  /** notify delivers one durable commit's events to the synced watchers that cover them. Commits come in order. */
  notify(commit: Commit): void {
    if (this.#closed || (this.#single.size === 0 && this.#ranges.size === 0)) return
    const changes = commit.changes
    const byWatcher = new Map<Watcher, number[]>()
    const hasRanges = this.#ranges.size > 0
    for (let i = 0; i < changes.length; i++) {
      const key = changes[i]!.record.key
      const set = this.#single.get(key)
      if (set !== undefined) for (const w of set) collectChange(byWatcher, w, i, commit.rev)
      if (hasRanges) this.#ranges.stab(key, (w) => collectChange(byWatcher, w, i, commit.rev))
    }
    if (byWatcher.size === 0) return
    // Event messages are built once per change and shared by every watcher that gets them.
    const plain: (Event | undefined)[] = []
    const withPrev: (Event | undefined)[] = []
    const header = this.#header(commit.rev)
    for (const [w, indexes] of byWatcher) {
      if (w.pending >= this.#options.maxPending) {
        // The consumer is behind: catch up from history from this revision on, without holding the writer.
        this.#unsync(w)
        w.nextRev = commit.rev
        this.#unsynced.add(w)
        continue
      }
      const events: Event[] = []
      for (const i of indexes) {
        const { record, prev } = changes[i]!
        if (isTombstone(record) ? w.options.noDelete : w.options.noPut) continue
        // prevKv is the version before this revision; a key written twice in one txn needs it looked up.
        const before =
          record.version === 1 ? undefined : prev !== undefined && prev.modRevision === commit.rev ? this.#store.prevOf(record) : prev
        if (w.options.prevKv) events.push((withPrev[i] ??= makeEvent(record, before, plain[i])))
        else events.push((plain[i] ??= makeEvent(record, undefined, withPrev[i])))
      }
      w.nextRev = commit.rev + 1
      if (events.length > 0) this.#send(w, header, events)
    }
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
      const output = this.#outputs.get(w.streamId)
      output?.deliver(w, {
        ...emptyResponse(this.#header(0), w.id),
        canceled: true,
        compactRevision: store.compactRev,
      })
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
    const events: Event[] = []
    for (const record of records) {
      if (!w.covers(record.key)) continue
      if (isTombstone(record) ? w.options.noDelete : w.options.noPut) continue
      // Like etcd, a create event (version 1) carries no prevKv; others the version before their revision.
      events.push(makeEvent(record, w.options.prevKv && record.version !== 1 ? store.prevOf(record) : undefined, undefined))
    }
    w.nextRev = records[records.length - 1]!.modRevision + 1
    if (events.length > 0) this.#send(w, this.#header(store.rev), events)
    this.#scheduleCatchUp(w)
  }

  /** #send delivers events to a watcher, split into fragments when it asked for them and the response is large. */
  #send(w: Watcher, header: ResponseHeader, events: Event[]): void {
    const output = this.#outputs.get(w.streamId)
    if (output === undefined) return
    w.quiet = false
    if (w.options.fragment) {
      const limit = this.#options.maxResponseBytes
      let size = 0
      let start = 0
      for (let i = 0; i < events.length; i++) {
        const s = eventSize(events[i]!)
        if (size + s > limit && i > start) {
          output.deliver(w, eventsResponse(header, w.id, events.slice(start, i), true))
          start = i
          size = 0
        }
        size += s
      }
      if (start > 0) events = events.slice(start)
    }
    output.deliver(w, eventsResponse(header, w.id, events, false))
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
    const header = this.#header(this.#store.rev)
    for (const w of this.#progressWatchers) {
      if (w.synced && w.quiet) this.#outputs.get(w.streamId)?.deliver(w, emptyResponse(header, w.id))
      w.quiet = true
    }
  }
}

/** collectChange notes that change `i` of the commit at `rev` goes to watcher `w` (unless it starts later). */
function collectChange(byWatcher: Map<Watcher, number[]>, w: Watcher, i: number, rev: number): void {
  if (w.nextRev > rev) return
  const list = byWatcher.get(w)
  if (list === undefined) byWatcher.set(w, [i])
  else if (list[list.length - 1] !== i) list.push(i)
}

/** eventsResponse is a WatchResponse carrying events (one allocation on the fan-out path). */
function eventsResponse(header: ResponseHeader, watchId: number, events: Event[], fragment: boolean): WatchResponse {
  return { header, watchId, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment, events }
}

/** emptyResponse is a WatchResponse with every field at its default. */
export function emptyResponse(header: ResponseHeader, watchId: number): WatchResponse {
  return {
    header,
    watchId,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events: [],
  }
}

function makeEvent(record: KeyRecord, prev: KeyRecord | undefined, sibling: Event | undefined): Event {
  const kv = sibling?.kv ?? keyValue(record, false)
  const type = isTombstone(record) ? 'DELETE' : 'PUT'
  return prev === undefined ? { type, kv } : { type, kv, prevKv: keyValue(prev, false) }
}

function eventSize(e: Event): number {
  return 32 + e.kv.key.length + e.kv.value.length + (e.prevKv === undefined ? 0 : 32 + e.prevKv.key.length + e.prevKv.value.length)
}
