import { Buffer } from 'node:buffer'
import type { KeyValue } from '../messages/kv.ts'
import type { KeyRecord } from './key-record.ts'

/**
 * key-values: the output side of a read, stored records turned into the KeyValue messages a range (or a delete with
 * prevKv) answers.
 *
 * The rule callers rely on: every `key` and `value` handed out is a fresh copy of the stored bytes. A caller may keep
 * it, change it or hand it on; nothing it does reaches the store or any later answer. Records hold their bytes as
 * latin1 strings, which JS cannot alias, so the store itself is never exposed.
 *
 * The cost: one Buffer per field used to be made with `Buffer.from(string, 'latin1')`, 200 of them for a 100-key
 * read, and making the Buffer object (not copying the bytes) was most of a read's time. Here the bytes of one answer
 * are copied into a few large buffers (chunks of at most CHUNK_BYTES) and each field is a Buffer view onto its own
 * slice of a chunk: one native write per chunk, and per field only the view object. The messages stay plain objects
 * with data properties, so spread, `Object.keys`, JSON, `util.inspect`, `structuredClone` and vitest's `toEqual`
 * treat them as before. A lazy alternative (own accessor properties that copy on first read) was measured and
 * rejected: defining two own accessors per object costs as much as the two copies it saves (bench/PROFILES.md,
 * "Range reads").
 *
 * Sharing a chunk means: `kv.value.buffer` is the whole chunk, as a Node Buffer's `.buffer` is its shared pool, and a
 * view kept alive keeps its chunk (at most CHUNK_BYTES, or the one field that outgrew it) alive.
 */

/** CHUNK_BYTES bounds one shared buffer: what one kept field can hold alive, and what one flattened string can be. */
const CHUNK_BYTES = 64 * 1024

/**
 * DIRECT_BYTES: a field at least this long is written on its own rather than joined into the chunk's string first,
 * which saves V8 a copy when it flattens the joined string (a gain only for small fields).
 */
const DIRECT_BYTES = 1024

/** EMPTY is every empty key or value handed out: a zero-length Buffer, which no caller can change. */
export const EMPTY: Buffer = Buffer.alloc(0)

/** LatinWritable: Buffer's own latin1 encoder, which skips `write`'s encoding dispatch (as bytes.ts reads). */
type LatinWritable = Buffer & { latin1Write(s: string, offset: number): number }

type View = (chunk: ArrayBuffer, offset: number, length: number) => Buffer

/**
 * view makes a Buffer over part of a chunk without copying. Node's own Buffer class (`FastBuffer`, which is what
 * `Buffer[Symbol.species]` names) is the cheapest way in; where it is not that class the documented
 * `Buffer.from(arrayBuffer, offset, length)` does the same, a little slower.
 */
const view: View = (() => {
  const Fast = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species] as
    | (new (chunk: ArrayBuffer, offset: number, length: number) => Buffer)
    | undefined
  if (typeof Fast === 'function' && Fast.prototype === Buffer.prototype) {
    return (chunk, offset, length) => new Fast(chunk, offset, length)
  }
  return (chunk, offset, length) => Buffer.from(chunk, offset, length)
})()

/**
 * keyValues turns records into KeyValue messages, in order; with `keysOnly` every value is empty and no value byte is
 * read. Cost: O(records + bytes), with one allocation and about one native copy per CHUNK_BYTES of output.
 */
export function keyValues(records: readonly KeyRecord[], keysOnly: boolean): KeyValue[] {
  const n = records.length
  const out = new Array<KeyValue>(n)
  let i = 0
  while (i < n) {
    // One chunk holds records [i, end): as many as fit in CHUNK_BYTES, and at least one.
    let size = 0
    let end = i
    while (end < n) {
      const r = records[end]!
      const s = r.key.length + (keysOnly ? 0 : r.value.length)
      if (size > 0 && size + s > CHUNK_BYTES) break
      size += s
      end++
    }
    i = fillChunk(records, i, end, size, keysOnly, out)
  }
  return out
}

/**
 * fillChunk copies the bytes of records [start, end) into one new buffer of `size` bytes and sets `out[start..end)`
 * to messages whose fields view it. Every byte of the buffer is written (latin1 writes one byte per char), so its
 * uninitialised memory never reaches a caller.
 */
function fillChunk(records: readonly KeyRecord[], start: number, end: number, size: number, keysOnly: boolean, out: KeyValue[]): number {
  const buf = Buffer.allocUnsafe(size) as LatinWritable
  const chunk = buf.buffer as ArrayBuffer
  const base = buf.byteOffset
  // pending joins small fields into one string (a rope) written with one call at `pendingAt`.
  let pending = ''
  let pendingAt = 0
  let at = 0
  const put = (s: string): void => {
    if (s.length < DIRECT_BYTES) {
      if (pending === '') pendingAt = at
      pending += s
    } else {
      if (pending !== '') buf.latin1Write(pending, pendingAt)
      pending = ''
      buf.latin1Write(s, at)
    }
    at += s.length
  }
  for (let i = start; i < end; i++) {
    const r = records[i]!
    const keyAt = at
    put(r.key)
    let value = EMPTY
    if (!keysOnly && r.value !== '') {
      value = view(chunk, base + at, r.value.length)
      put(r.value)
    }
    out[i] = {
      key: r.key === '' ? EMPTY : view(chunk, base + keyAt, r.key.length),
      createRevision: r.createRevision,
      modRevision: r.modRevision,
      version: r.version,
      value,
      lease: r.lease,
    }
  }
  if (pending !== '') buf.latin1Write(pending, pendingAt)
  return end
}
