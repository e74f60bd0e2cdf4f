import { describe, expect, test } from 'vitest'
import { KeyIndex } from '../../src/mvcc/key-index.ts'
import { makeRecord, makeTombstone, type KeyRecord } from '../../src/mvcc/key-record.ts'

/** history builds the key index of the class comment's example: puts at 2, 3, delete at 4, puts at 6, 8. */
function history(): KeyIndex {
  const ki = new KeyIndex(makeRecord('k', 'a', 2, 2, 0, 1, 0n))
  ki.append(makeRecord('k', 'b', 2, 3, 0, 2, 0n))
  ki.append(makeTombstone('k', 4, 0))
  ki.append(makeRecord('k', 'c', 6, 6, 0, 1, 0n))
  ki.append(makeRecord('k', 'd', 6, 8, 1, 2, 0n))
  return ki
}

const revs = (records: readonly KeyRecord[]) => records.map((r) => r.modRevision)

describe('KeyIndex', () => {
  test.each([
    [1, undefined],
    [2, 'a'],
    [3, 'b'],
    [4, undefined],
    [5, undefined],
    [6, 'c'],
    [7, 'c'],
    [8, 'd'],
    [100, 'd'],
  ])('at revision %i the visible value is %s', (rev, value) => {
    expect(history().at(rev)?.value).toBe(value)
  })

  test('generations are split by tombstones, the last one open', () => {
    expect(history().generations().map(revs)).toEqual([
      [2, 3, 4],
      [6, 8],
    ])
  })

  test('a deleted key is not live and its latest record is the tombstone', () => {
    const ki = new KeyIndex(makeRecord('k', 'a', 2, 2, 0, 1, 0n))
    ki.append(makeTombstone('k', 3, 0))
    expect(ki.live).toBe(false)
    expect(ki.generations().map(revs)).toEqual([[2, 3]])
  })

  test.each([
    [1, [2, 3, 4, 6, 8], false],
    [2, [2, 3, 4, 6, 8], false],
    [3, [3, 4, 6, 8], false],
    [4, [6, 8], false],
    [5, [6, 8], false],
    [7, [6, 8], false],
    [8, [8], false],
  ])('compact at %i keeps revisions %j', (rev, kept, empty) => {
    const ki = history()
    expect(ki.compact(rev)).toBe(empty)
    expect(revs(ki.records)).toEqual(kept)
  })

  test('compacting a key whose newest record at or below r is a tombstone empties it', () => {
    const ki = new KeyIndex(makeRecord('k', 'a', 2, 2, 0, 1, 0n))
    ki.append(makeTombstone('k', 3, 0))
    expect(ki.compact(3)).toBe(true)
  })

  test('compaction keeps what reads at and above the compact revision see', () => {
    for (let rev = 1; rev <= 9; rev++) {
      const ki = history()
      const before = Array.from({ length: 12 }, (_, i) => history().at(rev + i)?.value)
      const empty = ki.compact(rev)
      const after = Array.from({ length: 12 }, (_, i) => (empty ? undefined : ki.at(rev + i)?.value))
      expect(after).toEqual(before)
    }
  })
})
