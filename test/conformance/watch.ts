import { afterEach, describe, expect, test } from 'vitest'
import { defaults, op, type WatchFilter, type WatchOptions, type WatchResponse, type WatchResult } from '../../src/index.ts'
import type { Harness, Target } from './harness.ts'
import { lacks } from './harness.ts'
import { currentRevision, kvPair, text, useTarget } from './helpers.ts'
import { deletedKv, eventsOf, Reader, revisionsOf, WAIT_MS, watchSession, wholeRevisions, type WatchSession } from './streams.ts'

const DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream'

/** lastRevision is the modRevision of a response's last event, 0 when it has none. */
function lastRevision(r: { events: ReadonlyArray<{ kv: { modRevision: number } }> }): number {
  return r.events.at(-1)?.kv.modRevision ?? 0
}

/** shape keeps the fields of a watch response that say what kind of response it is. */
function shape(r: WatchResponse): Partial<WatchResponse> {
  return {
    watchId: r.watchId,
    created: r.created,
    canceled: r.canceled,
    compactRevision: r.compactRevision,
    cancelReason: r.cancelReason,
    events: r.events,
  }
}

/** outcome flattens client-level results into their events and cancellations, for comparing two forms of one watch. */
function outcome(results: readonly WatchResult[]): unknown[] {
  return results.flatMap((r) => [
    ...eventsOf([r]),
    ...(r.canceled ? [{ canceled: true, compactRevision: r.compactRevision, cancelReason: r.cancelReason }] : []),
  ])
}

/** plain is the shape of a response that is neither created, canceled nor carrying events: a progress notice. */
function progressShape(watchId: number): Partial<WatchResponse> {
  return { watchId, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] }
}

/**
 * Watch: etcd's Watch service through etcd.watch() (client level) and etcd.services.watch.watch() (services level).
 * Watch ids, create / cancel / progress requests, start revisions and compaction, key ranges, prevKv, filters, how
 * the events of one revision travel together, and a consumer that falls far behind.
 *
 * These tests also run against a real etcd over the network, so they never sleep and then assert: they wait for the
 * response they expect (bounded by a timeout), and show that something did not happen by a later response that must
 * come after it. A client-level watch starts at an explicit startRevision, because its create request may reach the
 * server after a write the test sends next.
 */
export function registerWatch(h: Harness): void {
  describe(`watch (${h.name})`, () => {
    const target = useTarget(h)
    const cleanups: (() => void | Promise<void>)[] = []
    afterEach(async () => {
      for (const fn of cleanups.splice(0)) await fn()
    })

    /** session opens a services-level watch stream, closed after the test. */
    function session(etcd: Target): WatchSession {
      const s = watchSession(etcd)
      cleanups.push(() => s.stream.close())
      return s
    }

    /**
     * watch opens a client-level watch and a reader over its results, canceled after the test. Beside it runs the
     * same watch in the listener form (`etcd.watch(key, options, listener)`): after the test, the listener must have
     * heard exactly what the iterator read, event for event and cancellation for cancellation (results may group
     * revisions differently: a listener never falls behind, an unread iterator does).
     */
    function watch(etcd: Target, key: string, options: WatchOptions) {
      const w = etcd.watch(key, options)
      const reader = new Reader(w)
      const heard: WatchResult[] = []
      const sub = etcd.watch(key, options, (r) => void heard.push(r))
      cleanups.push(async () => {
        await w.cancel()
        const read = outcome(reader.received)
        const deadline = Date.now() + WAIT_MS
        while (outcome(heard).length < read.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
        await sub.cancel()
        expect(outcome(heard).slice(0, read.length), 'what the listener form heard').toEqual(read)
      })
      return reader
    }

    describe('create and watch ids (services level)', () => {
      test('the created response carries watch id 0, the current revision and no events', async () => {
        const etcd = target()
        await etcd.put('a', '1')
        await etcd.put('b', '1')
        const created = await session(etcd).create({ key: 'a' })
        expect(shape(created)).toEqual({ ...progressShape(0), created: true })
        expect(created.header.revision).toBe(3)
      })

      test.each([2, 10])('the created response carries the current revision when startRevision is %i', async (startRevision) => {
        const etcd = target()
        await etcd.put('a', '1')
        await etcd.put('a', '2')
        const created = await session(etcd).create({ key: 'a', startRevision })
        expect(created.created).toBe(true)
        expect(created.header.revision).toBe(3)
      })

      test('watch ids on one stream count up from 0, and another stream starts at 0 again', async () => {
        const etcd = target()
        const s = session(etcd)
        const ids = []
        for (const key of ['a', 'b', 'c']) ids.push((await s.create({ key })).watchId)
        expect(ids).toEqual([0, 1, 2])
        expect((await session(etcd).create({ key: 'a' })).watchId).toBe(0)
      })

      test('automatic ids skip ids in use and are not reused after a cancel; an explicit id may reuse one', async () => {
        const etcd = target()
        const s = session(etcd)
        expect((await s.create({ key: 'a' })).watchId).toBe(0)
        expect((await s.create({ key: 'a', watchId: 2 })).watchId).toBe(2)
        expect((await s.create({ key: 'a' })).watchId).toBe(1)
        expect((await s.create({ key: 'a' })).watchId).toBe(3)
        s.stream.send({ cancelRequest: { watchId: 1 } })
        expect(shape(await s.responses.next())).toEqual({ ...progressShape(1), canceled: true })
        expect((await s.create({ key: 'a' })).watchId).toBe(4)
        const reused = await s.create({ key: 'a', watchId: 1 })
        expect(shape(reused)).toEqual({ ...progressShape(1), created: true })
      })

      test.each([7, 43, -5])('an explicit watch id %i names the watcher and its events', async (watchId) => {
        const etcd = target()
        const s = session(etcd)
        const created = await s.create({ key: 'k', watchId })
        expect(shape(created)).toEqual({ ...progressShape(watchId), created: true })
        await etcd.put('k', 'v') // 2
        const [response] = await s.eventsThrough(watchId, 2)
        expect(response!.watchId).toBe(watchId)
        expect(eventsOf([response!])).toEqual([{ type: 'PUT', kv: kvPair('k', 'v', 2, 2, 1) }])
      })

      test('a duplicate explicit id is refused with one created-and-canceled response, and the stream stays usable', async () => {
        const etcd = target()
        const s = session(etcd)
        await s.create({ key: 'k', watchId: 5 })
        const refused = await s.create({ key: 'other', watchId: 5 })
        expect(shape(refused)).toEqual({
          ...progressShape(-1),
          created: true,
          canceled: true,
          cancelReason: DUPLICATE_ID,
        })
        // The first watcher is untouched, and the refused one never existed: 'other' brings nothing.
        await etcd.put('other', 'x') // 2
        await etcd.put('k', 'v') // 3
        const responses = await s.eventsThrough(5, 3)
        expect(responses.map((r) => r.watchId)).toEqual([5])
        expect(eventsOf(responses)).toEqual([{ type: 'PUT', kv: kvPair('k', 'v', 3, 3, 1) }])
      })

      test('an explicit id equal to an automatic one in use is refused', async () => {
        const etcd = target()
        const s = session(etcd)
        await s.create({ key: 'a' }) // 0
        await s.create({ key: 'a' }) // 1
        const refused = await s.create({ key: 'a', watchId: 1 })
        expect({ watchId: refused.watchId, canceled: refused.canceled, cancelReason: refused.cancelReason }).toEqual({
          watchId: -1,
          canceled: true,
          cancelReason: DUPLICATE_ID,
        })
      })
    })

    describe('cancel', () => {
      test('cancel answers canceled for the watch id and stops its events', async () => {
        const etcd = target()
        await etcd.put('x', '1') // 2
        const s = session(etcd)
        await s.create({ key: 'k' }) // 0
        await s.create({ key: 'k', rangeEnd: 'l' }) // 1, a witness on the same stream
        s.stream.send({ cancelRequest: { watchId: 0 } })
        const canceled = await s.responses.next()
        expect(shape(canceled)).toEqual({ ...progressShape(0), canceled: true })
        expect(canceled.header.revision).toBe(2)
        await etcd.put('k', 'v') // 3
        // Watch 1 sees the put; had watch 0 still been there, its event would be on the stream too.
        const responses = await s.eventsThrough(1, 3)
        expect(responses.map((r) => r.watchId)).toEqual([1])
      })

      test('cancel of an unknown id answers nothing, and the stream stays usable', async () => {
        const etcd = target()
        const s = session(etcd)
        await s.create({ key: 'k' })
        s.stream.send({ cancelRequest: { watchId: 12345 } })
        s.stream.send({ cancelRequest: { watchId: -1 } })
        const responses = await s.progress()
        expect(responses.map(shape)).toEqual([progressShape(-1)])
        await etcd.put('k', 'v') // 2
        expect(eventsOf(await s.eventsThrough(0, 2))).toEqual([{ type: 'PUT', kv: kvPair('k', 'v', 2, 2, 1) }])
      })

      test('cancel() ends a client-level watch', async () => {
        const etcd = target()
        const w = etcd.watch('k', { startRevision: 2 })
        const results = new Reader(w)
        await etcd.put('k', 'v') // 2
        expect(eventsOf(await results.until((r) => lastRevision(r) >= 2))).toEqual([
          { type: 'PUT', kv: kvPair('k', 'v', 2, 2, 1) },
        ])
        await w.cancel()
        await results.ended()
      })

      test('breaking out of a client-level watch ends it', async () => {
        const etcd = target()
        const w = etcd.watch('k', { startRevision: 2 })
        await etcd.put('k', 'v')
        for await (const r of w) {
          expect(r.events.length).toBe(1)
          break
        }
        expect(await w.next()).toEqual({ value: undefined, done: true })
      })
    })

    describe('progress requests', () => {
      test('a progress request answers watch id -1 with the current revision and no events', async () => {
        const etcd = target()
        const s = session(etcd)
        const [first] = await s.progress()
        expect(shape(first!)).toEqual(progressShape(-1))
        expect(first!.header.revision).toBe(1)
        await etcd.put('a', '1')
        const [second] = await s.progress()
        expect(second!.header.revision).toBe(2)
      })

      test('a progress request on a stream with watchers answers the same', async () => {
        const etcd = target()
        await etcd.put('a', '1')
        const s = session(etcd)
        await s.create({ key: 'a' })
        await s.create({ key: 'b' })
        const responses = await s.progress()
        expect(responses.map(shape)).toEqual([progressShape(-1)])
        expect(responses[0]!.header.revision).toBe(2)
      })
    })

    describe('progress requests while a watcher catches up', () => {
      /** progressAnd reads until both the progress response and a response matching `other` came, in any order. */
      async function progressAnd(s: WatchSession, other: (r: WatchResponse) => boolean): Promise<WatchResponse[]> {
        let progress = false
        let seen = false
        return s.responses.until(
          (r) => {
            if (r.watchId === -1 && !r.created) progress = true
            else if (other(r)) seen = true
            return progress && seen
          },
          'the progress response',
          1_000,
        )
      }

      test('a progress request sent while a watcher replays history is answered with the current revision', async () => {
        const etcd = target()
        for (const v of ['1', '2', '3']) await etcd.put('k', v) // 2, 3, 4
        const s = session(etcd)
        s.stream.send({ createRequest: { key: 'k', startRevision: 2 } })
        s.stream.send({ progressRequest: {} })
        const responses = await progressAnd(s, (r) => lastRevision(r) >= 4)
        expect(responses.find((r) => r.watchId === -1)!.header.revision).toBe(4)
        expect(eventsOf(responses).map((e) => e.kv.modRevision)).toEqual([2, 3, 4])
      })

      // etcd 3.4.23 answers every progress request at once (observations §12), whatever its watchers are doing.
      test('a progress request is answered when the watcher it waits for is canceled for compaction', async () => {
        const etcd = target()
        for (const v of ['1', '2', '3']) await etcd.put('k', v) // 2, 3, 4
        await etcd.compact(4)
        const s = session(etcd)
        s.stream.send({ createRequest: { key: 'k', startRevision: 2 } })
        s.stream.send({ progressRequest: {} })
        const responses = await progressAnd(s, (r) => r.canceled && r.compactRevision === 4)
        expect(responses.find((r) => r.watchId === -1)!.header.revision).toBe(4)
      })

      test('a progress request is answered when the watcher it waits for is canceled by the client', async () => {
        const etcd = target()
        for (const v of ['1', '2', '3']) await etcd.put('k', v) // 2, 3, 4
        const s = session(etcd)
        s.stream.send({ createRequest: { key: 'k', startRevision: 2 } })
        s.stream.send({ progressRequest: {} })
        s.stream.send({ cancelRequest: { watchId: 0 } })
        const responses = await progressAnd(s, (r) => r.canceled && r.watchId === 0)
        expect(responses.find((r) => r.watchId === -1)!.header.revision).toBe(4)
      })
    })

    describe('odd requests, as etcd 3.4.23 answers them', () => {
      test('a watch with an empty range is created and canceled at once, with watch id -1', async () => {
        const etcd = target()
        const s = session(etcd)
        s.stream.send({ createRequest: { key: 'b', rangeEnd: 'a' } })
        s.stream.send({ createRequest: { key: 'b', rangeEnd: 'b' } })
        for (let i = 0; i < 2; i++) {
          const r = await s.responses.next()
          expect(r).toMatchObject({ watchId: -1, created: true, canceled: true, cancelReason: 'mvcc: watcher range is empty' })
        }
      })

      test('a watch with an empty key watches the key "\\0"', async () => {
        const etcd = target()
        const s = session(etcd)
        s.stream.send({ createRequest: { key: '', startRevision: 2 } })
        await etcd.put('x', '1') // 2
        await etcd.put('\0', '1') // 3
        const responses = await s.eventsThrough(0, 3)
        expect(eventsOf(responses).map((e) => e.kv.key.toString())).toEqual(['\0'])
      })

      test('a request with nothing in it is ignored and the stream goes on', async () => {
        const etcd = target()
        const s = session(etcd)
        s.stream.send({} as never)
        expect((await s.create({ key: 'k' })).watchId).toBe(0)
      })
    })

    describe('startRevision', () => {
      test('startRevision 0 delivers only the events after the current revision', async () => {
        const etcd = target()
        await etcd.put('a', '1') // 2
        const s = session(etcd)
        expect((await s.create({ key: 'a' })).header.revision).toBe(2)
        await etcd.put('a', '2') // 3
        expect(eventsOf(await s.eventsThrough(0, 3))).toEqual([{ type: 'PUT', kv: kvPair('a', '2', 2, 3, 2) }])
      })

      // History: a@2, b@3, delete a@4, a@5 (a new generation), c@6.
      async function history(etcd: Target): Promise<void> {
        await etcd.put('a', '1') // 2
        await etcd.put('b', '1') // 3
        await etcd.delete('a') // 4
        await etcd.put('a', '2') // 5
        await etcd.put('c', '1') // 6
      }

      test('a past startRevision replays history in order, deletes included, then continues live', async () => {
        const etcd = target()
        await history(etcd)
        const s = session(etcd)
        expect((await s.create({ key: 'a', rangeEnd: '\0', startRevision: 2 })).header.revision).toBe(6)
        const replayed = await s.eventsThrough(0, 6)
        expect(eventsOf(replayed)).toEqual([
          { type: 'PUT', kv: kvPair('a', '1', 2, 2, 1) },
          { type: 'PUT', kv: kvPair('b', '1', 3, 3, 1) },
          { type: 'DELETE', kv: deletedKv('a', 4) },
          { type: 'PUT', kv: kvPair('a', '2', 5, 5, 1) },
          { type: 'PUT', kv: kvPair('c', '1', 6, 6, 1) },
        ])
        expect(wholeRevisions(replayed)).toBe(true)
        await etcd.put('b', '2') // 7
        expect(eventsOf(await s.eventsThrough(0, 7))).toEqual([{ type: 'PUT', kv: kvPair('b', '2', 3, 7, 2) }])
      })

      test('a startRevision inside history replays from that revision on', async () => {
        const etcd = target()
        await history(etcd)
        const results = watch(etcd, 'a', { fromKey: true, startRevision: 4 })
        expect(eventsOf(await results.until((r) => lastRevision(r) >= 6))).toEqual([
          { type: 'DELETE', kv: deletedKv('a', 4) },
          { type: 'PUT', kv: kvPair('a', '2', 5, 5, 1) },
          { type: 'PUT', kv: kvPair('c', '1', 6, 6, 1) },
        ])
      })

      test('a future startRevision waits for that revision', async () => {
        const etcd = target()
        await etcd.put('a', '1') // 2
        const s = session(etcd)
        expect((await s.create({ key: 'a', startRevision: 4 })).header.revision).toBe(2)
        await etcd.put('a', '2') // 3
        await etcd.put('a', '3') // 4
        await etcd.put('a', '4') // 5
        const responses = await s.eventsThrough(0, 5)
        expect(revisionsOf(responses)).toEqual([[4], [5]])
        expect(eventsOf(responses)[0]).toEqual({ type: 'PUT', kv: kvPair('a', '3', 2, 4, 3) })
      })

      test('a startRevision equal to the compact revision is allowed and replays from it', async () => {
        const etcd = target()
        await etcd.put('k', 'v1') // 2
        await etcd.put('k', 'v2') // 3
        await etcd.put('k', 'v3') // 4
        await etcd.compact(3)
        const s = session(etcd)
        await s.create({ key: 'k', startRevision: 3 })
        const responses = await s.eventsThrough(0, 4)
        expect(eventsOf(responses)).toEqual([
          { type: 'PUT', kv: kvPair('k', 'v2', 2, 3, 2) },
          { type: 'PUT', kv: kvPair('k', 'v3', 2, 4, 3) },
        ])
        expect(responses.some((r) => r.canceled)).toBe(false)
      })

      test('a startRevision below the compact revision answers created, then canceled with the compact revision', async () => {
        const etcd = target()
        for (const v of ['1', '2', '3']) await etcd.put('k', v) // 2, 3, 4
        await etcd.compact(4)
        const s = session(etcd)
        const created = await s.create({ key: 'k', startRevision: 2 })
        expect(shape(created)).toEqual({ ...progressShape(0), created: true })
        expect(created.header.revision).toBe(4)
        const canceled = await s.responses.next('the compaction cancel')
        expect(shape(canceled)).toEqual({ ...progressShape(0), canceled: true, compactRevision: 4 })
        expect(canceled.header.revision).toBe(0)
      })

      test('a watch id canceled by compaction stays in use until the client cancels it', async () => {
        const etcd = target()
        for (const v of ['1', '2', '3']) await etcd.put('k', v) // 2, 3, 4
        await etcd.compact(3)
        const s = session(etcd)
        await s.create({ key: 'k', startRevision: 2, watchId: 9 })
        expect((await s.responses.next()).compactRevision).toBe(3)
        expect((await s.create({ key: 'k', watchId: 9 })).cancelReason).toBe(DUPLICATE_ID)
        s.stream.send({ cancelRequest: { watchId: 9 } })
        expect(shape(await s.responses.next())).toEqual({ ...progressShape(9), canceled: true })
        expect(shape(await s.create({ key: 'k', watchId: 9 }))).toEqual({ ...progressShape(9), created: true })
      })

      test('a client-level watch below the compact revision yields the compaction and ends', async () => {
        const etcd = target()
        for (const v of ['1', '2', '3']) await etcd.put('k', v) // 2, 3, 4
        await etcd.compact(4)
        const results = watch(etcd, 'k', { startRevision: 2 })
        const r = await results.next()
        expect({ canceled: r.canceled, compactRevision: r.compactRevision, events: r.events }).toEqual({
          canceled: true,
          compactRevision: 4,
          events: [],
        })
        await results.ended()
      })
    })

    describe('key ranges', () => {
      // Written in this order, one revision each from 2 on; then `closing` is put again, last, at revision 14.
      const KEYS = ['zz', 'a', 'p', 'p/b', 'ab', 'b', 'q', 'p/a', 'c', '\xff', 'd', 'a\0']
      test.each<[string, string, WatchOptions, string[], string]>([
        ['a single key', 'a', {}, ['a'], 'a'],
        ['a prefix', 'p/', { prefix: true }, ['p/b', 'p/a'], 'p/a'],
        ['a range [b, d)', 'b', { rangeEnd: 'd' }, ['b', 'c'], 'b'],
        ['fromKey', 'p/', { fromKey: true }, ['zz', 'p/b', 'q', 'p/a', '\xff'], 'q'],
        ['every key (empty key with prefix)', '', { prefix: true }, KEYS, 'd'],
        ['a prefix that is also a key', 'a', { prefix: true }, ['a', 'ab', 'a\0'], 'ab'],
      ])('a client-level watch of %s sees exactly its keys', async (_name, key, options, expected, closing) => {
        const etcd = target()
        const results = watch(etcd, key, { ...options, startRevision: 2 })
        for (const k of KEYS) await etcd.put(k, 'v')
        const rev = (await etcd.put(closing, 'last')).header.revision
        expect(rev).toBe(14)
        const events = eventsOf(await results.until((r) => lastRevision(r) >= rev))
        expect(events.map((e) => e.kv.key)).toEqual([...expected, closing])
        expect(events.at(-1)!.kv.value).toBe('last')
      })

      test('a services-level watch with rangeEnd "\\0" sees every key from key on, and key "\\0" every key', async () => {
        const etcd = target()
        const s = session(etcd)
        await s.create({ key: 'b', rangeEnd: '\0' }) // 0
        await s.create({ key: '\0', rangeEnd: '\0' }) // 1
        for (const k of ['a', 'c', 'b']) await etcd.put(k, 'v') // 2, 3, 4
        const through = new Set<number>()
        const responses = await s.responses.until((r) => {
          if (lastRevision(r) >= 4) through.add(r.watchId)
          return through.size === 2
        }, 'both watches through revision 4')
        expect(eventsOf(responses, 0).map((e) => e.kv.key)).toEqual(['c', 'b'])
        expect(eventsOf(responses, 1).map((e) => e.kv.key)).toEqual(['a', 'c', 'b'])
      })
    })

    describe('prevKv', () => {
      test('prevKv on a put: none for a new key, the previous pair afterwards', async () => {
        const etcd = target()
        const s = session(etcd)
        await s.create({ key: 'k', prevKv: true })
        await etcd.put('k', 'v1') // 2
        await etcd.put('k', 'v2') // 3
        expect(eventsOf(await s.eventsThrough(0, 3))).toEqual([
          { type: 'PUT', kv: kvPair('k', 'v1', 2, 2, 1) },
          { type: 'PUT', kv: kvPair('k', 'v2', 2, 3, 2), prevKv: kvPair('k', 'v1', 2, 2, 1) },
        ])
      })

      test('prevKv on a delete carries the whole previous pair, lease included', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        const s = session(etcd)
        await s.create({ key: 'k', prevKv: true })
        await etcd.put('k', 'v1', { lease: id }) // 2
        await etcd.delete('k') // 3
        await etcd.put('k', 'v2') // 4
        expect(eventsOf(await s.eventsThrough(0, 4))).toEqual([
          { type: 'PUT', kv: kvPair('k', 'v1', 2, 2, 1, id) },
          { type: 'DELETE', kv: deletedKv('k', 3), prevKv: kvPair('k', 'v1', 2, 2, 1, id) },
          { type: 'PUT', kv: kvPair('k', 'v2', 4, 4, 1) },
        ])
      })

      test('prevKv in replayed history is the pair before each event', async () => {
        const etcd = target()
        await etcd.put('k', 'v1') // 2
        await etcd.put('k', 'v2') // 3
        await etcd.delete('k') // 4
        const results = watch(etcd, 'k', { startRevision: 2, prevKv: true })
        expect(eventsOf(await results.until((r) => lastRevision(r) >= 4))).toEqual([
          { type: 'PUT', kv: kvPair('k', 'v1', 2, 2, 1) },
          { type: 'PUT', kv: kvPair('k', 'v2', 2, 3, 2), prevKv: kvPair('k', 'v1', 2, 2, 1) },
          { type: 'DELETE', kv: deletedKv('k', 4), prevKv: kvPair('k', 'v2', 2, 3, 2) },
        ])
      })

      test('without prevKv no event carries a previous pair', async () => {
        const etcd = target()
        await etcd.put('k', 'v1') // 2
        const results = watch(etcd, 'k', { startRevision: 3 })
        await etcd.put('k', 'v2') // 3
        await etcd.delete('k') // 4
        const events = (await results.until((r) => lastRevision(r) >= 4)).flatMap((r) => r.events)
        expect(events.map((e) => [e.type, e.prevKv])).toEqual([
          ['put', undefined],
          ['delete', undefined],
        ])
      })
    })

    describe('filters', () => {
      test('NOPUT drops puts, and a revision with only puts sends no response', async () => {
        const etcd = target()
        const s = session(etcd)
        await s.create({ key: 'k', filters: ['NOPUT'] })
        await etcd.put('k', '1') // 2
        await etcd.put('k', '2') // 3
        await etcd.delete('k') // 4
        await etcd.put('k', '3') // 5
        await etcd.delete('k') // 6
        const responses = await s.eventsThrough(0, 6)
        expect(revisionsOf(responses)).toEqual([[4], [6]])
        expect(eventsOf(responses)).toEqual([
          { type: 'DELETE', kv: deletedKv('k', 4) },
          { type: 'DELETE', kv: deletedKv('k', 6) },
        ])
      })

      test('NODELETE drops deletes, and a revision with only deletes sends no response', async () => {
        const etcd = target()
        const s = session(etcd)
        // Created (and so synced) before the writes: a watch created after them would catch up from history, where
        // etcd may send several revisions in one response.
        await s.create({ key: 'k', filters: ['NODELETE'] })
        await etcd.put('k', '1') // 2
        await etcd.delete('k') // 3
        await etcd.put('k', '2') // 4
        const responses = await s.eventsThrough(0, 4)
        expect(revisionsOf(responses)).toEqual([[2], [4]])
        expect(eventsOf(responses).map((e) => e.type)).toEqual(['PUT', 'PUT'])
      })

      test('NOPUT with NODELETE drops every event', async () => {
        const etcd = target()
        const s = session(etcd)
        const filters: WatchFilter[] = ['NOPUT', 'NODELETE']
        await s.create({ key: 'k', filters }) // 0
        await s.create({ key: 'k', rangeEnd: 'l' }) // 1, a witness on the same stream
        await etcd.put('k', '1') // 2
        await etcd.delete('k') // 3
        await etcd.put('k/end', '1') // 4
        const responses = await s.eventsThrough(1, 4)
        expect(responses.every((r) => r.watchId === 1)).toBe(true)
      })
    })

    describe('revisions with several events', () => {
      test('all events of one txn come in one response, in op order', async () => {
        const etcd = target()
        await etcd.put('w/b', '1') // 2
        const s = session(etcd)
        await s.create({ key: 'w/', rangeEnd: 'w0', prevKv: true })
        const r = await etcd
          .txn()
          .then(op.put('w/z', '1'), op.put('w/c', '1'), op.put('w/d', '1'), op.delete('w/b'))
          .commit()
        expect(r.header.revision).toBe(3)
        const responses = await s.eventsThrough(0, 3)
        expect(responses.length).toBe(1)
        expect(responses[0]!.header.revision).toBe(3)
        expect(eventsOf(responses)).toEqual([
          { type: 'PUT', kv: kvPair('w/z', '1', 3, 3, 1) },
          { type: 'PUT', kv: kvPair('w/c', '1', 3, 3, 1) },
          { type: 'PUT', kv: kvPair('w/d', '1', 3, 3, 1) },
          { type: 'DELETE', kv: deletedKv('w/b', 3), prevKv: kvPair('w/b', '1', 2, 2, 1) },
        ])
      })

      test('filtered watchers each get their part of a txn in one response', async () => {
        const etcd = target()
        await etcd.put('w/b', '1') // 2
        const s = session(etcd)
        await s.create({ key: 'w/', rangeEnd: 'w0', filters: ['NOPUT'] }) // 0
        await s.create({ key: 'w/', rangeEnd: 'w0', filters: ['NODELETE'] }) // 1
        await etcd.txn().then(op.put('w/z', '1'), op.put('w/c', '1'), op.delete('w/b'), op.put('w/d', '1')).commit() // 3
        const responses = await s.responses.take(2)
        const byId = new Map(responses.map((r) => [r.watchId, r]))
        expect(eventsOf([byId.get(0)!])).toEqual([{ type: 'DELETE', kv: deletedKv('w/b', 3) }])
        expect(eventsOf([byId.get(1)!]).map((e) => e.kv.key)).toEqual(['w/z', 'w/c', 'w/d'])
      })

      test('a delete of a range sends its delete events in one response, in key order', async () => {
        const etcd = target()
        for (const k of ['w/z', 'w/c', 'w/d']) await etcd.put(k, '1') // 2, 3, 4
        const s = session(etcd)
        await s.create({ key: 'w/', rangeEnd: 'w0' })
        await etcd.delete('w/', { prefix: true }) // 5
        const responses = await s.eventsThrough(0, 5)
        expect(responses.length).toBe(1)
        expect(eventsOf(responses)).toEqual([
          { type: 'DELETE', kv: deletedKv('w/c', 5) },
          { type: 'DELETE', kv: deletedKv('w/d', 5) },
          { type: 'DELETE', kv: deletedKv('w/z', 5) },
        ])
      })

      test("a lease revoke sends its delete events in one response, in key order, each prevKv with the lease", async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        for (const k of ['rv/c', 'rv/a', 'rv/b']) await etcd.put(k, '1', { lease: id }) // 2, 3, 4
        const s = session(etcd)
        await s.create({ key: 'rv/', rangeEnd: 'rv0', prevKv: true })
        expect((await etcd.revoke(id)).header.revision).toBe(5)
        const responses = await s.eventsThrough(0, 5)
        expect(responses.length).toBe(1)
        expect(eventsOf(responses)).toEqual([
          { type: 'DELETE', kv: deletedKv('rv/a', 5), prevKv: kvPair('rv/a', '1', 3, 3, 1, id) },
          { type: 'DELETE', kv: deletedKv('rv/b', 5), prevKv: kvPair('rv/b', '1', 4, 4, 1, id) },
          { type: 'DELETE', kv: deletedKv('rv/c', 5), prevKv: kvPair('rv/c', '1', 2, 2, 1, id) },
        ])
      })

      test('a delete event kv holds only the key and the deleting revision', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('k', 'value', { lease: id }) // 2
        await etcd.put('k', 'value2', { lease: id }) // 3
        const results = watch(etcd, 'k', { startRevision: 4 })
        await etcd.delete('k') // 4
        const [r] = await results.until((x) => lastRevision(x) >= 4)
        const kv = r!.events[0]!.kv
        expect(r!.events[0]!.type).toBe('delete')
        expect({ ...kv, key: text(kv.key), value: kv.value.length }).toEqual({
          key: 'k',
          value: 0,
          createRevision: 0,
          modRevision: 4,
          version: 0,
          lease: 0n,
        })
      })
    })

    describe('client level', () => {
      test('etcd.watch yields put and delete events with their kvs and prevKvs', async () => {
        const etcd = target()
        await etcd.put('k', 'v1') // 2
        const results = watch(etcd, 'k', { startRevision: 3, prevKv: true })
        await etcd.put('k', 'v2') // 3
        await etcd.delete('k') // 4
        const responses = await results.until((r) => lastRevision(r) >= 4)
        expect(responses.flatMap((r) => r.events.map((e) => e.type))).toEqual(['put', 'delete'])
        expect(eventsOf(responses)).toEqual([
          { type: 'PUT', kv: kvPair('k', 'v2', 2, 3, 2), prevKv: kvPair('k', 'v1', 2, 2, 1) },
          { type: 'DELETE', kv: deletedKv('k', 4), prevKv: kvPair('k', 'v2', 2, 3, 2) },
        ])
        expect(responses.every((r) => !r.canceled && r.compactRevision === 0)).toBe(true)
      })

      test('two client-level watches of one key each see every event', async () => {
        const etcd = target()
        const one = watch(etcd, 'k', { startRevision: 2 })
        const two = watch(etcd, 'k', { startRevision: 2 })
        await etcd.put('k', '1')
        await etcd.put('k', '2')
        for (const results of [one, two]) {
          const events = eventsOf(await results.until((r) => lastRevision(r) >= 3))
          expect(events.map((e) => e.kv.modRevision)).toEqual([2, 3])
        }
      })
    })

    describe('with a manual clock', () => {
      test.skipIf(lacks(h, 'manualClock'))('a lease expiry reaches a watcher as one response of delete events', async () => {
        const etcd = target()
        const { id } = await etcd.grant(3)
        for (const k of ['e/m', 'e/b', 'e/x']) await etcd.put(k, '1', { lease: id }) // 2, 3, 4
        const s = session(etcd)
        await s.create({ key: 'e/', rangeEnd: 'e0', prevKv: true })
        await etcd.clock!.advance(3_600)
        const responses = await s.eventsThrough(0, 5)
        expect(responses.length).toBe(1)
        expect(eventsOf(responses)).toEqual([
          { type: 'DELETE', kv: deletedKv('e/b', 5), prevKv: kvPair('e/b', '1', 3, 3, 1, id) },
          { type: 'DELETE', kv: deletedKv('e/m', 5), prevKv: kvPair('e/m', '1', 2, 2, 1, id) },
          { type: 'DELETE', kv: deletedKv('e/x', 5), prevKv: kvPair('e/x', '1', 4, 4, 1, id) },
        ])
      })

      test.skipIf(lacks(h, 'manualClock'))(
        'progressNotify watchers hear the revision at each interval while idle, others never',
        async () => {
          const etcd = target()
          const clock = etcd.clock!
          const interval = defaults.watchProgressIntervalMs
          const s = session(etcd)
          await s.create({ key: 'k', progressNotify: true }) // 0
          await s.create({ key: 'k' }) // 1
          await clock.advance(interval)
          const first = await s.responses.next('the first progress notification')
          expect(shape(first)).toEqual(progressShape(0))
          expect(first.header.revision).toBe(1)
          await etcd.put('k', 'v') // 2
          // Watch 1 got no notification: the next two responses are the put's events.
          const events = await s.responses.take(2)
          expect(events.map((r) => [r.watchId, lastRevision(r)]).sort()).toEqual([
            [0, 2],
            [1, 2],
          ])
          // Watch 0 had an event in this interval: it is skipped once.
          await clock.advance(interval)
          expect((await s.progress()).map(shape)).toEqual([progressShape(-1)])
          await clock.advance(interval)
          const third = await s.responses.next('the next progress notification')
          expect(shape(third)).toEqual(progressShape(0))
          expect(third.header.revision).toBe(2)
        },
      )
    })

    describe('a slow consumer', () => {
      test('a watcher that reads nothing while 5000 puts happen then receives every event once, in order', async () => {
        const etcd = target()
        const s = session(etcd)
        await s.create({ key: 's/', rangeEnd: 's0' })
        const written = new Map<number, string>()
        const TOTAL = 5_000
        const BATCH = 100
        for (let i = 0; i < TOTAL; i += BATCH) {
          const batch = Array.from({ length: BATCH }, (_, j) => `s/${String(i + j).padStart(4, '0')}`)
          const responses = await Promise.all(batch.map((k) => etcd.put(k, k)))
          responses.forEach((r, j) => written.set(r.header.revision, batch[j]!))
        }
        const last = await currentRevision(etcd)
        expect(last).toBe(TOTAL + 1)
        const responses = await s.eventsThrough(0, last)
        expect(responses.every((r) => r.watchId === 0 && !r.canceled)).toBe(true)
        const events = eventsOf(responses)
        expect(events.length).toBe(TOTAL)
        const expected = [...written.entries()]
          .sort(([a], [b]) => a - b)
          .map(([rev, key]) => ({ type: 'PUT', kv: kvPair(key, key, rev, rev, 1) }))
        expect(events).toEqual(expected)
        expect(wholeRevisions(responses)).toBe(true)
      }, 60_000)
    })
  })
}
