import { mkdir, open as openFile, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Level } from 'level'
import { EtcdError } from '../../util/errors.ts'
import type { KeyRecord } from '../key-record.ts'
import {
  FORMAT,
  type Backend,
  type BackendOp,
  type Checkpoint,
  type LoadSink,
  type StoredLease,
  type StoredMeta,
} from './backend.ts'
import {
  checkpointKey,
  decodeChunk,
  framesEnd,
  encodeChunk,
  decodeLease,
  decodeMeta,
  decodeRecord,
  encodeLease,
  encodeMeta,
  encodeRecord,
  LEASES_FROM,
  stateKey,
  LEASES_TO,
  leaseKey,
  META_KEY,
  recordKey,
  RECORDS_FROM,
  RECORDS_TO,
} from './encoding.ts'
import { WriteAheadLog } from './write-ahead-log.ts'

/** MARKER names the file that makes a directory an etcdlite data directory. */
export const MARKER = 'etcdlite.json'

/** WAL_FILE names the write-ahead log of synced writes, beside the database. */
export const WAL_FILE = 'wal'

/** LOAD_CHUNK is how many records a load step decodes before letting the event loop run. */
const LOAD_CHUNK = 8192
/** CHUNKS_PER_WRITE: checkpoint chunks handed to one writev by writeCheckpointFile. */
const CHUNKS_PER_WRITE = 64

type Db = Level<Buffer, Buffer>

/** LevelOp is one operation of a LevelDB batch, in the shape every layer of `level` takes. */
interface LevelOp {
  type: 'put' | 'del'
  key: Buffer
  value: Buffer | undefined
}

/** LevelImplementation is the database's own batch under abstract-level's public one (classic-level's `_batch`). */
interface LevelImplementation {
  _batch(ops: LevelOp[], options: { sync: boolean }): Promise<void>
}

const SYNC = Object.freeze({ sync: true })
const NO_SYNC = Object.freeze({ sync: false })

/** levelOp encodes one backend op as a LevelDB operation; every op has the same shape (`value` undefined for a del). */
function levelOp(op: BackendOp): LevelOp {
  switch (op.kind) {
    case 'record':
      return { type: 'put', key: recordKey(op.record.modRevision, op.record.sub), value: encodeRecord(op.record) }
    case 'drop-record':
      return { type: 'del', key: recordKey(op.record.modRevision, op.record.sub), value: undefined }
    case 'lease':
      return { type: 'put', key: leaseKey(op.lease.id), value: encodeLease(op.lease) }
    case 'drop-lease':
      return { type: 'del', key: leaseKey(op.id), value: undefined }
    case 'meta':
      return { type: 'put', key: META_KEY, value: encodeMeta(op.meta) }
    case 'state':
      return { type: 'put', key: stateKey(op.name), value: Buffer.from(op.value) }
  }
}

/**
 * LevelBackend keeps the store in a LevelDB (classic-level) under `dir/kv`, beside a marker file `dir/etcdlite.json`.
 * Opening refuses a directory that holds other files and no marker (it is not ours), a store written by a newer
 * format, and a directory another engine has open, each with an EtcdError naming the directory.
 */
export class LevelBackend implements Backend {
  readonly capabilities = { persistent: true, fsync: true } as const
  readonly dir: string
  readonly #db: Db
  readonly #wal: WriteAheadLog

  private constructor(dir: string, db: Db, wal: WriteAheadLog) {
    this.dir = dir
    this.#db = db
    this.#wal = wal
  }

  static async open(dir: string): Promise<LevelBackend> {
    const path = resolve(dir)
    await mkdir(path, { recursive: true })
    const entries = await readdir(path)
    let format: unknown
    if (entries.includes(MARKER)) {
      try {
        format = (JSON.parse(await readFile(join(path, MARKER), 'utf8')) as { format?: unknown }).format
      } catch {
        throw new EtcdError('ETCD_DATA_DIR_INVALID', `etcdlite: ${path} has an unreadable ${MARKER}`)
      }
      if (typeof format !== 'number') throw new EtcdError('ETCD_DATA_DIR_INVALID', `etcdlite: ${path} has an unreadable ${MARKER}`)
      if (format > FORMAT) {
        throw new EtcdError(
          'ETCD_DATA_DIR_NEWER_FORMAT',
          `etcdlite: ${path} was written in store format ${format}; this etcdlite reads format ${FORMAT} and older`,
        )
      }
    } else if (entries.length > 0) {
      throw new EtcdError(
        'ETCD_DATA_DIR_INVALID',
        `etcdlite: ${path} is not empty and is not an etcdlite data directory (no ${MARKER}); refusing to write there`,
      )
    } else {
      await writeFile(join(path, MARKER), markerText(), { flag: 'wx' })
    }
    const db: Db = new Level<Buffer, Buffer>(join(path, 'kv'), { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    try {
      await db.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new EtcdError('ETCD_DATA_DIR_LOCKED', `etcdlite: data directory ${path} is in use by another engine`)
      }
      throw new EtcdError('ETCD_DATA_DIR_INVALID', `etcdlite: cannot open the store in ${path}: ${(err as Error).message}`)
    }
    try {
      // Upgraded only once this engine holds the directory's lock (the database is open).
      if (typeof format === 'number' && format < FORMAT) await writeMarker(path)
      return new LevelBackend(path, db, await recover(db, join(path, WAL_FILE)))
    } catch (err) {
      await db.close()
      throw err
    }
  }

  async load(sink: LoadSink): Promise<StoredMeta> {
    const raw = await this.#db.get(META_KEY)
    const meta: StoredMeta =
      raw === undefined ? { format: FORMAT, rev: 1, compactRev: -1, finishedCompactRev: -1 } : decodeMeta(raw)
    const checkpoint = meta.checkpoint
    if (checkpoint?.file === true) {
      const bytes = await readFile(this.#checkpointPath(checkpoint.id))
      for (let at = 0; at < bytes.length; ) {
        const end = framesEnd(bytes, at, LOAD_CHUNK)
        sink.checkpoint(decodeChunk(bytes.subarray(at, end)))
        at = end
        await new Promise((resolve) => setImmediate(resolve))
      }
    } else if (checkpoint !== undefined) {
      for (let i = 0; i < checkpoint.chunks; i++) {
        const chunk = await this.#db.get(checkpointKey(checkpoint.id, i))
        if (chunk === undefined) throw new Error(`checkpoint ${checkpoint.id} lacks chunk ${i}`)
        sink.checkpoint(decodeChunk(chunk))
      }
    }
    // Records after the checkpoint (all of them without one); older ones left by an unfinished prune are skipped.
    const from = checkpoint === undefined ? RECORDS_FROM : recordKey(checkpoint.rev + 1, 0)
    const it = this.#db.iterator({ gte: from, lt: RECORDS_TO })
    try {
      // Read the next chunk while this one is decoded and indexed.
      let ahead = it.nextv(LOAD_CHUNK)
      for (;;) {
        const entries = await ahead
        if (entries.length === 0) break
        ahead = it.nextv(LOAD_CHUNK)
        const records: KeyRecord[] = new Array(entries.length)
        for (let i = 0; i < entries.length; i++) records[i] = decodeRecord(entries[i]![0], entries[i]![1])
        sink.records(records)
      }
    } finally {
      await it.close()
    }
    return meta
  }

  async writeCheckpoint(id: number, chunks: AsyncIterable<KeyRecord[]>): Promise<number> {
    let n = 0
    for await (const records of chunks) await this.#db.put(checkpointKey(id, n++), encodeChunk(records))
    return n
  }

  /**
   * writeCheckpointFile stores chunks already in the checkpoint encoding (see ChunkEncoder) as checkpoint `id`, one
   * file beside the database, synced, telling `progress` the bytes written. Like any checkpoint it is not in use until a meta record names it (with
   * `file: true`).
   */
  async writeCheckpointFile(id: number, chunks: readonly Buffer[], progress?: (written: number, total: number) => void): Promise<void> {
    const handle = await openFile(this.#checkpointPath(id), 'w')
    const total = chunks.reduce((n, c) => n + c.length, 0)
    try {
      for (let i = 0, written = 0; i < chunks.length; i += CHUNKS_PER_WRITE) {
        const some = chunks.slice(i, i + CHUNKS_PER_WRITE)
        const size = some.reduce((n, c) => n + c.length, 0)
        const { bytesWritten } = await handle.writev(some)
        if (bytesWritten !== size) throw new Error(`checkpoint ${id}: wrote ${bytesWritten} of ${size} bytes`)
        written += size
        progress?.(written, total)
      }
      await handle.sync()
    } finally {
      await handle.close()
    }
    // The file's name is durable once its directory is synced, before a meta record may name it.
    const dir = await openFile(this.dir, 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }

  #checkpointPath(id: number): string {
    return join(this.dir, `checkpoint-${id}`)
  }

  async prune(current: Checkpoint, previous: Checkpoint | undefined): Promise<void> {
    await this.#db.clear({ gte: RECORDS_FROM, lt: recordKey(current.rev + 1, 0) })
    if (previous?.file === true) await rm(this.#checkpointPath(previous.id), { force: true })
    else if (previous !== undefined) {
      await this.#db.clear({ gte: checkpointKey(previous.id, 0), lt: checkpointKey(previous.id + 1, 0) })
    }
  }

  async loadState(name: string): Promise<Uint8Array | undefined> {
    return (await this.#db.get(stateKey(name))) ?? undefined
  }

  async loadLeases(): Promise<StoredLease[]> {
    const leases: StoredLease[] = []
    for await (const [k, v] of this.#db.iterator({ gte: LEASES_FROM, lt: LEASES_TO })) leases.push(decodeLease(k, v))
    return leases
  }

  /**
   * write turns the batch into LevelDB operations, each record encoded once into its key and value, and hands them
   * to the database's own batch in one native call. abstract-level's public `batch(ops)` clones, checks and encodes
   * every operation again first (bench/level-batch.ts: 3x to 3.7x slower for batches of 64 records); the backend owns
   * its database, which has no hooks, sublevels or encodings to honour, so that layer adds nothing here. A database
   * that is not open goes through the public path, which waits for an opening one and rejects a closed one.
   *
   * A synced batch is made durable by the write-ahead log instead of a synced LevelDB write: the frame is appended
   * and synced while the database takes the batch unsynced (it reaches the OS at once, so a crash of the process
   * loses nothing; the log covers a crash of the machine). When the log is full, the batch is written synced to
   * the database, which makes it and every earlier batch durable there, and the log starts over.
   */
  write(batch: readonly BackendOp[], sync: boolean): Promise<void> {
    const ops = new Array<LevelOp>(batch.length)
    for (let i = 0; i < batch.length; i++) ops[i] = levelOp(batch[i]!)
    if (this.#db.status !== 'open') return this.#db.batch(ops, sync ? SYNC : NO_SYNC)
    if (!sync) return levelBatch(this.#db, ops, NO_SYNC)
    return this.#loggedWrite(ops)
  }

  async #loggedWrite(ops: LevelOp[]): Promise<void> {
    const payload = encodeOps(ops)
    if (!this.#wal.fits(payload.length)) {
      await levelBatch(this.#db, ops, SYNC)
      await this.#wal.reset()
      return
    }
    await Promise.all([this.#wal.append(payload), levelBatch(this.#db, ops, NO_SYNC)])
  }

  async close(): Promise<void> {
    await this.#wal.close()
    await this.#db.close()
  }
}

function markerText(): string {
  return JSON.stringify({ format: FORMAT }) + '\n'
}

/** writeMarker replaces the marker file with one naming this version's format, atomically (a rename). */
async function writeMarker(path: string): Promise<void> {
  const next = join(path, `${MARKER}.next`)
  await writeFile(next, markerText())
  await rename(next, join(path, MARKER))
}

function levelBatch(db: Db, ops: LevelOp[], options: { sync: boolean }): Promise<void> {
  return (db as unknown as LevelImplementation)._batch(ops, options)
}

/**
 * recover opens the write-ahead log and applies its frames to the database, in order: batches that were
 * acknowledged as synced but may have reached the database only in the OS's cache, or not at all (a crash between
 * the log's sync and the database's write). Replaying a batch the database already holds writes the same keys and
 * values again, so the result is the state after the last frame either way. Then one synced write makes the
 * database durable and the log starts over.
 */
async function recover(db: Db, path: string): Promise<WriteAheadLog> {
  const { wal, frames } = await WriteAheadLog.open(path)
  try {
    for (const frame of frames) await levelBatch(db, decodeOps(frame), NO_SYNC)
    if (frames.length > 0) {
      const meta = await db.get(META_KEY)
      if (meta !== undefined) await levelBatch(db, [{ type: 'put', key: META_KEY, value: meta }], SYNC)
    }
    await wal.reset()
    return wal
  } catch (err) {
    await wal.close()
    throw err
  }
}

/** encodeOps writes LevelDB operations into one log payload: per op a type byte, the key and the value, length-prefixed. */
function encodeOps(ops: readonly LevelOp[]): Buffer {
  let size = 4
  for (const op of ops) size += 9 + op.key.length + (op.value?.length ?? 0)
  const out = Buffer.allocUnsafe(size)
  out.writeUInt32LE(ops.length, 0)
  let at = 4
  for (const op of ops) {
    out[at++] = op.type === 'put' ? 1 : 0
    out.writeUInt32LE(op.key.length, at)
    at += 4 + op.key.copy(out, at + 4)
    const value = op.value
    out.writeUInt32LE(value?.length ?? 0, at)
    at += 4
    if (value !== undefined) at += value.copy(out, at)
  }
  return out
}

/** decodeOps reads a payload written by encodeOps (whose crc the log has checked). */
function decodeOps(payload: Buffer): LevelOp[] {
  const count = payload.readUInt32LE(0)
  const ops: LevelOp[] = new Array(count)
  let at = 4
  for (let i = 0; i < count; i++) {
    const put = payload[at++] === 1
    const keyLength = payload.readUInt32LE(at)
    const key = payload.subarray(at + 4, at + 4 + keyLength)
    at += 4 + keyLength
    const valueLength = payload.readUInt32LE(at)
    at += 4
    const value = put ? payload.subarray(at, at + valueLength) : undefined
    at += put ? valueLength : 0
    ops[i] = { type: put ? 'put' : 'del', key, value }
  }
  return ops
}
