import type { KeyRecord } from '../key-record.ts'

/**
 * Backend is where a store keeps its state between runs. The engine holds everything in memory and writes each
 * change to the backend in atomic batches; on open it reads the state back.
 */
export interface Backend {
  readonly capabilities: BackendCapabilities
  /** load reads the stored state back, records in revision order, in chunks. */
  load(onRecords: (records: KeyRecord[]) => void | Promise<void>): Promise<StoredMeta>
  /** loadLeases reads the granted leases back. */
  loadLeases(): Promise<StoredLease[]>
  /** write applies a batch atomically: after a crash it is there whole or not at all. */
  write(batch: readonly BackendOp[], sync: boolean): Promise<void>
  close(): Promise<void>
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

/** FORMAT is the on-disk format this version writes and reads. */
export const FORMAT = 1
