import { describe, expect, test } from 'vitest'
import type { DeleteOptions, DeleteRangeRequest } from '../../src/index.ts'
import type { Harness } from './harness.ts'
import {
  bytes,
  currentRevision,
  expectEtcdError,
  expectUnchanged,
  hex,
  keysOf,
  kvPair,
  pair,
  seedKeys,
  snapshot,
  useTarget,
} from './helpers.ts'

/**
 * DeleteRange: etcd's KV.DeleteRange through etcd.delete() and etcd.services.kv.deleteRange(). The deleted count,
 * prevKv, key ranges, revisions, and what a later put of a deleted key looks like.
 */
export function registerDelete(h: Harness): void {
  describe(`delete (${h.name})`, () => {
    const target = useTarget(h)

    describe('one key', () => {
      test('delete of one key answers deleted 1 and adds one revision', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b'])
        const r = await etcd.delete('a')
        expect(r.deleted).toBe(1)
        expect(r.header.revision).toBe(4)
        expect(r.prevKvs).toEqual([])
        expect((await etcd.get('a')).kvs).toEqual([])
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(['b'])
      })

      test('a deleted key is gone from current reads and still there at earlier revisions', async () => {
        const etcd = target()
        await etcd.put('k', 'v') // 2
        await etcd.delete('k') // 3
        expect((await etcd.get('k')).kvs).toEqual([])
        expect((await etcd.get('k', { revision: 2 })).kvs.map(pair)).toEqual([kvPair('k', 'v', 2, 2, 1)])
        expect((await etcd.get('k', { revision: 3 })).kvs).toEqual([])
      })

      test('delete of a key leaves the keys it is a prefix of', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'ab', 'a\0'])
        expect((await etcd.delete('a')).deleted).toBe(1)
        expect((await etcd.get('a', { prefix: true })).kvs.map((kv) => hex(kv.key))).toEqual(['6100', '6162'])
      })

      test('delete of a binary key deletes exactly that key', async () => {
        const etcd = target()
        await seedKeys(etcd, [bytes(0xff), bytes(0xff, 0x00), bytes(0xc3, 0xa9)])
        expect((await etcd.delete(bytes(0xff))).deleted).toBe(1)
        expect((await etcd.delete('é')).deleted).toBe(1)
        expect((await etcd.get('\0', { rangeEnd: '\0' })).kvs.map((kv) => hex(kv.key))).toEqual(['ff00'])
      })

      test('delete of an empty key rejects with ETCD_EMPTY_KEY and changes nothing', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a'])
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.delete(''), 'ETCD_EMPTY_KEY')
        await expectEtcdError(etcd.services.kv.deleteRange({ key: '', rangeEnd: 'z' }), 'ETCD_EMPTY_KEY')
        await expectUnchanged(etcd, before)
      })
    })

    describe('deletes that change nothing', () => {
      test.each<[string, string, DeleteOptions]>([
        ['a missing key', 'm', {}],
        ['a missing key with prevKv', 'm', { prevKv: true }],
        ['a range that holds no key', 'm', { rangeEnd: 'n' }],
        ['a prefix that no key has', 'x', { prefix: true }],
        ['a range whose end is below its key', 'z', { rangeEnd: 'a' }],
      ])('delete of %s answers deleted 0, no prevKvs and consumes no revision', async (_name, key, options) => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b'])
        const before = await snapshot(etcd)
        const r = await etcd.delete(key, options)
        expect(r.deleted).toBe(0)
        expect(r.prevKvs).toEqual([])
        expect(r.header.revision).toBe(3)
        await expectUnchanged(etcd, before)
      })

      test('delete of a key that is already deleted consumes no revision', async () => {
        const etcd = target()
        await seedKeys(etcd, ['k'])
        await etcd.delete('k') // 3
        const r = await etcd.delete('k')
        expect(r.deleted).toBe(0)
        expect(r.header.revision).toBe(3)
        expect(await currentRevision(etcd)).toBe(3)
        await etcd.put('x', '1')
        expect(await currentRevision(etcd)).toBe(4)
      })
    })

    describe('ranges', () => {
      const keys = ['a', 'ab', 'abc', 'b', 'c', 'd', 'e']

      test.each<[string, string, DeleteOptions, string[]]>([
        ['rangeEnd deletes [key, rangeEnd)', 'b', { rangeEnd: 'd' }, ['b', 'c']],
        ['prefix deletes the keys that start with key', 'ab', { prefix: true }, ['ab', 'abc']],
        ['fromKey deletes every key from key on', 'c', { fromKey: true }, ['c', 'd', 'e']],
        ['rangeEnd "\\0" deletes every key from key on', 'd', { rangeEnd: '\0' }, ['d', 'e']],
        ['an empty key with prefix deletes every key', '', { prefix: true }, keys],
        ['an empty key with fromKey deletes every key', '', { fromKey: true }, keys],
      ])('%s', async (_name, key, options, deleted) => {
        const etcd = target()
        await seedKeys(etcd, keys) // @2..@8
        const r = await etcd.delete(key, options)
        expect(r.deleted).toBe(deleted.length)
        expect(r.header.revision).toBe(9)
        const left = keys.filter((k) => !deleted.includes(k))
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(left)
      })

      test('delete of key "\\0" to "\\0" deletes everything, binary keys included', async () => {
        const etcd = target()
        await seedKeys(etcd, [bytes(0x00), 'a', bytes(0xff, 0xff)])
        const r = await etcd.services.kv.deleteRange({ key: '\0', rangeEnd: '\0' })
        expect(r.deleted).toBe(3)
        expect((await etcd.get('\0', { rangeEnd: '\0' })).count).toBe(0)
      })

      test('a range delete is one revision: every key is there just before it and gone at it', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c']) // @2..@4
        const r = await etcd.delete('a', { rangeEnd: 'z' })
        expect(r.header.revision).toBe(5)
        expect(await currentRevision(etcd)).toBe(5)
        expect(keysOf((await etcd.get('a', { rangeEnd: 'z', revision: 4 })).kvs)).toEqual(['a', 'b', 'c'])
        expect((await etcd.get('a', { rangeEnd: 'z', revision: 5 })).count).toBe(0)
      })

      test('a range delete counts only live keys', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c'])
        await etcd.delete('b')
        const r = await etcd.delete('a', { rangeEnd: 'z', prevKv: true })
        expect(r.deleted).toBe(2)
        expect(keysOf(r.prevKvs)).toEqual(['a', 'c'])
      })

      test('a services-level deleteRange takes key and rangeEnd as given', async () => {
        const etcd = target()
        await seedKeys(etcd, keys)
        const request: DeleteRangeRequest = { key: 'ab', rangeEnd: 'c', prevKv: true }
        const r = await etcd.services.kv.deleteRange(request)
        expect(r.deleted).toBe(3)
        expect(keysOf(r.prevKvs)).toEqual(['ab', 'abc', 'b'])
      })
    })

    describe('prevKv', () => {
      test('prevKv returns the deleted pairs in key order, whatever order they were written in', async () => {
        const etcd = target()
        await seedKeys(etcd, ['c', 'a', 'e', 'b', 'd']) // c@2 a@3 e@4 b@5 d@6
        await etcd.put('b', '2') // 7
        const r = await etcd.delete('a', { rangeEnd: 'f', prevKv: true })
        expect(r.deleted).toBe(5)
        expect(r.prevKvs.map(pair)).toEqual([
          kvPair('a', '1', 3, 3, 1),
          kvPair('b', '2', 5, 7, 2),
          kvPair('c', '1', 2, 2, 1),
          kvPair('d', '1', 6, 6, 1),
          kvPair('e', '1', 4, 4, 1),
        ])
      })

      test('prevKv of a one-key delete returns that pair', async () => {
        const etcd = target()
        await etcd.put('k', bytes(0x00, 0xff))
        const r = await etcd.delete('k', { prevKv: true })
        expect(r.prevKvs.map((kv) => [hex(kv.key), hex(kv.value), kv.version])).toEqual([['6b', '00ff', 1]])
      })

      test('without prevKv a delete returns no pairs', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b'])
        const r = await etcd.delete('a', { rangeEnd: 'z' })
        expect(r.deleted).toBe(2)
        expect(r.prevKvs).toEqual([])
      })
    })

    describe('recreating a key', () => {
      test('a key put again after a delete starts at version 1 with a new createRevision', async () => {
        const etcd = target()
        await etcd.put('k', 'v1') // 2
        await etcd.put('k', 'v2') // 3
        await etcd.delete('k') // 4
        await etcd.put('k', 'v3') // 5
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v3', 5, 5, 1)])
        expect((await etcd.get('k', { revision: 3 })).kvs.map(pair)).toEqual([kvPair('k', 'v2', 2, 3, 2)])
        await etcd.put('k', 'v4') // 6
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v4', 5, 6, 2)])
      })

      test('a key deleted by a range delete and put again starts a new generation', async () => {
        const etcd = target()
        await seedKeys(etcd, ['p/a', 'p/b']) // 2, 3
        await etcd.delete('p/', { prefix: true }) // 4
        await etcd.put('p/a', 'again') // 5
        const r = await etcd.get('p/', { prefix: true })
        expect(r.kvs.map(pair)).toEqual([kvPair('p/a', 'again', 5, 5, 1)])
        expect(r.count).toBe(1)
      })
    })
  })
}
