import type { Buffer } from 'node:buffer'
import { BoltFormatError, BoltReader } from '../bbolt/reader.ts'
import { Buckets, parseRevisionKey } from './layout.ts'
import { invalid, splitHash } from './read.ts'

/**
 * SnapshotStatus is what `etcdctl snapshot status` reports about a snapshot file: a CRC-32C over every bucket's name,
 * keys and values (in bucket order), the revision of the last record, the number of entries in all buckets, and the
 * database's size (its pages in use).
 */
export interface SnapshotStatus {
  readonly hash: number
  readonly revision: number
  readonly totalKey: number
  readonly totalSize: number
}

/** snapshotStatus computes a snapshot's status as etcd 3.4's `snapshot status` does (see SnapshotStatus). */
export function snapshotStatus(bytes: Buffer): SnapshotStatus {
  const { db } = splitHash(bytes)
  try {
    const reader = new BoltReader(db)
    let crc = 0xffffffff
    let revision = 0
    let totalKey = 0
    for (const b of reader.root().entries()) {
      crc = crc32c(crc, b.key)
      if (b.bucket === undefined) throw invalid(`the root bucket holds a value under ${b.key.toString('latin1')}`)
      const isKey = b.key.toString('latin1') === Buckets.key
      for (const e of b.bucket.entries()) {
        crc = crc32c(crc, e.key)
        // A nested bucket hashes as a nil value, as bbolt's ForEach hands it over.
        if (e.bucket === undefined) crc = crc32c(crc, e.value)
        if (isKey) revision = parseRevisionKey(e.key)?.main ?? revision
        totalKey++
      }
    }
    return { hash: (crc ^ 0xffffffff) >>> 0, revision, totalKey, totalSize: reader.meta.pgid * reader.pageSize }
  } catch (err) {
    if (err instanceof BoltFormatError) throw invalid(err.message)
    throw err
  }
}

const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[i] = c >>> 0
  }
  return table
})()

/** crc32c continues a CRC-32C (Castagnoli) over `bytes`; start from 0xffffffff and finish with ^ 0xffffffff. */
function crc32c(crc: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return crc >>> 0
}
