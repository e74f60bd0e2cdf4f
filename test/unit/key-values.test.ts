import { Buffer } from 'node:buffer'
import { inspect } from 'node:util'
import { describe, expect, test } from 'vitest'
import { open } from '../../src/index.ts'
import { keyValues } from '../../src/mvcc/key-values.ts'
import { makeRecord } from '../../src/mvcc/key-record.ts'

/**
 * The output side of reads (src/mvcc/key-values.ts): fields are Buffers copied per answer, so a caller's changes
 * reach nothing else, and the messages behave as plain objects.
 */

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1')

describe('keyValues', () => {
  test('mutating a returned key or value changes nothing in the store or in a later read', async () => {
    await using etcd = await open()
    await etcd.put('k1', 'value one')
    await etcd.put('k2', Uint8Array.of(0, 0xff, 0x80))
    const first = await etcd.services.kv.range({ key: 'k', rangeEnd: 'l' })
    for (const kv of first.kvs) {
      kv.key.fill(0x41)
      kv.value.fill(0x42)
      // Writing through the shared chunk as well: it is this answer's copy, not the store.
      new Uint8Array(kv.value.buffer).fill(0x43)
    }
    const again = await etcd.services.kv.range({ key: 'k', rangeEnd: 'l' })
    expect(again.kvs.map((kv) => [latin1(kv.key), latin1(kv.value)])).toEqual([
      ['k1', 'value one'],
      ['k2', '\x00\xff\x80'],
    ])
    // The store's own compare sees the stored bytes too.
    const txn = await etcd.services.kv.txn({ compare: [{ key: 'k1', target: 'VALUE', result: 'EQUAL', value: 'value one' }] })
    expect(txn.succeeded).toBe(true)
  })

  test('two reads hand out distinct buffers', async () => {
    await using etcd = await open()
    await etcd.put('k', 'v')
    const a = (await etcd.get('k')).kvs[0]!
    const b = (await etcd.get('k')).kvs[0]!
    expect(a.value).not.toBe(b.value)
    expect(a.value.buffer === b.value.buffer && a.value.byteOffset === b.value.byteOffset).toBe(false)
  })

  test('messages are plain objects: keys, spread, JSON, inspect, structuredClone and toEqual', async () => {
    await using etcd = await open()
    await etcd.put('key', 'value')
    const kv = (await etcd.get('key')).kvs[0]!
    const plain = { key: Buffer.from('key'), createRevision: 2, modRevision: 2, version: 1, value: Buffer.from('value'), lease: 0n }
    expect(Object.keys(kv)).toEqual(['key', 'createRevision', 'modRevision', 'version', 'value', 'lease'])
    expect(Object.getPrototypeOf(kv)).toBe(Object.prototype)
    expect(kv).toEqual(plain)
    expect(plain).toEqual(kv)
    expect({ ...kv }).toEqual(plain)
    expect(kv).toStrictEqual(plain)
    expect(Buffer.isBuffer(kv.key) && Buffer.isBuffer(kv.value)).toBe(true)
    expect(kv.value.toString()).toBe('value')
    expect(JSON.stringify({ ...kv, lease: 0 })).toBe(JSON.stringify({ ...plain, lease: 0 }))
    expect(inspect(kv)).toBe(inspect(plain))
    expect(structuredClone(kv)).toEqual({ ...plain, key: new Uint8Array(Buffer.from('key')), value: new Uint8Array(Buffer.from('value')) })
  })

  test('keysOnly reads no value and hands out empty values', () => {
    const records = [makeRecord('a', 'x'.repeat(5000), 2, 2, 0, 1, 0n), makeRecord('b', 'y', 3, 3, 0, 1, 7n)]
    const kvs = keyValues(records, true)
    expect(kvs.map((kv) => [latin1(kv.key), kv.value.length, kv.lease])).toEqual([
      ['a', 0, 0n],
      ['b', 0, 7n],
    ])
  })

  test.each([
    ['small fields in one chunk', 100, 10, 20],
    ['fields past the direct-write size', 50, 30, 3000],
    ['answers that span several chunks', 300, 40, 700],
    ['one field larger than a chunk', 3, 8, 200_000],
  ])('every byte of every field is copied: %s', (_name, n, keyLen, valueLen) => {
    const records = Array.from({ length: n }, (_, i) => {
      const key = String.fromCharCode(i % 256).repeat(keyLen) + String(i)
      const value = Array.from({ length: valueLen }, (_, j) => String.fromCharCode((i * 7 + j) % 256)).join('')
      return makeRecord(key, i % 5 === 0 ? '' : value, 2, 2 + i, 0, 1, 0n)
    })
    const kvs = keyValues(records, false)
    expect(kvs.map((kv) => [latin1(kv.key), latin1(kv.value), kv.modRevision])).toEqual(
      records.map((r) => [r.key, r.value, r.modRevision]),
    )
  })
})
