import { Buffer } from 'node:buffer'
import type { StoredPermission, StoredRole, StoredUser } from '../auth/auth-store.ts'
import type { PermissionType } from '../messages/auth.ts'
import { ProtoError, ProtoWriter, asBytes, asInt64, readFields } from './proto.ts'

/**
 * The protobuf messages of etcd's bbolt file: mvccpb.KeyValue in bucket `key`, leasepb.Lease in `lease`, authpb.User
 * in `authUsers`, authpb.Role in `authRoles`. Keys and values travel as Buffers here; the layout converts.
 */

export interface KeyValueMessage {
  readonly key: Buffer
  readonly createRevision: number
  readonly modRevision: number
  readonly version: number
  readonly value: Buffer
  readonly lease: bigint
}

/** LatinBuffer: Buffer's own latin1 encoder, which skips write()'s argument and encoding dispatch per record. */
type LatinBuffer = Buffer & { latin1Write(s: string, offset: number): number }

/** KeyValueFields are a KeyValue's fields in the engine's form (`key` and `value` as latin1 byte strings). */
export interface KeyValueFields {
  readonly key: string
  readonly createRevision: number
  readonly modRevision: number
  readonly version: number
  readonly value: string
  readonly lease: bigint
}

/**
 * encodeKeyValue encodes an mvccpb.KeyValue (key 1, create_revision 2, mod_revision 3, version 4, value 5, lease 6)
 * into a buffer of its exact size.
 */
export function encodeKeyValue(kv: KeyValueFields): Buffer {
  const buf = Buffer.allocUnsafe(keyValueSize(kv))
  writeKeyValue(kv, buf, 0)
  return buf
}

/** keyValueSize is the encoded size of a KeyValue. */
export function keyValueSize(kv: KeyValueFields): number {
  const { key, value } = kv
  return (
    (key.length > 0 ? 1 + varintSize(key.length) + key.length : 0) +
    (kv.createRevision > 0 ? 1 + varintSize(kv.createRevision) : 0) +
    (kv.modRevision > 0 ? 1 + varintSize(kv.modRevision) : 0) +
    (kv.version > 0 ? 1 + varintSize(kv.version) : 0) +
    (value.length > 0 ? 1 + varintSize(value.length) + value.length : 0) +
    (kv.lease !== 0n ? 1 + bigVarintSize(kv.lease) : 0)
  )
}

/**
 * writeKeyValue encodes a KeyValue straight into `buf` at `at` (keyValueSize(kv) bytes) and returns where it ends:
 * a snapshot writes its records into their pages this way, without a Buffer per record.
 */
export function writeKeyValue(kv: KeyValueFields, buf: Buffer, at: number): number {
  const { key, value } = kv
  if (key.length > 0) {
    buf[at++] = 0x0a
    at = writeVarint(buf, at, key.length)
    at += (buf as LatinBuffer).latin1Write(key, at)
  }
  if (kv.createRevision > 0) {
    buf[at++] = 0x10
    at = writeVarint(buf, at, kv.createRevision)
  }
  if (kv.modRevision > 0) {
    buf[at++] = 0x18
    at = writeVarint(buf, at, kv.modRevision)
  }
  if (kv.version > 0) {
    buf[at++] = 0x20
    at = writeVarint(buf, at, kv.version)
  }
  if (value.length > 0) {
    buf[at++] = 0x2a
    at = writeVarint(buf, at, value.length)
    at += (buf as LatinBuffer).latin1Write(value, at)
  }
  if (kv.lease !== 0n) {
    buf[at++] = 0x30
    // int64: a negative id is its two's complement, ten bytes long.
    let u = BigInt.asUintN(64, kv.lease)
    while (u >= 0x80n) {
      buf[at++] = Number(u & 0x7fn) | 0x80
      u >>= 7n
    }
    buf[at++] = Number(u)
  }
  return at
}

function bigVarintSize(v: bigint): number {
  let u = BigInt.asUintN(64, v)
  let size = 1
  while (u >= 0x80n) {
    u >>= 7n
    size++
  }
  return size
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  buf[at++] = n
  return at
}

function varintSize(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    size++
  }
  return size
}

/** decodeKeyValue decodes an mvccpb.KeyValue; revisions beyond 2^53 are refused (no store gets there). */
export function decodeKeyValue(buf: Buffer): KeyValueMessage {
  const spans = decodeKeyValueSpans(buf, 0, buf.length)
  return {
    key: buf.subarray(spans.keyAt, spans.keyEnd),
    createRevision: spans.createRevision,
    modRevision: spans.modRevision,
    version: spans.version,
    value: buf.subarray(spans.valueAt, spans.valueEnd),
    lease: spans.lease,
  }
}

/** KeyValueSpans is a decoded KeyValue whose key and value are spans of the buffer it was read from. */
export interface KeyValueSpans {
  keyAt: number
  keyEnd: number
  valueAt: number
  valueEnd: number
  createRevision: number
  modRevision: number
  version: number
  lease: bigint
}

/**
 * decodeKeyValueSpans decodes the KeyValue in buf[start, end) without copying its key and value. The common shape
 * (fields 1-6, varints below 2^49) is read in one pass; anything else goes through the general decoder.
 * @throws ProtoError on malformed bytes
 */
export function decodeKeyValueSpans(buf: Buffer, start: number, end: number): KeyValueSpans {
  const out: KeyValueSpans = { keyAt: start, keyEnd: start, valueAt: start, valueEnd: start, createRevision: 0, modRevision: 0, version: 0, lease: 0n }
  let at = start
  while (at < end) {
    const tag = buf[at++]!
    const v = readSmallVarint(buf, at, end)
    if (v < 0) return decodeKeyValueSlow(buf, start, end)
    at = varintEnd
    if (tag === 0x0a || tag === 0x2a) {
      if (at + v > end) return decodeKeyValueSlow(buf, start, end)
      if (tag === 0x0a) {
        out.keyAt = at
        out.keyEnd = at + v
      } else {
        out.valueAt = at
        out.valueEnd = at + v
      }
      at += v
    } else if (tag === 0x10) out.createRevision = v
    else if (tag === 0x18) out.modRevision = v
    else if (tag === 0x20) out.version = v
    else if (tag === 0x30) out.lease = BigInt(v)
    else return decodeKeyValueSlow(buf, start, end)
  }
  return out
}

/** varintEnd is where the last readSmallVarint stopped (a module variable: no object per call on the hot path). */
let varintEnd = 0

/** readSmallVarint reads a varint of up to 7 bytes (below 2^49) at `at`, before `end`, as a number; else -1. */
function readSmallVarint(buf: Buffer, at: number, end: number): number {
  let v = 0
  let scale = 1
  for (let i = 0; i < 7 && at < end; i++) {
    const b = buf[at++]!
    v += (b & 0x7f) * scale
    if (b < 0x80) {
      varintEnd = at
      return v
    }
    scale *= 0x80
  }
  return -1
}

function decodeKeyValueSlow(buf: Buffer, start: number, end: number): KeyValueSpans {
  const out: KeyValueSpans = { keyAt: start, keyEnd: start, valueAt: start, valueEnd: start, createRevision: 0, modRevision: 0, version: 0, lease: 0n }
  const message = buf.subarray(start, end)
  const base = message.byteOffset - start
  for (const f of readFields(message)) {
    switch (f.field) {
      case 1: {
        const key = asBytes(f)
        out.keyAt = key.byteOffset - base
        out.keyEnd = out.keyAt + key.length
        break
      }
      case 2: out.createRevision = safe(asInt64(f), 'create_revision'); break
      case 3: out.modRevision = safe(asInt64(f), 'mod_revision'); break
      case 4: out.version = safe(asInt64(f), 'version'); break
      case 5: {
        const value = asBytes(f)
        out.valueAt = value.byteOffset - base
        out.valueEnd = out.valueAt + value.length
        break
      }
      case 6: out.lease = asInt64(f); break
    }
  }
  return out
}


function safe(v: bigint, what: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtoError(`${what} ${v} is out of range`)
  return Number(v)
}

export interface LeaseMessage {
  readonly id: bigint
  readonly ttl: number
}

/** encodeLease encodes a leasepb.Lease (ID 1, TTL 2; RemainingTTL 3 stays 0: the lease was never checkpointed). */
export function encodeLease(lease: LeaseMessage): Buffer {
  return new ProtoWriter().int64(1, lease.id).int64(2, lease.ttl).finish()
}

export function decodeLease(buf: Buffer): LeaseMessage {
  let id = 0n
  let ttl = 0
  for (const f of readFields(buf)) {
    if (f.field === 1) id = asInt64(f)
    else if (f.field === 2) ttl = safe(asInt64(f), 'TTL')
  }
  return { id, ttl }
}

/**
 * PASSWORD_PREFIX marks a salted scrypt hash (what etcdlite stored before it stored bcrypt) in authpb.User's password
 * field; etcd cannot check it. A field without it is a bcrypt hash, as etcd writes one and as etcdlite now writes one
 * too (kept with an empty salt, auth/passwords.ts): its bytes pass through unchanged in both directions.
 */
const PASSWORD_PREFIX = '$etcdlite-scrypt$'

/** encodeUser encodes an authpb.User (name 1, password 2, roles 3, options 4 {no_password 1}). */
export function encodeUser(user: StoredUser): Buffer {
  const w = new ProtoWriter().bytes(1, Buffer.from(user.name, 'utf8'))
  if (user.password !== undefined) {
    const { salt, hash } = user.password
    w.bytes(2, salt === '' ? Buffer.from(hash, 'base64') : Buffer.from(`${PASSWORD_PREFIX}${salt}$${hash}`, 'utf8'))
  }
  for (const role of user.roles) w.bytes(3, Buffer.from(role, 'utf8'), true)
  if (user.noPassword) w.bytes(4, new ProtoWriter().bool(1, true).finish(), true)
  return w.finish()
}

export function decodeUser(buf: Buffer): StoredUser {
  let name = ''
  let password: StoredUser['password']
  const roles: string[] = []
  let noPassword = false
  for (const f of readFields(buf)) {
    if (f.field === 1) name = asBytes(f).toString('utf8')
    else if (f.field === 2) password = decodePassword(asBytes(f))
    else if (f.field === 3) roles.push(asBytes(f).toString('utf8'))
    else if (f.field === 4) noPassword = readFields(asBytes(f)).some((o) => o.field === 1 && asInt64(o) !== 0n)
  }
  if (name === '') throw new ProtoError('a user without a name')
  return { name, ...(password === undefined ? {} : { password }), noPassword, roles }
}

function decodePassword(bytes: Buffer): StoredUser['password'] {
  if (bytes.length === 0) return undefined
  const text = bytes.toString('utf8')
  if (text.startsWith(PASSWORD_PREFIX)) {
    const [salt, hash] = text.slice(PASSWORD_PREFIX.length).split('$')
    if (salt !== undefined && salt !== '' && hash !== undefined) return { salt, hash }
  }
  return { salt: '', hash: bytes.toString('base64') }
}

const PERM_TYPES: readonly PermissionType[] = ['READ', 'WRITE', 'READWRITE']

/** encodeRole encodes an authpb.Role (name 1, keyPermission 2: {permType 1, key 2, range_end 3}). */
export function encodeRole(role: StoredRole): Buffer {
  const w = new ProtoWriter().bytes(1, Buffer.from(role.name, 'utf8'))
  for (const p of role.perms) {
    const perm = new ProtoWriter()
      .int64(1, PERM_TYPES.indexOf(p.permType))
      .bytes(2, Buffer.from(p.key, 'latin1'))
      .bytes(3, Buffer.from(p.rangeEnd, 'latin1'))
      .finish()
    w.bytes(2, perm, true)
  }
  return w.finish()
}

export function decodeRole(buf: Buffer): StoredRole {
  let name = ''
  const perms: StoredPermission[] = []
  for (const f of readFields(buf)) {
    if (f.field === 1) name = asBytes(f).toString('utf8')
    else if (f.field === 2) {
      let permType: PermissionType = 'READ'
      let key = ''
      let rangeEnd = ''
      for (const p of readFields(asBytes(f))) {
        if (p.field === 1) {
          const t = PERM_TYPES[Number(asInt64(p))]
          if (t === undefined) throw new ProtoError(`permission type ${asInt64(p)}`)
          permType = t
        } else if (p.field === 2) key = asBytes(p).toString('latin1')
        else if (p.field === 3) rangeEnd = asBytes(p).toString('latin1')
      }
      perms.push({ permType, key, rangeEnd })
    }
  }
  if (name === '') throw new ProtoError('a role without a name')
  return { name, perms }
}
