import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { makeRecord, makeTombstone, type KeyRecord } from '../../src/mvcc/key-record.ts'
import type { Change, Commit } from '../../src/mvcc/store.ts'
import { CommitBatches, type BatchFilters } from '../../src/watch/commit-batches.ts'

/**
 * CommitBatches against a naive rule: a watcher gets, in change order, each change it covers whose kind its filters
 * keep. Batches are shared: two watchers whose event lists are equal get the same batch object, and the same
 * change is the same StorageEvent object in every batch.
 */

const REV = 7
const KEYS = ['a', 'b', 'c', 'd']

/** a commit at REV: puts and deletes of distinct keys, each put over an earlier version or none. */
const commitArb: fc.Arbitrary<Commit> = fc
  .uniqueArray(fc.record({ key: fc.constantFrom(...KEYS), del: fc.boolean(), existed: fc.boolean() }), {
    minLength: 1,
    maxLength: 4,
    selector: (c) => c.key,
  })
  .map((specs) => ({
    rev: REV,
    changes: specs.map((s, sub): Change => {
      const prev = s.existed || s.del ? makeRecord(s.key, 'old', 2, 3, 0, 1, 0n) : undefined
      const record = s.del ? makeTombstone(s.key, REV, sub) : makeRecord(s.key, 'new', prev ? 2 : REV, REV, sub, prev ? 2 : 1, 0n)
      return { record, prev }
    }),
  }))

interface W {
  filters: BatchFilters
  covers: string[]
}
const watcherArb: fc.Arbitrary<W> = fc.record({
  filters: fc.record({ noPut: fc.boolean(), noDelete: fc.boolean() }),
  covers: fc.subarray(KEYS),
})

const isDelete = (r: KeyRecord) => r.version === 0

describe('CommitBatches', () => {
  test('each watcher gets exactly its covered, unfiltered events in order; equal lists share one batch', () => {
    fc.assert(
      fc.property(commitArb, fc.array(watcherArb, { minLength: 1, maxLength: 8 }), (commit, watchers) => {
        const batches = new CommitBatches(commit, () => undefined)
        const byList = new Map<string, unknown>()
        const eventOf = new Map<number, unknown>()
        for (const w of watchers) {
          const hits = commit.changes.flatMap((c, i) => (w.covers.includes(c.record.key) ? [i] : []))
          if (hits.length === 0) continue // the hub never asks for a watcher that covers nothing
          const expected = hits.filter((i) => {
            const r = commit.changes[i]!.record
            return !(isDelete(r) ? w.filters.noDelete : w.filters.noPut)
          })
          const batch = batches.batchFor(w.filters, hits)
          if (expected.length === 0) {
            expect(batch).toBeUndefined()
            continue
          }
          expect(batch).toBeDefined()
          expect(batch!.rev).toBe(REV)
          expect(Object.isFrozen(batch!.events)).toBe(true)
          expect(batch!.events.map((e) => e.record)).toEqual(expected.map((i) => commit.changes[i]!.record))
          // Sharing: the same list of changes is the same batch, and each change the same event object.
          const key = expected.join(',')
          if (byList.has(key)) expect(batch).toBe(byList.get(key))
          byList.set(key, batch)
          expected.forEach((i, j) => {
            if (eventOf.has(i)) expect(batch!.events[j]).toBe(eventOf.get(i))
            eventOf.set(i, batch!.events[j])
          })
        }
      }),
    )
  })

  test('prev: none for a create, the replaced version otherwise, looked up for a key changed earlier in the same txn', () => {
    const earlier = makeRecord('k', 'v0', 2, 2, 0, 1, 0n)
    const sameTxn = makeRecord('k', 'v1', 2, REV, 0, 2, 0n)
    const commit: Commit = {
      rev: REV,
      changes: [
        { record: makeRecord('n', 'x', REV, REV, 0, 1, 0n), prev: undefined },
        { record: makeTombstone('k', REV, 1), prev: sameTxn },
        { record: makeRecord('m', 'y', 3, REV, 2, 2, 0n), prev: makeRecord('m', 'w', 3, 3, 0, 1, 0n) },
      ],
    }
    const batch = new CommitBatches(commit, (r) => (r.key === 'k' ? earlier : undefined)).batchFor({ noPut: false, noDelete: false })
    expect(batch!.events.map((e) => e.prev?.value)).toEqual([undefined, 'v0', 'w'])
  })
})
