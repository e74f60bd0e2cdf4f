import { Buffer } from 'node:buffer'
import { PAGE_HEADER_SIZE, readPgid } from './page.ts'
import { writeLeaf, leafEntrySize, type EntrySource } from './node.ts'

/**
 * A bucket is a B+tree of its own, named by a key in its parent bucket (the file's root bucket holds the top-level
 * ones). The parent's leaf element for it has BUCKET_LEAF_FLAG and a value that starts with a bucket header:
 *
 *   root uint64 | sequence uint64
 *
 * `root` is the page of the bucket's root node. A small bucket with no nested buckets is instead stored inline:
 * root is 0 and the header is followed by a whole leaf page (page header with id 0, elements, data) inside the
 * parent's value. bbolt inlines a bucket when that page is at most a quarter of a page.
 */

export const BUCKET_HEADER_SIZE = 16

export interface BucketHeader {
  readonly root: number
  readonly sequence: bigint
}

export function readBucketHeader(value: Buffer): BucketHeader {
  if (value.length < BUCKET_HEADER_SIZE) throw new RangeError(`a bucket value of ${value.length} bytes is shorter than a bucket header`)
  return { root: readPgid(value, 0), sequence: value.readBigUInt64LE(8) }
}

/** bucketValue is the value of a bucket stored in its own pages, rooted at `root`. */
export function bucketValue(root: number, sequence = 0n): Buffer {
  const value = Buffer.alloc(BUCKET_HEADER_SIZE)
  value.writeBigUInt64LE(BigInt(root), 0)
  value.writeBigUInt64LE(sequence, 8)
  return value
}

/** inlineSize is the size of the inline page of a bucket with these entries. */
export function inlineSize(source: EntrySource): number {
  let size = PAGE_HEADER_SIZE
  for (let i = 0; i < source.length; i++) size += leafEntrySize(source, i)
  return size
}

/** inlineable tells whether bbolt would store a bucket with these entries (none a bucket) inline. */
export function inlineable(source: EntrySource, pageSize: number): boolean {
  let size = BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE
  for (let i = 0; i < source.length; i++) {
    size += leafEntrySize(source, i)
    if (source.flags(i) !== 0 || size > pageSize / 4) return false
  }
  return true
}

/** inlineBucketValue is the value of an inline bucket: a header with root 0, then its leaf page. */
export function inlineBucketValue(source: EntrySource, sequence = 0n): Buffer {
  const value = Buffer.alloc(BUCKET_HEADER_SIZE + inlineSize(source))
  value.writeBigUInt64LE(sequence, 8)
  writeLeaf(value, BUCKET_HEADER_SIZE, 0, 0, source)
  return value
}
