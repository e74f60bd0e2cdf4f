import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import type { StoredAuth, StoredRole, StoredUser } from '../auth/auth-store.ts'
import { BoltFormatError, BoltReader, type BoltBucketReader } from '../bbolt/reader.ts'
import { readMeta } from '../bbolt/meta.ts'
import { DEFAULT_PAGE_SIZE, isPageSize } from '../bbolt/page.ts'
import type { StoredLease } from '../mvcc/backend/backend.ts'
import { makeRecord, makeTombstone, type KeyRecord } from '../mvcc/key-record.ts'
import { EtcdError } from '../util/errors.ts'
import type { SnapshotContents } from './contents.ts'
import { AuthKeys, Buckets, MetaKeys, parseRevisionKey } from './layout.ts'
import { decodeKeyValueSpans, decodeLease, decodeRole, decodeUser, type KeyValueSpans } from './messages.ts'
import { ProtoError } from './proto.ts'

/** ReadOptions: verifyHash false skips checking the trailing SHA-256 (etcdctl's --skip-hash-check). @default true */
export interface ReadOptions {
  readonly verifyHash?: boolean
}

/** SHA256_SIZE: etcd appends the SHA-256 of the db to the snapshot it streams. */
const SHA256_SIZE = 32

/** invalid is the error for a snapshot that cannot be read, naming the problem. */
export function invalid(problem: string): EtcdError {
  return new EtcdError('ETCD_SNAPSHOT_INVALID', `etcdlite: invalid snapshot: ${problem}`)
}

/** isBolt tells whether `bytes` start like a bbolt file (the magic number in the first meta page). */
export function isBolt(bytes: Buffer): boolean {
  return bytes.length >= 24 && bytes.readUInt32LE(16) === 0xed0cdaed
}

/**
 * splitHash separates a snapshot into its bbolt file and etcd's trailing SHA-256, checking the hash when there is
 * one (unless `verifyHash` is false): a file of whole pages has none; whole pages plus 32 bytes has one; any other
 * size is truncated.
 */
export function splitHash(bytes: Buffer, verifyHash = true): { db: Buffer; hash: Buffer | undefined } {
  const meta = readMeta(bytes, 0)
  const pageSize = 'problem' in meta || !isPageSize(meta.pageSize) ? DEFAULT_PAGE_SIZE : meta.pageSize
  const rest = bytes.length % pageSize
  if (rest === 0) return { db: bytes, hash: undefined }
  if (rest !== SHA256_SIZE) {
    throw invalid(`${bytes.length} bytes is not a whole number of the ${pageSize}-byte pages its meta states, with or without a SHA-256 (truncated, or a wrong page size)`)
  }
  const db = bytes.subarray(0, bytes.length - SHA256_SIZE)
  const hash = bytes.subarray(bytes.length - SHA256_SIZE)
  if (verifyHash && !createHash('sha256').update(db).digest().equals(hash)) throw invalid('the SHA-256 at its end does not match its contents (corrupt)')
  return { db, hash }
}

/**
 * readEtcdSnapshot reads an etcd 3.4 snapshot (a bbolt file, with or without the trailing SHA-256) into its contents:
 * every record of the `key` bucket, the compaction from `meta`, the leases and the auth state. It refuses, with an
 * EtcdError naming the problem, a file that is not a sound bbolt database, a missing bucket, or a record that is not
 * an mvccpb.KeyValue matching its revision key.
 */
export async function readEtcdSnapshot(bytes: Buffer, options: ReadOptions = {}): Promise<SnapshotContents> {
  const records: KeyRecord[] = []
  const rest = await scanEtcdSnapshot(bytes, options, (buf, main, sub, kv) => {
    const key = (buf as LatinBuffer).latin1Slice(kv.keyAt, kv.keyEnd)
    if (kv.version === 0) records.push(makeTombstone(key, main, sub))
    else records.push(makeRecord(key, (buf as LatinBuffer).latin1Slice(kv.valueAt, kv.valueEnd), kv.createRevision, main, sub, kv.version, kv.lease))
  })
  return { ...rest, records }
}

/**
 * RecordVisitor is handed each record of a snapshot's `key` bucket, in revision order, once checked: its revision
 * and its KeyValue as spans of `buf`. A tombstone's `kv` has version 0 (and its key only).
 */
export type RecordVisitor = (buf: Buffer, main: number, sub: number, kv: KeyValueSpans) => void

/**
 * scanEtcdSnapshot checks and reads an etcd 3.4 snapshot as readEtcdSnapshot does, handing each record to `visit`
 * instead of gathering them: what it returns is the rest of the contents.
 */
export async function scanEtcdSnapshot(bytes: Buffer, options: ReadOptions, visit: RecordVisitor): Promise<Omit<SnapshotContents, 'records'>> {
  const { db } = splitHash(bytes, options.verifyHash ?? true)
  try {
    const reader = new BoltReader(db)
    const buckets = new Map<string, BoltBucketReader>()
    for (const e of reader.root().entries()) {
      if (e.bucket !== undefined) buckets.set(e.key.toString('latin1'), e.bucket)
    }
    const need = (name: string): BoltBucketReader => {
      const b = buckets.get(name)
      if (b === undefined) throw invalid(`it has no "${name}" bucket (not an etcd snapshot?)`)
      return b
    }
    const lastRev = await readRecords(need(Buckets.key), visit)
    const { compactRev, finishedCompactRev } = readCompaction(need(Buckets.meta))
    const leases = readLeases(need(Buckets.lease))
    const auth = readAuth(need(Buckets.auth), need(Buckets.authUsers), need(Buckets.authRoles))
    return { rev: Math.max(lastRev, compactRev, 1), compactRev, finishedCompactRev, leases, auth }
  } catch (err) {
    if (err instanceof BoltFormatError) throw invalid(err.message)
    throw err
  }
}

/** LatinBuffer: Buffer's own latin1 decoder, which skips toString()'s encoding dispatch per record. */
type LatinBuffer = Buffer & { latin1Slice(start: number, end: number): string }

/** YIELD_EVERY: records read between two turns of the event loop. */
const YIELD_EVERY = 20_000

/** readRecords checks each record of the `key` bucket and hands it to `visit`; it returns the last revision. */
async function readRecords(bucket: BoltBucketReader, visit: RecordVisitor): Promise<number> {
  let lastRev = 0
  await bucket.forEachEntry((buf, keyAt, keySize, valueAt, valueSize, flags) => {
    const rev = parseRevisionKey(buf, keyAt, keySize)
    if (rev === undefined || flags !== 0) throw invalid(`bucket "key" holds ${describe(buf.subarray(keyAt, keyAt + keySize))}, which is not a revision`)
    const at = `the record at revision ${rev.main}_${rev.sub}`
    let kv
    try {
      kv = decodeKeyValueSpans(buf, valueAt, valueAt + valueSize)
    } catch (err) {
      if (err instanceof ProtoError) throw invalid(`${at} is not an mvccpb.KeyValue (${err.message})`)
      throw err
    }
    if (kv.keyEnd === kv.keyAt) throw invalid(`${at} is not an mvccpb.KeyValue (it has no key)`)
    if (rev.tombstone) {
      kv.version = 0
      kv.createRevision = 0
      kv.lease = 0n
      kv.valueEnd = kv.valueAt
    } else if (kv.modRevision !== rev.main || kv.version < 1 || kv.createRevision < 1 || kv.createRevision > rev.main) {
      throw invalid(`${at} is not an mvccpb.KeyValue of that revision (mod_revision ${kv.modRevision}, create_revision ${kv.createRevision}, version ${kv.version})`)
    }
    visit(buf, rev.main, rev.sub, kv)
    lastRev = rev.main
  }, YIELD_EVERY)
  return lastRev
}

/**
 * readCompaction reads the compaction from `meta`: the last one asked for (the newer of scheduledCompactRev and
 * finishedCompactRev) and the last one etcd finished removing history for.
 */
function readCompaction(bucket: BoltBucketReader): { compactRev: number; finishedCompactRev: number } {
  let compactRev = -1
  let finishedCompactRev = -1
  for (const e of bucket.entries()) {
    const name = e.key.toString('latin1')
    if (name !== MetaKeys.scheduledCompactRev && name !== MetaKeys.finishedCompactRev) continue
    const rev = parseRevisionKey(e.value)
    if (rev === undefined || rev.tombstone) throw invalid(`meta's ${name} is not a revision`)
    compactRev = Math.max(compactRev, rev.main)
    if (name === MetaKeys.finishedCompactRev) finishedCompactRev = rev.main
  }
  return { compactRev, finishedCompactRev }
}

function readLeases(bucket: BoltBucketReader): StoredLease[] {
  const leases: StoredLease[] = []
  for (const e of bucket.entries()) {
    try {
      const lease = decodeLease(e.value)
      if (e.key.length !== 8 || e.key.readBigInt64BE(0) !== lease.id) throw new ProtoError('its id does not match its key')
      leases.push({ id: lease.id, ttl: lease.ttl })
    } catch (err) {
      if (err instanceof ProtoError) throw invalid(`lease ${describe(e.key)} is not a leasepb.Lease (${err.message})`)
      throw err
    }
  }
  return leases
}

function readAuth(auth: BoltBucketReader, usersBucket: BoltBucketReader, rolesBucket: BoltBucketReader): StoredAuth {
  let enabled = false
  let revision = 0
  for (const e of auth.entries()) {
    const name = e.key.toString('latin1')
    if (name === AuthKeys.enabled) enabled = e.value.length === 1 && e.value[0] === 1
    else if (name === AuthKeys.revision && e.value.length === 8) revision = Number(e.value.readBigUInt64BE(0))
  }
  const users: StoredUser[] = []
  for (const e of usersBucket.entries()) users.push(decodeAs(e.value, decodeUser, `user ${describe(e.key)}`, 'authpb.User'))
  const roles: StoredRole[] = []
  for (const e of rolesBucket.entries()) roles.push(decodeAs(e.value, decodeRole, `role ${describe(e.key)}`, 'authpb.Role'))
  return { enabled, revision, users, roles }
}

function decodeAs<T>(value: Buffer, decode: (b: Buffer) => T, what: string, message: string): T {
  try {
    return decode(value)
  } catch (err) {
    if (err instanceof ProtoError) throw invalid(`${what} is not an ${message} (${err.message})`)
    throw err
  }
}

function describe(key: Buffer): string {
  return /^[\x20-\x7e]*$/.test(key.toString('latin1')) ? `"${key.toString('latin1')}"` : `0x${key.toString('hex')}`
}
