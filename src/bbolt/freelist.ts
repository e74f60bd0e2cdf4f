import { Buffer } from 'node:buffer'
import { PAGE_HEADER_SIZE, PageFlag, pagesFor, readPgid, writePageHeader } from './page.ts'

/**
 * The freelist page lists the pages that are allocated in the file but hold nothing live, as uint64 ids after the
 * page header. `count` is the number of ids; when there are 0xffff or more, `count` is 0xffff and the first uint64
 * holds the real number. A file written whole (as a snapshot is) has no free page, so its freelist is empty.
 */

const COUNT_OVERFLOW = 0xffff

/** freelistPage encodes a freelist page with page id `id`, as many pages as it needs. */
export function freelistPage(id: number, free: readonly number[], pageSize: number): Buffer {
  const spill = free.length >= COUNT_OVERFLOW ? 1 : 0
  const bytes = PAGE_HEADER_SIZE + 8 * (free.length + spill)
  const pages = pagesFor(bytes, pageSize)
  const buf = Buffer.alloc(pages * pageSize)
  writePageHeader(buf, 0, { id, flags: PageFlag.freelist, count: spill ? COUNT_OVERFLOW : free.length, overflow: pages - 1 })
  let at = PAGE_HEADER_SIZE
  if (spill) {
    buf.writeBigUInt64LE(BigInt(free.length), at)
    at += 8
  }
  for (const pgid of [...free].sort((a, b) => a - b)) {
    buf.writeBigUInt64LE(BigInt(pgid), at)
    at += 8
  }
  return buf
}

/** readFreelist reads the free page ids of the freelist page at `offset` (`count` from its header). */
export function readFreelist(buf: Buffer, offset: number, count: number, end: number): number[] {
  let at = offset + PAGE_HEADER_SIZE
  let n = count
  if (count === COUNT_OVERFLOW) {
    n = readPgid(buf, at)
    at += 8
  }
  if (at + 8 * n > end) throw new RangeError(`the freelist claims ${n} pages, more than its page holds`)
  const ids: number[] = []
  for (let i = 0; i < n; i++) ids.push(readPgid(buf, at + 8 * i))
  return ids
}
