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
 * planBolt lays out a whole bbolt file from a description of its buckets, then streams it front to back. The plan
 * (a sizing pass) decides every node's pages before any page is written: nodes bottom-up (leaves, then the branches
 * over them), each bucket after the buckets nested in it. So the page count and the root's page, which the two metas
 * at the front of the file name, are known first, and the file is emitted in page order (metas, the freelist, then
 * the nodes) in chunks as they are written, never whole in memory.
 *
 * Leaves are packed full; bbolt splits them as usual when the file is later written to. Small buckets without nested
 * buckets are stored inline, as bbolt does. The freelist is empty: nothing is free in a file written whole.
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

/** BoltFile is a planned file: its size, known before a byte is written, and its bytes in page order. */
export interface BoltFile {
  /** size of the file in bytes (its pages). */
  readonly size: number
  /**
   * chunks writes the file front to back: chunks of whole pages, each a new Buffer the caller may keep (about
   * CHUNK_BYTES each; a node larger than that gets a chunk of its own). Entry sources are read as it goes.
   */
  chunks(): AsyncGenerator<Buffer, void, undefined>
}

/** FIRST_DATA_PAGE: pages 0 and 1 are the metas, page 2 the freelist. */
const FIRST_DATA_PAGE = 3
const FREELIST_PAGE = 2
/** CHUNK_BYTES: the size of the chunks a file is emitted in. */
const CHUNK_BYTES = 1 << 20
/** YIELD_EVERY_BYTES: written between two turns of the event loop. */
const YIELD_EVERY_BYTES = 8 << 20

/** PlannedNode is one node of the file: a leaf over entries [from, to) of a source, or a branch. */
type PlannedNode =
  | { readonly leaf: EntrySource; readonly from: number; readonly to: number; readonly pgid: number; readonly pages: number }
  | { readonly leaf?: undefined; readonly branch: readonly BranchEntry[]; readonly pgid: number; readonly pages: number }

/** planBolt plans the file whose root bucket holds `root` (whose items must all be buckets). */
export async function planBolt(root: BoltBucket, options: WriteOptions = {}): Promise<BoltFile> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
  if (!isPageSize(pageSize)) throw new RangeError(`pageSize must be a power of two from 512 to 65536, not ${pageSize}`)
  if (root.some((item) => item.value !== undefined)) throw new TypeError('the root bucket holds buckets only')
  const plan = new Planner(pageSize)
  const rootPage = await plan.tree(arraySource(await plan.entries(root)))
  const txid = options.txid ?? 1n
  const meta = { pageSize, flags: 0, root: rootPage, sequence: 0n, freelist: FREELIST_PAGE, pgid: plan.nextPgid, txid }
  const nodes = plan.nodes
  return {
    size: plan.nextPgid * pageSize,
    async *chunks() {
      yield Buffer.concat([metaPage(0, meta, pageSize), metaPage(1, { ...meta, txid: txid + 1n }, pageSize), freelistPage(FREELIST_PAGE, [], pageSize)])
      yield* emit(nodes, pageSize)
    },
  }
}

/** writeBolt returns the whole file planBolt streams, as a list of chunks. */
export async function writeBolt(root: BoltBucket, options: WriteOptions = {}): Promise<Buffer[]> {
  const chunks: Buffer[] = []
  for await (const chunk of (await planBolt(root, options)).chunks()) chunks.push(chunk)
  return chunks
}

/**
 * emit writes planned nodes (in page order, from page FIRST_DATA_PAGE on) into chunks. Chunks are not zeroed when
 * allocated: each node zeroes what it leaves unwritten of its pages.
 */
async function* emit(nodes: readonly PlannedNode[], pageSize: number): AsyncGenerator<Buffer, void, undefined> {
  let chunk = Buffer.alloc(0)
  let used = 0
  let sinceYield = 0
  let expected = FIRST_DATA_PAGE
  for (const node of nodes) {
    if (node.pgid !== expected) throw new Error(`bbolt writer: node planned at page ${node.pgid}, expected ${expected}`)
    expected += node.pages
    const size = node.pages * pageSize
    if (used + size > chunk.length) {
      if (used > 0) yield chunk.subarray(0, used)
      sinceYield += used
      if (sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0
        await new Promise((resolve) => setImmediate(resolve))
      }
      chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, size))
      used = 0
    }
    const end = node.leaf !== undefined
      ? writeLeaf(chunk, used, node.pgid, node.pages - 1, node.leaf, node.from, node.to)
      : writeBranch(chunk, used, node.pgid, node.pages - 1, node.branch)
    used += size
    chunk.fill(0, end, used)
  }
  if (used > 0) yield chunk.subarray(0, used)
}

/** Planner assigns pages to nodes, in the order the file holds them. */
class Planner {
  readonly pageSize: number
  nextPgid = FIRST_DATA_PAGE
  readonly nodes: PlannedNode[] = []

  constructor(pageSize: number) {
    this.pageSize = pageSize
  }

  /** entries turns a bucket's items into leaf entries, planning nested buckets first. */
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

  /** bucket plans a nested bucket and returns its value in the parent: inline when small, else its root page. */
  async bucket(source: EntrySource): Promise<Buffer> {
    if (inlineable(source, this.pageSize)) return inlineBucketValue(source)
    return bucketValue(await this.tree(source))
  }

  /** tree plans the leaves holding `source`'s entries and the branches over them, and returns the root's page. */
  async tree(source: EntrySource): Promise<number> {
    let level: BranchEntry[] = []
    let from = 0
    let planned = 0
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
      const pgid = this.#allocate(bytes)
      this.nodes.push({ leaf: source, from, to, pgid, pages: this.nextPgid - pgid })
      level.push({ key: from < to ? source.key(from) : new Uint8Array(), pgid })
      planned += to - from
      from = to
      if (planned >= 100_000) {
        planned = 0
        await new Promise((resolve) => setImmediate(resolve))
      }
    } while (from < source.length)
    while (level.length > 1) {
      const next: BranchEntry[] = []
      for (const group of this.#groups(level)) {
        const pgid = this.#allocate(group.bytes)
        this.nodes.push({ branch: group.items, pgid, pages: this.nextPgid - pgid })
        next.push({ key: group.items[0]!.key, pgid })
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

  /** #allocate takes the next pages for a node of `bytes` bytes and returns the first. */
  #allocate(bytes: number): number {
    const pgid = this.nextPgid
    this.nextPgid += pagesFor(bytes, this.pageSize)
    return pgid
  }
}
