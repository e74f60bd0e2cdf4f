import { Buffer } from 'node:buffer'
import { freelistPage } from './freelist.ts'
import { metaPage } from './meta.ts'
import { BUCKET_LEAF_FLAG, branchEntrySize, leafEntrySize, writeBranch, writeLeaf, type BranchEntry, type LeafEntry } from './node.ts'
import { bucketValue, inlineBucketValue, inlineable } from './bucket.ts'
import { DEFAULT_PAGE_SIZE, PAGE_HEADER_SIZE, isPageSize, pagesFor } from './page.ts'

/**
 * writeBolt writes a whole bbolt file from a description of its buckets, in one pass: nodes bottom-up (leaves, then
 * the branches over them), each bucket after the buckets nested in it, then the freelist (empty: nothing is free in
 * a file written whole) and the two metas in front. The result is a list of chunks whose concatenation is the file.
 *
 * Leaves are packed full; bbolt splits them as usual when the file is later written to. Small buckets without nested
 * buckets are stored inline, as bbolt does. The work yields to the event loop every YIELD_EVERY pages.
 */

/** BoltItem is one entry of a bucket: a value, or a nested bucket. */
export type BoltItem =
  | { readonly key: Uint8Array; readonly value: Uint8Array; readonly bucket?: undefined }
  | { readonly key: Uint8Array; readonly bucket: BoltBucket; readonly value?: undefined }

/** BoltBucket is a bucket's entries, in strictly ascending key order (unsigned bytes). */
export type BoltBucket = readonly BoltItem[]

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

/** writeBolt returns the file whose root bucket holds `root` (whose items must all be buckets). */
export async function writeBolt(root: BoltBucket, options: WriteOptions = {}): Promise<Buffer[]> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
  if (!isPageSize(pageSize)) throw new RangeError(`pageSize must be a power of two from 512 to 65536, not ${pageSize}`)
  if (root.some((item) => item.bucket === undefined)) throw new TypeError('the root bucket holds buckets only')
  const writer = new Writer(pageSize)
  const rootPage = await writer.tree(await writer.entries(root))
  const txid = options.txid ?? 1n
  const meta = { pageSize, flags: 0, root: rootPage, sequence: 0n, freelist: FREELIST_PAGE, pgid: writer.nextPgid, txid }
  return [
    metaPage(0, meta, pageSize),
    metaPage(1, { ...meta, txid: txid + 1n }, pageSize),
    freelistPage(FREELIST_PAGE, [], pageSize),
    ...writer.chunks,
  ]
}

class Writer {
  readonly pageSize: number
  nextPgid = FIRST_DATA_PAGE
  readonly chunks: Buffer[] = []
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
      if (item.bucket === undefined) out[i] = { key: item.key, value: item.value, flags: 0 }
      else out[i] = { key: item.key, value: await this.bucket(item.bucket), flags: BUCKET_LEAF_FLAG }
    }
    return out
  }

  /** bucket writes a nested bucket and returns its value in the parent: inline when small, else its root page. */
  async bucket(items: BoltBucket): Promise<Buffer> {
    const entries = await this.entries(items)
    if (inlineable(entries, this.pageSize)) return inlineBucketValue(entries)
    return bucketValue(await this.tree(entries))
  }

  /** tree writes the leaves holding `entries` and the branches over them, and returns the root node's page. */
  async tree(entries: readonly LeafEntry[]): Promise<number> {
    let level: BranchEntry[] = []
    for (const group of this.#groups(entries, leafEntrySize)) {
      const { pgid, buf, overflow } = this.#allocate(group.bytes)
      writeLeaf(buf, 0, pgid, overflow, group.items)
      level.push({ key: group.items[0]?.key ?? new Uint8Array(), pgid })
      await this.#maybeYield()
    }
    while (level.length > 1) {
      const next: BranchEntry[] = []
      for (const group of this.#groups(level, branchEntrySize)) {
        const { pgid, buf, overflow } = this.#allocate(group.bytes)
        writeBranch(buf, 0, pgid, overflow, group.items)
        next.push({ key: group.items[0]!.key, pgid })
        await this.#maybeYield()
      }
      level = next
    }
    return level[0]!.pgid
  }

  /** #groups packs entries into nodes that fit a page; an entry too big for one page gets a node of its own. */
  *#groups<T>(entries: readonly T[], size: (e: T) => number): Generator<{ items: T[]; bytes: number }> {
    let items: T[] = []
    let bytes = PAGE_HEADER_SIZE
    for (const e of entries) {
      const s = size(e)
      if (items.length > 0 && bytes + s > this.pageSize) {
        yield { items, bytes }
        items = []
        bytes = PAGE_HEADER_SIZE
      }
      items.push(e)
      bytes += s
    }
    // An empty bucket still has a root node: a leaf with no elements.
    if (items.length > 0 || entries.length === 0) yield { items, bytes }
  }

  #allocate(bytes: number): { pgid: number; buf: Buffer; overflow: number } {
    const pages = pagesFor(bytes, this.pageSize)
    const pgid = this.nextPgid
    this.nextPgid += pages
    const buf = Buffer.alloc(pages * this.pageSize)
    this.chunks.push(buf)
    this.#sinceYield += pages
    return { pgid, buf, overflow: pages - 1 }
  }

  async #maybeYield(): Promise<void> {
    if (this.#sinceYield < YIELD_EVERY) return
    this.#sinceYield = 0
    await new Promise((resolve) => setImmediate(resolve))
  }
}
