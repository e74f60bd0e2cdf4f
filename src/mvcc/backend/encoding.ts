import { Buffer } from 'node:buffer'
import { makeRecord, makeTombstone, type KeyRecord } from '../key-record.ts'
import type { StoredLease, StoredMeta } from './backend.ts'

/**
 * The on-disk encoding of the store, in one LevelDB key space:
 *
 *   'r' main(8, big-endian) '_' sub(8)  ->  a record: flags(1) createRevision(8) version(8) lease(8) keyLength(4)
 *                                           key value   (flags bit 0: tombstone)
 *   'l' id(8, big-endian, two's complement)  ->  ttl(8)
 *   'm'                                      ->  the meta record, JSON
 *   'c' id(8) chunk(8)                       ->  a checkpoint chunk: records as frames, revision key(18)
 *                                                length(4) record, each key's records in order
 *
 * Record keys sort in revision order, so loading scans history in order. Numbers are big-endian float64s where they
 * are revisions or counts (safe integers), int64 where they are lease ids.
 */

const RECORD = 0x72 // 'r'
const LEASE = 0x6c // 'l'
const STATE = 0x73 // 's'
export const META_KEY = Buffer.from('m')
export const RECORDS_FROM = Buffer.from([RECORD])
export const RECORDS_TO = Buffer.from([RECORD + 1])
export const LEASES_FROM = Buffer.from([LEASE])
export const LEASES_TO = Buffer.from([LEASE + 1])

const HEADER = 1 + 8 + 8 + 8 + 4
const CHECKPOINT = 0x63 // 'c'

/** checkpointKey names chunk `chunk` of checkpoint `id`: 'c' id(8) chunk(8). */
export function checkpointKey(id: number, chunk: number): Buffer {
  const k = Buffer.allocUnsafe(17)
  k[0] = CHECKPOINT
  k.writeBigUInt64BE(BigInt(id), 1)
  k.writeBigUInt64BE(BigInt(chunk), 9)
  return k
}

/** encodeChunk packs records as frames: revision key(18) recordLength(4) record. */
export function encodeChunk(records: readonly KeyRecord[]): Buffer {
  const parts: Buffer[] = []
  for (const r of records) {
    const value = encodeRecord(r)
    const len = Buffer.allocUnsafe(4)
    len.writeUInt32BE(value.length, 0)
    parts.push(recordKey(r.modRevision, r.sub), len, value)
  }
  return Buffer.concat(parts)
}

/** decodeChunk unpacks encodeChunk's frames, reading each record in place (no Buffer view per key or value). */
export function decodeChunk(chunk: Buffer): KeyRecord[] {
  const out: KeyRecord[] = []
  for (let at = 0; at < chunk.length; ) {
    const len = chunk.readUInt32BE(at + 18)
    out.push(decodeRecordAt(chunk, at, at + 22, at + 22 + len))
    at += 22 + len
  }
  return out
}

/** recordKey names a record: 'r' main(8) '_' sub(8), big-endian; revisions are safe integers, written as two halves. */
export function recordKey(main: number, sub: number): Buffer {
  const k = Buffer.allocUnsafe(18)
  k[0] = RECORD
  k.writeUInt32BE(Math.floor(main / 0x1_0000_0000), 1)
  k.writeUInt32BE(main >>> 0, 5)
  k[9] = 0x5f
  k.writeUInt32BE(Math.floor(sub / 0x1_0000_0000), 10)
  k.writeUInt32BE(sub >>> 0, 14)
  return k
}

export function encodeRecord(r: KeyRecord): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + r.key.length + r.value.length)
  buf[0] = r.version === 0 ? 1 : 0
  buf.writeDoubleBE(r.createRevision, 1)
  buf.writeDoubleBE(r.version, 9)
  buf.writeBigInt64BE(r.lease, 17)
  buf.writeUInt32BE(r.key.length, 25)
  buf.write(r.key, HEADER, 'latin1')
  buf.write(r.value, HEADER + r.key.length, 'latin1')
  return buf
}

export function decodeRecord(key: Buffer, value: Buffer): KeyRecord {
  if (key.length !== 18) throw new Error('corrupt record')
  return decodeRecordAt(value, 0, 0, value.length, key)
}

/**
 * decodeRecordAt reads a record whose revision key is at `keyAt` in `keys` (`buf` unless given) and whose value is
 * `buf[from, to)`.
 */
function decodeRecordAt(buf: Buffer, keyAt: number, from: number, to: number, keys: Buffer = buf): KeyRecord {
  if (keys[keyAt] !== RECORD || to - from < HEADER || to > buf.length) throw new Error('corrupt record')
  // Revisions are safe integers: read each 64-bit half as a 32-bit number rather than through a BigInt.
  const main = keys.readUInt32BE(keyAt + 1) * 0x1_0000_0000 + keys.readUInt32BE(keyAt + 5)
  const sub = keys.readUInt32BE(keyAt + 10) * 0x1_0000_0000 + keys.readUInt32BE(keyAt + 14)
  const keyFrom = from + HEADER
  const keyTo = keyFrom + buf.readUInt32BE(from + 25)
  if (keyTo > to) throw new Error('corrupt record')
  const k = buf.toString('latin1', keyFrom, keyTo)
  if ((buf[from]! & 1) === 1) return makeTombstone(k, main, sub)
  return makeRecord(
    k,
    buf.toString('latin1', keyTo, to),
    buf.readDoubleBE(from + 1),
    main,
    sub,
    buf.readDoubleBE(from + 9),
    buf.readUInt32BE(from + 17) === 0 && buf.readUInt32BE(from + 21) === 0 ? 0n : buf.readBigInt64BE(from + 17),
  )
}

/** stateKey is where a named state blob lives: 's' and the name. */
export function stateKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([STATE]), Buffer.from(name, 'utf8')])
}

export function leaseKey(id: bigint): Buffer {
  const k = Buffer.allocUnsafe(9)
  k[0] = LEASE
  k.writeBigInt64BE(id, 1)
  return k
}

export function encodeLease(lease: StoredLease): Buffer {
  const buf = Buffer.allocUnsafe(8)
  buf.writeDoubleBE(lease.ttl, 0)
  return buf
}

export function decodeLease(key: Buffer, value: Buffer): StoredLease {
  if (key.length !== 9 || value.length !== 8) throw new Error('corrupt lease')
  return { id: key.readBigInt64BE(1), ttl: value.readDoubleBE(0) }
}

export function encodeMeta(meta: StoredMeta): Buffer {
  return Buffer.from(JSON.stringify(meta))
}

export function decodeMeta(value: Buffer): StoredMeta {
  const m = JSON.parse(value.toString('utf8')) as Partial<StoredMeta>
  if (typeof m.format !== 'number' || typeof m.rev !== 'number') throw new Error('corrupt meta record')
  const meta: StoredMeta = {
    format: m.format,
    rev: m.rev,
    compactRev: m.compactRev ?? -1,
    finishedCompactRev: m.finishedCompactRev ?? -1,
  }
  if (m.checkpoint !== undefined) meta.checkpoint = m.checkpoint
  return meta
}
