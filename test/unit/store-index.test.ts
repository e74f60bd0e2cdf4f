import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { makeRecord, makeTombstone, type KeyRecord } from '../../src/mvcc/key-record.ts'
import { StoreIndex, UNBOUNDED } from '../../src/mvcc/store-index.ts'
import { MvccStore } from '../../src/mvcc/store.ts'

/**
 * The store's index takes new keys by hash and orders them only when something needs order, so every way of
 * reaching order (ranges, deletes of ranges, compaction, page walks, full walks) must see exactly the keys a naive
 * model holds, whatever mix of writes came before. The model keeps every version of every key in a plain map and
 * sorts on each read.
 */

/** Version is one model version of a key; value undefined marks a delete. */
interface Version {
  rev: number
  value: string | undefined
}

class Model {
  readonly versions = new Map<string, Version[]>()
  rev = 1
  compactRev = -1

  at(key: string, rev: number): string | undefined {
    const vs = this.versions.get(key) ?? []
    let found: Version | undefined
    for (const v of vs) if (v.rev <= rev) found = v
    return found?.value
  }

  range(key: string, end: string, rev: number): [string, string][] {
    const keys = [...this.versions.keys()].filter((k) => inRange(k, key, end)).sort()
    const out: [string, string][] = []
    for (const k of keys) {
      const value = this.at(k, rev)
      if (value !== undefined) out.push([k, value])
    }
    return out
  }
}

function inRange(k: string, key: string, end: string): boolean {
  if (end === '') return k === key
  if (end === UNBOUNDED) return k >= key
  return k >= key && k < end
}

type Step =
  | { kind: 'put'; key: string; value: string; oneShot: boolean }
  | { kind: 'putMany'; keys: string[] }
  | { kind: 'abort'; keys: string[] }
  | { kind: 'delete'; key: string; end: string }
  | { kind: 'range'; key: string; end: string; back: number; limit: number }
  | { kind: 'compact'; back: number }
  | { kind: 'walk' }
  | { kind: 'orderSome'; max: number }

// Keys from a small alphabet collide often; latin1 bytes above 0x7f and "\0" check byte order at the edges.
const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\x00', '\x7f', '\x80', '\xff'), minLength: 1, maxLength: 3 })
const endArb = fc.oneof(fc.constant(''), fc.constant(UNBOUNDED), keyArb)
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: fc.string({ maxLength: 3 }), oneShot: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('putMany' as const), keys: fc.array(keyArb, { maxLength: 40 }) }) },
  // New keys in ascending order are taken into the tree without a sort (as a reopen's checkpoint is).
  {
    weight: 2,
    arbitrary: fc
      .array(keyArb, { maxLength: 40 })
      .map((keys) => ({ kind: 'putMany' as const, keys: [...new Set(keys)].sort() })),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), keys: fc.array(keyArb, { minLength: 1, maxLength: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb, end: endArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('range' as const), key: keyArb, end: endArb, back: fc.nat(6), limit: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'walk' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('orderSome' as const), max: fc.nat(5) }) },
)

function pairs(records: KeyRecord[]): [string, string][] {
  return records.map((r) => [r.key, r.value])
}

async function run(steps: Step[]): Promise<void> {
  const store = new MvccStore()
  const model = new Model()
  const write = (fn: (put: (key: string, value: string) => void) => void) => {
    const txn = store.write()
    const touched: [string, string][] = []
    fn((key, value) => {
      txn.put(key, value, 0n)
      touched.push([key, value])
    })
    if (txn.end() === undefined) return
    model.rev++
    for (const [key, value] of touched) model.versions.set(key, [...(model.versions.get(key) ?? []), { rev: model.rev, value }])
  }
  for (const step of steps) {
    switch (step.kind) {
      case 'put':
        if (step.oneShot) {
          store.put(step.key, step.value, 0n)
          model.rev++
          model.versions.set(step.key, [...(model.versions.get(step.key) ?? []), { rev: model.rev, value: step.value }])
        } else write((put) => put(step.key, step.value))
        break
      case 'putMany':
        // Several versions of one key in one txn: the last one is the key's version at that revision.
        write((put) => step.keys.forEach((k, i) => put(k, `m${i}`)))
        break
      case 'abort': {
        const txn = store.write()
        for (const k of step.keys) txn.put(k, 'aborted', 0n)
        txn.abort()
        break
      }
      case 'delete': {
        const txn = store.write()
        const deleted = txn.deleteRange(step.key, step.end)
        const live = model.range(step.key, step.end, model.rev)
        expect(deleted.map((c) => c.record.key)).toEqual(live.map(([k]) => k))
        if (txn.end() !== undefined) {
          model.rev++
          for (const [k] of live) model.versions.get(k)!.push({ rev: model.rev, value: undefined })
        }
        break
      }
      case 'range': {
        const rev = Math.max(1, model.rev - step.back)
        const view = store.read()
        if (rev < model.compactRev) {
          expect(() => view.range(step.key, step.end, { rev })).toThrow(expect.objectContaining({ code: 'ETCD_COMPACTED' }))
          break
        }
        const want = model.range(step.key, step.end, rev)
        const got = view.range(step.key, step.end, { rev, limit: step.limit })
        expect(got.count).toBe(want.length)
        expect(pairs(got.records)).toEqual(step.limit > 0 ? want.slice(0, step.limit) : want)
        break
      }
      case 'compact': {
        const rev = Math.max(1, model.rev - step.back)
        if (rev <= model.compactRev) break
        await store.compact(rev)
        model.compactRev = rev
        break
      }
      case 'orderSome':
        // Part of the waiting keys join the tree (as a background step does); the rest still wait.
        store.index.orderSome(step.max)
        break
      case 'walk': {
        // Page walks and the full walk see every key with retained history, in byte order, each once.
        const paged: string[] = []
        let after: string | undefined
        for (;;) {
          const page = store.index.page(after, 2)
          if (page.length === 0) break
          paged.push(...page.map((ki) => ki.key))
          after = page[page.length - 1]!.key
        }
        const all = [...store.index.entries()].map(([k]) => k)
        expect(paged).toEqual(all)
        expect(all).toEqual([...all].sort())
        expect(all.length).toBe(store.index.size)
        break
      }
    }
    expect(store.rev).toBe(model.rev)
  }
  // At the end every key the index holds is in order and agrees with the model at the current revision.
  expect(pairs(store.read().range('\0', UNBOUNDED).records)).toEqual(model.range('\0', UNBOUNDED, model.rev))
}

describe('StoreIndex: lazily ordered keys', () => {
  test('interleaved puts, deletes, aborts, ranges at past revisions, compactions and walks agree with a naive model', async () => {
    await fc.assert(fc.asyncProperty(fc.array(stepArb, { maxLength: 60 }), run), { numRuns: 300 })
  })

  test('records loaded back in key order, in revision order or in a mix of the two give the same index', () => {
    // A history: each key's versions (puts, and deletes that end a generation) at increasing revisions.
    const historyArb = fc.array(fc.tuple(keyArb, fc.boolean()), { minLength: 1, maxLength: 40 }).map((writes) => {
      const records: KeyRecord[] = []
      const live = new Map<string, KeyRecord>()
      writes.forEach(([key, del], i) => {
        const rev = i + 2
        const prev = live.get(key)
        if (del && prev !== undefined) {
          records.push(makeTombstone(key, rev, 0))
          live.delete(key)
        } else if (!del) {
          const record = makeRecord(key, `v${rev}`, prev?.createRevision ?? rev, rev, 0, (prev?.version ?? 0) + 1, 0n)
          records.push(record)
          live.set(key, record)
        }
      })
      return records
    })
    const byKey = (records: KeyRecord[]) => [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.modRevision - b.modRevision))
    const contents = (index: StoreIndex) => [...index.entries()].map(([key, ki]) => [key, ki.records.map((r) => r.modRevision)])
    fc.assert(
      fc.property(historyArb, fc.nat(40), (records, cut) => {
        const orders = [
          byKey(records),
          records,
          // A checkpoint in key order, then the records written after it (revision order): keys may go back.
          [...byKey(records.slice(0, cut)), ...records.slice(cut)],
        ]
        const loaded = orders.map((order) => {
          const index = new StoreIndex()
          for (const r of order) index.loadRecord(r)
          index.finishLoad()
          return contents(index)
        })
        const expected = byKey(records).reduce<[string, number[]][]>((out, r) => {
          const last = out[out.length - 1]
          if (last !== undefined && last[0] === r.key) last[1].push(r.modRevision)
          else out.push([r.key, [r.modRevision]])
          return out
        }, [])
        for (const got of loaded) expect(got).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })

  test('a range after many new keys sees them all, in byte order, whether the tree is rebuilt or extended', () => {
    const store = new MvccStore()
    const keys = Array.from({ length: 5000 }, (_, i) => `k${((i * 7919) % 5000).toString(36)}`)
    // The first range orders 5000 waiting keys into an empty tree; the next ones add a few to a large tree.
    for (const k of keys) store.put(k, 'v', 0n)
    expect(store.read().range('k', 'l').count).toBe(5000)
    store.put('k-new', 'v', 0n)
    store.put('a-new', 'v', 0n)
    const got = store.read().range('\0', UNBOUNDED).records.map((r) => r.key)
    expect(got).toEqual([...keys, 'k-new', 'a-new'].sort())
  })

  test('a key that leaves the index while waiting for order, and comes back, appears once', async () => {
    const store = new MvccStore()
    store.put('x', '1', 0n)
    const txn = store.write()
    txn.deleteRange('x', '')
    txn.end()
    await store.compact(store.rev)
    expect(store.index.get('x')).toBeUndefined()
    store.put('x', '2', 0n)
    expect(pairs(store.read().range('\0', UNBOUNDED).records)).toEqual([['x', '2']])
  })

  test('after a burst of new keys, background steps take them into the ordered tree while the event loop is idle', async () => {
    const store = new MvccStore()
    for (let i = 0; i < 40_000; i++) store.put(`k${(i * 7919) % 40_000}`, 'v', 0n)
    expect(store.index.waiting).toBe(40_000)
    for (let turn = 0; turn < 20 && store.index.waiting > 0; turn++) await new Promise((resolve) => setImmediate(resolve))
    expect(store.index.waiting).toBe(0)
    const keys = [...store.index.entries()].map(([k]) => k)
    expect(keys).toHaveLength(40_000)
    expect(keys).toEqual([...keys].sort())
  })

  test('a new key taken back by an aborted write, while waiting for order, leaves no trace; put again it appears once', () => {
    const store = new MvccStore()
    const txn = store.write()
    txn.put('b', '1', 0n)
    txn.put('a', '1', 0n)
    txn.abort()
    expect(store.index.size).toBe(0)
    expect(store.read().range('\0', UNBOUNDED).count).toBe(0)
    store.put('a', '2', 0n)
    expect(pairs(store.read().range('\0', UNBOUNDED).records)).toEqual([['a', '2']])
    expect([...store.index.entries()].map(([k]) => k)).toEqual(['a'])
  })
})
