import { Buffer } from 'node:buffer'
import { describe, expect, test } from 'vitest'
import type { GetOptions, RangeRequest, SortOrder, SortTarget } from '../../src/index.ts'
import { lacks, type Harness, type Target } from './harness.ts'
import {
  bytes,
  expectEtcdError,
  hex,
  keysOf,
  kvPair,
  pair,
  seed,
  seedKeys,
  text,
  useTarget,
} from './helpers.ts'

/**
 * Range: etcd's KV.Range through etcd.get() and etcd.services.kv.range(). Key selection (single key, rangeEnd,
 * prefix, fromKey, everything), byte order, reads at a revision, limit / more / count, sorting, keysOnly /
 * countOnly, the min/max revision filters and the errors.
 */
export function registerRange(h: Harness): void {
  describe(`range (${h.name})`, () => {
    const target = useTarget(h)

    describe('single key', () => {
      test('a fresh target is at revision 1 and holds no keys', async () => {
        const r = await target().get('a')
        expect(r.header.revision).toBe(1)
        expect(r.kvs).toEqual([])
        expect(r.count).toBe(0)
        expect(r.more).toBe(false)
      })

      test('get of one key returns its pair: value, createRevision, modRevision, version 1 and no lease', async () => {
        const etcd = target()
        await etcd.put('a', '1')
        const r = await etcd.get('a')
        expect(r.header.revision).toBe(2)
        expect(r.kvs.map(pair)).toEqual([kvPair('a', '1', 2, 2, 1)])
        expect(r.count).toBe(1)
        expect(r.more).toBe(false)
      })

      test('response headers name the cluster and the member and carry a raft term, the same on every response', async () => {
        const etcd = target()
        const put = await etcd.put('a', '1')
        const get = await etcd.get('a')
        expect(get.header.clusterId).not.toBe(0n)
        expect(get.header.memberId).not.toBe(0n)
        expect(get.header.raftTerm).toBeGreaterThan(0)
        expect({ ...put.header, revision: 0 }).toEqual({ ...get.header, revision: 0 })
      })

      test('get of one key does not return the keys it is a prefix of', async () => {
        const etcd = target()
        await seedKeys(etcd, ['ab', 'a', 'abc'])
        const r = await etcd.get('a')
        expect(keysOf(r.kvs)).toEqual(['a'])
        expect(r.count).toBe(1)
      })

      test('get of a missing key returns no kvs, count 0 and the current revision', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'c'])
        const r = await etcd.get('b')
        expect(r.kvs).toEqual([])
        expect(r.count).toBe(0)
        expect(r.more).toBe(false)
        expect(r.header.revision).toBe(3)
      })

      test.each<[string, RangeRequest]>([
        ['an empty key', { key: '' }],
        ['an empty key with a rangeEnd', { key: '', rangeEnd: 'z' }],
        ['an empty byte key', { key: new Uint8Array(0) }],
      ])('range of %s rejects with ETCD_EMPTY_KEY', async (_name, request) => {
        await expectEtcdError(target().services.kv.range(request), 'ETCD_EMPTY_KEY')
      })

      test('get of an empty key rejects with ETCD_EMPTY_KEY', async () => {
        await expectEtcdError(target().get(''), 'ETCD_EMPTY_KEY')
      })
    })

    describe('key ranges', () => {
      const keys = ['a', 'ab', 'abc', 'ac', 'b', 'c', 'd', 'e']

      test.each<[string, string, GetOptions, string[]]>([
        ['rangeEnd selects [key, rangeEnd)', 'b', { rangeEnd: 'd' }, ['b', 'c']],
        ['rangeEnd is exclusive', 'b', { rangeEnd: 'c' }, ['b']],
        ['rangeEnd between keys', 'aa', { rangeEnd: 'abd' }, ['ab', 'abc']],
        ['rangeEnd beyond the last key', 'd', { rangeEnd: 'zzz' }, ['d', 'e']],
        ['rangeEnd "\\0" selects every key from key on', 'c', { rangeEnd: '\0' }, ['c', 'd', 'e']],
        ['fromKey selects every key from key on', 'ac', { fromKey: true }, ['ac', 'b', 'c', 'd', 'e']],
        ['fromKey from a missing key starts at the next key', 'bb', { fromKey: true }, ['c', 'd', 'e']],
        ['prefix selects the keys that start with key', 'ab', { prefix: true }, ['ab', 'abc']],
        ['prefix of one letter', 'a', { prefix: true }, ['a', 'ab', 'abc', 'ac']],
        ['prefix that no key has', 'x', { prefix: true }, []],
        ['rangeEnd below key selects nothing', 'd', { rangeEnd: 'b' }, []],
        ['rangeEnd equal to key selects nothing', 'c', { rangeEnd: 'c' }, []],
      ])('%s', async (_name, key, options, expected) => {
        const etcd = target()
        await seedKeys(etcd, keys)
        const r = await etcd.get(key, options)
        expect(keysOf(r.kvs)).toEqual(expected)
        expect(r.count).toBe(expected.length)
        expect(r.more).toBe(false)
      })

      test('key "\\0" with rangeEnd "\\0" selects every key, including "\\0" and 0xff keys', async () => {
        const etcd = target()
        await seedKeys(etcd, [bytes(0xff), 'm', bytes(0x00), 'a', bytes(0x00, 0x00)])
        const r = await etcd.services.kv.range({ key: '\0', rangeEnd: '\0' })
        expect(r.kvs.map((kv) => hex(kv.key))).toEqual(['00', '0000', '61', '6d', 'ff'])
        expect(r.count).toBe(5)
      })

      test.each<[string, GetOptions]>([
        ['prefix', { prefix: true }],
        ['fromKey', { fromKey: true }],
      ])('an empty key with %s selects every key', async (_name, options) => {
        const etcd = target()
        await seedKeys(etcd, ['b', bytes(0x00), 'a', bytes(0xff)])
        const r = await etcd.get('', options)
        expect(r.kvs.map((kv) => hex(kv.key))).toEqual(['00', '61', '62', 'ff'])
      })

      test('a prefix ending in 0xff increments the last byte below 0xff', async () => {
        const etcd = target()
        await seedKeys(etcd, [
          bytes(0x61, 0xfe),
          bytes(0x61, 0xff),
          bytes(0x61, 0xff, 0x00),
          bytes(0x61, 0xff, 0xff),
          bytes(0x62),
          bytes(0x62, 0x00),
        ])
        const r = await etcd.get(bytes(0x61, 0xff), { prefix: true })
        expect(r.kvs.map((kv) => hex(kv.key))).toEqual(['61ff', '61ff00', '61ffff'])
      })

      test('a prefix of only 0xff bytes selects every key from it on', async () => {
        const etcd = target()
        await seedKeys(etcd, [bytes(0xfe), bytes(0xfe, 0xff), bytes(0xff), bytes(0xff, 0x00), bytes(0xff, 0xff)])
        const r = await etcd.get(bytes(0xff), { prefix: true })
        expect(r.kvs.map((kv) => hex(kv.key))).toEqual(['ff', 'ff00', 'ffff'])
      })

      test('a services-level range takes key and rangeEnd as given', async () => {
        const etcd = target()
        await seedKeys(etcd, keys)
        const r = await etcd.services.kv.range({ key: 'ab', rangeEnd: 'b' })
        expect(keysOf(r.kvs)).toEqual(['ab', 'abc', 'ac'])
        expect(r.count).toBe(3)
      })
    })

    describe('byte order', () => {
      test('keys come back in unsigned byte order, not JavaScript string order', async () => {
        const etcd = target()
        // U+FFFD is EF BF BD in UTF-8 and sorts before U+1F600 (F0 9F 98 80), though its UTF-16 code unit sorts after
        // the surrogate pair; 0x80 and 0xff alone are not UTF-8 at all.
        await seedKeys(etcd, ['\u{1F600}', 'a', bytes(0xff), '\uFFFD', 'Z', bytes(0x80), 'é', '~', bytes(0x00)])
        const r = await etcd.get('\0', { rangeEnd: '\0' })
        expect(r.kvs.map((kv) => hex(kv.key))).toEqual([
          '00',
          '5a',
          '61',
          '7e',
          '80',
          'c3a9',
          'efbfbd',
          'f09f9880',
          'ff',
        ])
      })

      test('a range end compares as bytes: [0x7f, 0x80) holds 0x7f but not 0x80', async () => {
        const etcd = target()
        await seedKeys(etcd, [bytes(0x7f), bytes(0x7f, 0xff), bytes(0x80), bytes(0xc3, 0xa9)])
        const r = await etcd.get(bytes(0x7f), { rangeEnd: bytes(0x80) })
        expect(r.kvs.map((kv) => hex(kv.key))).toEqual(['7f', '7fff'])
      })

      test('a string key and its UTF-8 bytes are the same key', async () => {
        const etcd = target()
        await etcd.put('é', '1')
        const r = await etcd.get(bytes(0xc3, 0xa9))
        expect(r.kvs.map(pair)).toEqual([kvPair('é', '1', 2, 2, 1)])
        await etcd.put(bytes(0xc3, 0xa9), '2')
        const again = await etcd.get('é')
        expect(again.kvs.map(pair)).toEqual([kvPair('é', '2', 2, 3, 2)])
      })

      test('binary keys and values that are not UTF-8 round-trip byte for byte', async () => {
        const etcd = target()
        const key = bytes(0xff, 0x00, 0xfe)
        await etcd.put(key, bytes(0x80, 0x00, 0xc3))
        const r = await etcd.get(key)
        expect(r.kvs.map((kv) => [hex(kv.key), hex(kv.value)])).toEqual([['ff00fe', '8000c3']])
        expect((await etcd.get(bytes(0xff, 0x00))).kvs).toEqual([])
        expect((await etcd.get(bytes(0xff, 0x00, 0xfe, 0x00))).kvs).toEqual([])
      })

      test('keys that differ only after a NUL byte are distinct keys', async () => {
        const etcd = target()
        await seed(etcd, [
          ['a\0b', '1'],
          ['a\0c', '2'],
          ['a', '3'],
        ])
        const r = await etcd.get('a', { prefix: true })
        expect(r.kvs.map((kv) => [hex(kv.key), text(kv.value)])).toEqual([
          ['61', '3'],
          ['610062', '1'],
          ['610063', '2'],
        ])
      })

      test('a key given as a Buffer, a Uint8Array or a string is the same key', async () => {
        const etcd = target()
        await etcd.put(Buffer.from('k'), 'v1')
        await etcd.put(new Uint8Array([0x6b]), 'v2')
        await etcd.put('k', 'v3')
        const r = await etcd.get('k')
        expect(r.kvs.map(pair)).toEqual([kvPair('k', 'v3', 2, 4, 3)])
      })
    })

    describe('revision', () => {
      // k: v1@2, v2@3, deleted@4, v3@5; other@6. Current revision 6.
      async function history(etcd: Target): Promise<void> {
        await etcd.put('k', 'v1')
        await etcd.put('k', 'v2')
        await etcd.delete('k')
        await etcd.put('k', 'v3')
        await etcd.put('other', 'o')
      }

      test.each<[number, ReturnType<typeof kvPair>[]]>([
        [1, []],
        [2, [kvPair('k', 'v1', 2, 2, 1)]],
        [3, [kvPair('k', 'v2', 2, 3, 2)]],
        [4, []],
        [5, [kvPair('k', 'v3', 5, 5, 1)]],
        [6, [kvPair('k', 'v3', 5, 5, 1)]],
      ])('a read of a key at revision %i sees the key as it was then', async (revision, expected) => {
        const etcd = target()
        await history(etcd)
        const r = await etcd.get('k', { revision })
        expect(r.kvs.map(pair)).toEqual(expected)
        expect(r.count).toBe(expected.length)
      })

      test('header.revision of a read at an older revision is the current revision', async () => {
        const etcd = target()
        await history(etcd)
        for (const revision of [1, 2, 3, 4, 5, 6]) {
          expect((await etcd.get('k', { revision })).header.revision).toBe(6)
        }
      })

      test.each([0, -1])('revision %i reads the current revision', async (revision) => {
        const etcd = target()
        await history(etcd)
        const r = await etcd.get('k', { revision })
        expect(r.kvs.map(pair)).toEqual([kvPair('k', 'v3', 5, 5, 1)])
        expect(r.header.revision).toBe(6)
      })

      test('a range at an older revision sees keys deleted since, and not keys created since', async () => {
        const etcd = target()
        await seedKeys(etcd, ['x', 'y', 'z']) // x@2 y@3 z@4
        await etcd.delete('x') // @5
        await etcd.put('w', '1') // @6
        const at3 = await etcd.get('\0', { rangeEnd: '\0', revision: 3 })
        expect(keysOf(at3.kvs)).toEqual(['x', 'y'])
        expect(at3.count).toBe(2)
        const at5 = await etcd.get('\0', { rangeEnd: '\0', revision: 5 })
        expect(keysOf(at5.kvs)).toEqual(['y', 'z'])
        const now = await etcd.get('\0', { rangeEnd: '\0' })
        expect(keysOf(now.kvs)).toEqual(['w', 'y', 'z'])
      })

      test('a range at an older revision applies limit, sort and count as of that revision', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c', 'd']) // @2..@5
        await etcd.delete('b') // @6
        const r = await etcd.get('a', { rangeEnd: 'z', revision: 4, limit: 2, sortOrder: 'DESCEND' })
        expect(keysOf(r.kvs)).toEqual(['c', 'b'])
        expect(r.more).toBe(true)
        expect(r.count).toBe(3)
      })

      test.each([
        ['one above the current revision', 1],
        ['far above the current revision', 100],
      ])('a range at a revision %s rejects with ETCD_FUTURE_REV', async (_name, ahead) => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b'])
        await expectEtcdError(etcd.get('a', { revision: 3 + ahead }), 'ETCD_FUTURE_REV')
      })

      test('a range at the current revision is allowed', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b'])
        expect(keysOf((await etcd.get('a', { revision: 3 })).kvs)).toEqual(['a'])
      })

      test('a range at a compacted revision rejects with ETCD_COMPACTED, countOnly included', async () => {
        const etcd = target()
        await seedKeys(etcd, ['x', 'y', 'z']) // @2..@4
        await etcd.compact(3)
        await expectEtcdError(etcd.get('x', { revision: 2 }), 'ETCD_COMPACTED')
        await expectEtcdError(etcd.get('\0', { rangeEnd: '\0', revision: 1, countOnly: true }), 'ETCD_COMPACTED')
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0', revision: 3 })).kvs)).toEqual(['x', 'y'])
      })
    })

    describe('limit, more and count', () => {
      test.each<[number, string[], boolean]>([
        [0, ['a', 'b', 'c', 'd', 'e'], false],
        [-1, ['a', 'b', 'c', 'd', 'e'], false],
        [1, ['a'], true],
        [2, ['a', 'b'], true],
        [4, ['a', 'b', 'c', 'd'], true],
        [5, ['a', 'b', 'c', 'd', 'e'], false],
        [6, ['a', 'b', 'c', 'd', 'e'], false],
      ])('limit %i returns %j with more %s and count 5', async (limit, expected, more) => {
        const etcd = target()
        await seedKeys(etcd, ['c', 'a', 'e', 'b', 'd'])
        const r = await etcd.get('a', { rangeEnd: 'z', limit })
        expect(keysOf(r.kvs)).toEqual(expected)
        expect(r.more).toBe(more)
        expect(r.count).toBe(5)
      })

      test('limit applies within the range only', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c', 'd', 'e'])
        const r = await etcd.get('b', { rangeEnd: 'd', limit: 1 })
        expect(keysOf(r.kvs)).toEqual(['b'])
        expect(r.more).toBe(true)
        expect(r.count).toBe(2)
      })

      test('limit on a single key that exists: one kv, more false', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a'])
        const r = await etcd.get('a', { limit: 1 })
        expect(keysOf(r.kvs)).toEqual(['a'])
        expect(r.more).toBe(false)
        expect(r.count).toBe(1)
      })
    })

    describe('sort', () => {
      // Final state, every target distinct so etcd's unstable sort has no ties to order:
      //   a: value w, create 4, mod 8,  version 2
      //   b: value z, create 2, mod 10, version 3
      //   c: value x, create 11, mod 11, version 1
      //   d: value y, create 3, mod 9,  version 4
      async function sortData(etcd: Target): Promise<void> {
        await seed(etcd, [
          ['b', '-'], // 2
          ['d', '-'], // 3
          ['a', '-'], // 4
          ['d', '-'], // 5
          ['b', '-'], // 6
          ['d', '-'], // 7
          ['a', 'w'], // 8
          ['d', 'y'], // 9
          ['b', 'z'], // 10
          ['c', 'x'], // 11
        ])
      }

      test('the sort data holds what the sort tests assume', async () => {
        const etcd = target()
        await sortData(etcd)
        const r = await etcd.get('a', { rangeEnd: 'z' })
        expect(r.kvs.map(pair)).toEqual([
          kvPair('a', 'w', 4, 8, 2),
          kvPair('b', 'z', 2, 10, 3),
          kvPair('c', 'x', 11, 11, 1),
          kvPair('d', 'y', 3, 9, 4),
        ])
      })

      test.each<[SortOrder, SortTarget, string[]]>([
        ['NONE', 'KEY', ['a', 'b', 'c', 'd']],
        ['ASCEND', 'KEY', ['a', 'b', 'c', 'd']],
        ['DESCEND', 'KEY', ['d', 'c', 'b', 'a']],
        // etcd sorts ascending when a target other than KEY is given with order NONE (3.4.23).
        ['NONE', 'VERSION', ['c', 'a', 'b', 'd']],
        ['ASCEND', 'VERSION', ['c', 'a', 'b', 'd']],
        ['DESCEND', 'VERSION', ['d', 'b', 'a', 'c']],
        ['NONE', 'CREATE', ['b', 'd', 'a', 'c']],
        ['ASCEND', 'CREATE', ['b', 'd', 'a', 'c']],
        ['DESCEND', 'CREATE', ['c', 'a', 'd', 'b']],
        ['NONE', 'MOD', ['a', 'd', 'b', 'c']],
        ['ASCEND', 'MOD', ['a', 'd', 'b', 'c']],
        ['DESCEND', 'MOD', ['c', 'b', 'd', 'a']],
        ['NONE', 'VALUE', ['a', 'c', 'd', 'b']],
        ['ASCEND', 'VALUE', ['a', 'c', 'd', 'b']],
        ['DESCEND', 'VALUE', ['b', 'd', 'c', 'a']],
      ])('sortOrder %s with sortTarget %s returns %j', async (sortOrder, sortTarget, expected) => {
        const etcd = target()
        await sortData(etcd)
        const r = await etcd.get('a', { rangeEnd: 'z', sortOrder, sortTarget })
        expect(keysOf(r.kvs)).toEqual(expected)
        expect(r.count).toBe(4)
        expect(r.more).toBe(false)
      })

      test.each<[SortOrder, SortTarget, string[]]>([
        ['DESCEND', 'KEY', ['d', 'c']],
        ['ASCEND', 'MOD', ['a', 'd']],
        ['DESCEND', 'VALUE', ['b', 'd']],
      ])('sorting (%s by %s) happens before the limit', async (sortOrder, sortTarget, expected) => {
        const etcd = target()
        await sortData(etcd)
        const r = await etcd.get('a', { rangeEnd: 'z', sortOrder, sortTarget, limit: 2 })
        expect(keysOf(r.kvs)).toEqual(expected)
        expect(r.more).toBe(true)
        expect(r.count).toBe(4)
      })

      // etcd fetches every key only when sortOrder is not NONE (or a revision filter is set); with order NONE and a
      // non-KEY target it reads limit + 1 keys in key order and sorts just those (3.4.23).
      test.each<[SortTarget, string[]]>([
        ['CREATE', ['b', 'a']],
        ['VALUE', ['a', 'c']],
        ['MOD', ['a', 'b']],
        ['VERSION', ['c', 'a']],
      ])('sortOrder NONE by %s with a limit sorts only the first limit + 1 keys in key order', async (sortTarget, expected) => {
        const etcd = target()
        await sortData(etcd)
        const r = await etcd.get('a', { rangeEnd: 'z', sortTarget, limit: 2 })
        expect(keysOf(r.kvs)).toEqual(expected)
        expect(r.more).toBe(true)
        expect(r.count).toBe(4)
      })

      test('values sort as unsigned bytes', async () => {
        const etcd = target()
        await seed(etcd, [
          ['a', bytes(0xff)],
          ['b', 'z'],
          ['c', bytes(0x80)],
          ['d', ''],
          ['e', 'za'],
        ])
        const r = await etcd.get('a', { rangeEnd: 'z', sortOrder: 'ASCEND', sortTarget: 'VALUE' })
        expect(keysOf(r.kvs)).toEqual(['d', 'b', 'e', 'c', 'a'])
      })

      // Go's sort.Sort is an insertion sort for up to 12 elements, so small results keep key order on ties, in both
      // directions (3.4.23: versions a1 b3 c1 d2 e1).
      test.each<[SortOrder, SortTarget, string[]]>([
        ['ASCEND', 'VERSION', ['a', 'c', 'e', 'd', 'b']],
        ['DESCEND', 'VERSION', ['b', 'd', 'a', 'c', 'e']],
        ['NONE', 'VERSION', ['a', 'c', 'e', 'd', 'b']],
        ['DESCEND', 'CREATE', ['e', 'b', 'd', 'a', 'c']],
        ['DESCEND', 'VALUE', ['b', 'd', 'a', 'c', 'e']],
      ])('sortOrder %s by %s on a small result keeps ties in key order: %j', async (sortOrder, sortTarget, expected) => {
        const etcd = target()
        await seed(etcd, [
          ['c', '1'], // 2
          ['a', '1'], // 3
          ['d', '1'], // 4
          ['b', '1'], // 5
          ['e', '1'], // 6
          ['d', '2'], // 7
          ['b', '2'], // 8
          ['b', '3'], // 9
        ])
        const r = await etcd.get('a', { rangeEnd: 'z', sortOrder, sortTarget })
        expect(keysOf(r.kvs)).toEqual(expected)
      })

      test('a services-level range sorts with sortOrder and sortTarget', async () => {
        const etcd = target()
        await sortData(etcd)
        const r = await etcd.services.kv.range({ key: 'a', rangeEnd: 'z', sortOrder: 'DESCEND', sortTarget: 'MOD' })
        expect(keysOf(r.kvs)).toEqual(['c', 'b', 'd', 'a'])
      })

      // etcd 3.4 has no such check: an unknown sort target number crashes the server (3.4.23) and an unknown sort
      // order number is ignored. The engine rejects both; the enum strings cannot name them over the wire.
      test.skipIf(lacks(h, 'engineOnly')).each<[string, RangeRequest]>([
        ['sortTarget', { key: 'a', rangeEnd: 'z', sortOrder: 'ASCEND', sortTarget: 'BOGUS' as SortTarget }],
        ['sortOrder', { key: 'a', rangeEnd: 'z', sortOrder: 'BOGUS' as SortOrder }],
      ])('an unknown %s rejects with ETCD_INVALID_SORT_OPTION', async (_name, request) => {
        await expectEtcdError(target().services.kv.range(request), 'ETCD_INVALID_SORT_OPTION')
      })
    })

    describe('keysOnly and countOnly', () => {
      test('keysOnly returns every field but the value', async () => {
        const etcd = target()
        await seed(etcd, [
          ['a', 'va'],
          ['b', 'vb'],
          ['a', 'va2'],
        ])
        const r = await etcd.get('a', { rangeEnd: 'z', keysOnly: true })
        expect(r.kvs.map(pair)).toEqual([kvPair('a', '', 2, 4, 2), kvPair('b', '', 3, 3, 1)])
        for (const kv of r.kvs) expect(kv.value.length).toBe(0)
        expect(r.count).toBe(2)
      })

      test('countOnly returns the count and no kvs', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c'])
        const r = await etcd.get('a', { rangeEnd: 'z', countOnly: true })
        expect(r.kvs).toEqual([])
        expect(r.count).toBe(3)
        expect(r.more).toBe(false)
        expect(r.header.revision).toBe(4)
      })

      test('countOnly ignores limit: count of every key, no kvs, more false', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c', 'd', 'e'])
        const r = await etcd.get('a', { rangeEnd: 'z', countOnly: true, limit: 2 })
        expect(r.kvs).toEqual([])
        expect(r.count).toBe(5)
        expect(r.more).toBe(false)
      })

      test('countOnly at an older revision counts the keys of that revision', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c']) // @2..@4
        await etcd.delete('a', { rangeEnd: 'z' }) // @5
        expect((await etcd.get('a', { rangeEnd: 'z', countOnly: true, revision: 3 })).count).toBe(2)
        expect((await etcd.get('a', { rangeEnd: 'z', countOnly: true })).count).toBe(0)
      })

      test('serializable reads answer like linearizable ones', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c'])
        const linearizable = await etcd.get('a', { rangeEnd: 'z' })
        const serializable = await etcd.get('a', { rangeEnd: 'z', serializable: true })
        expect(serializable.kvs.map(pair)).toEqual(linearizable.kvs.map(pair))
        expect(serializable.count).toBe(3)
        expect(serializable.header.revision).toBe(4)
      })
    })

    describe('min/max revision filters', () => {
      // 3.4.23 data: a create 3 mod 3, b create 5 mod 9, c create 2 mod 2, d create 4 mod 7, e create 6 mod 6.
      async function filterData(etcd: Target): Promise<void> {
        await seed(etcd, [
          ['c', '1'], // 2
          ['a', '1'], // 3
          ['d', '1'], // 4
          ['b', '1'], // 5
          ['e', '1'], // 6
          ['d', '2'], // 7
          ['b', '2'], // 8
          ['b', '3'], // 9
        ])
      }

      test.each<[string, GetOptions, string[], boolean]>([
        ['minModRevision 7', { minModRevision: 7 }, ['b', 'd'], false],
        ['maxModRevision 3', { maxModRevision: 3 }, ['a', 'c'], false],
        ['minModRevision 3 and maxModRevision 7', { minModRevision: 3, maxModRevision: 7 }, ['a', 'd', 'e'], false],
        ['minCreateRevision 4', { minCreateRevision: 4 }, ['b', 'd', 'e'], false],
        ['maxCreateRevision 4', { maxCreateRevision: 4 }, ['a', 'c', 'd'], false],
        ['create revision in [3, 5]', { minCreateRevision: 3, maxCreateRevision: 5 }, ['a', 'b', 'd'], false],
        ['minModRevision 10 (none)', { minModRevision: 10 }, [], false],
        ['minModRevision 7 and limit 2', { minModRevision: 7, limit: 2 }, ['b', 'd'], false],
        ['minModRevision 7 and limit 3', { minModRevision: 7, limit: 3 }, ['b', 'd'], false],
        ['minModRevision 7 and limit 1', { minModRevision: 7, limit: 1 }, ['b'], true],
        ['minModRevision 6 and limit 2', { minModRevision: 6, limit: 2 }, ['b', 'd'], true],
        ['maxCreateRevision 4 and limit 2', { maxCreateRevision: 4, limit: 2 }, ['a', 'c'], true],
      ])('%s returns only the keys that pass it, and count ignores it', async (_name, options, expected, more) => {
        const etcd = target()
        await filterData(etcd)
        const r = await etcd.get('a', { rangeEnd: 'z', ...options })
        expect(keysOf(r.kvs)).toEqual(expected)
        expect(r.more).toBe(more)
        expect(r.count).toBe(5)
      })

      test('filters combine with sorting: minModRevision 6 by MOD descending', async () => {
        const etcd = target()
        await filterData(etcd)
        const r = await etcd.get('a', { rangeEnd: 'z', minModRevision: 6, sortOrder: 'DESCEND', sortTarget: 'MOD' })
        expect(keysOf(r.kvs)).toEqual(['b', 'd', 'e'])
        expect(r.count).toBe(5)
      })

      test('countOnly with a filter counts every key in range, unfiltered', async () => {
        const etcd = target()
        await filterData(etcd)
        const r = await etcd.get('a', { rangeEnd: 'z', countOnly: true, limit: 1, minModRevision: 7 })
        expect(r.kvs).toEqual([])
        expect(r.count).toBe(5)
      })

      test('filters apply to a read at an older revision', async () => {
        const etcd = target()
        await filterData(etcd)
        // At revision 7: a mod 3, b mod 5, c mod 2, d mod 7, e mod 6.
        const r = await etcd.get('a', { rangeEnd: 'z', revision: 7, minModRevision: 5 })
        expect(keysOf(r.kvs)).toEqual(['b', 'd', 'e'])
        expect(r.count).toBe(5)
        expect(r.header.revision).toBe(9)
      })
    })
  })
}
