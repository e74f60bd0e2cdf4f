import { Buffer } from 'node:buffer'
import { readFreelist } from './freelist.ts'
import { NO_FREELIST, readMeta, type Meta } from './meta.ts'
import { BUCKET_LEAF_FLAG, ELEMENT_SIZE, readBranch, readLeaf, type LeafEntry } from './node.ts'
import { BUCKET_HEADER_SIZE, readBucketHeader } from './bucket.ts'
import { DEFAULT_PAGE_SIZE, PAGE_HEADER_SIZE, PageFlag, isPageSize, readPageHeader } from './page.ts'

/**
 * BoltReader reads a bbolt file held in memory, trusting nothing in it: every page it follows must lie inside the
 * file, carry its own id in its header (which also catches a wrong page size), be of the kind its parent expects,
 * and be reached once only (a page reached twice means a cycle or a shared subtree). Keys must ascend within each
 * bucket. Any violation throws a BoltFormatError that names the page and the problem.
 */

/** BoltFormatError says why a file is not a valid bbolt database. */
export class BoltFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BoltFormatError'
  }
}

/** BoltEntry is a key and its value, or a nested bucket (then `bucket` is set and `value` is its raw header). */
export interface BoltEntry {
  readonly key: Buffer
  readonly value: Buffer
  readonly bucket: BoltBucketReader | undefined
}

export class BoltReader {
  readonly buf: Buffer
  readonly meta: Meta
  readonly pageSize: number
  readonly #visited = new Set<number>()
  /** @internal walked holds the root pages of the bucket trees already walked whole (their pages were checked). */
  readonly walked = new Set<number>()

  /**
   * The constructor checks the metas of `buf` (the file's bytes, nothing after them), picks the newest valid one and
   * checks the freelist; the trees are checked as they are walked.
   */
  constructor(buf: Buffer) {
    this.buf = buf
    if (buf.length < 2 * 512) throw new BoltFormatError(`the file is ${buf.length} bytes, too short for a bbolt database`)
    const first = readMeta(buf, 0)
    if ('problem' in first && first.problem.startsWith('no bbolt magic')) throw new BoltFormatError('not a bbolt database (no magic number)')
    // The second meta sits one page further; its position depends on the page size the first one states.
    const size = 'problem' in first ? DEFAULT_PAGE_SIZE : first.pageSize
    const second = isPageSize(size) ? readMeta(buf, size) : { problem: `page size ${size}` }
    const valid = [first, second].filter((m): m is Meta => !('problem' in m))
    if (valid.length === 0) throw new BoltFormatError(`both meta pages are invalid: ${(first as { problem: string }).problem}`)
    const meta = valid.reduce((a, b) => (b.txid > a.txid ? b : a))
    if (!isPageSize(meta.pageSize)) throw new BoltFormatError(`the meta page states a page size of ${meta.pageSize} bytes`)
    if (buf.length % meta.pageSize !== 0) {
      throw new BoltFormatError(`the file is ${buf.length} bytes, not a whole number of ${meta.pageSize}-byte pages (truncated?)`)
    }
    const pages = buf.length / meta.pageSize
    if (meta.pgid > pages) throw new BoltFormatError(`the meta page says the file has ${meta.pgid} pages, but it has ${pages} (truncated?)`)
    this.meta = meta
    this.pageSize = meta.pageSize
    for (const id of [0, 1]) {
      const header = readPageHeader(buf, id * this.pageSize)
      if (header.id !== id || (header.flags & PageFlag.meta) === 0) {
        throw new BoltFormatError(`page ${id} is not a meta page with id ${id} (wrong page size?)`)
      }
    }
    if (meta.freelist !== NO_FREELIST) this.freePages()
  }

  /** root is the root bucket, whose entries are the top-level buckets. */
  root(): BoltBucketReader {
    return new BoltBucketReader(this, this.meta.root, undefined, 'the root bucket')
  }

  /** freePages lists the pages the freelist names (empty for a file that keeps none). */
  freePages(): number[] {
    if (this.meta.freelist === NO_FREELIST) return []
    const { offset, count, end } = this.page(this.meta.freelist, PageFlag.freelist, 'the freelist', false)
    try {
      return readFreelist(this.buf, offset, count, end)
    } catch (err) {
      throw new BoltFormatError(`freelist page ${this.meta.freelist}: ${(err as Error).message}`)
    }
  }

  /**
   * page checks page `id` as a node of kind `flag` reached from `what`, and returns where it starts and ends.
   * With `once`, a page reached a second time is refused (a cycle).
   */
  page(id: number, flag: number, what: string, once = true): { offset: number; count: number; end: number } {
    if (id < 2) throw new BoltFormatError(`${what} points at page ${id}, a meta page`)
    if (id >= this.meta.pgid) throw new BoltFormatError(`${what} points at page ${id}, outside the file's ${this.meta.pgid} pages`)
    if (once) {
      if (this.#visited.has(id)) throw new BoltFormatError(`${what} points at page ${id}, which is already in use (a cycle)`)
      this.#visited.add(id)
    }
    const offset = id * this.pageSize
    const header = readPageHeader(this.buf, offset)
    if (header.id !== id) throw new BoltFormatError(`page ${id} says it is page ${header.id} (wrong page size or a corrupt page)`)
    if ((header.flags & flag) === 0) {
      throw new BoltFormatError(`page ${id}, reached from ${what}, has flags 0x${header.flags.toString(16)}, expected 0x${flag.toString(16)}`)
    }
    const end = offset + (1 + header.overflow) * this.pageSize
    if (id + 1 + header.overflow > this.meta.pgid) throw new BoltFormatError(`page ${id} overflows past the end of the file`)
    return { offset, count: header.count, end }
  }
}

/** BoltBucketReader walks one bucket's B+tree, in key order. */
export class BoltBucketReader {
  readonly #db: BoltReader
  readonly #root: number
  readonly #inline: Buffer | undefined
  readonly #name: string

  /** @internal a bucket rooted at page `root`, or inline in `inline` (a bucket value) when root is 0. */
  constructor(db: BoltReader, root: number, inline: Buffer | undefined, name: string) {
    this.#db = db
    this.#root = root
    this.#inline = inline
    this.#name = name
  }

  /** entries yields the bucket's entries in ascending key order. Each page is checked as it is reached. */
  *entries(): Generator<BoltEntry> {
    let last: Buffer | undefined
    for (const e of this.#node()) {
      if (last !== undefined && Buffer.compare(last, e.key as Buffer) >= 0) {
        throw new BoltFormatError(`${this.#name}: keys out of order`)
      }
      last = e.key as Buffer
      yield {
        key: e.key as Buffer,
        value: e.value as Buffer,
        bucket: (e.flags & BUCKET_LEAF_FLAG) !== 0 ? this.#nested(e.key as Buffer, e.value as Buffer) : undefined,
      }
    }
  }

  /** bucket finds a nested bucket by name; undefined when there is none (or the key holds a value). */
  bucket(name: string): BoltBucketReader | undefined {
    const key = Buffer.from(name, 'utf8')
    for (const e of this.entries()) {
      const c = Buffer.compare(e.key, key)
      if (c === 0) return e.bucket
      if (c > 0) return undefined
    }
    return undefined
  }

  #nested(key: Buffer, value: Buffer): BoltBucketReader {
    const name = `bucket "${key.toString('latin1')}"`
    let header
    try {
      header = readBucketHeader(value)
    } catch (err) {
      throw new BoltFormatError(`${name}: ${(err as Error).message}`)
    }
    if (header.root === 0) return new BoltBucketReader(this.#db, 0, value, name)
    return new BoltBucketReader(this.#db, header.root, undefined, name)
  }

  *#node(): Generator<LeafEntry> {
    for (const leaf of this.#leaves()) yield* this.#leaf(leaf.buf, leaf.offset, leaf.count, leaf.end)
  }

  /**
   * forEachEntry walks the bucket as entries() does, checking the same things, but hands each entry over as offsets
   * into `buf` instead of as objects: for buckets of millions of entries. `flags` has BUCKET_LEAF_FLAG for a nested
   * bucket. It lets the event loop run every `yieldEvery` entries.
   */
  async forEachEntry(
    fn: (buf: Buffer, keyAt: number, keySize: number, valueAt: number, valueSize: number, flags: number) => void,
    yieldEvery = Infinity,
  ): Promise<void> {
    let n = 0
    let lastBuf: Buffer | undefined
    let lastAt = 0
    let lastSize = 0
    for (const { buf, offset, count, end } of this.#leaves()) {
      if (offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * count > end) {
        throw new BoltFormatError(`a leaf page of ${this.#name}: its ${count} elements overrun the page`)
      }
      for (let i = 0; i < count; i++) {
        const at = offset + PAGE_HEADER_SIZE + ELEMENT_SIZE * i
        const flags = buf.readUInt32LE(at)
        const keyAt = at + buf.readUInt32LE(at + 4)
        const keySize = buf.readUInt32LE(at + 8)
        const valueSize = buf.readUInt32LE(at + 12)
        if (keyAt + keySize + valueSize > end) {
          throw new BoltFormatError(`a leaf page of ${this.#name}: element ${i} points past the end of its page`)
        }
        if (lastBuf !== undefined && lastBuf.compare(buf, keyAt, keyAt + keySize, lastAt, lastAt + lastSize) >= 0) {
          throw new BoltFormatError(`${this.#name}: keys out of order`)
        }
        lastBuf = buf
        lastAt = keyAt
        lastSize = keySize
        fn(buf, keyAt, keySize, keyAt + keySize, valueSize, flags)
        if (++n % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    }
  }

  /** #leaves yields the bucket's leaf pages in key order: where each starts and ends, and its element count. */
  *#leaves(): Generator<{ buf: Buffer; offset: number; count: number; end: number }> {
    if (this.#inline !== undefined) {
      const page = this.#inline
      if (page.length < BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE) throw new BoltFormatError(`${this.#name}: inline page is truncated`)
      const header = readPageHeader(page, BUCKET_HEADER_SIZE)
      if ((header.flags & PageFlag.leaf) === 0) throw new BoltFormatError(`${this.#name}: inline page is not a leaf`)
      yield { buf: page, offset: BUCKET_HEADER_SIZE, count: header.count, end: page.length }
      return
    }
    // A tree walked whole once had every page checked for reuse; later walks of it skip that check.
    const again = this.#db.walked.has(this.#root)
    yield* this.#walk(this.#root, this.#name, again)
    this.#db.walked.add(this.#root)
  }

  *#walk(pgid: number, from: string, again: boolean): Generator<{ buf: Buffer; offset: number; count: number; end: number }> {
    const db = this.#db
    const { offset, count, end } = db.page(pgid, PageFlag.branch | PageFlag.leaf, from, !again)
    const flags = readPageHeader(db.buf, offset).flags
    if ((flags & PageFlag.leaf) !== 0) {
      yield { buf: db.buf, offset, count, end }
      return
    }
    let children
    try {
      children = readBranch(db.buf, offset, count, end)
    } catch (err) {
      throw new BoltFormatError(`branch page ${pgid} of ${this.#name}: ${(err as Error).message}`)
    }
    if (children.length === 0) throw new BoltFormatError(`branch page ${pgid} of ${this.#name} has no children`)
    for (const child of children) yield* this.#walk(child.pgid, `branch page ${pgid} of ${this.#name}`, again)
  }

  #leaf(buf: Buffer, offset: number, count: number, end: number): LeafEntry[] {
    try {
      return readLeaf(buf, offset, count, end)
    } catch (err) {
      throw new BoltFormatError(`a leaf page of ${this.#name}: ${(err as Error).message}`)
    }
  }
}
