import type { KeyRecord } from '../key-record.ts'

/**
 * Backend is where a store keeps its state between runs. The engine holds everything in memory and writes each
 * change to the backend in atomic batches; on open it reads the state back.
 */
export interface Backend {
  readonly capabilities: BackendCapabilities
  /** load reads the stored state back, in chunks: a checkpoint's records first, then the records written after it. */
  load(sink: LoadSink): Promise<StoredMeta>
  /** loadLeases reads the granted leases back. */
  loadLeases(): Promise<StoredLease[]>
  /** loadState reads back a named state blob (the auth state, say) written with a 'state' op; undefined if none. */
  loadState?(name: string): Promise<Uint8Array | undefined>
  /** write applies a batch atomically: after a crash it is there whole or not at all. */
  write(batch: readonly BackendOp[], sync: boolean): Promise<void>
  /**
   * writeCheckpoint (where supported) stores records as checkpoint `id`, a few large values, so the next load reads
   * them fast, and returns the number of chunks written. The checkpoint is not in use until a meta record names it;
   * `prune` then removes what it replaced.
   */
  writeCheckpoint?(id: number, chunks: AsyncIterable<KeyRecord[]>): Promise<number>
  /** prune removes the records a checkpoint in use covers and the checkpoint before it. */
  prune?(current: Checkpoint, previous: Checkpoint | undefined): Promise<void>
  close(): Promise<void>
}

/** LoadSink takes what load() reads. */
export interface LoadSink {
  /** checkpoint receives a checkpoint's records: each key's records in order, keys in any order. */
  checkpoint(records: KeyRecord[]): void
  /** records receives records in revision order. */
  records(records: KeyRecord[]): void
}

/** Checkpoint names a checkpoint: its id, the revision it covers up to, its chunks, and the compaction it saw. */
export interface Checkpoint {
  id: number
  rev: number
  chunks: number
  compactRev: number
  /**
   * file: the checkpoint is one file of chunks beside the backend's database (a restore writes one: a file takes a
   * snapshot's hundred megabytes several times faster than the database does), not entries in it.
   */
  file?: boolean
}

/** BackendCapabilities are declared as data; tests and the engine branch on them, never on class names. */
export interface BackendCapabilities {
  /** persistent: state survives close() and a crash of the process. */
  readonly persistent: boolean
  /** fsync: a `sync` write survives power loss. */
  readonly fsync: boolean
}

/** StoredMeta is the store's bookkeeping, written with every batch. */
export interface StoredMeta {
  /** format of the files; a store written by a newer format is refused. */
  format: number
  rev: number
  /** compactRev is the last compaction asked for (-1 before any). */
  compactRev: number
  /** finishedCompactRev is the last compaction whose removals are all on disk; below compactRev, one was cut short. */
  finishedCompactRev: number
  /** checkpoint is the checkpoint in use, if any: records up to its revision are read from it. */
  checkpoint?: Checkpoint
}

export interface StoredLease {
  id: bigint
  ttl: number
}

export type BackendOp =
  | { readonly kind: 'record'; readonly record: KeyRecord }
  | { readonly kind: 'drop-record'; readonly record: KeyRecord }
  | { readonly kind: 'lease'; readonly lease: StoredLease }
  | { readonly kind: 'drop-lease'; readonly id: bigint }
  | { readonly kind: 'meta'; readonly meta: StoredMeta }
  /** state replaces a named blob that a layer above the store keeps whole (the auth state). */
  | { readonly kind: 'state'; readonly name: string; readonly value: Uint8Array }

/**
 * FORMAT is the on-disk format this version writes and reads. 1: everything in LevelDB. 2: also a write-ahead log
 * (`wal`) whose frames may hold synced writes LevelDB lacks after a machine crash, and checkpoints as files
 * (`checkpoint-<id>`) beside LevelDB. A directory of format 1 is upgraded when opened, so that an etcdlite which reads
 * only format 1 refuses it instead of missing what is outside LevelDB.
 */
export const FORMAT = 2
