import { createHash } from 'node:crypto'
import { Buffer } from 'node:buffer'
import { createReadStream } from 'node:fs'
import type { Lessor } from '../lease/lessor.ts'
import { FORMAT, type BackendOp, type StoredMeta } from '../mvcc/backend/backend.ts'
import { decodeLease, decodeRecord, encodeLease, encodeRecord, leaseKey, recordKey } from '../mvcc/backend/encoding.ts'
import { LevelBackend } from '../mvcc/backend/level-backend.ts'
import type { KeyRecord } from '../mvcc/key-record.ts'
import type { MvccStore } from '../mvcc/store.ts'

/**
 * A snapshot is a consistent copy of a live store, as a byte stream:
 *
 *   header   one line of JSON: {"format":"etcdlite-snapshot","version":1,"rev":R,"compactRev":C}
 *   frames   kind(1) keyLength(4) key valueLength(4) value, with the backend's own encodings: kind 'r' a record,
 *            kind 'l' a lease
 *            kind 's' a named state blob (the auth state: users, roles, whether auth is on)
 *   trailer  kind 0xff, then the SHA-256 of every byte before it
 *
 * It holds every revision the store still has (history since the last compaction) and every lease, as of the
 * revision it started at. Writes go on while it streams; compaction waits for it.
 */

const SNAPSHOT_FORMAT = 'etcdlite-snapshot'
const VERSION = 1
const KIND_RECORD = 0x72
const KIND_LEASE = 0x6c
const KIND_STATE = 0x73
const KIND_END = 0xff
/** KEYS_PER_CHUNK bounds the work between two yields to the event loop. */
const KEYS_PER_CHUNK = 5000

/** SnapshotSource is what `restoreFrom` takes: a snapshot's bytes, as a stream, a buffer, or a file path. */
export type SnapshotSource = AsyncIterable<Uint8Array> | Uint8Array | string

/**
 * snapshotStream streams a consistent snapshot of `store` and `lessor` (see above), as of the revision at the call:
 * the revision and the leases are taken at once, the records as the stream is read.
 */
export function snapshotStream(
  store: MvccStore,
  lessor: Lessor,
  states: readonly NamedState[] = [],
): AsyncGenerator<Uint8Array, void, undefined> {
  const rev = store.rev
  const leases = lessor.ids().map((id) => ({ id, ttl: lessor.get(id)!.ttl }))
  return streamRecords(store, rev, leases, states)
}

/** NamedState is a state blob kept beside the store (the auth state), snapshotted and restored whole. */
export interface NamedState {
  readonly name: string
  readonly value: Uint8Array
}

async function* streamRecords(
  store: MvccStore,
  rev: number,
  leases: { id: bigint; ttl: number }[],
  states: readonly NamedState[],
): AsyncGenerator<Uint8Array, void, undefined> {
  const hash = createHash('sha256')
  const out = (chunk: Buffer): Buffer => {
    hash.update(chunk)
    return chunk
  }
  for await (const step of walkRecords(store, rev)) {
    if (step.compactRev !== undefined) {
      yield out(Buffer.from(JSON.stringify({ format: SNAPSHOT_FORMAT, version: VERSION, rev, compactRev: step.compactRev }) + '\n'))
      const frames = leases.map((lease) => frame(KIND_LEASE, leaseKey(lease.id), encodeLease(lease)))
      for (const s of states) frames.push(frame(KIND_STATE, Buffer.from(s.name, 'utf8'), Buffer.from(s.value)))
      if (frames.length > 0) yield out(Buffer.concat(frames))
      continue
    }
    yield out(Buffer.concat(step.records.map((r) => frame(KIND_RECORD, recordKey(r.modRevision, r.sub), encodeRecord(r)))))
  }
  yield Buffer.concat([Buffer.from([KIND_END]), hash.digest()])
}

/**
 * walkRecords walks every record of the store up to `rev`, key by key (each key's records in order), in chunks,
 * yielding to the event loop between them. Compaction is held while it walks, so the walk is consistent; the
 * first step reports the compact revision it saw. Writes go on meanwhile (their revisions are above `rev`).
 */
export async function* walkRecords(
  store: MvccStore,
  rev: number,
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
      for (const ki of page) for (const r of ki.records) if (r.modRevision <= rev) records.push(r)
      if (records.length > 0) yield { records }
      await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    release()
  }
}

function frame(kind: number, key: Buffer, value: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5)
  head[0] = kind
  head.writeUInt32BE(key.length, 1)
  const mid = Buffer.allocUnsafe(4)
  mid.writeUInt32BE(value.length, 0)
  return Buffer.concat([head, key, mid, value])
}

/**
 * restoreSnapshot writes a snapshot into a new data directory, checking its checksum; the directory must be empty
 * or absent. Open the directory afterwards as usual. A corrupt or truncated snapshot is refused and leaves nothing
 * behind but the empty directory.
 */
export async function restoreSnapshot(source: SnapshotSource, dir: string): Promise<void> {
  const bytes = await readAll(source)
  const newline = bytes.indexOf(0x0a)
  const header = newline > 0 ? parseHeader(bytes.subarray(0, newline)) : undefined
  if (header === undefined) throw new TypeError('restoreFrom: not an etcdlite snapshot')
  const end = bytes.length - 33
  if (end < newline + 1 || bytes[end] !== KIND_END) throw new TypeError('restoreFrom: the snapshot is truncated')
  const digest = createHash('sha256').update(bytes.subarray(0, end)).digest()
  if (!digest.equals(bytes.subarray(end + 1))) throw new TypeError('restoreFrom: the snapshot is corrupt (checksum mismatch)')

  const backend = await LevelBackend.open(dir)
  try {
    let batch: BackendOp[] = []
    for (let at = newline + 1; at < end; ) {
      const kind = bytes[at]!
      const keyLength = bytes.readUInt32BE(at + 1)
      const key = bytes.subarray(at + 5, at + 5 + keyLength)
      const valueLength = bytes.readUInt32BE(at + 5 + keyLength)
      const value = bytes.subarray(at + 9 + keyLength, at + 9 + keyLength + valueLength)
      at += 9 + keyLength + valueLength
      if (kind === KIND_RECORD) batch.push({ kind: 'record', record: decodeRecord(key, value) })
      else if (kind === KIND_LEASE) batch.push({ kind: 'lease', lease: decodeLease(key, value) })
      else if (kind === KIND_STATE) batch.push({ kind: 'state', name: key.toString('utf8'), value: Buffer.from(value) })
      else throw new TypeError('restoreFrom: the snapshot is corrupt (unknown frame)')
      if (batch.length >= 10_000) {
        await backend.write(batch, false)
        batch = []
      }
    }
    // The compaction is recorded as unfinished, so opening the store trims anything older than it.
    const meta: StoredMeta = { format: FORMAT, rev: header.rev, compactRev: header.compactRev, finishedCompactRev: -1 }
    batch.push({ kind: 'meta', meta })
    await backend.write(batch, true)
  } finally {
    await backend.close()
  }
}

function parseHeader(line: Buffer): { rev: number; compactRev: number } | undefined {
  try {
    const h = JSON.parse(line.toString('utf8')) as { format?: unknown; version?: unknown; rev?: unknown; compactRev?: unknown }
    if (h.format !== SNAPSHOT_FORMAT || typeof h.rev !== 'number' || typeof h.compactRev !== 'number') return undefined
    if (typeof h.version !== 'number' || h.version > VERSION) throw new TypeError('restoreFrom: the snapshot was written by a newer etcdlite')
    return { rev: h.rev, compactRev: h.compactRev }
  } catch (err) {
    if (err instanceof TypeError) throw err
    return undefined
  }
}

async function readAll(source: SnapshotSource): Promise<Buffer> {
  if (typeof source === 'string') source = createReadStream(source)
  if (source instanceof Uint8Array) return Buffer.from(source.buffer, source.byteOffset, source.byteLength)
  const chunks: Buffer[] = []
  for await (const chunk of source) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}
