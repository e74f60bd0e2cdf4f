import { Buffer } from 'node:buffer'
import { freelistPage } from './freelist.ts'
import { metaPage } from './meta.ts'
import {
  BUCKET_LEAF_FLAG,
  arraySource,
  branchEntrySize,
  leafEntrySize,
  writeBranch,
  writeLeaf,
  type BranchEntry,
  type EntrySource,
  type LeafEntry,
} from './node.ts'
import { bucketValue, inlineBucketValue, inlineable } from './bucket.ts'
import { DEFAULT_PAGE_SIZE, PAGE_HEADER_SIZE, isPageSize, pagesFor } from './page.ts'

/**
 * writeBolt writes a whole bbolt file from a description of its buckets, in one pass: nodes bottom-up (leaves, then
 * the branches over them), each bucket after the buckets nested in it, then the freelist (empty: nothing is free in
 * a file written whole) and the two metas in front. The result is a list of chunks whose concatenation is the file.
 *
 * Leaves are packed full; bbolt splits them as usual when the file is later written to. Small buckets without nested
 * buckets are stored inline, as bbolt does. Pages are cut from large zeroed slabs, and the work yields to the event
 * loop every YIELD_EVERY pages.
 */

/** BoltItem is one entry of a bucket: a value, a nested bucket, or a nested bucket whose entries come by index. */
export type BoltItem =
  | { readonly key: Uint8Array; readonly value: Uint8Array; readonly bucket?: undefined; readonly source?: undefined }
  | { readonly key: Uint8Array; readonly bucket: BoltBucket; readonly value?: undefined; readonly source?: undefined }
  | { readonly key: Uint8Array; readonly source: EntrySource; readonly value?: undefined; readonly bucket?: undefined }

/** BoltBucket is a bucket's entries, in strictly ascending key order (unsigned bytes). */
export type BoltBucket = readonly BoltItem[]

export type { EntrySource } from './node.ts'

export interface WriteOptions {
  /** pageSize of the file. @default 4096 */
  pageSize?: number
  /** txid recorded in the metas (the second meta gets txid + 1). @default 1 */
  txid?: bigint
}

/** FIRST_DATA_PAGE: pages 0 and 1 are the metas, page 2 the freelist. */
const FIRST_DATA_PAGE = 3
const FREELIST_PAGE = 2
const YIELD_EVERY = 2000
/** SLAB_BYTES: pages are cut from zeroed slabs of this size (a node larger than a slab gets its own). */
const SLAB_BYTES = 1 << 20

/** writeBolt returns the file whose root bucket holds `root` (whose items must all be buckets). */
export async function writeBolt(root: BoltBucket, options: WriteOptions = {}): Promise<Buffer[]> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
  if (!isPageSize(pageSize)) throw new RangeError(`pageSize must be a power of two from 512 to 65536, not ${pageSize}`)
  if (root.some((item) => item.value !== undefined)) throw new TypeError('the root bucket holds buckets only')
  const writer = new Writer(pageSize)
  const rootPage = await writer.tree(arraySource(await writer.entries(root)))
  const txid = options.txid ?? 1n
  const meta = { pageSize, flags: 0, root: rootPage, sequence: 0n, freelist: FREELIST_PAGE, pgid: writer.nextPgid, txid }
  return [
    metaPage(0, meta, pageSize),
    metaPage(1, { ...meta, txid: txid + 1n }, pageSize),
    freelistPage(FREELIST_PAGE, [], pageSize),
    ...writer.finish(),
  ]
}

class Writer {
  readonly pageSize: number
  nextPgid = FIRST_DATA_PAGE
  readonly #chunks: Buffer[] = []
  #slab = Buffer.alloc(0)
  #used = 0
  #sinceYield = 0

  constructor(pageSize: number) {
    this.pageSize = pageSize
  }

  /** entries turns a bucket's items into leaf entries, writing nested buckets first. */
  async entries(items: BoltBucket): Promise<LeafEntry[]> {
    const out: LeafEntry[] = new Array<LeafEntry>(items.length)
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!
      if (i > 0 && Buffer.compare(items[i - 1]!.key, item.key) >= 0) {
        throw new TypeError(`bucket keys must be strictly ascending (item ${i})`)
      }
      if (item.value !== undefined) out[i] = { key: item.key, value: item.value, flags: 0 }
      else {
        const source = item.source ?? arraySource(await this.entries(item.bucket!))
        out[i] = { key: item.key, value: await this.bucket(source), flags: BUCKET_LEAF_FLAG }
      }
    }
    return out
  }

  /** bucket writes a nested bucket and returns its value in the parent: inline when small, else its root page. */
  async bucket(source: EntrySource): Promise<Buffer> {
    if (inlineable(source, this.pageSize)) return inlineBucketValue(source)
    return bucketValue(await this.tree(source))
  }

  /** tree writes the leaves holding `source`'s entries and the branches over them, and returns the root's page. */
  async tree(source: EntrySource): Promise<number> {
    let level: BranchEntry[] = []
    let from = 0
    // An empty bucket still has a root node: a leaf with no elements.
    do {
      let to = from
      let bytes = PAGE_HEADER_SIZE
      while (to < source.length) {
        const s = leafEntrySize(source, to)
        if (to > from && bytes + s > this.pageSize) break
        bytes += s
        to++
      }
      const { pgid, buf, offset, overflow } = this.#allocate(bytes)
      writeLeaf(buf, offset, pgid, overflow, source, from, to)
      level.push({ key: from < to ? source.key(from) : new Uint8Array(), pgid })
      from = to
      await this.#maybeYield()
    } while (from < source.length)
    while (level.length > 1) {
      const next: BranchEntry[] = []
      for (const group of this.#groups(level)) {
        const { pgid, buf, offset, overflow } = this.#allocate(group.bytes)
        writeBranch(buf, offset, pgid, overflow, group.items)
        next.push({ key: group.items[0]!.key, pgid })
        await this.#maybeYield()
      }
      level = next
    }
    return level[0]!.pgid
  }

  /** #groups packs branch entries into nodes that fit a page; an entry too big for one page gets a node of its own. */
  *#groups(entries: readonly BranchEntry[]): Generator<{ items: BranchEntry[]; bytes: number }> {
    let items: BranchEntry[] = []
    let bytes = PAGE_HEADER_SIZE
    for (const e of entries) {
      const s = branchEntrySize(e)
      if (items.length > 0 && bytes + s > this.pageSize) {
        yield { items, bytes }
        items = []
        bytes = PAGE_HEADER_SIZE
      }
      items.push(e)
      bytes += s
    }
    yield { items, bytes }
  }

  /** #allocate takes the next pages for a node of `bytes` bytes, from the current slab or a new one. */
  #allocate(bytes: number): { pgid: number; buf: Buffer; offset: number; overflow: number } {
    const pages = pagesFor(bytes, this.pageSize)
    const size = pages * this.pageSize
    if (this.#used + size > this.#slab.length) {
      this.#seal()
      this.#slab = Buffer.alloc(Math.max(SLAB_BYTES, size))
      this.#used = 0
    }
    const pgid = this.nextPgid
    this.nextPgid += pages
    const offset = this.#used
    this.#used += size
    this.#sinceYield += pages
    return { pgid, buf: this.#slab, offset, overflow: pages - 1 }
  }

  #seal(): void {
    if (this.#used > 0) this.#chunks.push(this.#slab.subarray(0, this.#used))
  }

  /** finish returns the pages written, in page order. */
  finish(): Buffer[] {
    this.#seal()
    this.#used = 0
    this.#slab = Buffer.alloc(0)
    return this.#chunks
  }

  async #maybeYield(): Promise<void> {
    if (this.#sinceYield < YIELD_EVERY) return
    this.#sinceYield = 0
    await new Promise((resolve) => setImmediate(resolve))
  }
}
