import { Buffer } from 'node:buffer'
import { makeRecord, makeTombstone, type KeyRecord } from '../key-record.ts'
import { u32be } from '../../util/bytes.ts'
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
  let size = 0
  for (const r of records) size += FRAME_HEADER + r.key.length + r.value.length
  const chunks = new ChunkEncoder(records.length, size)
  for (const r of records) chunks.addRecord(r)
  return chunks.finish()[0] ?? Buffer.alloc(0)
}

/** copyBytes copies src[from, to) to dst at `at`: short runs (keys) by hand, cheaper than a call into Buffer.copy. */
function copyBytes(src: Buffer, from: number, to: number, dst: Buffer, at: number): void {
  if (to - from > 24) src.copy(dst, at, from, to)
  else for (let i = from; i < to; i++) dst[at++] = src[i]!
}

/** FRAME_HEADER: a checkpoint frame's revision key, its length and the record's fixed fields. */
const FRAME_HEADER = 18 + 4 + HEADER

/** LatinBuffer: Buffer's own latin1 encoder, which skips write()'s argument and encoding dispatch per record. */
type LatinBuffer = Buffer & { latin1Write(s: string, offset: number): number }

/**
 * ChunkEncoder writes records as checkpoint chunks (encodeChunk's frames) straight into large buffers: from records,
 * or from a record's fields and the bytes of its key and value in some other buffer (a snapshot being restored), so
 * that a million records need no object and no Buffer each. A chunk closes after `recordsPerChunk` records.
 */
export class ChunkEncoder {
  readonly #recordsPerChunk: number
  readonly #slabBytes: number
  readonly #chunks: Buffer[] = []
  #slab = Buffer.alloc(0)
  #view = new DataView(new ArrayBuffer(0))
  #start = 0
  #at = 0
  #count = 0

  constructor(recordsPerChunk: number, slabBytes = 4 << 20) {
    this.#recordsPerChunk = recordsPerChunk
    this.#slabBytes = slabBytes
  }

  /** addRecord adds one record. */
  addRecord(r: KeyRecord): void {
    const tombstone = r.version === 0
    let at = this.#frame(r.modRevision, r.sub, tombstone, r.createRevision, r.version, r.lease, r.key.length, r.value.length)
    at += (this.#slab as LatinBuffer).latin1Write(r.key, at)
    ;(this.#slab as LatinBuffer).latin1Write(r.value, at)
  }

  /** addBytes adds the record {main, sub} whose key is src[keyAt, keyEnd) and value src[valueAt, valueEnd). */
  addBytes(
    main: number, sub: number, tombstone: boolean, createRevision: number, version: number, lease: bigint,
    src: Buffer, keyAt: number, keyEnd: number, valueAt: number, valueEnd: number,
  ): void {
    const at = this.#frame(main, sub, tombstone, createRevision, version, lease, keyEnd - keyAt, valueEnd - valueAt)
    copyBytes(src, keyAt, keyEnd, this.#slab, at)
    copyBytes(src, valueAt, valueEnd, this.#slab, at + keyEnd - keyAt)
  }

  /** finish returns the chunks, in the order their records were added. */
  finish(): Buffer[] {
    this.#seal()
    return this.#chunks
  }

  /** #frame writes a frame's revision key, length and fixed fields, and returns where the key's bytes go. */
  #frame(main: number, sub: number, tombstone: boolean, createRevision: number, version: number, lease: bigint, keySize: number, valueSize: number): number {
    const size = FRAME_HEADER + keySize + valueSize
    if (this.#count === this.#recordsPerChunk) {
      this.#seal()
      this.#count = 0
    }
    this.#count++
    if (this.#at + size > this.#slab.length) {
      // The chunk being written moves to the new slab with its frames so far: a chunk is one run of bytes.
      const open = this.#slab.subarray(this.#start, this.#at)
      this.#slab = Buffer.allocUnsafe(Math.max(this.#slabBytes, 2 * (open.length + size)))
      open.copy(this.#slab, 0)
      this.#start = 0
      this.#at = open.length
      this.#view = new DataView(this.#slab.buffer, this.#slab.byteOffset, this.#slab.length)
    }
    // The fixed fields through a DataView: its setters compile to plain stores, without Buffer's checks per call.
    const v = this.#view
    let at = this.#at
    writeRecordKey(this.#slab, at, main, sub)
    v.setUint32(at + 18, HEADER + keySize + valueSize)
    at += 22
    v.setUint8(at, tombstone ? 1 : 0)
    v.setFloat64(at + 1, createRevision)
    v.setFloat64(at + 9, version)
    v.setBigInt64(at + 17, lease)
    v.setUint32(at + 25, keySize)
    this.#at += size
    return at + HEADER
  }

  #seal(): void {
    if (this.#at > this.#start) this.#chunks.push(this.#slab.subarray(this.#start, this.#at))
    this.#start = this.#at
  }
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

/** framesEnd is where the `max` checkpoint frames from `at` end (or the chunk, if it ends first). */
export function framesEnd(chunk: Buffer, at: number, max: number): number {
  for (let n = 0; n < max && at < chunk.length; n++) {
    if (at + 22 > chunk.length) throw new Error('corrupt checkpoint')
    at += 22 + chunk.readUInt32BE(at + 18)
  }
  if (at > chunk.length) throw new Error('corrupt checkpoint')
  return at
}

/** recordKey names a record: 'r' main(8) '_' sub(8), big-endian; revisions are safe integers, written as two halves. */
export function recordKey(main: number, sub: number): Buffer {
  const k = Buffer.allocUnsafe(18)
  writeRecordKey(k, 0, main, sub)
  return k
}

function writeRecordKey(k: Buffer, at: number, main: number, sub: number): void {
  k[at] = RECORD
  u32be(k, at + 1, Math.floor(main / 0x1_0000_0000))
  u32be(k, at + 5, main >>> 0)
  k[at + 9] = 0x5f
  u32be(k, at + 10, Math.floor(sub / 0x1_0000_0000))
  u32be(k, at + 14, sub >>> 0)
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
