import { Buffer } from 'node:buffer'
import { describe, expect, test } from 'vitest'
import { BoltReader, type BoltBucketReader } from '../../src/bbolt/reader.ts'
import { writeBolt, type BoltBucket, type BoltItem } from '../../src/bbolt/writer.ts'
import { rng } from '../snapshot/workload.ts'

/**
 * The bbolt writer and reader against each other, on trees shaped like nothing etcd writes: nested buckets several
 * levels deep, empty and inline buckets, values larger than a page (overflow pages), keys of every length, and page
 * sizes from 512 bytes to 16 KiB. (The files are proven against bbolt itself by the etcdctl snapshot tests.)
 */

function randomBucket(random: () => number, depth: number, size: number): BoltItem[] {
  const keys = new Set<string>()
  while (keys.size < size) keys.add(Buffer.from(Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256))).toString('latin1'))
  return [...keys]
    .map((k) => Buffer.from(k, 'latin1'))
    .sort(Buffer.compare)
    .map((key): BoltItem => {
      const r = random()
      if (depth > 0 && r < 0.05) return { key, bucket: randomBucket(random, depth - 1, Math.floor(random() * 300)) }
      const length = r < 0.02 ? 5000 + Math.floor(random() * 40_000) : Math.floor(random() * 200)
      return { key, value: Buffer.alloc(length, Math.floor(random() * 256)) }
    })
}

/** readBack reads a bucket into the same shape as the writer's input. */
function readBack(bucket: BoltBucketReader): unknown[] {
  return [...bucket.entries()].map((e) => (e.bucket === undefined ? { key: e.key.toString('hex'), value: e.value.toString('hex') } : { key: e.key.toString('hex'), bucket: readBack(e.bucket) }))
}

function expected(bucket: BoltBucket): unknown[] {
  return bucket.map((i) => (i.value !== undefined ? { key: Buffer.from(i.key).toString('hex'), value: Buffer.from(i.value).toString('hex') } : { key: Buffer.from(i.key).toString('hex'), bucket: expected(i.bucket!) }))
}

describe('bbolt writer and reader', () => {
  test.each([512, 4096, 16384])('random nested buckets round-trip with %i-byte pages', async (pageSize) => {
    const random = rng(pageSize)
    const root: BoltItem[] = [
      { key: Buffer.from('big'), bucket: randomBucket(random, 2, 1500) },
      { key: Buffer.from('empty'), bucket: [] },
      { key: Buffer.from('small'), bucket: [{ key: Buffer.from('k'), value: Buffer.from('v') }] },
    ]
    const file = Buffer.concat(await writeBolt(root, { pageSize }))
    expect(file.length % pageSize).toBe(0)
    const reader = new BoltReader(file)
    expect(reader.pageSize).toBe(pageSize)
    expect(reader.meta.pgid * pageSize).toBe(file.length)
    expect(reader.freePages()).toEqual([])
    expect(readBack(reader.root())).toEqual(expected(root))
  })

  test('a small bucket is stored inline in its parent, a large one in pages of its own', async () => {
    const small = [{ key: Buffer.from('a'), value: Buffer.from('1') }]
    const large = Array.from({ length: 500 }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(4, '0')}`), value: Buffer.alloc(20) }))
    const file = Buffer.concat(await writeBolt([{ key: Buffer.from('l'), bucket: large }, { key: Buffer.from('s'), bucket: small }]))
    const [l, s] = [...new BoltReader(file).root().entries()]
    expect(l!.value.readBigUInt64LE(0)).not.toBe(0n)
    expect(s!.value.readBigUInt64LE(0)).toBe(0n)
    expect(s!.value.length).toBe(16 + 16 + 16 + 2)
  })

  test('every page is reachable once: nothing unaccounted between the metas and the high-water mark', async () => {
    const random = rng(7)
    const file = Buffer.concat(await writeBolt([{ key: Buffer.from('b'), bucket: randomBucket(random, 1, 2000) }], { pageSize: 1024 }))
    const reader = new BoltReader(file)
    readBack(reader.root())
    // Reading the tree again is allowed (the reuse check is per first walk).
    expect(readBack(reader.root()).length).toBe(1)
  })

  test('the writer refuses keys out of order and values in the root bucket (TypeError)', async () => {
    const a = Buffer.from('a')
    const b = Buffer.from('b')
    await expect(writeBolt([{ key: b, bucket: [] }, { key: a, bucket: [] }])).rejects.toThrow(TypeError)
    await expect(writeBolt([{ key: a, bucket: [{ key: a, value: a }, { key: a, value: b }] }])).rejects.toThrow(/ascending/)
    await expect(writeBolt([{ key: a, value: b }])).rejects.toThrow(/buckets only/)
    await expect(writeBolt([], { pageSize: 1000 })).rejects.toThrow(RangeError)
  })
})
