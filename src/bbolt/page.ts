import type { Buffer } from 'node:buffer'

/**
 * A bbolt file is a sequence of fixed-size pages; page N starts at N * pageSize. Every page opens with a 16-byte
 * header, little-endian as bbolt writes it on the machines etcd runs on:
 *
 *   id uint64 | flags uint16 | count uint16 | overflow uint32
 *
 * `id` repeats the page's own number (a reader checks it, which also catches a wrong page size), `count` is the
 * number of elements (or freelist ids), and `overflow` the number of pages that follow this one as its continuation:
 * a node larger than a page takes 1 + overflow contiguous pages.
 */

/** PAGE_HEADER_SIZE is the size of a page header in bytes. */
export const PAGE_HEADER_SIZE = 16

/** PageFlag names the kinds of page. */
export const PageFlag = {
  branch: 0x01,
  leaf: 0x02,
  meta: 0x04,
  freelist: 0x10,
} as const
export type PageFlag = (typeof PageFlag)[keyof typeof PageFlag]

/** DEFAULT_PAGE_SIZE is the page size etcd's files have on Linux (the OS page size). */
export const DEFAULT_PAGE_SIZE = 4096

/** MIN_PAGE_SIZE and MAX_PAGE_SIZE bound the page sizes a reader accepts (powers of two in between). */
export const MIN_PAGE_SIZE = 512
export const MAX_PAGE_SIZE = 65536

export interface PageHeader {
  readonly id: number
  readonly flags: number
  readonly count: number
  readonly overflow: number
}

/** writePageHeader writes a page header at `offset`. */
export function writePageHeader(buf: Buffer, offset: number, header: PageHeader): void {
  // Page ids are safe integers: two 32-bit halves, without a BigInt per page.
  buf.writeUInt32LE(header.id >>> 0, offset)
  buf.writeUInt32LE(Math.floor(header.id / 0x1_0000_0000), offset + 4)
  buf.writeUInt16LE(header.flags, offset + 8)
  buf.writeUInt16LE(header.count, offset + 10)
  buf.writeUInt32LE(header.overflow, offset + 12)
}

/** readPageHeader reads the page header at `offset`; an id beyond 2^53 reads as Infinity (no file is that big). */
export function readPageHeader(buf: Buffer, offset: number): PageHeader {
  const id = buf.readBigUInt64LE(offset)
  return {
    id: id > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(id),
    flags: buf.readUInt16LE(offset + 8),
    count: buf.readUInt16LE(offset + 10),
    overflow: buf.readUInt32LE(offset + 12),
  }
}

/** readPgid reads a uint64 page id; ids beyond 2^53 read as Infinity (outside any file). */
export function readPgid(buf: Buffer, offset: number): number {
  const id = buf.readBigUInt64LE(offset)
  return id > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(id)
}

/** pagesFor is the number of pages a node of `bytes` bytes takes (1 + its overflow). */
export function pagesFor(bytes: number, pageSize: number): number {
  return Math.max(1, Math.ceil(bytes / pageSize))
}

/** isPageSize tells whether `n` is a page size a reader accepts. */
export function isPageSize(n: number): boolean {
  return n >= MIN_PAGE_SIZE && n <= MAX_PAGE_SIZE && (n & (n - 1)) === 0
}
