import { mkdir, open as openFile, readdir, readFile, rm, writeFile } from 'node:fs/promises'
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

/** MARKER names the file that makes a directory an etcdlite data directory. */
export const MARKER = 'etcdlite.json'

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

  private constructor(dir: string, db: Db) {
    this.dir = dir
    this.#db = db
  }

  static async open(dir: string): Promise<LevelBackend> {
    const path = resolve(dir)
    await mkdir(path, { recursive: true })
    const entries = await readdir(path)
    if (entries.includes(MARKER)) {
      let format: unknown
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
      await writeFile(join(path, MARKER), JSON.stringify({ format: FORMAT }) + '\n', { flag: 'wx' })
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
    return new LevelBackend(path, db)
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
   */
  write(batch: readonly BackendOp[], sync: boolean): Promise<void> {
    const ops = new Array<LevelOp>(batch.length)
    for (let i = 0; i < batch.length; i++) ops[i] = levelOp(batch[i]!)
    const options = sync ? SYNC : NO_SYNC
    if (this.#db.status !== 'open') return this.#db.batch(ops, options)
    return (this.#db as unknown as LevelImplementation)._batch(ops, options)
  }

  async close(): Promise<void> {
    await this.#db.close()
  }
}
