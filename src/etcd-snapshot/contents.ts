import type { StoredAuth } from '../auth/auth-store.ts'
import type { StoredLease } from '../mvcc/backend/backend.ts'
import type { KeyRecord } from '../mvcc/key-record.ts'

/**
 * SnapshotContents is a snapshot's data in etcdlite's terms, whatever file it came from or goes to: every retained
 * record in revision order, the leases, the auth state, and the revisions that frame them.
 */
export interface SnapshotContents {
  /** rev is the store's revision when the snapshot was taken. */
  readonly rev: number
  /** compactRev is the last compaction asked for, -1 when none was. */
  readonly compactRev: number
  /**
   * finishedCompactRev is the last compaction whose removals the records already reflect (-1 when none did); below
   * compactRev, the records still hold history that compaction will remove when the store opens.
   */
  readonly finishedCompactRev: number
  /** records are the retained records ({modRevision, sub} ascending), tombstones included. */
  readonly records: readonly KeyRecord[]
  readonly leases: readonly StoredLease[]
  /** auth is undefined when the snapshot holds no auth state at all (auth never touched). */
  readonly auth: StoredAuth | undefined
}

/** MemberInfo is the member a snapshot records in its `members` bucket, as etcd does. */
export interface MemberInfo {
  readonly id: bigint
  readonly name: string
  readonly peerUrls: readonly string[]
  readonly clientUrls: readonly string[]
}
