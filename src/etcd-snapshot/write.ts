import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { byteOrder } from '../auth/auth-store.ts'
import { writeBolt, type BoltBucket, type BoltItem } from '../bbolt/writer.ts'
import { isTombstone } from '../mvcc/key-record.ts'
import type { MemberInfo, SnapshotContents } from './contents.ts'
import { AuthKeys, Buckets, CLUSTER_VERSION, CLUSTER_VERSION_KEY, MetaKeys, memberJson, revisionKey, uint64Bytes } from './layout.ts'
import { encodeKeyValue, encodeLease, encodeRole, encodeUser } from './messages.ts'

/**
 * writeEtcdSnapshot lays `contents` out as etcd 3.4 does in its bbolt file (see layout.ts) and returns the file's
 * chunks followed by the SHA-256 of the file, as etcd's Maintenance.Snapshot streams it: `etcdctl snapshot save`
 * stores exactly these bytes, and `etcdctl snapshot restore` checks the hash.
 */
/** YIELD_EVERY: records encoded between two turns of the event loop. */
const YIELD_EVERY = 20_000

export async function writeEtcdSnapshot(contents: SnapshotContents, member: MemberInfo): Promise<Buffer[]> {
  const item = (key: string, value: Uint8Array): BoltItem => ({ key: Buffer.from(key, 'utf8'), value })
  const bucket = (name: string, items: BoltBucket): BoltItem => ({ key: Buffer.from(name, 'utf8'), bucket: items })

  const keys: BoltItem[] = new Array<BoltItem>(contents.records.length)
  for (let i = 0; i < contents.records.length; i++) {
    const r = contents.records[i]!
    const tombstone = isTombstone(r)
    const value = tombstone ? encodeKeyValue({ key: r.key, createRevision: 0, modRevision: 0, version: 0, value: '', lease: 0n }) : encodeKeyValue(r)
    keys[i] = { key: revisionKey(r.modRevision, r.sub, tombstone), value }
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve))
  }

  const meta: BoltItem[] = [item(MetaKeys.consistentIndex, uint64Bytes(contents.rev))]
  if (contents.compactRev > 0) {
    meta.push(item(MetaKeys.finishedCompactRev, revisionKey(contents.compactRev, 0)))
    meta.push(item(MetaKeys.scheduledCompactRev, revisionKey(contents.compactRev, 0)))
  }

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
    bucket(Buckets.key, keys),
    bucket(Buckets.lease, leases),
    bucket(Buckets.members, [item(member.id.toString(16), memberJson(member))]),
    bucket(Buckets.membersRemoved, []),
    bucket(Buckets.meta, meta),
  ]
  const chunks = await writeBolt(root)
  const hash = createHash('sha256')
  for (const c of chunks) hash.update(c)
  chunks.push(hash.digest())
  return chunks
}

