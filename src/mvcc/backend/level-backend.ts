import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
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

type Db = Level<Buffer, Buffer>

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
    if (checkpoint !== undefined) {
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

  async prune(current: Checkpoint, previous: Checkpoint | undefined): Promise<void> {
    await this.#db.clear({ gte: RECORDS_FROM, lt: recordKey(current.rev + 1, 0) })
    if (previous !== undefined) {
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

  async write(batch: readonly BackendOp[], sync: boolean): Promise<void> {
    const ops = batch.map((op) => {
      switch (op.kind) {
        case 'record':
          return { type: 'put' as const, key: recordKey(op.record.modRevision, op.record.sub), value: encodeRecord(op.record) }
        case 'drop-record':
          return { type: 'del' as const, key: recordKey(op.record.modRevision, op.record.sub) }
        case 'lease':
          return { type: 'put' as const, key: leaseKey(op.lease.id), value: encodeLease(op.lease) }
        case 'drop-lease':
          return { type: 'del' as const, key: leaseKey(op.id) }
        case 'meta':
          return { type: 'put' as const, key: META_KEY, value: encodeMeta(op.meta) }
        case 'state':
          return { type: 'put' as const, key: stateKey(op.name), value: Buffer.from(op.value) }
      }
    })
    await this.#db.batch(ops, { sync })
  }

  async close(): Promise<void> {
    await this.#db.close()
  }
}
