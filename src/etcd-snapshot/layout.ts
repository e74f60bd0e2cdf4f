import { Buffer } from 'node:buffer'
import { u32be } from '../util/bytes.ts'

/**
 * etcd 3.4's layout of its bbolt file: the buckets etcd creates at start, in byte order, and how the `key` and
 * `meta` buckets name things.
 *
 *   key       revision key -> mvccpb.KeyValue. The revision key is main(8, big-endian) '_' sub(8); a tombstone's key
 *             has a trailing 't' and its KeyValue holds only the key.
 *   meta      consistent_index -> uint64 (big-endian); scheduledCompactRev and finishedCompactRev -> a revision key
 *   lease     id(8, big-endian) -> leasepb.Lease
 *   auth      authEnabled -> one byte 0/1; authRevision -> uint64 (big-endian)
 *   authUsers name -> authpb.User;  authRoles name -> authpb.Role
 *   members   member id (hex) -> JSON {id, peerURLs, name, clientURLs};  members_removed; alarm
 *   cluster   clusterVersion -> "3.4.0"
 */
export const Buckets = {
  alarm: 'alarm',
  auth: 'auth',
  authRoles: 'authRoles',
  authUsers: 'authUsers',
  cluster: 'cluster',
  key: 'key',
  lease: 'lease',
  members: 'members',
  membersRemoved: 'members_removed',
  meta: 'meta',
} as const

export const MetaKeys = {
  consistentIndex: 'consistent_index',
  finishedCompactRev: 'finishedCompactRev',
  scheduledCompactRev: 'scheduledCompactRev',
} as const

export const AuthKeys = {
  enabled: 'authEnabled',
  revision: 'authRevision',
} as const

export const CLUSTER_VERSION_KEY = 'clusterVersion'
export const CLUSTER_VERSION = '3.4.0'

/** REV_KEY_SIZE is the size of a revision key; a tombstone's is one byte longer. */
export const REV_KEY_SIZE = 17
const TOMBSTONE_MARK = 0x74 // 't'
const SEPARATOR = 0x5f // '_'

/** revisionKey encodes {main, sub} as etcd's key bucket does, with the tombstone mark when `tombstone`. */
export function revisionKey(main: number, sub: number, tombstone = false): Buffer {
  const k = Buffer.allocUnsafe(tombstone ? REV_KEY_SIZE + 1 : REV_KEY_SIZE)
  writeRevisionKey(k, 0, main, sub, tombstone)
  return k
}

/** writeRevisionKey writes a revision key into `buf` at `at` (17 bytes, 18 for a tombstone). */
export function writeRevisionKey(buf: Buffer, at: number, main: number, sub: number, tombstone: boolean): void {
  // Revisions are safe integers: two 32-bit halves each, stored byte by byte (this runs once per record).
  u32be(buf, at, Math.floor(main / 0x1_0000_0000))
  u32be(buf, at + 4, main >>> 0)
  buf[at + 8] = SEPARATOR
  u32be(buf, at + 9, Math.floor(sub / 0x1_0000_0000))
  u32be(buf, at + 13, sub >>> 0)
  if (tombstone) buf[at + REV_KEY_SIZE] = TOMBSTONE_MARK
}


/** parseRevisionKey reads the revision key in k[at, at + size) back, or undefined when it is not one. */
export function parseRevisionKey(k: Buffer, at = 0, size = k.length - at): { main: number; sub: number; tombstone: boolean } | undefined {
  if (size !== REV_KEY_SIZE && !(size === REV_KEY_SIZE + 1 && k[at + REV_KEY_SIZE] === TOMBSTONE_MARK)) return undefined
  if (k[at + 8] !== SEPARATOR) return undefined
  const main = k.readUInt32BE(at) * 0x1_0000_0000 + k.readUInt32BE(at + 4)
  const sub = k.readUInt32BE(at + 9) * 0x1_0000_0000 + k.readUInt32BE(at + 13)
  if (!Number.isSafeInteger(main) || !Number.isSafeInteger(sub)) return undefined
  return { main, sub, tombstone: size > REV_KEY_SIZE }
}

export function uint64Bytes(n: number | bigint): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(n)), 0)
  return b
}

/** memberJson is a member as etcd 3.4's membership store writes it: Go's JSON of its Member struct. */
export function memberJson(m: { id: bigint; name: string; peerUrls: readonly string[]; clientUrls: readonly string[] }): Buffer {
  // The id is a uint64 that JSON numbers in JS cannot carry: it is written as digits.
  const text = `{"id":${m.id.toString()},"peerURLs":${JSON.stringify(m.peerUrls)},"name":${JSON.stringify(m.name)},"clientURLs":${JSON.stringify(m.clientUrls)}}`
  return Buffer.from(text, 'utf8')
}
