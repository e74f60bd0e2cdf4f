import { Buffer } from 'node:buffer'
import { PAGE_HEADER_SIZE, PageFlag, readPgid, writePageHeader } from './page.ts'

/**
 * Nodes of bbolt's B+tree, as pages. After the page header come `count` fixed-size elements, then their keys (and
 * values) packed in element order. An element's `pos` is the distance from the element itself to its key.
 *
 *   leaf element    flags uint32 | pos uint32 | ksize uint32 | vsize uint32     key, then value
 *   branch element  pos uint32 | ksize uint32 | pgid uint64                      key (the child's first key)
 *
 * A leaf element with flag BUCKET_LEAF_FLAG is a nested bucket: its value is a bucket header (see bucket.ts).
 * Keys in a node are strictly ascending (unsigned byte order).
 */

export const ELEMENT_SIZE = 16
/** BUCKET_LEAF_FLAG marks a leaf element whose value is a nested bucket. */
export const BUCKET_LEAF_FLAG = 0x01

export interface LeafEntry {
  readonly key: Uint8Array
  readonly value: Uint8Array
  /** flags: BUCKET_LEAF_FLAG for a nested bucket, else 0. */
  readonly flags: number
}

export interface BranchEntry {
  readonly key: Uint8Array
  readonly pgid: number
}

/**
 * EntrySource hands a writer the entries of one leaf level by index, so that keys and values are written straight
 * into their pages: a snapshot's million records need no Buffer each. Entries must be in strictly ascending key
 * order.
 */
export interface EntrySource {
  readonly length: number
  keySize(i: number): number
  valueSize(i: number): number
  /** flags of entry i: BUCKET_LEAF_FLAG for a nested bucket, else 0. */
  flags(i: number): number
  /** write writes entry i's key and then its value at `at`. */
  write(i: number, buf: Buffer, at: number): void
  /** key is entry i's key (asked for the first entry of each node only). */
  key(i: number): Uint8Array
}

/** arraySource is the EntrySource of entries held as objects. */
export function arraySource(entries: readonly LeafEntry[]): EntrySource {
  return {
    length: entries.length,
    keySize: (i) => entries[i]!.key.length,
    valueSize: (i) => entries[i]!.value.length,
    flags: (i) => entries[i]!.flags,
    write(i, buf, at) {
      const e = entries[i]!
      buf.set(e.key, at)
      buf.set(e.value, at + e.key.length)
    },
    key: (i) => entries[i]!.key,
  }
}

/** leafEntrySize is the bytes entry i of a leaf takes: its element, key and value. */
export function leafEntrySize(source: EntrySource, i: number): number {
  return ELEMENT_SIZE + source.keySize(i) + source.valueSize(i)
}

export function branchEntrySize(entry: BranchEntry): number {
  return ELEMENT_SIZE + entry.key.length
}

/** u32le stores a uint32 little-endian: four byte stores, cheaper than writeUInt32LE's checks per element. */
function u32le(buf: Buffer, at: number, v: number): void {
  buf[at] = v & 0xff
  buf[at + 1] = (v >>> 8) & 0xff
  buf[at + 2] = (v >>> 16) & 0xff
  buf[at + 3] = v >>> 24
}

/**
 * writeLeaf writes a leaf node (page header included) of entries [from, to) with page id `id` at `offset`, and
 * returns where its data ends.
 */
export function writeLeaf(buf: Buffer, offset: number, id: number, overflow: number, source: EntrySource, from = 0, to = source.length): number {
  const count = to - from
  writePageHeader(buf, offset, { id, flags: PageFlag.leaf, count, overflow })
  let data = offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * count
  for (let i = from; i < to; i++) {
    const at = offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * (i - from)
    const ksize = source.keySize(i)
    const vsize = source.valueSize(i)
    u32le(buf, at, source.flags(i))
    u32le(buf, at + 4, data - at)
    u32le(buf, at + 8, ksize)
    u32le(buf, at + 12, vsize)
    source.write(i, buf, data)
    data += ksize + vsize
  }
  return data
}

/** writeBranch writes a branch node (page header included) with page id `id` into `buf` at `offset`; returns its end. */
export function writeBranch(buf: Buffer, offset: number, id: number, overflow: number, entries: readonly BranchEntry[]): number {
  writePageHeader(buf, offset, { id, flags: PageFlag.branch, count: entries.length, overflow })
  let data = offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * entries.length
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    const at = offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * i
    buf.writeUInt32LE(data - at, at)
    buf.writeUInt32LE(e.key.length, at + 4)
    buf.writeUInt32LE(e.pgid >>> 0, at + 8)
    buf.writeUInt32LE(Math.floor(e.pgid / 0x1_0000_0000), at + 12)
    buf.set(e.key, data)
    data += e.key.length
  }
  return data
}

/**
 * readLeaf reads the `count` elements of the leaf node at `offset`; keys and values are views into `buf`. Every
 * element must lie within [offset, end), or it throws a RangeError naming the element.
 */
export function readLeaf(buf: Buffer, offset: number, count: number, end: number): LeafEntry[] {
  const out: LeafEntry[] = []
  if (offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * count > end) throw new RangeError(`its ${count} elements overrun the page`)
  for (let i = 0; i < count; i++) {
    const at = offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * i
    const flags = buf.readUInt32LE(at)
    const start = at + buf.readUInt32LE(at + 4)
    const ksize = buf.readUInt32LE(at + 8)
    const vsize = buf.readUInt32LE(at + 12)
    if (start + ksize + vsize > end) throw new RangeError(`element ${i} points past the end of its page`)
    out.push({ flags, key: buf.subarray(start, start + ksize), value: buf.subarray(start + ksize, start + ksize + vsize) })
  }
  return out
}

/** readBranch reads the `count` elements of the branch node at `offset` (see readLeaf). */
export function readBranch(buf: Buffer, offset: number, count: number, end: number): BranchEntry[] {
  const out: BranchEntry[] = []
  if (offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * count > end) throw new RangeError(`its ${count} elements overrun the page`)
  for (let i = 0; i < count; i++) {
    const at = offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * i
    const start = at + buf.readUInt32LE(at)
    const ksize = buf.readUInt32LE(at + 4)
    if (start + ksize > end) throw new RangeError(`element ${i} points past the end of its page`)
    out.push({ key: buf.subarray(start, start + ksize), pgid: readPgid(buf, at + 8) })
  }
  return out
}
