import { describe, expect, test } from 'vitest'
import { compare, op, type Compare, type CompareOperator } from '../../src/index.ts'
import type { Harness, Target } from './harness.ts'
import {
  bytes,
  currentRevision,
  expectEtcdError,
  expectUnchanged,
  keysOf,
  kvPair,
  pair,
  seed,
  seedKeys,
  snapshot,
  text,
  useTarget,
} from './helpers.ts'
import { registerTxnChecks } from './txn-checks.ts'
import { deleteOf, getOf, headerOf, kindOf, MISSING_LEASE, putOf, txnOf } from './txn-helpers.ts'

/** holds tells whether a txn with the compare `c` takes its then branch. */
async function holds(etcd: Target, c: Compare): Promise<boolean> {
  const r = await etcd.txn().if(c).commit()
  return r.succeeded
}

/** verdicts names each compare case after its expected outcome: "version = 2 holds", "value = w fails". */
function verdicts(rows: Array<[string, Compare, boolean]>): Array<[string, Compare, boolean]> {
  return rows.map(([name, c, expected]) => [`${name} ${expected ? 'holds' : 'fails'}`, c, expected])
}

/**
 * Txn: etcd's KV.Txn through etcd.txn(), etcd.do(op.txn(...)) and etcd.services.kv.txn(). Compares on keys and
 * ranges, branches, nesting, revisions and the client API here; the limits, the duplicate-key rule and the
 * validation that refuses a txn whole in txn-checks.ts, registered from here.
 */
export function registerTxn(h: Harness): void {
  describe(`txn (${h.name})`, () => {
    const target = useTarget(h)

    describe('compare on one key', () => {
      // k: value "v", version 2, createRevision 2, modRevision 3, no lease.
      async function seedK(etcd: Target): Promise<void> {
        await etcd.put('k', 'v')
        await etcd.put('k', 'v')
      }

      test.each<[string, Compare, boolean]>(verdicts([
        ['version = 2', compare.version('k', '=', 2), true],
        ['version = 1', compare.version('k', '=', 1), false],
        ['version != 1', compare.version('k', '!=', 1), true],
        ['version != 2', compare.version('k', '!=', 2), false],
        ['version > 1', compare.version('k', '>', 1), true],
        ['version > 2', compare.version('k', '>', 2), false],
        ['version < 3', compare.version('k', '<', 3), true],
        ['version < 2', compare.version('k', '<', 2), false],
        ['createRevision = 2', compare.createRevision('k', '=', 2), true],
        ['createRevision = 3', compare.createRevision('k', '=', 3), false],
        ['createRevision != 3', compare.createRevision('k', '!=', 3), true],
        ['createRevision != 2', compare.createRevision('k', '!=', 2), false],
        ['createRevision > 1', compare.createRevision('k', '>', 1), true],
        ['createRevision > 2', compare.createRevision('k', '>', 2), false],
        ['createRevision < 3', compare.createRevision('k', '<', 3), true],
        ['createRevision < 2', compare.createRevision('k', '<', 2), false],
        ['modRevision = 3', compare.modRevision('k', '=', 3), true],
        ['modRevision = 2', compare.modRevision('k', '=', 2), false],
        ['modRevision != 2', compare.modRevision('k', '!=', 2), true],
        ['modRevision != 3', compare.modRevision('k', '!=', 3), false],
        ['modRevision > 2', compare.modRevision('k', '>', 2), true],
        ['modRevision > 3', compare.modRevision('k', '>', 3), false],
        ['modRevision < 4', compare.modRevision('k', '<', 4), true],
        ['modRevision < 3', compare.modRevision('k', '<', 3), false],
        ['value = "v"', compare.value('k', '=', 'v'), true],
        ['value = "w"', compare.value('k', '=', 'w'), false],
        ['value = ""', compare.value('k', '=', ''), false],
        ['value = "v\\0"', compare.value('k', '=', 'v\0'), false],
        ['value != "w"', compare.value('k', '!=', 'w'), true],
        ['value != "v"', compare.value('k', '!=', 'v'), false],
        ['value > "u"', compare.value('k', '>', 'u'), true],
        ['value > ""', compare.value('k', '>', ''), true],
        ['value > "v"', compare.value('k', '>', 'v'), false],
        ['value > "va" (a longer value sorts after its prefix)', compare.value('k', '>', 'va'), false],
        ['value < "va"', compare.value('k', '<', 'va'), true],
        ['value < "w"', compare.value('k', '<', 'w'), true],
        ['value < "v"', compare.value('k', '<', 'v'), false],
        ['value < 0xff (bytes compare unsigned)', compare.value('k', '<', bytes(0xff)), true],
        ['lease = 0', compare.lease('k', '=', 0n), true],
        ['lease != 0', compare.lease('k', '!=', 0n), false],
        ['lease > 0', compare.lease('k', '>', 0n), false],
        ['lease < 1', compare.lease('k', '<', 1n), true],
        ['lease = 12345', compare.lease('k', '=', MISSING_LEASE), false],
        ['lease != 12345', compare.lease('k', '!=', MISSING_LEASE), true],
      ]))('compare %s on an existing key', async (_name, c, expected) => {
        const etcd = target()
        await seedK(etcd)
        expect(await holds(etcd, c)).toBe(expected)
      })

      test('a compare on a binary value compares its bytes', async () => {
        const etcd = target()
        await etcd.put('k', bytes(0x00, 0xff))
        expect(await holds(etcd, compare.value('k', '=', bytes(0x00, 0xff)))).toBe(true)
        expect(await holds(etcd, compare.value('k', '>', bytes(0x00, 0xfe, 0xff)))).toBe(true)
        expect(await holds(etcd, compare.value('k', '<', bytes(0x01)))).toBe(true)
      })

      test('a compare operand of 0 / empty is still compared (not treated as absent)', async () => {
        const etcd = target()
        await etcd.put('k', '')
        expect(await holds(etcd, compare.value('k', '=', ''))).toBe(true)
        expect(await holds(etcd, compare.version('k', '>', 0))).toBe(true)
        expect(await holds(etcd, compare.modRevision('k', '!=', 0))).toBe(true)
      })
    })

    describe('compare on a missing key', () => {
      test.each<[string, Compare, boolean]>(verdicts([
        ['version = 0', compare.version('m', '=', 0), true],
        ['version != 0', compare.version('m', '!=', 0), false],
        ['version > 0', compare.version('m', '>', 0), false],
        ['version < 1', compare.version('m', '<', 1), true],
        ['createRevision = 0', compare.createRevision('m', '=', 0), true],
        ['createRevision > 0', compare.createRevision('m', '>', 0), false],
        ['modRevision = 0', compare.modRevision('m', '=', 0), true],
        ['modRevision < 1', compare.modRevision('m', '<', 1), true],
        ['lease = 0', compare.lease('m', '=', 0n), true],
        ['lease != 0', compare.lease('m', '!=', 0n), false],
        // A VALUE compare on a missing key always fails, NOT_EQUAL included (3.4.23).
        ['value = ""', compare.value('m', '=', ''), false],
        ['value != ""', compare.value('m', '!=', ''), false],
        ['value != "x"', compare.value('m', '!=', 'x'), false],
        ['value > ""', compare.value('m', '>', ''), false],
        ['value < "z"', compare.value('m', '<', 'z'), false],
      ]))('compare %s on a missing key', async (_name, c, expected) => {
        const etcd = target()
        await etcd.put('other', 'x')
        expect(await holds(etcd, c)).toBe(expected)
      })

      test('a deleted key compares as missing', async () => {
        const etcd = target()
        await etcd.put('m', 'x')
        await etcd.delete('m')
        expect(await holds(etcd, compare.version('m', '=', 0))).toBe(true)
        expect(await holds(etcd, compare.createRevision('m', '=', 0))).toBe(true)
        expect(await holds(etcd, compare.modRevision('m', '=', 0))).toBe(true)
        expect(await holds(etcd, compare.value('m', '!=', 'x'))).toBe(false)
      })
    })

    describe('compare on a range', () => {
      // r/a: version 1, create 2, mod 2; r/b: version 2, create 3, mod 4; r/c: version 3, create 5, mod 7;
      // every value "x"; s: version 1, value "y", outside the prefix r/ but inside fromKey r/b.
      async function seedRange(etcd: Target): Promise<void> {
        await seed(etcd, [
          ['r/a', 'x'], // 2
          ['r/b', 'x'], // 3
          ['r/b', 'x'], // 4
          ['r/c', 'x'], // 5
          ['r/c', 'x'], // 6
          ['r/c', 'x'], // 7
          ['s', 'y'], // 8
        ])
      }
      const prefix = { prefix: true }

      test.each<[string, Compare, boolean]>(verdicts([
        ['version > 0', compare.version('r/', '>', 0, prefix), true],
        ['version > 1', compare.version('r/', '>', 1, prefix), false],
        ['version < 4', compare.version('r/', '<', 4, prefix), true],
        ['version < 3', compare.version('r/', '<', 3, prefix), false],
        ['version = 2', compare.version('r/', '=', 2, prefix), false],
        ['version != 0', compare.version('r/', '!=', 0, prefix), true],
        ['version != 2', compare.version('r/', '!=', 2, prefix), false],
        ['createRevision > 1', compare.createRevision('r/', '>', 1, prefix), true],
        ['createRevision < 5', compare.createRevision('r/', '<', 5, prefix), false],
        ['createRevision < 6', compare.createRevision('r/', '<', 6, prefix), true],
        ['modRevision > 1', compare.modRevision('r/', '>', 1, prefix), true],
        ['modRevision = 7', compare.modRevision('r/', '=', 7, prefix), false],
        ['modRevision < 8', compare.modRevision('r/', '<', 8, prefix), true],
        ['value = "x"', compare.value('r/', '=', 'x', prefix), true],
        ['value != "x"', compare.value('r/', '!=', 'x', prefix), false],
        ['value != "y"', compare.value('r/', '!=', 'y', prefix), true],
        ['value > "w"', compare.value('r/', '>', 'w', prefix), true],
        ['value < "x"', compare.value('r/', '<', 'x', prefix), false],
        ['lease = 0', compare.lease('r/', '=', 0n, prefix), true],
        ['version < 3 over [r/a, r/c)', compare.version('r/a', '<', 3, { rangeEnd: 'r/c' }), true],
        ['version = 1 over [r/a, r/c)', compare.version('r/a', '=', 1, { rangeEnd: 'r/c' }), false],
        ['version > 0 from r/b on', compare.version('r/b', '>', 0, { fromKey: true }), true],
        ['version > 1 from r/b on (s has version 1)', compare.version('r/b', '>', 1, { fromKey: true }), false],
        ['value = "x" from r/b on (s holds "y")', compare.value('r/b', '=', 'x', { fromKey: true }), false],
      ]))('compare %s over a range: every key in it must satisfy it', async (_name, c, expected) => {
        const etcd = target()
        await seedRange(etcd)
        expect(await holds(etcd, c)).toBe(expected)
      })

      test.each<[string, Compare, boolean]>(verdicts([
        ['version = 0', compare.version('none/', '=', 0, prefix), true],
        ['version < 1', compare.version('none/', '<', 1, prefix), true],
        ['version > 0', compare.version('none/', '>', 0, prefix), false],
        ['createRevision = 0', compare.createRevision('none/', '=', 0, prefix), true],
        ['modRevision = 0', compare.modRevision('none/', '=', 0, prefix), true],
        ['modRevision != 0', compare.modRevision('none/', '!=', 0, prefix), false],
        ['lease = 0', compare.lease('none/', '=', 0n, prefix), true],
        ['value = ""', compare.value('none/', '=', '', prefix), false],
        ['value != "x"', compare.value('none/', '!=', 'x', prefix), false],
      ]))('compare %s over an empty range, as on a missing key', async (_name, c, expected) => {
        const etcd = target()
        await seedRange(etcd)
        expect(await holds(etcd, c)).toBe(expected)
      })

      test('a compare over a range fails when a single key differs', async () => {
        const etcd = target()
        await seedRange(etcd)
        expect(await holds(etcd, compare.value('r/', '=', 'x', prefix))).toBe(true)
        await etcd.put('r/b', 'other')
        expect(await holds(etcd, compare.value('r/', '=', 'x', prefix))).toBe(false)
      })

      test('a services-level compare takes key and rangeEnd as given', async () => {
        const etcd = target()
        await seedRange(etcd)
        const r = await etcd.services.kv.txn({
          compare: [{ key: 'r/', rangeEnd: 'r0', target: 'VERSION', result: 'GREATER', version: 0 }],
        })
        expect(r.succeeded).toBe(true)
      })
    })

    describe('branches', () => {
      test('every compare must hold: one failing compare among several takes the else branch', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const c = [compare.value('k', '=', 'v'), compare.version('k', '=', 1), compare.createRevision('k', '=', 2)]
        expect((await etcd.txn().if(...c).commit()).succeeded).toBe(true)
        expect((await etcd.txn().if(...c, compare.modRevision('k', '>', 2)).commit()).succeeded).toBe(false)
      })

      test('then runs when the compares hold, answering each op in order', async () => {
        const etcd = target()
        await etcd.put('k', 'v') // 2
        const r = await etcd
          .txn()
          .if(compare.value('k', '=', 'v'))
          .then(op.put('a', '1'), op.get('k'), op.delete('k', { prevKv: true }), op.get('k'))
          .else(op.put('b', '1'))
          .commit()
        expect(r.succeeded).toBe(true)
        expect(r.header.revision).toBe(3)
        expect(r.responses.map(kindOf)).toEqual(['put', 'get', 'delete', 'get'])
        expect(getOf(r.responses[1]).kvs.map(pair)).toEqual([kvPair('k', 'v', 2, 2, 1)])
        const deleted = deleteOf(r.responses[2])
        expect(deleted.deleted).toBe(1)
        expect(deleted.prevKvs.map(pair)).toEqual([kvPair('k', 'v', 2, 2, 1)])
        expect(getOf(r.responses[3]).kvs).toEqual([])
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(['a'])
      })

      test('else runs when a compare fails, and then does not', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const r = await etcd
          .txn()
          .if(compare.value('k', '=', 'other'))
          .then(op.put('a', '1'))
          .else(op.put('b', '1'), op.get('k'))
          .commit()
        expect(r.succeeded).toBe(false)
        expect(r.header.revision).toBe(3)
        expect(r.responses.map(kindOf)).toEqual(['put', 'get'])
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(['b', 'k'])
      })

      test('a txn without compares takes the then branch', async () => {
        const etcd = target()
        const r = await etcd.txn().then(op.put('a', '1')).else(op.put('b', '1')).commit()
        expect(r.succeeded).toBe(true)
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(['a'])
      })

      test('a failing txn without else ops answers succeeded false, no responses, and consumes no revision', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const r = await etcd.txn().if(compare.version('k', '>', 5)).then(op.put('a', '1')).commit()
        expect(r.succeeded).toBe(false)
        expect(r.responses).toEqual([])
        expect(r.header.revision).toBe(2)
        expect(await currentRevision(etcd)).toBe(2)
      })

      test('the empty txn succeeds with no responses and consumes no revision', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const r = await etcd.txn().commit()
        expect(r.succeeded).toBe(true)
        expect(r.responses).toEqual([])
        expect(r.header.revision).toBe(2)
        const s = await etcd.services.kv.txn({})
        expect(s.succeeded).toBe(true)
        expect(s.responses).toEqual([])
      })

      test('ops in a txn honour their options: get with limit and sort, put with prevKv', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c']) // 2..4
        const r = await etcd
          .txn()
          .then(
            op.get('a', { rangeEnd: 'z', limit: 2, sortOrder: 'DESCEND' }),
            op.get('a', { rangeEnd: 'z', countOnly: true }),
            op.get('a', { rangeEnd: 'z', keysOnly: true, minModRevision: 3 }),
            op.put('a', '2', { prevKv: true }),
            op.put('n', '1', { prevKv: true }),
            op.get('b', { revision: 2 }),
          )
          .commit()
        const sorted = getOf(r.responses[0])
        expect(keysOf(sorted.kvs)).toEqual(['c', 'b'])
        expect(sorted.more).toBe(true)
        expect(sorted.count).toBe(3)
        const counted = getOf(r.responses[1])
        expect(counted.kvs).toEqual([])
        expect(counted.count).toBe(3)
        expect(getOf(r.responses[2]).kvs.map(pair)).toEqual([kvPair('b', '', 3, 3, 1), kvPair('c', '', 4, 4, 1)])
        const prev = putOf(r.responses[3]).prevKv
        expect(prev && pair(prev)).toEqual(kvPair('a', '1', 2, 2, 1))
        expect(putOf(r.responses[4]).prevKv).toBeUndefined()
        expect(getOf(r.responses[5]).kvs).toEqual([])
      })

      test('a services-level txn answers services-level responses', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const r = await etcd.services.kv.txn({
          compare: [{ key: 'k', target: 'VALUE', result: 'EQUAL', value: 'v' }],
          success: [{ requestPut: { key: 'k', value: 'w', prevKv: true } }, { requestRange: { key: 'k' } }],
          failure: [],
        })
        expect(r.succeeded).toBe(true)
        expect(r.header.revision).toBe(3)
        const [first, second] = r.responses
        expect(first && 'responsePut' in first && first.responsePut.prevKv && text(first.responsePut.prevKv.value)).toBe(
          'v',
        )
        expect(second && 'responseRange' in second && second.responseRange.kvs.map(pair)).toEqual([
          kvPair('k', 'w', 2, 3, 2),
        ])
      })
    })

    describe('nested txns', () => {
      test('a nested txn answers a txn response holding its own branch', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const r = await etcd
          .txn()
          .then(
            op.put('a', '1'),
            op.txn([compare.value('k', '=', 'v')], [op.put('b', '1'), op.get('k')], [op.put('c', '1')]),
            op.txn([compare.value('k', '=', 'nope')], [op.put('d', '1')], [op.put('e', '1')]),
          )
          .commit()
        expect(r.succeeded).toBe(true)
        expect(r.responses.map(kindOf)).toEqual(['put', 'txn', 'txn'])
        const first = txnOf(r.responses[1])
        expect(first.succeeded).toBe(true)
        expect(first.responses.map(kindOf)).toEqual(['put', 'get'])
        expect(getOf(first.responses[1]).kvs.map(pair)).toEqual([kvPair('k', 'v', 2, 2, 1)])
        const second = txnOf(r.responses[2])
        expect(second.succeeded).toBe(false)
        expect(second.responses.map(kindOf)).toEqual(['put'])
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(['a', 'b', 'e', 'k'])
      })

      test('a nested txn in the else branch runs as well', async () => {
        const etcd = target()
        const r = await etcd
          .txn()
          .if(compare.version('k', '>', 0))
          .else(op.txn([], [op.put('x', '1')]))
          .commit()
        expect(r.succeeded).toBe(false)
        expect(txnOf(r.responses[0]).succeeded).toBe(true)
        expect(keysOf((await etcd.get('x')).kvs)).toEqual(['x'])
      })

      test('txns nest three levels deep', async () => {
        const etcd = target()
        const r = await etcd.do(op.txn([], [op.txn([], [op.txn([], [op.put('deep', '3')])])]))
        const level1 = 'txn' in r ? r.txn : undefined
        const level3 = txnOf(txnOf(level1?.responses[0]).responses[0])
        expect(level3.responses.map(kindOf)).toEqual(['put'])
        expect((await etcd.get('deep')).kvs.map(pair)).toEqual([kvPair('deep', '3', 2, 2, 1)])
      })

      test("a nested txn's compares see the state before the txn, not the writes before them", async () => {
        const etcd = target()
        const r = await etcd
          .txn()
          .then(op.put('k', 'new'), op.txn([compare.value('k', '=', 'new')], [op.put('x', 'then')], [op.put('x', 'else')]))
          .commit()
        expect(txnOf(r.responses[1]).succeeded).toBe(false)
        expect((await etcd.get('x')).kvs.map(pair)).toEqual([kvPair('x', 'else', 2, 2, 1)])
      })

      test("a nested txn's writes are seen by the outer ops after it and share the txn's revision", async () => {
        const etcd = target()
        await etcd.put('a', '1') // 2
        const r = await etcd
          .txn()
          .then(op.put('a', '2'), op.txn([], [op.put('b', '1')]), op.get('b'))
          .commit()
        expect(r.header.revision).toBe(3)
        expect(getOf(r.responses[2]).kvs.map(pair)).toEqual([kvPair('b', '1', 3, 3, 1)])
        expect(headerOf(r.responses[2]).revision).toBe(3)
        expect((await etcd.get('a')).kvs.map(pair)).toEqual([kvPair('a', '2', 2, 3, 2)])
      })
    })

    describe('revisions', () => {
      test('reads in a txn see the earlier writes of the same txn', async () => {
        const etcd = target()
        await seed(etcd, [
          ['k', 'old'], // 2
          ['d', 'gone'], // 3
        ])
        const r = await etcd
          .txn()
          .then(op.get('k'), op.put('k', 'new'), op.get('k'), op.get('d'), op.delete('d'), op.get('d'))
          .commit()
        expect(getOf(r.responses[0]).kvs.map(pair)).toEqual([kvPair('k', 'old', 2, 2, 1)])
        expect(getOf(r.responses[2]).kvs.map(pair)).toEqual([kvPair('k', 'new', 2, 4, 2)])
        expect(getOf(r.responses[3]).kvs.map(pair)).toEqual([kvPair('d', 'gone', 3, 3, 1)])
        expect(getOf(r.responses[5]).kvs).toEqual([])
        expect(getOf(r.responses[5]).count).toBe(0)
      })

      test('a txn that writes several keys adds one revision, the modRevision of every key', async () => {
        const etcd = target()
        await etcd.put('x', '1') // 2
        const r = await etcd.txn().then(op.put('a', '1'), op.put('b', '1'), op.put('x', '2'), op.put('c', '1')).commit()
        expect(r.header.revision).toBe(3)
        expect((await etcd.get('\0', { rangeEnd: '\0' })).kvs.map(pair)).toEqual([
          kvPair('a', '1', 3, 3, 1),
          kvPair('b', '1', 3, 3, 1),
          kvPair('c', '1', 3, 3, 1),
          kvPair('x', '2', 2, 3, 2),
        ])
        expect(await currentRevision(etcd)).toBe(3)
      })

      test('a txn that puts and deletes adds one revision', async () => {
        const etcd = target()
        await etcd.put('old', '1') // 2
        const r = await etcd.txn().then(op.put('new', '1'), op.delete('old')).commit()
        expect(r.header.revision).toBe(3)
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0', revision: 2 })).kvs)).toEqual(['old'])
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0', revision: 3 })).kvs)).toEqual(['new'])
      })

      test.each<[string, (etcd: Target) => Promise<unknown>]>([
        ['a read-only txn', (etcd) => etcd.txn().then(op.get('k'), op.txn([], [op.get('k')])).commit()],
        [
          'a txn whose compares fail and whose else branch only reads',
          (etcd) => etcd.txn().if(compare.value('k', '=', 'no')).then(op.put('k', 'x')).else(op.get('k')).commit(),
        ],
        [
          'a txn whose compares hold and whose then branch is empty',
          (etcd) => etcd.txn().if(compare.value('k', '=', 'v')).then().else(op.put('k', 'x')).commit(),
        ],
        ['a txn whose only write deletes a missing key', (etcd) => etcd.txn().then(op.delete('missing')).commit()],
        [
          'a txn whose deletes match nothing',
          (etcd) => etcd.txn().then(op.delete('m', { rangeEnd: 'n' }), op.delete('x', { prefix: true })).commit(),
        ],
        ['a nested txn that only reads', (etcd) => etcd.do(op.txn([], [op.txn([], [op.get('k')])]))],
      ])('%s consumes no revision and changes nothing', async (_name, run) => {
        const etcd = target()
        await etcd.put('k', 'v') // 2
        const before = await snapshot(etcd)
        await run(etcd)
        await expectUnchanged(etcd, before)
        await etcd.put('after', '1')
        expect(await currentRevision(etcd)).toBe(3)
      })

      test('a txn that changes nothing answers the current revision in its header', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b']) // 2, 3
        const r = await etcd.txn().then(op.get('a'), op.delete('missing')).commit()
        expect(r.header.revision).toBe(3)
        expect(headerOf(r.responses[0]).revision).toBe(3)
        expect(headerOf(r.responses[1]).revision).toBe(3)
      })

      // 3.4.23: an op's header revision is the txn's revision once the txn has changed something, and the revision
      // before the txn until then; a put always reports the new revision.
      test('ops before the first change in a txn report the revision before it; ops after report the new one', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'k']) // 2, 3
        const r = await etcd
          .txn()
          .then(op.get('k'), op.delete('missing'), op.put('k', 'v'), op.delete('missing2'), op.get('k'))
          .commit()
        expect(r.header.revision).toBe(4)
        expect(r.responses.map((x) => headerOf(x).revision)).toEqual([3, 3, 4, 4, 4])
      })

      // 3.4.23: headers inside a txn hold only a revision; the cluster id, member id and raft term are left zero.
      test('op headers inside a txn carry only the revision', async () => {
        const etcd = target()
        const r = await etcd.txn().then(op.put('k', 'v'), op.get('k')).commit()
        expect(r.header.clusterId).not.toBe(0n)
        expect(r.header.memberId).not.toBe(0n)
        for (const response of r.responses) {
          expect(headerOf(response)).toEqual({ clusterId: 0n, memberId: 0n, revision: 2, raftTerm: 0 })
        }
      })

      // 3.4.23: a nested txn's response header is an empty message: every field zero, revision included.
      test("a nested txn's own header is empty, while its ops report their revisions", async () => {
        const etcd = target()
        const r = await etcd.txn().then(op.txn([], [op.put('k', 'v')])).commit()
        const inner = txnOf(r.responses[0])
        expect(inner.header).toEqual({ clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 })
        expect(headerOf(inner.responses[0]).revision).toBe(2)
      })
    })

    describe('client API', () => {
      test.each<[string, (etcd: Target) => unknown]>([
        ['if after then', (etcd) => etcd.txn().then().if()],
        ['if after else', (etcd) => etcd.txn().else().if()],
        ['if twice', (etcd) => etcd.txn().if().if()],
        ['then twice', (etcd) => etcd.txn().then().then()],
        ['then after else', (etcd) => etcd.txn().if().else().then()],
        ['else twice', (etcd) => etcd.txn().else().else()],
      ])('the txn builder throws a TypeError for %s', (_name, build) => {
        expect(() => build(target())).toThrow(TypeError)
      })

      test('the txn builder accepts else right after if, and several compares in one if', async () => {
        const etcd = target()
        const r = await etcd
          .txn()
          .if(compare.version('k', '=', 0), compare.version('k', '>', 0))
          .else(op.put('e', '1'))
          .commit()
        expect(r.succeeded).toBe(false)
        expect(keysOf((await etcd.get('e')).kvs)).toEqual(['e'])
      })

      test('compare with an unknown operator throws a TypeError', () => {
        expect(() => compare.value('k', '==' as CompareOperator, 'v')).toThrow(TypeError)
      })

      test('do runs one op and answers it by kind', async () => {
        const etcd = target()
        const p = await etcd.do(op.put('k', 'v', { prevKv: true }))
        expect(kindOf(p)).toBe('put')
        expect(putOf(p).header.revision).toBe(2)
        const g = await etcd.do(op.get('k'))
        expect(getOf(g).kvs.map(pair)).toEqual([kvPair('k', 'v', 2, 2, 1)])
        const t = await etcd.do(op.txn([compare.value('k', '=', 'v')], [op.get('k')], []))
        expect(txnOf(t).succeeded).toBe(true)
        expect(getOf(txnOf(t).responses[0]).count).toBe(1)
        const d = await etcd.do(op.delete('k', { prevKv: true }))
        expect(deleteOf(d).deleted).toBe(1)
        expect(deleteOf(d).prevKvs.map(pair)).toEqual([kvPair('k', 'v', 2, 2, 1)])
      })

      test('do of a put with an error rejects like the one-shot put', async () => {
        await expectEtcdError(target().do(op.put('', 'v')), 'ETCD_EMPTY_KEY')
      })
    })
  })
  registerTxnChecks(h)
}
