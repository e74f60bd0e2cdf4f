import type { Bin } from '../util/bytes.ts'
import type { IntervalHandle } from './interval-tree.ts'

/** WatcherOptions are a watcher's choices from its create request. */
export interface WatcherOptions {
  readonly prevKv: boolean
  readonly noPut: boolean
  readonly noDelete: boolean
  readonly progressNotify: boolean
  readonly fragment: boolean
}

/**
 * Watcher is one watch on a stream: the key range it covers and where it stands in history.
 *
 * A watcher is either synced (it receives each commit's events as they happen) or unsynced (it is behind, and
 * catches up by reading history from `nextRev` on). It starts unsynced when it asks for past revisions, and becomes
 * unsynced when its consumer falls `maxPending` responses behind.
 */
export class Watcher {
  readonly streamId: number
  readonly id: number
  readonly key: Bin
  /** end: '' for the key alone, else the exclusive end (INFINITE for every key from `key` on). */
  readonly end: Bin
  readonly options: WatcherOptions
  /** nextRev is the first revision whose events the watcher has not been given (or skipped as filtered out). */
  nextRev: number
  synced = false
  canceled = false
  /** pending counts responses queued on the stream and not yet read by the consumer. */
  pending = 0
  catchUpScheduled = false
  /** quiet is true when no event reached the watcher since the last progress notification. */
  quiet = true
  handle: IntervalHandle | undefined

  constructor(streamId: number, id: number, key: Bin, end: Bin, options: WatcherOptions, nextRev: number) {
    this.streamId = streamId
    this.id = id
    this.key = key
    this.end = end
    this.options = options
    this.nextRev = nextRev
  }

  /** covers tells whether a key is in the watcher's range. */
  covers(key: Bin): boolean {
    return this.end === '' ? key === this.key : this.key <= key && key < this.end
  }
}
