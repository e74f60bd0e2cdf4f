import { describe, expect, test } from 'vitest'
import { makeRecord, type KeyRecord } from '../../src/mvcc/key-record.ts'
import { MvccStore } from '../../src/mvcc/store.ts'
import { isEtcdError } from '../../src/util/errors.ts'

function put(store: MvccStore, key: string, value: string): void {
  const txn = store.write()
  txn.put(key, value, 0n)
  txn.end()
}

function del(store: MvccStore, key: string, end = ''): void {
  const txn = store.write()
  txn.deleteRange(key, end)
  txn.end()
}

describe('MvccStore', () => {
  test('a fresh store is at revision 1 and each changing write adds one', () => {
    const store = new MvccStore()
    expect(store.rev).toBe(1)
    put(store, 'a', '1')
    expect(store.rev).toBe(2)
    del(store, 'missing')
    expect(store.rev).toBe(2)
  })

  test('liveKeys follows commits from 0 in a new store, and counts loaded records once when first asked', () => {
    const store = new MvccStore()
    expect(store.liveKeys()).toBe(0)
    put(store, 'a', '1')
    put(store, 'b', '1')
    put(store, 'a', '2')
    del(store, 'b')
    expect(store.liveKeys()).toBe(1)

    const loaded = new MvccStore()
    loaded.load([makeRecord('x', '1', 2, 2, 0, 1, 0n), makeRecord('y', '1', 3, 3, 0, 1, 0n)])
    loaded.restoreRevisions(3, -1)
    put(loaded, 'z', '1')
    del(loaded, 'x')
    expect(loaded.liveKeys()).toBe(2)
    put(loaded, 'w', '1')
    expect(loaded.liveKeys()).toBe(3)
  })

  test('a write txn gives every change the same main revision and increasing sub-revisions', () => {
    const store = new MvccStore()
    const txn = store.write()
    txn.put('a', '1', 0n)
    txn.put('b', '2', 0n)
    txn.deleteRange('a', '')
    const commit = txn.end()!
    expect(commit.rev).toBe(2)
    expect(commit.changes.map((c) => [c.record.modRevision, c.record.sub])).toEqual([
      [2, 0],
      [2, 1],
      [2, 2],
    ])
  })

  test('an aborted write txn leaves no trace: index, revision and log', () => {
    const store = new MvccStore()
    put(store, 'a', '1')
    const txn = store.write()
    txn.put('a', '2', 0n)
    txn.put('new', 'x', 0n)
    txn.deleteRange('a', '\0')
    txn.abort()
    expect(store.rev).toBe(2)
    expect(store.index.get('new')).toBeUndefined()
    expect(store.index.get('a')!.records.map((r) => r.value)).toEqual(['1'])
    expect(store.log.size).toBe(1)
  })

  test('reads inside a write txn see its own changes at the pending revision', () => {
    const store = new MvccStore()
    const txn = store.write()
    expect(txn.rev).toBe(1)
    txn.put('a', '1', 0n)
    expect(txn.rev).toBe(2)
    expect(txn.range('a', '').records[0]?.value).toBe('1')
    txn.end()
  })

  test('compaction drops unreachable history from the index and the log, in chunks', async () => {
    const store = new MvccStore()
    for (let i = 0; i < 25_000; i++) put(store, `k${i}`, 'v1')
    for (let i = 0; i < 25_000; i += 2) del(store, `k${i}`)
    put(store, 'k1', 'v2')
    const rev = store.rev
    await store.compact(rev)
    expect(store.index.size).toBe(12_500)
    expect(store.index.get('k1')!.records.map((r) => r.value)).toEqual(['v2'])
    // The log keeps only the put at the compact revision.
    expect(store.log.read(0, Infinity).map((r) => r.key)).toEqual(['k1'])
  })

  test('compact rejects revisions at or below the compact revision and above the current one', () => {
    const store = new MvccStore()
    put(store, 'a', '1')
    expect(() => store.compact(3)).toThrow(expect.objectContaining({ code: 'ETCD_FUTURE_REV' }))
    void store.compact(2)
    try {
      store.compact(2)
      expect.unreachable()
    } catch (err) {
      expect(isEtcdError(err, 'ETCD_COMPACTED')).toBe(true)
    }
  })

  test('the history log reads whole revisions in order', () => {
    const store = new MvccStore()
    const txn = store.write()
    txn.put('a', '1', 0n)
    txn.put('b', '1', 0n)
    txn.end()
    put(store, 'c', '1')
    expect(store.log.read(2, 3, 1).map((r) => r.key)).toEqual(['a', 'b'])
    expect(store.log.read(3, 3).map((r) => r.key)).toEqual(['c'])
  })

  test.each([
    ['dense revisions and subs', 1],
    ['revisions some compaction thinned (subs with gaps)', 3],
  ])('records loaded in key order come back in revision order: %s', (_name, keep) => {
    // Revisions 2..401, each a txn of 1 to 5 keys; with keep > 1 only every keep-th change of a txn is loaded.
    const records: KeyRecord[] = []
    let key = 0
    for (let rev = 2; rev <= 401; rev++) {
      const changes = 1 + (rev % 5)
      for (let sub = 0; sub < changes; sub++) {
        if (sub % keep === 0) records.push(makeRecord(`k${String(key).padStart(5, '0')}`, 'v', rev, rev, sub, 1, 0n))
        key++
      }
    }
    const inRevisionOrder = [...records]
    // Key order, as a checkpoint holds them: scrambled against revision order.
    records.sort((a, b) => (a.key < b.key ? 1 : -1))
    const store = new MvccStore()
    store.loadUnordered(records)
    store.restoreRevisions(401, -1)
    expect(store.readHistory(2, 401, Infinity).map((r) => [r.modRevision, r.sub])).toEqual(
      inRevisionOrder.map((r) => [r.modRevision, r.sub]),
    )
  })
})
