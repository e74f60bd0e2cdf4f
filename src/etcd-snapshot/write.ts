import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { byteOrder } from '../auth/auth-store.ts'
import { planBolt, type BoltBucket, type BoltItem, type EntrySource } from '../bbolt/writer.ts'
import { isTombstone, type KeyRecord } from '../mvcc/key-record.ts'
import type { MemberInfo, SnapshotContents } from './contents.ts'
import { AuthKeys, Buckets, CLUSTER_VERSION, CLUSTER_VERSION_KEY, MetaKeys, REV_KEY_SIZE, memberJson, revisionKey, uint64Bytes, writeRevisionKey } from './layout.ts'
import { encodeLease, encodeRole, encodeUser, keyValueSize, writeKeyValue, type KeyValueFields } from './messages.ts'

/** YIELD_EVERY: records encoded between two turns of the event loop. */
const YIELD_EVERY = 20_000

/** SHA256_SIZE: the hash etcd sends after the database. */
const SHA256_SIZE = 32

/** EtcdSnapshotFile is a planned snapshot: its size, known before its first byte, and its bytes. */
export interface EtcdSnapshotFile {
  /** size of the snapshot in bytes: the database and its SHA-256. */
  readonly size: number
  /** chunks streams the database as it is written, then its SHA-256 as a chunk of its own (as etcd sends it). */
  chunks(): AsyncGenerator<Buffer, void, undefined>
}

/**
 * etcdSnapshotFile lays `contents` out as etcd 3.4 does in its bbolt file (see layout.ts): the file's chunks followed
 * by the SHA-256 of the file, as etcd's Maintenance.Snapshot streams it. `etcdctl snapshot save` stores exactly these
 * bytes, and `etcdctl snapshot restore` checks the hash. The records are read as the chunks are written.
 */
export async function etcdSnapshotFile(contents: SnapshotContents, member: MemberInfo): Promise<EtcdSnapshotFile> {
  const item = (key: string, value: Uint8Array): BoltItem => ({ key: Buffer.from(key, 'utf8'), value })
  const bucket = (name: string, items: BoltBucket): BoltItem => ({ key: Buffer.from(name, 'utf8'), bucket: items })

  const keys = await recordSource(contents.records)

  const meta: BoltItem[] = [item(MetaKeys.consistentIndex, uint64Bytes(contents.rev))]
  // etcd records a compaction as scheduled, then as finished once its removals are done (at start it finishes one
  // that is scheduled only).
  if (contents.finishedCompactRev > 0) meta.push(item(MetaKeys.finishedCompactRev, revisionKey(contents.finishedCompactRev, 0)))
  if (contents.compactRev > 0) meta.push(item(MetaKeys.scheduledCompactRev, revisionKey(contents.compactRev, 0)))

  // Lease ids are int64s; the bucket orders their big-endian two's complement bytes.
  const leases = contents.leases
    .map((l) => ({ key: uint64Bytes(l.id), value: encodeLease({ id: l.id, ttl: l.ttl }) }))
    .sort((a, b) => Buffer.compare(a.key, b.key))

  const auth = contents.auth
  const authItems: BoltItem[] = [
    item(AuthKeys.enabled, Buffer.from([auth?.enabled === true ? 1 : 0])),
    item(AuthKeys.revision, uint64Bytes(auth?.revision ?? 0)),
  ]
  const users = [...(auth?.users ?? [])].sort((a, b) => byteOrder(a.name, b.name)).map((u) => item(u.name, encodeUser(u)))
  const roles = [...(auth?.roles ?? [])].sort((a, b) => byteOrder(a.name, b.name)).map((r) => item(r.name, encodeRole(r)))

  const root: BoltItem[] = [
    bucket(Buckets.alarm, []),
    bucket(Buckets.auth, authItems),
    bucket(Buckets.authRoles, roles),
    bucket(Buckets.authUsers, users),
    bucket(Buckets.cluster, [item(CLUSTER_VERSION_KEY, Buffer.from(CLUSTER_VERSION))]),
    { key: Buffer.from(Buckets.key, 'utf8'), source: keys },
    bucket(Buckets.lease, leases),
    bucket(Buckets.members, [item(member.id.toString(16), memberJson(member))]),
    bucket(Buckets.membersRemoved, []),
    bucket(Buckets.meta, meta),
  ]
  const file = await planBolt(root)
  return {
    size: file.size + SHA256_SIZE,
    async *chunks() {
      const hash = createHash('sha256')
      for await (const chunk of file.chunks()) {
        hash.update(chunk)
        yield chunk
      }
      yield hash.digest()
    },
  }
}


/**
 * recordSource is the `key` bucket as an EntrySource: each record's revision key and KeyValue are written straight
 * into the pages. Records must ascend by {modRevision, sub}; a tombstone's KeyValue holds only its key, as etcd's.
 */
async function recordSource(records: readonly KeyRecord[]): Promise<EntrySource> {
  const sizes = new Uint32Array(records.length)
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    if (i > 0) {
      const p = records[i - 1]!
      if (p.modRevision > r.modRevision || (p.modRevision === r.modRevision && p.sub >= r.sub)) {
        throw new TypeError(`snapshot records must ascend by revision (record ${i})`)
      }
    }
    sizes[i] = keyValueSize(fieldsOf(r))
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve))
  }
  return {
    length: records.length,
    keySize: (i) => (isTombstone(records[i]!) ? REV_KEY_SIZE + 1 : REV_KEY_SIZE),
    valueSize: (i) => sizes[i]!,
    flags: () => 0,
    write(i, buf, at) {
      const r = records[i]!
      const tombstone = isTombstone(r)
      writeRevisionKey(buf, at, r.modRevision, r.sub, tombstone)
      writeKeyValue(fieldsOf(r), buf, at + (tombstone ? REV_KEY_SIZE + 1 : REV_KEY_SIZE))
    },
    key: (i) => revisionKey(records[i]!.modRevision, records[i]!.sub, isTombstone(records[i]!)),
  }
}

/** fieldsOf is a record's KeyValue: the record itself, or for a tombstone its key alone. */
function fieldsOf(r: KeyRecord): KeyValueFields {
  return isTombstone(r) ? { key: r.key, createRevision: 0, modRevision: 0, version: 0, value: '', lease: 0n } : r
}
