import { Buffer } from 'node:buffer'
import { afterEach, beforeEach, expect } from 'vitest'
import { EtcdError, type BytesLike, type EtcdErrorCode, type KeyValue } from '../../src/index.ts'
import type { Harness, Target } from './harness.ts'

/**
 * Helpers shared by the conformance suite. They use only the public client API, so they work over every harness,
 * real etcd included.
 */

/**
 * useTarget opens a fresh target (revision 1, no keys) before each test of the enclosing describe and closes it
 * after; call the returned function inside a test to get it.
 */
export function useTarget(h: Harness): () => Target {
  let current: Target | undefined
  beforeEach(async () => {
    current = await h.open()
  })
  afterEach(async () => {
    const t = current
    current = undefined
    await t?.close()
  })
  return () => {
    if (current === undefined) throw new Error('useTarget: no target open (called outside a test?)')
    return current
  }
}

/**
 * etcdMessages is the text etcd answers for each error, written out here on purpose (not taken from the engine) so
 * the suite checks the engine against etcd rather than against itself. The mvcc errors are shown without the
 * "etcdserver: " prefix that etcd's gRPC layer adds.
 */
export const etcdMessages = {
  ETCD_EMPTY_KEY: 'etcdserver: key is not provided',
  ETCD_KEY_NOT_FOUND: 'etcdserver: key not found',
  ETCD_VALUE_PROVIDED: 'etcdserver: value is provided',
  ETCD_LEASE_PROVIDED: 'etcdserver: lease is provided',
  ETCD_TOO_MANY_OPS: 'etcdserver: too many operations in txn request',
  ETCD_DUPLICATE_KEY: 'etcdserver: duplicate key given in txn request',
  ETCD_INVALID_SORT_OPTION: 'etcdserver: invalid sort option',
  ETCD_REQUEST_TOO_LARGE: 'etcdserver: request is too large',
  ETCD_COMPACTED: 'mvcc: required revision has been compacted',
  ETCD_FUTURE_REV: 'mvcc: required revision is a future revision',
  ETCD_LEASE_NOT_FOUND: 'etcdserver: requested lease not found',
  ETCD_LEASE_EXISTS: 'etcdserver: lease already exists',
  ETCD_LEASE_TTL_TOO_LARGE: 'etcdserver: too large lease TTL',
  ETCD_STOPPED: 'etcdserver: server stopped',
  ETCD_TIMEOUT: 'etcdserver: request timed out',
  ETCD_UNAVAILABLE: 'etcdlite: no endpoint is reachable',
  // Auth (docs/etcd-3.4-auth-observations.md).
  ETCD_USER_EMPTY: 'etcdserver: user name is empty',
  ETCD_ROLE_EMPTY: 'etcdserver: role name is empty',
  ETCD_AUTH_FAILED: 'etcdserver: authentication failed, invalid user ID or password',
  ETCD_INVALID_AUTH_MGMT: 'etcdserver: invalid auth management',
  ETCD_USER_EXISTS: 'etcdserver: user name already exists',
  ETCD_USER_NOT_FOUND: 'etcdserver: user name not found',
  ETCD_ROLE_EXISTS: 'etcdserver: role name already exists',
  ETCD_ROLE_NOT_FOUND: 'etcdserver: role name not found',
  ETCD_ROLE_NOT_GRANTED: 'etcdserver: role is not granted to the user',
  ETCD_PERMISSION_NOT_GRANTED: 'etcdserver: permission is not granted to the role',
  ETCD_AUTH_NOT_ENABLED: 'etcdserver: authentication is not enabled',
  ETCD_ROOT_USER_MISSING: 'etcdserver: root user does not exist',
  ETCD_ROOT_ROLE_MISSING: 'etcdserver: root user does not have root role',
  ETCD_PERMISSION_DENIED: 'etcdserver: permission denied',
  ETCD_INVALID_AUTH_TOKEN: 'etcdserver: invalid auth token',
  ETCD_NO_PASSWORD_USER: 'auth: authentication failed, password was given for no password user',
  ETCD_MAINTENANCE_USER_EMPTY: 'auth: user name is empty',
  ETCD_MAINTENANCE_PERMISSION_DENIED: 'auth: permission denied',
  // etcd's Go concurrency package (client/v3/concurrency), which the v3lock and v3election services also answer.
  ETCD_LOCK_RELEASED: 'mutex: lock has already been released',
  ETCD_SESSION_EXPIRED: 'mutex: session is expired',
  ETCD_ELECTION_NO_LEADER: 'election: no leader',
  ETCD_ELECTION_NOT_LEADER: 'election: not leader',
} as const satisfies Partial<Record<EtcdErrorCode, string>>

/** KnownErrorCode is an error code whose etcd text the suite knows. */
export type KnownErrorCode = keyof typeof etcdMessages

/** expectEtcdError asserts that `promise` rejects with an EtcdError of `code` carrying etcd's exact message. */
export async function expectEtcdError(promise: Promise<unknown>, code: KnownErrorCode): Promise<void> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ rejected: error }),
  )
  if ('resolved' in outcome) throw new Error(`expected a rejection with ${code}, but the call resolved`)
  const err = outcome.rejected
  expect(err).toBeInstanceOf(EtcdError)
  expect({ code: (err as EtcdError).code, message: (err as EtcdError).message }).toEqual({
    code,
    message: etcdMessages[code],
  })
}

/** text decodes bytes as UTF-8. */
export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

/** hex shows bytes as lowercase hex. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** bytes builds a key or value from byte values. */
export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

/** keysOf lists the keys of a result as UTF-8 text. */
export function keysOf(kvs: readonly KeyValue[]): string[] {
  return kvs.map((kv) => text(kv.key))
}

/** Pair is a KeyValue with its bytes decoded, for readable assertions. */
export interface Pair {
  key: string
  value: string
  createRevision: number
  modRevision: number
  version: number
  lease: bigint
}

/** pair decodes one KeyValue. */
export function pair(kv: KeyValue): Pair {
  return {
    key: text(kv.key),
    value: text(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  }
}

/** kvPair builds the Pair a test expects; lease defaults to 0n (none). */
export function kvPair(
  key: string,
  value: string,
  createRevision: number,
  modRevision: number,
  version: number,
  lease = 0n,
): Pair {
  return { key, value, createRevision, modRevision, version, lease }
}

/** seed puts each [key, value] in order, one revision each: the n-th put (from 0) lands at revision n + 2. */
export async function seed(etcd: Target, entries: ReadonlyArray<readonly [BytesLike, BytesLike]>): Promise<void> {
  for (const [key, value] of entries) await etcd.put(key, value)
}

/** seedKeys puts each key with the value "1"; the n-th key (from 0) lands at revision n + 2 on a fresh target. */
export async function seedKeys(etcd: Target, keys: readonly BytesLike[]): Promise<void> {
  for (const key of keys) await etcd.put(key, '1')
}

/** currentRevision reads the target's current revision (the header of a read). */
export async function currentRevision(etcd: Target): Promise<number> {
  return (await etcd.get('\0', { countOnly: true })).header.revision
}

/** Snapshot is everything a client can see of the current state: the revision and every pair. */
export interface Snapshot {
  revision: number
  pairs: Pair[]
}

/** snapshot reads the whole keyspace at the current revision. */
export async function snapshot(etcd: Target): Promise<Snapshot> {
  const r = await etcd.get('\0', { rangeEnd: '\0' })
  return { revision: r.header.revision, pairs: r.kvs.map(pair) }
}

/** expectUnchanged asserts that the target is exactly as `before` saw it: same revision, same pairs. */
export async function expectUnchanged(etcd: Target, before: Snapshot): Promise<void> {
  expect(await snapshot(etcd)).toEqual(before)
}
