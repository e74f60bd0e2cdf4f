import { Buffer } from 'node:buffer'
import { PAGE_HEADER_SIZE, readPgid } from './page.ts'

/**
 * Meta is what pages 0 and 1 hold, after their page header: where the root bucket and the freelist are, how many
 * pages the file uses (the high-water mark `pgid`) and the transaction id. bbolt writes the two pages alternately, so
 * a torn write leaves the other one valid; a reader takes the valid one with the higher txid.
 *
 *   magic uint32 | version uint32 | pageSize uint32 | flags uint32 | root {pgid uint64, sequence uint64}
 *   | freelist uint64 | pgid uint64 | txid uint64 | checksum uint64
 *
 * `checksum` is FNV-1a (64 bit) over the 56 bytes before it.
 */
export interface Meta {
  readonly pageSize: number
  readonly flags: number
  /** root is the page of the root bucket (a bucket of buckets). */
  readonly root: number
  readonly sequence: bigint
  /** freelist is the freelist's page, or NO_FREELIST when the file keeps none (bbolt's NoFreelistSync). */
  readonly freelist: number
  /** pgid is the high-water mark: the number of pages in use, metas included. */
  readonly pgid: number
  readonly txid: bigint
}

export const MAGIC = 0xed0cdaed
export const VERSION = 2
/** META_SIZE is the encoded size of a meta, checksum included. */
export const META_SIZE = 64
const CHECKSUMMED = 56
/** NO_FREELIST is the freelist page id of a file that keeps no freelist (0xffff_ffff_ffff_ffff). */
export const NO_FREELIST = Infinity

/** writeMeta writes `meta` (with its checksum) into a meta page at `pageOffset`; the page header is the caller's. */
export function writeMeta(buf: Buffer, pageOffset: number, meta: Meta): void {
  const at = pageOffset + PAGE_HEADER_SIZE
  buf.writeUInt32LE(MAGIC, at)
  buf.writeUInt32LE(VERSION, at + 4)
  buf.writeUInt32LE(meta.pageSize, at + 8)
  buf.writeUInt32LE(meta.flags, at + 12)
  buf.writeBigUInt64LE(BigInt(meta.root), at + 16)
  buf.writeBigUInt64LE(meta.sequence, at + 24)
  buf.writeBigUInt64LE(meta.freelist === NO_FREELIST ? 0xffff_ffff_ffff_ffffn : BigInt(meta.freelist), at + 32)
  buf.writeBigUInt64LE(BigInt(meta.pgid), at + 40)
  buf.writeBigUInt64LE(meta.txid, at + 48)
  buf.writeBigUInt64LE(fnv1a64(buf.subarray(at, at + CHECKSUMMED)), at + CHECKSUMMED)
}

/** readMeta reads the meta of the meta page at `pageOffset`, or says what is wrong with it. */
export function readMeta(buf: Buffer, pageOffset: number): Meta | { problem: string } {
  const at = pageOffset + PAGE_HEADER_SIZE
  if (buf.length < at + META_SIZE) return { problem: 'the file is shorter than its meta page' }
  if (buf.readUInt32LE(at) !== MAGIC) return { problem: 'no bbolt magic number in the meta page' }
  const version = buf.readUInt32LE(at + 4)
  if (version !== VERSION) return { problem: `bbolt version ${version} (expected ${VERSION})` }
  if (fnv1a64(buf.subarray(at, at + CHECKSUMMED)) !== buf.readBigUInt64LE(at + CHECKSUMMED)) {
    return { problem: 'the meta page checksum does not match' }
  }
  return {
    pageSize: buf.readUInt32LE(at + 8),
    flags: buf.readUInt32LE(at + 12),
    root: readPgid(buf, at + 16),
    sequence: buf.readBigUInt64LE(at + 24),
    freelist: readPgid(buf, at + 32),
    pgid: readPgid(buf, at + 40),
    txid: buf.readBigUInt64LE(at + 48),
  }
}

const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const MASK = 0xffff_ffff_ffff_ffffn

/** fnv1a64 is the 64-bit FNV-1a hash bbolt checksums its metas with. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK
  return h
}

/** metaPage is meta page `id` (0 or 1) whole: its page header, the meta, and zeros to the page's end. */
export function metaPage(id: 0 | 1, meta: Meta, pageSize: number): Buffer {
  const page = Buffer.alloc(pageSize)
  page.writeBigUInt64LE(BigInt(id), 0)
  page.writeUInt16LE(0x04, 8)
  writeMeta(page, 0, meta)
  return page
}
