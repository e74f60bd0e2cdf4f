import { describe, expect, test } from 'vitest'
import { compare, op, type Op, type RequestOp, type TxnRequest } from '../../src/index.ts'
import { lacks, type Harness, type Target } from './harness.ts'
import {
  currentRevision,
  expectEtcdError,
  expectUnchanged,
  keysOf,
  kvPair,
  pair,
  seedKeys,
  snapshot,
  useTarget,
} from './helpers.ts'
import { del, getOf, MISSING_LEASE, nested, put, puts, trueCompares } from './txn-helpers.ts'

/**
 * The checks that refuse a txn as a whole, before anything is written: the op-count limits (nested txns included),
 * the request size, the duplicate-key rule, and per-op validation along the branch that runs. A refused txn changes
 * nothing: every case checks the revision and the data afterwards.
 */
export function registerTxnChecks(h: Harness): void {
  describe(`txn checks (${h.name})`, () => {
    const target = useTarget(h)

    describe('limits', () => {
      test.each<[string, TxnRequest]>([
        ['129 compares', { compare: trueCompares(129) }],
        ['129 success ops', { success: puts(129) }],
        ['129 failure ops', { failure: puts(129) }],
        ['129 reads in success', { success: Array.from({ length: 129 }, () => op.get('k')) }],
      ])('a txn with %s rejects with ETCD_TOO_MANY_OPS and changes nothing', async (_name, request) => {
        const etcd = target()
        await etcd.put('k', 'v')
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.services.kv.txn(request), 'ETCD_TOO_MANY_OPS')
        await expectUnchanged(etcd, before)
      })

      test('a txn with exactly 128 compares is accepted', async () => {
        const etcd = target()
        const r = await etcd.services.kv.txn({ compare: trueCompares(128), success: [put('ok')] })
        expect(r.succeeded).toBe(true)
        expect((await etcd.get('ok')).count).toBe(1)
      })

      test('a txn with exactly 128 success ops is accepted and writes them in one revision', async () => {
        const etcd = target()
        const r = await etcd.services.kv.txn({ success: puts(128) })
        expect(r.header.revision).toBe(2)
        const all = await etcd.get('k', { prefix: true })
        expect(all.count).toBe(128)
        expect(new Set(all.kvs.map((kv) => kv.modRevision))).toEqual(new Set([2]))
      })

      test('a txn with exactly 128 failure ops is accepted', async () => {
        const etcd = target()
        const r = await etcd.services.kv.txn({ compare: [compare.version('x', '>', 0)], failure: puts(128) })
        expect(r.succeeded).toBe(false)
        expect((await etcd.get('k', { prefix: true, countOnly: true })).count).toBe(128)
      })

      // A nested txn may hold at most 128 minus the largest list (compare, success, failure) of its parent (3.4.23).
      test.each<[string, TxnRequest]>([
        ['[txn{127 puts}]', { success: [nested({ success: puts(127) })] }],
        ['[put, txn{126 puts}]', { success: [put('o'), nested({ success: puts(126) })] }],
        ['1 compare and [txn{127 puts}]', { compare: trueCompares(1), success: [nested({ success: puts(127) })] }],
        ['2 compares and [txn{126 puts}]', { compare: trueCompares(2), success: [nested({ success: puts(126) })] }],
        ['128 compares and [txn{}]', { compare: trueCompares(128), success: [nested({})] }],
        ['failure [txn{127 puts}]', { compare: [compare.version('x', '>', 0)], failure: [nested({ success: puts(127) })] }],
        ['[txn{127 compares}]', { success: [nested({ compare: trueCompares(127) })] }],
      ])('a nested txn within its budget is accepted: %s', async (_name, request) => {
        const etcd = target()
        await etcd.services.kv.txn(request)
      })

      test.each<[string, TxnRequest]>([
        ['[txn{129 puts}]', { success: [nested({ success: puts(129) })] }],
        ['[txn{failure 129 puts}]', { success: [nested({ failure: puts(129) })] }],
        ['[txn{129 compares}]', { success: [nested({ compare: trueCompares(129) })] }],
      ])('a nested txn with more than 128 entries in a list rejects with ETCD_TOO_MANY_OPS: %s', async (_name, request) => {
        const etcd = target()
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.services.kv.txn(request), 'ETCD_TOO_MANY_OPS')
        await expectUnchanged(etcd, before)
      })

      test.each<[string, TxnRequest]>([
        ['[txn{128 puts}]', { success: [nested({ success: puts(128) })] }],
        ['[put, txn{127 puts}]', { success: [put('o'), nested({ success: puts(127) })] }],
        ['2 compares and [txn{127 puts}]', { compare: trueCompares(2), success: [nested({ success: puts(127) })] }],
        ['128 compares and [txn{1 put}]', { compare: trueCompares(128), success: [nested({ success: puts(1) })] }],
        ['[txn{128 compares}]', { success: [nested({ compare: trueCompares(128) })] }],
      ])(
        "a nested txn over 128 minus its parent's largest list rejects with ETCD_TOO_MANY_OPS: %s",
        async (_name, request) => {
          const etcd = target()
          const before = await snapshot(etcd)
          await expectEtcdError(etcd.services.kv.txn(request), 'ETCD_TOO_MANY_OPS')
          await expectUnchanged(etcd, before)
        },
      )

      test('a txn larger than the request limit rejects with ETCD_REQUEST_TOO_LARGE and changes nothing', async () => {
        const etcd = target()
        const big = new Uint8Array(800_000)
        await expectEtcdError(etcd.txn().then(op.put('a', big), op.put('b', big)).commit(), 'ETCD_REQUEST_TOO_LARGE')
        expect(await currentRevision(etcd)).toBe(1)
      })
    })

    describe('duplicate keys', () => {
      // Each case runs on a target holding a, b, k (revisions 2..4). The rule is checked on both branches before
      // any compare is evaluated (3.4.23).
      async function seedDup(etcd: Target): Promise<void> {
        await seedKeys(etcd, ['a', 'b', 'k'])
      }

      test.each<[string, RequestOp[], RequestOp[]]>([
        ['put k twice', [put('k'), put('k')], []],
        ['put k twice in the failure branch (not taken)', [], [put('k'), put('k')]],
        ['delete [a, c) then put b', [del('a', 'c'), put('b')], []],
        ['put b then delete [a, c)', [put('b'), del('a', 'c')], []],
        ['delete [a, c) then put a', [del('a', 'c'), put('a')], []],
        ['delete prefix foo/ then put foo/x', [del('foo/', 'foo0'), put('foo/x')], []],
        ['delete k then put k', [del('k'), put('k')], []],
        ['put k then delete k', [put('k'), del('k')], []],
        ['put k and a nested success put k', [put('k'), nested({ success: [put('k')] })], []],
        ['a nested success put k and then put k', [nested({ success: [put('k')] }), put('k')], []],
        ['put k and a nested failure put k', [put('k'), nested({ failure: [put('k')] })], []],
        ['two nested txns that put k in success', [nested({ success: [put('k')] }), nested({ success: [put('k')] })], []],
        [
          'nested put k in both branches, then a nested success put k',
          [nested({ success: [put('k')], failure: [put('k')] }), nested({ success: [put('k')] })],
          [],
        ],
        [
          'nested failure put k, then a nested put k in both branches',
          [nested({ failure: [put('k')] }), nested({ success: [put('k')], failure: [put('k')] })],
          [],
        ],
        [
          'nested success put k, then a nested failure put k',
          [nested({ success: [put('k')] }), nested({ failure: [put('k')] })],
          [],
        ],
        ['delete k and a nested put k', [del('k'), nested({ success: [put('k')] })], []],
        ['delete [a, z) and a nested put k', [del('a', 'z'), nested({ success: [put('k')] })], []],
        ['a nested put k, then delete k', [nested({ success: [put('k')] }), del('k')], []],
        ['put k, then a nested delete k', [put('k'), nested({ success: [del('k')] })], []],
        ['a nested delete k, then put k', [nested({ success: [del('k')] }), put('k')], []],
        ['a nested delete [a, z), then put k', [nested({ success: [del('a', 'z')] }), put('k')], []],
        ['put k, then a nested delete [a, z)', [put('k'), nested({ success: [del('a', 'z')] })], []],
        ['a nested delete k, then a nested put k', [nested({ success: [del('k')] }), nested({ success: [put('k')] })], []],
      ])('a txn that writes a key twice rejects with ETCD_DUPLICATE_KEY: %s', async (_name, success, failure) => {
        const etcd = target()
        await seedDup(etcd)
        const before = await snapshot(etcd)
        await expectEtcdError(
          etcd.services.kv.txn({ compare: [compare.version('k', '>', 0)], success, failure }),
          'ETCD_DUPLICATE_KEY',
        )
        await expectUnchanged(etcd, before)
      })

      test.each<[string, RequestOp[], RequestOp[]]>([
        ['delete [a, c) and put c (the end is exclusive)', [del('a', 'c'), put('c')], []],
        ['put k in success and in failure', [put('k')], [put('k')]],
        ['delete [a, z) in success and put k in failure', [del('a', 'z')], [put('k')]],
        ['a nested txn that puts k in both branches', [nested({ success: [put('k')], failure: [put('k')] })], []],
        ['a nested txn that deletes k in success and puts k in failure', [nested({ success: [del('k')], failure: [put('k')] })], []],
        ['overlapping deletes [a, c) and [b, d)', [del('a', 'c'), del('b', 'd')], []],
        ['delete k twice', [del('k'), del('k')], []],
        ['delete [a, c) and a nested delete b', [del('a', 'c'), nested({ success: [del('b')] })], []],
        ['delete [k, k) (empty) and put k', [del('k', 'k'), put('k')], []],
        ['delete [k, a) (end below key) and put k', [del('k', 'a'), put('k')], []],
        // etcd reads [key, "\0") as an empty interval, so a from-key delete never conflicts with a put (3.4.23).
        ['delete from a on and put b', [del('a', '\0'), put('b')], []],
        ['delete from a on and put a', [del('a', '\0'), put('a')], []],
        ['delete everything ("\\0" to "\\0") and put b', [del('\0', '\0'), put('b')], []],
      ])('a txn may write a key once per branch: %s is accepted', async (_name, success, failure) => {
        const etcd = target()
        await seedDup(etcd)
        await etcd.services.kv.txn({ compare: [compare.version('k', '>', 0)], success, failure })
      })

      test('a from-key delete and a put of a key it covers apply in order at one revision', async () => {
        const etcd = target()
        await seedDup(etcd) // a, b, k at 2..4
        const r = await etcd.services.kv.txn({ success: [del('a', '\0'), put('b', 'new')] })
        const [deleted] = r.responses
        expect(deleted && 'responseDeleteRange' in deleted && deleted.responseDeleteRange.deleted).toBe(3)
        expect(r.header.revision).toBe(5)
        expect((await etcd.get('\0', { rangeEnd: '\0' })).kvs.map(pair)).toEqual([kvPair('b', 'new', 5, 5, 1)])
      })

      test('a nested put of k followed by a nested delete of k is accepted, and k ends deleted', async () => {
        const etcd = target()
        await seedDup(etcd)
        const r = await etcd.services.kv.txn({
          success: [nested({ success: [put('k', 'new')] }), nested({ success: [del('k')] })],
        })
        expect(r.header.revision).toBe(5)
        expect((await etcd.get('k')).kvs).toEqual([])
        expect((await etcd.get('k', { revision: 4 })).kvs.map(pair)).toEqual([kvPair('k', '1', 4, 4, 1)])
      })
    })

    describe('validation rejects the whole txn', () => {
      test.each<[string, (etcd: Target) => Promise<unknown>]>([
        [
          'the then branch taken',
          (etcd) => etcd.txn().then(op.put('a', '1'), op.put('b', '1', { lease: MISSING_LEASE })).commit(),
        ],
        [
          'the else branch taken',
          (etcd) =>
            etcd
              .txn()
              .if(compare.version('k', '>', 5))
              .else(op.put('a', '1'), op.put('b', '1', { lease: MISSING_LEASE }))
              .commit(),
        ],
        [
          'a nested branch taken',
          (etcd) => etcd.txn().then(op.put('a', '1'), op.txn([], [op.put('b', '1', { lease: MISSING_LEASE })])).commit(),
        ],
        [
          'the put of an existing key',
          (etcd) => etcd.txn().then(op.put('a', '1'), op.put('k', '2', { lease: MISSING_LEASE })).commit(),
        ],
      ])('a put with a missing lease in %s rejects with ETCD_LEASE_NOT_FOUND and changes nothing', async (_name, run) => {
        const etcd = target()
        await etcd.put('k', 'v')
        const before = await snapshot(etcd)
        await expectEtcdError(run(etcd), 'ETCD_LEASE_NOT_FOUND')
        await expectUnchanged(etcd, before)
      })

      test('a put with a missing lease in the branch not taken does not fail the txn', async () => {
        const etcd = target()
        const r = await etcd
          .txn()
          .then(op.put('a', '1'), op.txn([compare.version('a', '=', 0)], [], [op.put('c', '1', { lease: MISSING_LEASE })]))
          .else(op.put('b', '1', { lease: MISSING_LEASE }))
          .commit()
        expect(r.succeeded).toBe(true)
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(['a'])
      })

      test.each<[string, Op]>([
        ['ignoreValue', op.put('missing', '', { ignoreValue: true })],
        ['ignoreLease', op.put('missing', 'v', { ignoreLease: true })],
      ])('a put with %s of a missing key in the branch taken rejects with ETCD_KEY_NOT_FOUND', async (_name, o) => {
        const etcd = target()
        await etcd.put('k', 'v')
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.txn().then(op.put('a', '1'), o).commit(), 'ETCD_KEY_NOT_FOUND')
        await expectEtcdError(etcd.txn().then(op.put('a', '1'), op.txn([], [o])).commit(), 'ETCD_KEY_NOT_FOUND')
        await expectUnchanged(etcd, before)
      })

      test.each<[string, Op]>([
        ['ignoreValue', op.put('missing', '', { ignoreValue: true })],
        ['ignoreLease', op.put('missing', 'v', { ignoreLease: true })],
      ])('a put with %s of a missing key in the branch not taken does not fail the txn', async (_name, o) => {
        const etcd = target()
        const r = await etcd.txn().if(compare.version('x', '>', 0)).then(o).else(op.put('a', '1')).commit()
        expect(r.succeeded).toBe(false)
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(['a'])
      })

      test('ignoreValue in a txn keeps the value of a key that existed before the txn', async () => {
        const etcd = target()
        await etcd.put('k', 'keep')
        await etcd.txn().then(op.put('k', '', { ignoreValue: true, prevKv: true })).commit()
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'keep', 2, 3, 2)])
      })

      test('a read in a txn above the current revision rejects with ETCD_FUTURE_REV, even after a write', async () => {
        const etcd = target()
        await etcd.put('x', '1') // 2
        const before = await snapshot(etcd)
        // The put would make revision 3, but revisions are checked against the state before the txn.
        await expectEtcdError(etcd.txn().then(op.put('q', '1'), op.get('x', { revision: 3 })).commit(), 'ETCD_FUTURE_REV')
        await expectEtcdError(etcd.txn().then(op.get('x', { revision: 3 })).commit(), 'ETCD_FUTURE_REV')
        await expectUnchanged(etcd, before)
      })

      test('a read in a txn at a compacted revision rejects with ETCD_COMPACTED and changes nothing', async () => {
        const etcd = target()
        await seedKeys(etcd, ['x', 'y', 'z']) // 2..4
        await etcd.compact(3)
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.txn().then(op.put('q', '1'), op.get('x', { revision: 2 })).commit(), 'ETCD_COMPACTED')
        await expectEtcdError(etcd.txn().then(op.get('x', { revision: 2 })).commit(), 'ETCD_COMPACTED')
        await expectUnchanged(etcd, before)
      })

      test('a read in a write txn at the current revision is allowed and reports the new revision', async () => {
        const etcd = target()
        await seedKeys(etcd, ['x', 'y']) // 2, 3
        const r = await etcd.txn().then(op.put('q', '1'), op.get('x', { revision: 3 })).commit()
        const read = getOf(r.responses[1])
        expect(keysOf(read.kvs)).toEqual(['x'])
        expect(read.header.revision).toBe(4)
      })

      test.each<[string, TxnRequest]>([
        ['in success', { success: [put('a'), {} as RequestOp] }],
        ['in the failure branch not taken', { success: [put('a')], failure: [{} as RequestOp] }],
        ['in a nested txn', { success: [nested({ success: [{} as RequestOp] })] }],
      ])('an empty op %s rejects with ETCD_KEY_NOT_FOUND', async (_name, request) => {
        const etcd = target()
        await expectEtcdError(etcd.services.kv.txn(request), 'ETCD_KEY_NOT_FOUND')
        expect(await currentRevision(etcd)).toBe(1)
      })

      test.each<[string, TxnRequest]>([
        ['a compare with an empty key', { compare: [{ key: '', target: 'VERSION', result: 'EQUAL', version: 0 }] }],
        [
          'a nested compare with an empty key',
          { success: [nested({ compare: [{ key: '', target: 'VERSION', result: 'EQUAL' }] })] },
        ],
        ['a put with an empty key', { success: [put('a'), put('')] }],
        ['a put with an empty key in the failure branch not taken', { success: [put('a')], failure: [put('')] }],
        ['a range with an empty key', { success: [put('a'), { requestRange: { key: '' } }] }],
        ['a delete with an empty key', { success: [put('a'), del('')] }],
      ])('%s in a txn rejects with ETCD_EMPTY_KEY', async (_name, request) => {
        const etcd = target()
        await expectEtcdError(etcd.services.kv.txn(request), 'ETCD_EMPTY_KEY')
        expect(await currentRevision(etcd)).toBe(1)
      })

      test.each<[string, Op, 'ETCD_VALUE_PROVIDED' | 'ETCD_LEASE_PROVIDED']>([
        ['ignoreValue and a value', op.put('k', 'x', { ignoreValue: true }), 'ETCD_VALUE_PROVIDED'],
        ['ignoreLease and a lease', op.put('k', 'x', { ignoreLease: true, lease: MISSING_LEASE }), 'ETCD_LEASE_PROVIDED'],
      ])('a put with %s in a txn rejects as a one-shot put does', async (_name, bad, code) => {
        const etcd = target()
        await etcd.put('k', 'v')
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.txn().then(op.put('a', '1'), bad).commit(), code)
        await expectEtcdError(etcd.txn().if(compare.version('k', '=', 0)).then().else(bad).commit(), code)
        // The request checks cover the branch that is not taken as well.
        await expectEtcdError(etcd.txn().then(op.put('a', '1')).else(bad).commit(), code)
        await expectUnchanged(etcd, before)
      })

      // etcd 3.4.23 crashes on these (and crash-loops on restart): the delete with rangeEnd "\0" escapes the
      // duplicate-key check, and the put then finds its key gone. etcdlite answers an error and changes nothing.
      test.skipIf(lacks(h, 'engineOnly')).each<[string, RequestOp[]]>([
        ['ignoreLease', [del('k', '\0'), { requestPut: { key: 'k', value: 'v2', ignoreLease: true } }]],
        ['ignoreValue', [del('k', '\0'), { requestPut: { key: 'k', ignoreValue: true } }]],
        ['ignoreValue in a nested txn', [del('a', '\0'), nested({ success: [{ requestPut: { key: 'k', ignoreValue: true } }] })]],
      ])(
        'a from-key delete then a put with %s of a key it deleted rejects with ETCD_KEY_NOT_FOUND and changes nothing',
        async (_name, success) => {
          const etcd = target()
          await seedKeys(etcd, ['a', 'k'])
          const before = await snapshot(etcd)
          await expectEtcdError(etcd.services.kv.txn({ success }), 'ETCD_KEY_NOT_FOUND')
          await expectUnchanged(etcd, before)
        },
      )
    })

  })
}
