import type { KeyRecord } from '../mvcc/key-record.ts'

/**
 * StorageEvent is one change as the watch hub emits it: the record written (a tombstone for a delete) and the key's
 * version just before it. Like etcd's watchable store, the hub emits storage events only; the stream layer turns
 * them into the messages each watcher asked for (prevKv or not, fragments or not; see watch-wire.ts).
 *
 * `prev` is undefined for a create (version 1: etcd looks up no prevKv for one), when that version was compacted
 * away, and in catch-up batches of watchers that did not ask for prevKv.
 */
export interface StorageEvent {
  readonly record: KeyRecord
  readonly prev: KeyRecord | undefined
}

/**
 * EventBatch is what a watcher receives in one step: the events of one or more whole revisions that fall in its
 * range and pass its filters, in revision and then sub-revision order, with `rev`, the revision its response header
 * reports (the commit's revision; for a catch-up step, the store's revision then, as etcd's unsynced watchers get).
 *
 * Sharing rule: a batch is immutable once made (its events array is frozen) and one batch goes to every watcher of
 * a commit that gets exactly these events, so a commit costs one batch per distinct (range coverage, filters), not
 * one per watcher. The one mutable field is `wire`, a cache slot owned by the stream layer (watch-wire.ts) for the
 * services-level responses built from the batch; the hub never reads or writes it.
 */
export class EventBatch {
  readonly rev: number
  readonly events: readonly StorageEvent[]
  /** wire is the stream layer's cache of this batch's services-level forms (see watch-wire.ts). */
  wire: object | undefined = undefined

  constructor(rev: number, events: StorageEvent[]) {
    this.rev = rev
    this.events = Object.freeze(events)
  }
}
