import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { open, type WatchResult } from '../../src/index.ts'
import type { ResponseHeader } from '../../src/messages/kv.ts'
import type { WatchResponse } from '../../src/messages/watch.ts'
import { makeRecord, makeTombstone } from '../../src/mvcc/key-record.ts'
import { EventBatch, type StorageEvent } from '../../src/watch/event-batch.ts'
import { wireResponses, type WireContext } from '../../src/watch/watch-wire.ts'

const header = (revision: number): ResponseHeader => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 2 })

function batchOf(values: string[], rev = 9): EventBatch {
  const events: StorageEvent[] = values.map((v, sub) =>
    v === ''
      ? { record: makeTombstone(`k${sub}`, rev, sub), prev: makeRecord(`k${sub}`, 'before', 2, 2, 0, 1, 0n) }
      : { record: makeRecord(`k${sub}`, v, 2, rev, sub, 2, 0n), prev: makeRecord(`k${sub}`, 'before', 2, 2, 0, 1, 0n) },
  )
  return new EventBatch(rev, events)
}

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1')

describe('wireResponses', () => {
  test('one batch and one watch shape make one set of frozen responses, shared', () => {
    const ctx: WireContext = { header, maxResponseBytes: 1 << 20 }
    const batch = batchOf(['a', '', 'c'])
    const plain = { prevKv: false, fragment: false }
    const first = wireResponses(batch, 0, plain, ctx)
    expect(wireResponses(batch, 0, { prevKv: false, fragment: false }, ctx)).toBe(first)
    const [r] = first
    for (const o of [first, r, r!.header, r!.events, r!.events[0], r!.events[0]!.kv]) expect(Object.isFrozen(o)).toBe(true)
    expect(r!.header.revision).toBe(9)
    expect(r!.events.map((e) => [e.type, text(e.kv.key), e.prevKv])).toEqual([
      ['PUT', 'k0', undefined],
      ['DELETE', 'k1', undefined],
      ['PUT', 'k2', undefined],
    ])
    // Another watch id or prevKv is another response; the KeyValues of the changes are still shared.
    const other = wireResponses(batch, 5, plain, ctx)
    expect(other).not.toBe(first)
    expect(other[0]!.watchId).toBe(5)
    const withPrev = wireResponses(batch, 0, { prevKv: true, fragment: false }, ctx)
    expect(withPrev[0]!.events.map((e) => e.prevKv && text(e.prevKv.value))).toEqual(['before', 'before', 'before'])
    expect(withPrev[0]!.events[0]!.kv).toBe(r!.events[0]!.kv)
    // The first shape asked for is still cached after others were.
    expect(wireResponses(batch, 0, plain, ctx)).toBe(first)
    expect(wireResponses(batch, 5, plain, ctx)).toBe(other)
  })

  test('fragments: every piece but the last is marked, each fits the limit unless one event alone does not, and together they are the whole', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 50, max: 800 }), (sizes, limit) => {
        const ctx: WireContext = { header, maxResponseBytes: limit }
        const batch = batchOf(sizes.map((n) => 'v'.repeat(n + 1)))
        const whole = wireResponses(batch, 3, { prevKv: false, fragment: false }, ctx)
        const pieces = wireResponses(batch, 3, { prevKv: false, fragment: true }, ctx)
        expect(whole).toHaveLength(1)
        expect(pieces.flatMap((p) => p.events)).toEqual(whole[0]!.events)
        expect(pieces.map((p) => p.fragment)).toEqual(pieces.map((_, i) => i < pieces.length - 1))
        for (const p of pieces) {
          const size = p.events.reduce((n, e) => n + 32 + e.kv.key.length + e.kv.value.length, 0)
          expect(p.events.length === 1 || size <= limit).toBe(true)
          expect(Object.isFrozen(p) && Object.isFrozen(p.events)).toBe(true)
        }
      }),
    )
  })
})

describe('watch responses shared between watchers (engine)', () => {
  test('watchers with the same id and options on two streams receive the same frozen response', async () => {
    const etcd = await open()
    try {
      const streams = [etcd.services.watch.watch(), etcd.services.watch.watch()]
      const its = streams.map((s) => s[Symbol.asyncIterator]())
      for (const s of streams) s.send({ createRequest: { key: 'p/', rangeEnd: 'p0' } })
      for (const it of its) expect((await it.next()).value.created).toBe(true)
      await etcd.put('p/a', '1')
      const [a, b] = (await Promise.all(its.map((it) => it.next()))).map((r) => r.value as WatchResponse)
      expect(a).toBe(b)
      expect(Object.isFrozen(a)).toBe(true)
      expect(() => (a!.events as unknown[]).push(1)).toThrow(TypeError)
      for (const s of streams) s.close()
    } finally {
      await etcd.close()
    }
  })

  test('client-level watches of one prefix share one frozen result per response', async () => {
    const etcd = await open()
    try {
      const watches = [etcd.watch('p/', { prefix: true }), etcd.watch('p/', { prefix: true })]
      await etcd.put('p/a', '1')
      const [a, b] = await Promise.all(watches.map((w) => w.next()))
      const result = a!.value as WatchResult
      expect(result).toBe(b!.value)
      expect(Object.isFrozen(result) && Object.isFrozen(result.events) && Object.isFrozen(result.events[0])).toBe(true)
      expect(result.events.map((e) => [e.type, text(e.kv.key), text(e.kv.value)])).toEqual([['put', 'p/a', '1']])
      for (const w of watches) await w.cancel()
    } finally {
      await etcd.close()
    }
  })
})
