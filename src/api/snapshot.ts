import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EtcdError } from '../util/errors.ts'
import type { StoredAuth } from '../auth/auth-store.ts'
import type { MemberInfo, SnapshotContents } from '../etcd-snapshot/contents.ts'
import { invalid, isBolt, readEtcdSnapshot, scanEtcdSnapshot, type ReadOptions } from '../etcd-snapshot/read.ts'
import { etcdSnapshotFile } from '../etcd-snapshot/write.ts'
import type { Lessor } from '../lease/lessor.ts'
import { FORMAT, type BackendOp, type StoredLease, type StoredMeta } from '../mvcc/backend/backend.ts'
import { ChunkEncoder, decodeLease, decodeRecord } from '../mvcc/backend/encoding.ts'
import { LevelBackend } from '../mvcc/backend/level-backend.ts'
import type { KeyRecord } from '../mvcc/key-record.ts'
import { sortByRevision } from '../mvcc/sort-by-revision.ts'
import type { MvccStore } from '../mvcc/store.ts'

/**
 * A snapshot is a consistent copy of a live store as etcd 3.4 makes it: a bbolt database in etcd's layout (see
 * src/etcd-snapshot/layout.ts) followed by its SHA-256. `etcdctl snapshot status` and `etcdctl snapshot restore` read
 * it, and a real etcd starts from the restored directory with the same keys, history, leases and auth.
 *
 * It holds every revision the store still has (history since the last compaction), every lease and the auth state,
 * as of the revision it started at. Writes go on while the records are gathered; compaction waits for it.
 *
 * Restoring accepts that format, a real etcd 3.4 snapshot (with or without the SHA-256), and etcdlite's earlier
 * format:
 *
 *   header   one line of JSON: {"format":"etcdlite-snapshot","version":1,"rev":R,"compactRev":C}
 *   frames   kind(1) keyLength(4) key valueLength(4) value, with the backend's own encodings: kind 'r' a record,
 *            kind 'l' a lease, kind 's' a named state blob (the auth state)
 *   trailer  kind 0xff, then the SHA-256 of every byte before it
 */

const LEGACY_FORMAT = 'etcdlite-snapshot'
const LEGACY_VERSION = 1
const KIND_RECORD = 0x72
const KIND_LEASE = 0x6c
const KIND_STATE = 0x73
const KIND_END = 0xff
/** KEYS_PER_CHUNK bounds the work between two yields to the event loop. */
const KEYS_PER_CHUNK = 5000
/** RECORDS_PER_CHUNK: records per checkpoint entry a restore writes. */
const RECORDS_PER_CHUNK = 8192
/** OPS_PER_BATCH bounds a restore's backend batches. */
const OPS_PER_BATCH = 10_000
/** AUTH_STATE names the auth state's blob in the backend (and in etcdlite's earlier snapshots). */
export const AUTH_STATE = 'auth'

/** SnapshotSource is what `restoreFrom` takes: a snapshot's bytes, as a stream, a buffer, or a file path. */
export type SnapshotSource = AsyncIterable<Uint8Array> | Uint8Array | string

/** SnapshotExtras are what a snapshot holds beside the store and the leases. */
export interface SnapshotExtras {
  readonly auth: StoredAuth
  /** member is recorded in the `members` bucket, as etcd records its members. */
  readonly member: MemberInfo
}

/**
 * SnapshotStream is a snapshot's bytes as they are written: chunks of a new Buffer each (the caller may keep them),
 * the database first and its SHA-256 last, as a chunk of its own.
 */
export interface SnapshotStream extends AsyncIterable<Uint8Array> {
  /**
   * size is the snapshot's length in bytes, database and SHA-256: undefined until the first chunk has been handed
   * out (the records are gathered and the file is laid out before it), exact from then on.
   */
  readonly size: number | undefined
}

/**
 * snapshotStream streams a consistent snapshot of `store` and `lessor` (see above), as of the revision at the call:
 * the revision, the leases and the auth state are taken at once, the records as the stream is first read. The
 * records are immutable and gathered before the file is laid out, so writes go on while it streams.
 */
export function snapshotStream(store: MvccStore, lessor: Lessor, extras: SnapshotExtras): SnapshotStream {
  const rev = store.rev
  const leases = lessor.ids().map((id) => ({ id, ttl: lessor.get(id)!.ttl }))
  let size: number | undefined
  const chunks = async function* (): AsyncGenerator<Uint8Array, void, undefined> {
    const { compactRev, records } = await retainedRecords(store, rev)
    // Gathered with compaction held, the records are exactly what the store keeps after it: the compaction is finished.
    const file = await etcdSnapshotFile({ rev, compactRev, finishedCompactRev: compactRev, records, leases, auth: extras.auth }, extras.member)
    size = file.size
    yield* file.chunks()
  }
  // One snapshot, read once: a second loop over it continues the first.
  const stream = chunks()
  return {
    get size() {
      return size
    },
    [Symbol.asyncIterator]: () => stream,
  }
}

/**
 * retainedRecords gathers every record the store keeps up to `rev`, in revision order, with compaction held. The
 * history log has them in order from the compact revision on; below it, compaction kept each key's newest version
 * (when not a tombstone), which only the key index holds: those are found by walking it and sorted. A store never
 * compacted needs no walk and no sort.
 */
async function retainedRecords(store: MvccStore, rev: number): Promise<{ compactRev: number; records: KeyRecord[] }> {
  let compactRev = -1
  let newer: KeyRecord[] = []
  const older: KeyRecord[] = []
  for await (const step of walkRecords(store, rev, (r) => r.modRevision < compactRev)) {
    if (step.records === undefined) {
      compactRev = step.compactRev
      newer = store.readHistory(compactRev, rev, Infinity)
      if (compactRev <= 1) break
    } else for (const r of step.records) older.push(r)
  }
  if (older.length === 0) return { compactRev, records: newer }
  const records = sortByRevision(older)
  for (const r of newer) records.push(r)
  return { compactRev, records }
}

/**
 * walkRecords walks every record of the store up to `rev` that `keep` accepts, key by key (each key's records in
 * order), in chunks, yielding to the event loop between them. Compaction is held while it walks, so the walk is consistent; the
 * first step reports the compact revision it saw. Writes go on meanwhile (their revisions are above `rev`).
 */
export async function* walkRecords(
  store: MvccStore,
  rev: number,
  keep: (record: KeyRecord) => boolean = () => true,
): AsyncGenerator<{ compactRev: number; records?: undefined } | { compactRev?: undefined; records: KeyRecord[] }> {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const started = new Promise<void>((resolve) => void store.exclusive(() => (resolve(), held)))
  try {
    await started
    // Read once compaction is held: a compaction that ran before removed history below its revision.
    yield { compactRev: store.compactRev }
    // Page by key: writes between pages add keys and split tree nodes, which would derail an open iterator.
    let after: string | undefined
    for (;;) {
      const page = store.index.page(after, KEYS_PER_CHUNK)
      if (page.length === 0) break
      after = page[page.length - 1]!.key
      const records: KeyRecord[] = []
      for (const ki of page) for (const r of ki.records) if (r.modRevision <= rev && keep(r)) records.push(r)
      if (records.length > 0) yield { records }
      await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    release()
  }
}

/**
 * readSnapshot reads a snapshot of any accepted format (see above) into its contents, checking it whole first.
 * @throws EtcdError ETCD_SNAPSHOT_INVALID naming the problem.
 */
export async function readSnapshot(source: SnapshotSource, options: ReadOptions = {}): Promise<SnapshotContents> {
  const bytes = await readAll(source)
  if (isBolt(bytes)) return readEtcdSnapshot(bytes, options)
  if (bytes[0] === 0x7b) return readLegacy(bytes)
  throw invalid('not an etcdlite snapshot nor an etcd snapshot (no bbolt magic number)')
}

/** RestoreOptions: ReadOptions, and `progress`, told the bytes written so far and in all as the records go to disk. */
export interface RestoreOptions extends ReadOptions {
  readonly progress?: (written: number, total: number) => void
}

/** RestoreSummary says what a restore wrote. */
export interface RestoreSummary {
  readonly rev: number
  /** compactRev is the snapshot's last compaction, -1 when none. */
  readonly compactRev: number
  /** records is the number of records of history. */
  readonly records: number
  readonly leases: number
}

/**
 * restoreSnapshot writes a snapshot into a new data directory and says what it restored; the directory must be
 * empty or absent (anything else is refused with ETCD_DATA_DIR_INVALID). Open the directory afterwards as usual.
 * The snapshot is read and checked whole before anything is written; a snapshot that is refused, or a write that
 * fails, leaves the directory as it was (absent, or empty).
 */
export async function restoreSnapshot(source: SnapshotSource, dir: string, options: RestoreOptions = {}): Promise<RestoreSummary> {
  const existed = existsSync(dir)
  if (existed && readdirSync(dir).length > 0) {
    throw new EtcdError('ETCD_DATA_DIR_INVALID', `etcdlite: cannot restore into ${dir}: it is not empty`)
  }
  const { contents, chunks, records } = await encodeSnapshot(await readAll(source), options)
  try {
    await writeContents(contents, chunks, dir, options.progress)
  } catch (err) {
    if (existed) for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true })
    else rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return { rev: contents.rev, compactRev: contents.compactRev, records, leases: contents.leases.length }
}

/**
 * encodeSnapshot checks a snapshot whole and turns its records into checkpoint chunks (the backend's encoding). An
 * etcd snapshot's records go from its pages into the chunks byte for byte, without an object or a string each.
 */
async function encodeSnapshot(
  bytes: Buffer,
  options: ReadOptions,
): Promise<{ contents: Omit<SnapshotContents, 'records'>; chunks: Buffer[]; records: number }> {
  const encoder = new ChunkEncoder(RECORDS_PER_CHUNK)
  let records = 0
  let contents: Omit<SnapshotContents, 'records'>
  if (isBolt(bytes)) {
    contents = await scanEtcdSnapshot(bytes, options, (buf, main, sub, kv) => {
      encoder.addBytes(main, sub, kv.version === 0, kv.createRevision, kv.version, kv.lease, buf, kv.keyAt, kv.keyEnd, kv.valueAt, kv.valueEnd)
      records++
    })
  } else {
    const all = await readSnapshot(bytes, options)
    for (const r of all.records) encoder.addRecord(r)
    records = all.records.length
    contents = all
  }
  return { contents, chunks: encoder.finish(), records }
}

/**
 * writeContents writes a restored store as a checkpoint file (read back fast on open) with a meta
 * naming it, then the leases and the auth state. A compaction the source had not finished is left for the open to
 * finish: the meta and the checkpoint say which compaction the records reflect.
 */
async function writeContents(
  contents: Omit<SnapshotContents, 'records'>,
  chunks: readonly Buffer[],
  dir: string,
  progress?: (written: number, total: number) => void,
): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const backend = await LevelBackend.open(dir)
  try {
    const id = 1
    await backend.writeCheckpointFile(id, chunks, progress)
    let batch: BackendOp[] = []
    for (const lease of contents.leases) {
      batch.push({ kind: 'lease', lease })
      if (batch.length >= OPS_PER_BATCH) {
        await backend.write(batch, false)
        batch = []
      }
    }
    if (contents.auth !== undefined) {
      batch.push({ kind: 'state', name: AUTH_STATE, value: Buffer.from(JSON.stringify(contents.auth), 'utf8') })
    }
    const checkpoint = { id, rev: contents.rev, chunks: chunks.length, compactRev: contents.finishedCompactRev, file: true }
    const meta: StoredMeta = { format: FORMAT, rev: contents.rev, compactRev: contents.compactRev, finishedCompactRev: contents.finishedCompactRev, checkpoint }
    batch.push({ kind: 'meta', meta })
    await backend.write(batch, true)
  } finally {
    await backend.close()
  }
}

/**
 * loadSnapshot loads a snapshot's contents into an empty in-memory store and lessor, as a data directory is read
 * back on open: the records in chunks (letting the event loop run between them), the revisions, the leases (with
 * their granted TTL, counting from now) and their keys. A compaction the source had not finished is finished here.
 * The auth state is the caller's to restore.
 */
export async function loadSnapshot(contents: SnapshotContents, store: MvccStore, lessor: Lessor): Promise<void> {
  await loadRecords(contents, store)
  for (const lease of contents.leases) lessor.restore(lease.id, lease.ttl)
  attachLeaseKeys(store, lessor)
}

/** loadRecords loads a snapshot's records and revisions into an empty store (see loadSnapshot), leases aside. */
export async function loadRecords(contents: SnapshotContents, store: MvccStore): Promise<void> {
  const records = contents.records
  for (let i = 0; i < records.length; i += RECORDS_PER_CHUNK) {
    store.load(records.slice(i, i + RECORDS_PER_CHUNK))
    await new Promise((resolve) => setImmediate(resolve))
  }
  store.restoreRevisions(contents.rev, contents.compactRev)
  if (contents.finishedCompactRev < contents.compactRev) await store.finishCompaction(contents.compactRev)
}

/** attachLeaseKeys attaches each live key to its lease in the lessor, as loaded. */
export function attachLeaseKeys(store: MvccStore, lessor: Lessor): void {
  for (const ki of store.index.values()) {
    const lease = ki.live ? ki.latest.lease : 0n
    if (lease !== 0n) lessor.attach(lease, ki.key)
  }
}

/** readLegacy reads etcdlite's earlier snapshot format (see above), checking its checksum first. */
function readLegacy(bytes: Buffer): SnapshotContents {
  const newline = bytes.indexOf(0x0a)
  const header = newline > 0 ? parseLegacyHeader(bytes.subarray(0, newline)) : undefined
  if (header === undefined) throw invalid('not an etcdlite snapshot nor an etcd snapshot (no bbolt magic number)')
  const end = bytes.length - 33
  if (end < newline + 1 || bytes[end] !== KIND_END) throw invalid('the etcdlite snapshot is truncated')
  const digest = createHash('sha256').update(bytes.subarray(0, end)).digest()
  if (!digest.equals(bytes.subarray(end + 1))) throw invalid('the etcdlite snapshot is corrupt (checksum mismatch)')
  const records: KeyRecord[] = []
  const leases: StoredLease[] = []
  let auth: StoredAuth | undefined
  for (let at = newline + 1; at < end; ) {
    if (at + 9 > end) throw invalid('the etcdlite snapshot is corrupt (a frame runs past its end)')
    const kind = bytes[at]!
    const keyLength = bytes.readUInt32BE(at + 1)
    const key = bytes.subarray(at + 5, at + 5 + keyLength)
    const valueLength = bytes.readUInt32BE(at + 5 + keyLength)
    const value = bytes.subarray(at + 9 + keyLength, at + 9 + keyLength + valueLength)
    at += 9 + keyLength + valueLength
    if (at > end) throw invalid('the etcdlite snapshot is corrupt (a frame runs past its end)')
    if (kind === KIND_RECORD) records.push(decodeRecord(key, value))
    else if (kind === KIND_LEASE) leases.push(decodeLease(key, value))
    else if (kind === KIND_STATE && key.toString('utf8') === AUTH_STATE) auth = JSON.parse(value.toString('utf8')) as StoredAuth
    else throw invalid('the etcdlite snapshot is corrupt (unknown frame)')
  }
  // Written from a walk that held compaction: the records are already compacted.
  return { rev: header.rev, compactRev: header.compactRev, finishedCompactRev: header.compactRev, records: sortByRevision(records), leases, auth }
}

function parseLegacyHeader(line: Buffer): { rev: number; compactRev: number } | undefined {
  let h: { format?: unknown; version?: unknown; rev?: unknown; compactRev?: unknown }
  try {
    h = JSON.parse(line.toString('utf8')) as typeof h
  } catch {
    return undefined
  }
  if (h.format !== LEGACY_FORMAT || typeof h.rev !== 'number' || typeof h.compactRev !== 'number') return undefined
  if (typeof h.version !== 'number' || h.version > LEGACY_VERSION) throw invalid('the snapshot was written by a newer etcdlite')
  return { rev: h.rev, compactRev: h.compactRev }
}

/** readAll reads a snapshot source whole into memory (a buffer is used as it is, not copied). */
export async function readAll(source: SnapshotSource): Promise<Buffer> {
  if (typeof source === 'string') return readFile(source)
  if (source instanceof Uint8Array) return Buffer.from(source.buffer, source.byteOffset, source.byteLength)
  const chunks: Buffer[] = []
  for await (const chunk of source) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}
