import type { Bin } from '../util/bytes.ts'

/**
 * KeyRecord is one version of one key, as stored at revision {modRevision, sub}. Records are immutable and shared
 * between the key index and the history log.
 *
 * A tombstone is the record a delete leaves: it closes the key's generation. Its `version` is 0 and, as in etcd's
 * delete events, only `key` and `modRevision` are meaningful (createRevision 0, empty value, no lease).
 */
export interface KeyRecord {
  readonly key: Bin
  readonly value: Bin
  readonly createRevision: number
  readonly modRevision: number
  readonly sub: number
  readonly version: number
  readonly lease: bigint
}

/** NO_LEASE is the lease id of a key attached to no lease. */
export const NO_LEASE = 0n

export function makeRecord(
  key: Bin,
  value: Bin,
  createRevision: number,
  modRevision: number,
  sub: number,
  version: number,
  lease: bigint,
): KeyRecord {
  return { key, value, createRevision, modRevision, sub, version, lease }
}

export function makeTombstone(key: Bin, modRevision: number, sub: number): KeyRecord {
  return { key, value: '', createRevision: 0, modRevision, sub, version: 0, lease: NO_LEASE }
}

export function isTombstone(record: KeyRecord): boolean {
  return record.version === 0
}
