import { Buffer } from 'node:buffer'
import { expect, test } from 'vitest'
import { ChunkEncoder, decodeChunk, encodeChunk, framesEnd } from '../../src/mvcc/backend/encoding.ts'
import { makeRecord, makeTombstone, type KeyRecord } from '../../src/mvcc/key-record.ts'

const records: KeyRecord[] = [
  makeRecord('a', 'one', 2, 2, 0, 1, 0n),
  makeRecord('b\xff', 'x'.repeat(5000), 2, 2, 1, 1, 7n),
  makeTombstone('a', 3, 0),
  makeRecord('c', '', 4, 4, 0, 1, -5n),
  makeRecord('a', 'two', 5, 5, 0, 1, 0x7fff_ffff_ffff_ffffn),
]

test('records written by field and byte span decode as the records themselves', () => {
  const encoder = new ChunkEncoder(2, 64)
  for (const r of records) {
    const src = Buffer.from(`..${r.key}..${r.value}`, 'latin1')
    const keyAt = 2
    const valueAt = keyAt + r.key.length + 2
    encoder.addBytes(r.modRevision, r.sub, r.version === 0, r.createRevision, r.version, r.lease, src, keyAt, keyAt + r.key.length, valueAt, valueAt + r.value.length)
  }
  const chunks = encoder.finish()
  // Two records to a chunk, whatever the slabs they were written into.
  expect(chunks.map((c) => decodeChunk(c).length)).toEqual([2, 2, 1])
  expect(chunks.flatMap((c) => decodeChunk(c))).toEqual(records)
})

test('encodeChunk is one chunk of records; framesEnd cuts it into runs of frames', () => {
  const chunk = encodeChunk(records)
  expect(decodeChunk(chunk)).toEqual(records)
  const cut = framesEnd(chunk, 0, 3)
  expect(decodeChunk(chunk.subarray(0, cut))).toEqual(records.slice(0, 3))
  expect(decodeChunk(chunk.subarray(cut))).toEqual(records.slice(3))
  expect(framesEnd(chunk, cut, 100)).toBe(chunk.length)
  expect(() => framesEnd(chunk.subarray(0, chunk.length - 1), 0, 100)).toThrow(/corrupt checkpoint/)
  expect(encodeChunk([]).length).toBe(0)
})
