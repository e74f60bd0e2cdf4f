import { isTombstone, type KeyRecord } from '../mvcc/key-record.ts'
import type { Commit } from '../mvcc/store.ts'
import { EventBatch, type StorageEvent } from './event-batch.ts'

/** BatchFilters are the watcher choices that decide which of a commit's events it gets (etcd's NOPUT, NODELETE). */
export interface BatchFilters {
  readonly noPut: boolean
  readonly noDelete: boolean
}

/** filterBits packs a watcher's filters into the number CommitBatches.wholeFor takes. */
export function filterBits(filters: BatchFilters): number {
  return (filters.noPut ? 1 : 0) | (filters.noDelete ? 2 : 0)
}

/**
 * CommitBatches makes the batches of one commit for the watchers it matched, sharing them: every watcher that gets
 * the same events gets the same EventBatch (and so, in the stream layer, the same responses), whatever its range
 * and filters: batches are keyed by the list of changes they hold. Each change's StorageEvent is made once and
 * shared by every batch that holds it.
 *
 * Cost: O(1) per watcher covering the whole commit (the batch is remembered by its filters), which includes every
 * watcher of a single-change commit; O(hits) per other watcher (its kept indexes are joined into a key). Nothing is
 * made for a commit until some watcher asks.
 */
export class CommitBatches {
  readonly #commit: Commit
  readonly #prevOf: (record: KeyRecord) => KeyRecord | undefined
  /** #events, #whole, #singles and #batches are made on first use: a commit of one change needs none of them. */
  #events: (StorageEvent | undefined)[] | undefined
  /** #whole caches the batch for watchers covering every change, by filter bits (null: no event passes). */
  #whole: (EventBatch | null | undefined)[] | undefined
  /** #singles holds the batches of one change, by its index; #batches the others, by their indexes joined. */
  #singles: (EventBatch | undefined)[] | undefined
  #batches: Map<string, EventBatch> | undefined
  /** #only is the batch of a commit of one change. */
  #only: EventBatch | undefined

  /** prevOf looks up a key's version before a record's revision (store.prevOf), for keys changed twice in one txn. */
  constructor(commit: Commit, prevOf: (record: KeyRecord) => KeyRecord | undefined) {
    this.#commit = commit
    this.#prevOf = prevOf
  }

  /**
   * batchFor returns the batch of a watcher with these filters that covers the changes at indexes `hits` (ascending,
   * no repeats; undefined or every index for the whole commit), or undefined when its filters leave no event.
   */
  batchFor(filters: BatchFilters, hits?: readonly number[]): EventBatch | undefined {
    if (hits === undefined || hits.length === this.#commit.changes.length) return this.wholeFor(filterBits(filters))
    const bits = filterBits(filters)
    const kept: number[] = []
    for (const i of hits) if (this.#passes(i, bits)) kept.push(i)
    return this.#batchOf(kept)
  }

  /** wholeFor is batchFor of a watcher covering every change, its filters given as filterBits. */
  wholeFor(bits: number): EventBatch | undefined {
    const changes = this.#commit.changes
    if (changes.length === 1) {
      // One change: every watcher whose filters let it pass gets the same batch, made with no list around it.
      if (!this.#passes(0, bits)) return undefined
      return (this.#only ??= new EventBatch(this.#commit.rev, [this.#makeEvent(0)]))
    }
    const whole = (this.#whole ??= [undefined, undefined, undefined, undefined])
    let batch = whole[bits]
    if (batch === undefined) {
      const kept: number[] = []
      for (let i = 0; i < changes.length; i++) if (this.#passes(i, bits)) kept.push(i)
      batch = whole[bits] = this.#batchOf(kept) ?? null
    }
    return batch ?? undefined
  }

  /** #batchOf is the one batch of the changes at `kept` (ascending): every watcher getting them shares it. */
  #batchOf(kept: number[]): EventBatch | undefined {
    if (kept.length === 0) return undefined
    if (kept.length === 1) return this.#single(kept[0]!)
    const key = kept.join(',')
    const map = (this.#batches ??= new Map())
    let batch = map.get(key)
    if (batch === undefined) {
      batch = new EventBatch(
        this.#commit.rev,
        kept.map((i) => this.#event(i)),
      )
      map.set(key, batch)
    }
    return batch
  }

  /** #single is the batch of change i alone. */
  #single(i: number): EventBatch {
    const singles = (this.#singles ??= [])
    return (singles[i] ??= new EventBatch(this.#commit.rev, [this.#event(i)]))
  }

  /** #passes tells whether change i passes filters given as filterBits (1: NOPUT, 2: NODELETE). */
  #passes(i: number, bits: number): boolean {
    return (bits & (isTombstone(this.#commit.changes[i]!.record) ? 2 : 1)) === 0
  }

  /**
   * #makeEvent makes change i's StorageEvent. Its prev is the version before this revision, as etcd's prevKv: none for a
   * create; for a key already changed earlier in the same txn, the version before the txn, looked up.
   */
  #makeEvent(i: number): StorageEvent {
    const { record, prev } = this.#commit.changes[i]!
    const before =
      record.version === 1 ? undefined : prev !== undefined && prev.modRevision === this.#commit.rev ? this.#prevOf(record) : prev
    return Object.freeze({ record, prev: before })
  }

  /** #event is change i's StorageEvent, made once per commit and shared by every batch that holds it. */
  #event(i: number): StorageEvent {
    const events = (this.#events ??= [])
    return (events[i] ??= this.#makeEvent(i))
  }
}
