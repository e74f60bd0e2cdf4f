import type { CallCredentials } from '../messages/auth.ts'
import type { Bin } from '../util/bytes.ts'
import type { Op, TxnOp } from './requests.ts'

/**
 * KvAccess is the permission check the KV service asks for before it runs a request; the auth layer provides it
 * (mvcc does not depend on auth). While auth is off and a call carries no credentials, nothing is computed: the
 * check costs one comparison.
 */
export interface KvAccess {
  /** enabled: auth is on, so every request is checked. */
  readonly enabled: boolean
  /**
   * check throws unless the credentials may read every range in `reads` and write every one in `writes` (a range is
   * [key, end), `end` '' for the key alone, '\0' for every key from `key` on). While auth is off it only refuses a
   * token, as etcd does.
   */
  check(credentials: CallCredentials | undefined, reads: readonly KeyRange[], writes: readonly KeyRange[]): void
  /**
   * checkToken refuses a token that is not valid (any token while auth is off), for the calls etcd checks no
   * permission on but still reads the token of (compaction, lease grant and revoke).
   */
  checkToken(credentials: CallCredentials | undefined): void
}

/** KeyRange is [key, end). */
export type KeyRange = readonly [key: Bin, end: Bin]

/** leaseKeysOf lists the keys a lease holds: a put with that lease needs write permission over them too (as in etcd). */
export type LeaseKeys = (lease: bigint) => Iterable<Bin>

/**
 * opNeeds collects what an operation reads and writes: a range reads its range; a put writes its key, and reads it
 * too when it returns the previous value (prevKv); a delete writes its range and reads it with prevKv; a txn reads
 * its compares' keys and needs everything both branches would do, nested txns included, whichever branch runs. As in
 * etcd, a one-shot put with a lease also needs write permission over the keys that lease holds (`leaseKeys`; a put
 * inside a txn is not checked for them).
 */
export function opNeeds(op: Op, reads: KeyRange[], writes: KeyRange[], leaseKeys: LeaseKeys | undefined): void {
  switch (op.kind) {
    case 'range':
      reads.push([op.key, op.end])
      return
    case 'put':
      writes.push([op.key, ''])
      if (op.prevKv) reads.push([op.key, ''])
      if (op.lease !== 0n && leaseKeys !== undefined) for (const key of leaseKeys(op.lease)) writes.push([key, ''])
      return
    case 'delete':
      writes.push([op.key, op.end])
      if (op.prevKv) reads.push([op.key, op.end])
      return
    case 'txn':
      txnNeeds(op, reads, writes, leaseKeys)
  }
}

function txnNeeds(op: TxnOp, reads: KeyRange[], writes: KeyRange[], _leaseKeys: LeaseKeys | undefined): void {
  for (const c of op.compares) reads.push([c.key, c.end])
  for (const o of op.success) opNeeds(o, reads, writes, undefined)
  for (const o of op.failure) opNeeds(o, reads, writes, undefined)
}
