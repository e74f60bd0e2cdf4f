import { concatBytes, indexOfBytes, prefixEnd, startsWith } from './bytes.ts'
import type { EtcdClient, KeyValue } from './etcd-client.ts'

/**
 * Key listings for the browser, paged on the server: each page is a few range requests with a limit, keys only, and
 * a continuation key says where the next page starts. The pages come from the console's /ui/api/range, which stops
 * counting just past the page, so opening a store of a million keys costs the same as opening one of a hundred: no
 * listing reads more than it shows (plus one batch).
 */

/** Entry is one row: a key (leaf) or a directory (every key under `prefix`). */
export interface Entry {
  readonly kind: 'key' | 'dir'
  /** name is the part below the parent (a directory's ends with the separator). */
  readonly name: Uint8Array
  /** full is the key, or the directory's prefix. */
  readonly full: Uint8Array
  readonly kv?: KeyValue
}

export interface Page {
  readonly entries: Entry[]
  /** next is where the following page starts; undefined on the last page. */
  readonly next: Uint8Array | undefined
}

/** BATCH is how many keys one range request reads. */
const BATCH = 256

/** afterKey is the first key after `key` in byte order. */
function afterKey(key: Uint8Array): Uint8Array {
  return concatBytes(key, Uint8Array.of(0))
}

/** startOf is where a listing of `prefix` begins: etcd has no empty key, so "every key" starts at "\0". */
function startOf(prefix: Uint8Array): Uint8Array {
  return prefix.length === 0 ? Uint8Array.of(0) : prefix
}

function rangeEndOf(prefix: Uint8Array): Uint8Array {
  return prefix.length === 0 ? Uint8Array.of(0) : prefixEnd(prefix)
}

/**
 * listChildren lists the children of `parent` in a tree split on `separator`: keys directly below it, and one entry
 * per directory. A directory's subtree is skipped with one request (the next range starts at the directory's
 * prefix end), so a page costs about one request per directory shown, whatever the directories hold.
 */
export async function listChildren(
  client: EtcdClient,
  parent: Uint8Array,
  separator: Uint8Array,
  opts: { from?: Uint8Array; revision?: number; pageSize: number },
): Promise<Page> {
  const end = rangeEndOf(parent)
  const entries: Entry[] = []
  let from = opts.from ?? startOf(parent)
  for (;;) {
    const r = await client.page({ key: from, rangeEnd: end, limit: BATCH, keysOnly: true, revision: opts.revision ?? 0 })
    for (const kv of r.kvs) {
      const last = entries[entries.length - 1]
      if (last?.kind === 'dir' && startsWith(kv.key, last.full)) continue
      if (entries.length >= opts.pageSize) return { entries, next: kv.key }
      const rest = kv.key.subarray(parent.length)
      const at = indexOfBytes(rest, separator, 0)
      if (at < 0) {
        entries.push({ kind: 'key', name: rest, full: kv.key, kv })
        from = afterKey(kv.key)
        continue
      }
      const dir = kv.key.slice(0, parent.length + at + separator.length)
      entries.push({ kind: 'dir', name: dir.subarray(parent.length), full: dir })
      from = prefixEnd(dir)
    }
    if (!r.more) return { entries, next: undefined }
    if (entries.length >= opts.pageSize) return { entries, next: from }
  }
}

/** listFlat lists every key under `prefix` in byte order, `pageSize` at a time. */
export async function listFlat(
  client: EtcdClient,
  prefix: Uint8Array,
  opts: { from?: Uint8Array; revision?: number; pageSize: number },
): Promise<Page> {
  const r = await client.page({
    key: opts.from ?? startOf(prefix),
    rangeEnd: rangeEndOf(prefix),
    limit: opts.pageSize,
    keysOnly: true,
    revision: opts.revision ?? 0,
  })
  const entries: Entry[] = r.kvs.map((kv) => ({ kind: 'key', name: kv.key, full: kv.key, kv }))
  const lastKey = r.kvs[r.kvs.length - 1]?.key
  return { entries, next: r.more && lastKey !== undefined ? afterKey(lastKey) : undefined }
}
