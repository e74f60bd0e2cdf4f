import type { Bin } from '../util/bytes.ts'
import { filterBits } from './commit-batches.ts'
import type { EventBatch } from './event-batch.ts'
import { wireFlags } from './watch-wire.ts'

/** WatcherOptions are a watcher's choices from its create request. */
export interface WatcherOptions {
  readonly prevKv: boolean
  readonly noPut: boolean
  readonly noDelete: boolean
  readonly progressNotify: boolean
  readonly fragment: boolean
}

/**
 * WatchOutput is where the hub sends what happens to a watcher: its stream, which turns storage events into the
 * services-level responses the watcher asked for (watch-wire.ts) and queues them. The hub never builds a response.
 */
export interface WatchOutput {
  /** events queues the responses of one batch (counted in watcher.pending until read). */
  events(watcher: Watcher, batch: EventBatch): void
  /** compacted queues the response canceling a watcher that compaction overtook. */
  compacted(watcher: Watcher, compactRevision: number): void
  /** canceled queues the response canceling a watcher for `reason` (the store was restored under it). */
  canceled(watcher: Watcher, reason: string): void
  /** progress queues an empty response telling an idle watcher the current revision. */
  progress(watcher: Watcher, revision: number): void
}

/**
 * Watcher is one watch on a stream: the key range it covers and where it stands in history.
 *
 * A watcher is either synced (it receives each commit's events as they happen) or unsynced (it is behind, and
 * catches up by reading history from `nextRev` on). It starts unsynced when it asks for past revisions, and becomes
 * unsynced when its consumer falls `maxPending` responses behind.
 */
export class Watcher {
  readonly output: WatchOutput
  readonly id: number
  readonly key: Bin
  /** end: '' for the key alone, else the exclusive end (INFINITE for every key from `key` on). */
  readonly end: Bin
  readonly options: WatcherOptions
  /** filterBits and wireFlags are `options` packed as numbers, read on every delivery (see filterBits, wireFlags). */
  readonly filterBits: number
  readonly wireFlags: number
  /** nextRev is the first revision whose events the watcher has not been given (or skipped as filtered out). */
  nextRev: number
  synced = false
  canceled = false
  /** pending counts responses queued on the stream and not yet read by the consumer. */
  pending = 0
  catchUpScheduled = false
  /** quiet is true when no event reached the watcher since the last progress notification. */
  quiet = true
  /**
   * stamp and hits are the hub's scratch space while it matches a commit of several changes: `hits` lists the
   * changes the watcher covers, valid while `stamp` is that commit's revision. Reused from commit to commit.
   */
  stamp = 0
  readonly hits: number[] = []

  constructor(output: WatchOutput, id: number, key: Bin, end: Bin, options: WatcherOptions, nextRev: number) {
    this.output = output
    this.id = id
    this.key = key
    this.end = end
    this.options = options
    this.filterBits = filterBits(options)
    this.wireFlags = wireFlags(options)
    this.nextRev = nextRev
  }

  /** covers tells whether a key is in the watcher's range. */
  covers(key: Bin): boolean {
    return this.end === '' ? key === this.key : this.key <= key && key < this.end
  }
}
