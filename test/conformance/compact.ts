import { describe, expect, test } from 'vitest'
import { op } from '../../src/index.ts'
import type { Harness, Target } from './harness.ts'
import {
  currentRevision,
  expectEtcdError,
  expectUnchanged,
  keysOf,
  kvPair,
  pair,
  seed,
  seedKeys,
  snapshot,
  useTarget,
} from './helpers.ts'

/**
 * Compact: etcd's KV.Compact through etcd.compact() and etcd.services.kv.compact(). What stays readable, the errors,
 * and physical compaction.
 */
export function registerCompact(h: Harness): void {
  describe(`compact (${h.name})`, () => {
    const target = useTarget(h)

    // k: v1@2, v2@3, v3@4; x@5, deleted@6; y@7. Current revision 7.
    async function history(etcd: Target): Promise<void> {
      await seed(etcd, [
        ['k', 'v1'], // 2
        ['k', 'v2'], // 3
        ['k', 'v3'], // 4
        ['x', 'x1'], // 5
      ])
      await etcd.delete('x') // 6
      await etcd.put('y', 'y1') // 7
    }

    describe('reads after a compaction', () => {
      test.each([1, 2, 3])('a range at revision %i, below the compact revision 4, rejects with ETCD_COMPACTED', async (revision) => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(4)
        await expectEtcdError(etcd.get('k', { revision }), 'ETCD_COMPACTED')
        await expectEtcdError(etcd.get('\0', { rangeEnd: '\0', revision }), 'ETCD_COMPACTED')
        await expectEtcdError(etcd.get('k', { revision, countOnly: true }), 'ETCD_COMPACTED')
        await expectEtcdError(etcd.get('missing', { revision }), 'ETCD_COMPACTED')
      })

      test('a range at exactly the compact revision is allowed', async () => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(3)
        const r = await etcd.get('k', { revision: 3 })
        expect(r.kvs.map(pair)).toEqual([kvPair('k', 'v2', 2, 3, 2)])
        expect(r.header.revision).toBe(7)
      })

      test('a compaction keeps the newest version of each key at or below the compact revision, and all later ones', async () => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(3)
        expect((await etcd.get('k', { revision: 3 })).kvs.map(pair)).toEqual([kvPair('k', 'v2', 2, 3, 2)])
        expect((await etcd.get('k', { revision: 4 })).kvs.map(pair)).toEqual([kvPair('k', 'v3', 2, 4, 3)])
        expect((await etcd.get('x', { revision: 5 })).kvs.map(pair)).toEqual([kvPair('x', 'x1', 5, 5, 1)])
        expect((await etcd.get('x', { revision: 6 })).kvs).toEqual([])
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v3', 2, 4, 3)])
      })

      test('a key deleted at or before the compact revision is gone at it', async () => {
        const etcd = target()
        await seedKeys(etcd, ['x', 'y', 'z']) // 2..4
        await etcd.delete('x') // 5
        await etcd.put('w', '1') // 6
        await etcd.compact(5)
        const at5 = await etcd.get('\0', { rangeEnd: '\0', revision: 5 })
        expect(keysOf(at5.kvs)).toEqual(['y', 'z'])
        expect(at5.count).toBe(2)
        expect((await etcd.get('x', { revision: 5 })).kvs).toEqual([])
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0', revision: 6 })).kvs)).toEqual(['w', 'y', 'z'])
      })

      test('a key deleted after the compact revision is still readable at it', async () => {
        const etcd = target()
        await seedKeys(etcd, ['x', 'y']) // 2, 3
        await etcd.delete('x') // 4
        await etcd.compact(3)
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0', revision: 3 })).kvs)).toEqual(['x', 'y'])
        expect(keysOf((await etcd.get('\0', { rangeEnd: '\0' })).kvs)).toEqual(['y'])
      })

      test('a key deleted and put again before the compact revision keeps only its new generation', async () => {
        const etcd = target()
        await seed(etcd, [
          ['k', 'old'], // 2
          ['k', 'old2'], // 3
        ])
        await etcd.delete('k') // 4
        await etcd.put('k', 'new') // 5
        await etcd.put('other', '1') // 6
        await etcd.compact(5)
        expect((await etcd.get('k', { revision: 5 })).kvs.map(pair)).toEqual([kvPair('k', 'new', 5, 5, 1)])
        await etcd.put('k', 'newer') // 7
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'newer', 5, 7, 2)])
      })

      test('a compaction keeps version and createRevision of the surviving pairs', async () => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(7)
        expect((await etcd.get('\0', { rangeEnd: '\0' })).kvs.map(pair)).toEqual([
          kvPair('k', 'v3', 2, 4, 3),
          kvPair('y', 'y1', 7, 7, 1),
        ])
        await etcd.put('k', 'v4')
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v4', 2, 8, 4)])
      })

      test('a compaction does not change the current revision; later writes continue from it', async () => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(5)
        expect(await currentRevision(etcd)).toBe(7)
        expect((await etcd.put('z', '1')).header.revision).toBe(8)
        expect((await etcd.get('z', { revision: 8 })).kvs.map(pair)).toEqual([kvPair('z', '1', 8, 8, 1)])
      })

      test('a txn read below the compact revision rejects with ETCD_COMPACTED and changes nothing', async () => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(5)
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.txn().then(op.put('n', '1'), op.get('k', { revision: 4 })).commit(), 'ETCD_COMPACTED')
        await expectUnchanged(etcd, before)
      })

      test('sort, limit and count work at the compact revision', async () => {
        const etcd = target()
        await seedKeys(etcd, ['a', 'b', 'c', 'd']) // 2..5
        await etcd.delete('a', { rangeEnd: 'z' }) // 6
        await etcd.compact(5)
        const r = await etcd.get('a', { rangeEnd: 'z', revision: 5, limit: 2, sortOrder: 'DESCEND' })
        expect(keysOf(r.kvs)).toEqual(['d', 'c'])
        expect(r.more).toBe(true)
        expect(r.count).toBe(4)
      })
    })

    describe('the compact request', () => {
      test('compact answers the current revision in its header, not the compact revision', async () => {
        const etcd = target()
        await history(etcd)
        const r = await etcd.compact(5)
        expect(r.header.revision).toBe(7)
      })

      test('compact at the current revision is allowed', async () => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(7)
        expect((await etcd.get('k', { revision: 7 })).kvs.map(pair)).toEqual([kvPair('k', 'v3', 2, 4, 3)])
        await expectEtcdError(etcd.get('k', { revision: 6 }), 'ETCD_COMPACTED')
      })

      test.each([
        ['one above the current revision', 8],
        ['far above the current revision', 1000],
      ])('compact at a revision %s rejects with ETCD_FUTURE_REV and changes nothing', async (_name, revision) => {
        const etcd = target()
        await history(etcd)
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.compact(revision), 'ETCD_FUTURE_REV')
        await expectUnchanged(etcd, before)
        expect((await etcd.get('k', { revision: 2 })).kvs.map(pair)).toEqual([kvPair('k', 'v1', 2, 2, 1)])
      })

      test.each([
        ['the compact revision again', 5],
        ['a revision below the compact revision', 3],
        ['revision 1', 1],
        ['revision 0', 0],
        ['revision -1', -1],
      ])('compact at %s rejects with ETCD_COMPACTED', async (_name, revision) => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(5)
        await expectEtcdError(etcd.compact(revision), 'ETCD_COMPACTED')
        expect((await etcd.get('k', { revision: 5 })).kvs.map(pair)).toEqual([kvPair('k', 'v3', 2, 4, 3)])
      })

      test('compacts at increasing revisions each succeed and move the compact revision', async () => {
        const etcd = target()
        await history(etcd)
        await etcd.compact(3)
        await expectEtcdError(etcd.get('k', { revision: 2 }), 'ETCD_COMPACTED')
        expect((await etcd.get('k', { revision: 3 })).count).toBe(1)
        await etcd.compact(6)
        await expectEtcdError(etcd.get('k', { revision: 5 }), 'ETCD_COMPACTED')
        expect((await etcd.get('k', { revision: 6 })).count).toBe(1)
      })

      // A fresh etcd has compact revision -1 (3.4.23): compact 0 and compact 1 both succeed, compact -1 does not.
      test('compact 0 on a fresh target is allowed', async () => {
        const etcd = target()
        const r = await etcd.compact(0)
        expect(r.header.revision).toBe(1)
        await etcd.compact(1)
      })

      test('compact 1 on a fresh target is allowed and reads at revision 1 still work', async () => {
        const etcd = target()
        const r = await etcd.compact(1)
        expect(r.header.revision).toBe(1)
        expect((await etcd.get('k', { revision: 1 })).kvs).toEqual([])
        await etcd.put('k', 'v')
        expect((await etcd.get('k', { revision: 1 })).kvs).toEqual([])
      })

      test('compact -1 on a fresh target rejects with ETCD_COMPACTED', async () => {
        await expectEtcdError(target().compact(-1), 'ETCD_COMPACTED')
      })

      test('physical compaction answers once done; reads below fail and reads at or above succeed', async () => {
        const etcd = target()
        await history(etcd)
        const r = await etcd.compact(5, { physical: true })
        expect(r.header.revision).toBe(7)
        await expectEtcdError(etcd.get('k', { revision: 4 }), 'ETCD_COMPACTED')
        expect((await etcd.get('\0', { rangeEnd: '\0', revision: 5 })).kvs.map(pair)).toEqual([
          kvPair('k', 'v3', 2, 4, 3),
          kvPair('x', 'x1', 5, 5, 1),
        ])
        expect((await etcd.get('\0', { rangeEnd: '\0' })).kvs.map(pair)).toEqual([
          kvPair('k', 'v3', 2, 4, 3),
          kvPair('y', 'y1', 7, 7, 1),
        ])
      })

      test('physical compaction of many keys and versions keeps exactly the newest of each', async () => {
        const etcd = target()
        for (let round = 0; round < 3; round++) {
          await etcd.txn().then(...Array.from({ length: 100 }, (_, i) => op.put(`k${String(i).padStart(3, '0')}`, `r${round}`))).commit()
        }
        // revisions 2, 3, 4: every key at version 3, value r2.
        await etcd.compact(4, { physical: true })
        const r = await etcd.get('k', { prefix: true })
        expect(r.count).toBe(100)
        expect(new Set(r.kvs.map((kv) => `${kv.version}/${kv.createRevision}/${kv.modRevision}`))).toEqual(
          new Set(['3/2/4']),
        )
        await expectEtcdError(etcd.get('k', { prefix: true, revision: 3 }), 'ETCD_COMPACTED')
      })

      test('a services-level compact takes revision and physical', async () => {
        const etcd = target()
        await history(etcd)
        const r = await etcd.services.kv.compact({ revision: 4, physical: true })
        expect(r.header.revision).toBe(7)
        await expectEtcdError(etcd.services.kv.range({ key: 'k', revision: 3 }), 'ETCD_COMPACTED')
        await expectEtcdError(etcd.services.kv.compact({ revision: 4 }), 'ETCD_COMPACTED')
      })
    })
  })
}
