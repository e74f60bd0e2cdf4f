import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  EtcdError,
  op,
  open,
  type BidiStream,
  type Engine,
  type KeyValue,
  type WatchFilter,
  type WatchRequest,
  type WatchResponse,
} from '../../src/index.ts'

/**
 * Watch streams against a record of the writes: random writes (puts, deletes of keys and ranges, txns of several
 * puts and a delete, compactions) interleaved with random watchers (a key, a prefix, a range, every key from a key;
 * a start revision from 1 to current + 2; prevKv; filters) on a few streams, some of whose consumers stall for a
 * while, on engines whose watchers fall back to history after very few unread responses.
 *
 * The expected events come from the test's own record of what it wrote, never from the engine. Each watcher must
 * see exactly the recorded history of its range from its start revision, or a whole-revision prefix of it followed
 * by a cancellation for compaction; no revision may be split across responses. Each run ends with writes that
 * every watcher sees, so the test knows what to wait for; it waits for responses, never for time.
 *
 * Compaction at C drops a tombstone at C and the versions before C, as etcd's does; so a watcher reading revision C
 * from history after that compaction misses its deletes and the prevKvs of its events. Those are optional below.
 */

/** Keys are latin1 strings, one char per byte, so JS string order is byte order. */
const KEYS = ['a', 'a/1', 'a/2', 'ab', 'b', 'c', '\xff', '\xff\x00'] as const
const VALUES = ['', 'x', 'yy'] as const
/** ALL_FROM marks "every key from key on" (etcd's rangeEnd "\0"). */
const ALL_FROM = '\0'

const bin = (s: string) => Buffer.from(s, 'latin1')
const str = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')

/** KeyRange is [key, end): end '' is the key alone, ALL_FROM every key >= key. */
interface KeyRange {
  key: string
  end: string
}

function covers(r: KeyRange, key: string): boolean {
  if (r.end === '') return key === r.key
  return key >= r.key && (r.end === ALL_FROM || key < r.end)
}

/** prefixEnd is the end of the range of keys starting with `p`, ALL_FROM when there is none. */
function prefixEnd(p: string): string {
  let s = p
  while (s.length > 0 && s.charCodeAt(s.length - 1) === 0xff) s = s.slice(0, -1)
  if (s.length === 0) return ALL_FROM
  return s.slice(0, -1) + String.fromCharCode(s.charCodeAt(s.length - 1) + 1)
}

// ---- steps -------------------------------------------------------------------------------------------------------

const key = fc.constantFrom(...KEYS)
const value = fc.constantFrom(...VALUES)

const rangeArb: fc.Arbitrary<KeyRange> = fc.oneof(
  key.map((k) => ({ key: k, end: '' })),
  fc.constantFrom('a', 'a/', '\xff', 'b').map((p) => ({ key: p, end: prefixEnd(p) })),
  fc.tuple(key, key).map(([x, y]) => (x < y ? { key: x, end: y } : { key: y, end: x === y ? '' : x })),
  key.map((k) => ({ key: k, end: ALL_FROM })),
  fc.constant({ key: '\0', end: ALL_FROM }),
)

type Step =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'delete'; range: KeyRange }
  | { kind: 'txn'; puts: Array<[string, string]>; del: string | undefined }
  | { kind: 'compact'; at: number }
  | { kind: 'tick' }
  | {
      kind: 'watch'
      range: KeyRange
      /** start picks the start revision: 1 + start mod (current + 2). */
      start: number
      prevKv: boolean
      filters: WatchFilter[]
      /** stream picks an existing stream (mod their number), or a new one when it is past them. */
      stream: number
      /** stall is how many further steps a new stream's consumer reads nothing. */
      stall: number
    }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), range: rangeArb }) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        kind: fc.constant('txn' as const),
        puts: fc.uniqueArray(fc.tuple(key, value), { minLength: 1, maxLength: 4, selector: ([k]) => k }),
        del: fc.option(key, { nil: undefined }),
      })
      // etcd refuses a txn that writes a key twice; keep the delete off the put keys.
      .map((t) => (t.puts.some(([k]) => k === t.del) ? { ...t, del: undefined } : t)),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'tick' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('watch' as const),
      range: rangeArb,
      start: fc.nat(1000),
      prevKv: fc.boolean(),
      filters: fc.constantFrom<WatchFilter[]>([], [], [], ['NOPUT'], ['NODELETE'], ['NOPUT', 'NODELETE']),
      stream: fc.nat(4),
      stall: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 25 })),
    }),
  },
)

// ---- the record of writes ----------------------------------------------------------------------------------------

interface Kv {
  key: string
  value: string
  createRevision: number
  modRevision: number
  version: number
  lease: bigint
}

interface Ev {
  type: 'PUT' | 'DELETE'
  kv: Kv
  prevKv?: Kv
}

/**
 * WriteLog is the test's own account of what it wrote: the live keys and, per revision, the changes in order.
 * It mirrors etcd's rules for revisions and versions, and the engine's answers are checked against it as it goes.
 */
class WriteLog {
  rev = 1
  readonly live = new Map<string, Kv>()
  /** changes[r] lists revision r's events, in sub-revision order. */
  readonly changes: Ev[][] = [[], []]
  readonly compactions: number[] = []
  compacted = 0

  /** commit applies one write (a list of puts and deleted keys, in op order); a write that changes nothing is dropped. */
  commit(ops: Array<{ put: [string, string] } | { del: string[] }>): number {
    const rev = this.rev + 1
    const events: Ev[] = []
    for (const o of ops) {
      if ('put' in o) {
        const [k, v] = o.put
        const prev = this.live.get(k)
        const kv: Kv = {
          key: k,
          value: v,
          createRevision: prev?.createRevision ?? rev,
          modRevision: rev,
          version: (prev?.version ?? 0) + 1,
          lease: 0n,
        }
        this.live.set(k, kv)
        events.push(prev === undefined ? { type: 'PUT', kv } : { type: 'PUT', kv, prevKv: prev })
      } else {
        for (const k of o.del) {
          const prev = this.live.get(k)
          if (prev === undefined) continue
          this.live.delete(k)
          events.push({
            type: 'DELETE',
            kv: { key: k, value: '', createRevision: 0, modRevision: rev, version: 0, lease: 0n },
            prevKv: prev,
          })
        }
      }
    }
    if (events.length === 0) return this.rev
    this.rev = rev
    this.changes[rev] = events
    return rev
  }

  keysIn(r: KeyRange): string[] {
    return [...this.live.keys()].filter((k) => covers(r, k)).sort()
  }
}

// ---- watchers and streams ----------------------------------------------------------------------------------------

interface WatcherSpec {
  id: number
  range: KeyRange
  start: number
  prevKv: boolean
  filters: WatchFilter[]
  /** createdAt is the revision when it was created; compactedAt the compact revision then. */
  createdAt: number
  compactedAt: number
}

interface StreamState {
  stream: BidiStream<WatchRequest, WatchResponse>
  responses: WatchResponse[]
  watchers: WatcherSpec[]
  /** stalledUntil: the step index at which its consumer starts reading. */
  stalledUntil: number
  pumping: boolean
  error: unknown
  /** onResponse wakes a waiter when a response arrives. */
  onResponse: (() => void) | undefined
}

function pump(s: StreamState): void {
  if (s.pumping) return
  s.pumping = true
  void (async () => {
    try {
      for await (const r of s.stream) {
        s.responses.push(r)
        s.onResponse?.()
      }
    } catch (err) {
      s.error = err
      s.onResponse?.()
    }
  })()
}

/**
 * settle waits until every watcher of the stream has what it is due: its last expected event, or a cancellation.
 * The run ends with writes that every watcher sees (see `run`), so only a watcher that drops every event has nothing
 * to wait for (unless it started below the compact revision: then it waits for its cancellation); it is checked for
 * what has arrived once the others are through.
 */
async function settle(rec: WriteLog, s: StreamState): Promise<void> {
  pump(s)
  // A watcher that started below the compact revision is due its cancellation; no event can satisfy Infinity.
  const targets = s.watchers.map((w) => ({ w, rev: w.start < w.compactedAt ? Infinity : lastDue(rec, w) }))
  const deadline = Date.now() + 2_000
  for (;;) {
    if (s.error !== undefined) throw s.error
    const waiting = targets.filter(({ w, rev }) => {
      const mine = s.responses.filter((r) => r.watchId === w.id)
      if (!mine.some((r) => r.created)) return true
      return rev !== undefined && !mine.some((r) => r.canceled || lastOf(r) >= rev)
    })
    if (waiting.length === 0) return
    if (Date.now() > deadline) {
      throw new Error(`watchers ${waiting.map(({ w, rev }) => `${w.id} (through ${rev})`).join(', ')} got nothing more within 2 s`)
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 20)
      s.onResponse = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    s.onResponse = undefined
  }
}

/** lastDue is the revision of a watcher's last event that must arrive, if any. */
function lastDue(rec: WriteLog, w: WatcherSpec): number | undefined {
  return expectedEvents(rec, w).filter((e) => !e.optional).at(-1)?.kv.modRevision
}

function lastOf(r: WatchResponse): number {
  return r.events.at(-1)?.kv.modRevision ?? 0
}

// ---- expectations ------------------------------------------------------------------------------------------------

interface Expected extends Ev {
  /** optional: a delete at a compaction revision, which a watcher reading that revision from history misses. */
  optional: boolean
  /** prevOptional: the event is at a compaction revision, so its prevKv may be compacted away. */
  prevOptional: boolean
}

function expectedEvents(rec: WriteLog, w: WatcherSpec): Expected[] {
  const out: Expected[] = []
  const compactions = new Set(rec.compactions)
  for (let r = w.start; r <= rec.rev; r++) {
    for (const e of rec.changes[r] ?? []) {
      if (!covers(w.range, e.kv.key)) continue
      if (e.type === 'PUT' ? w.filters.includes('NOPUT') : w.filters.includes('NODELETE')) continue
      const base: Ev = w.prevKv && e.prevKv !== undefined ? { type: e.type, kv: e.kv, prevKv: e.prevKv } : { type: e.type, kv: e.kv }
      out.push({ ...base, optional: e.type === 'DELETE' && compactions.has(r), prevOptional: compactions.has(r) })
    }
  }
  return out
}

function kvOf(kv: KeyValue): Kv {
  return {
    key: str(kv.key),
    value: str(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  }
}

function actualEvents(responses: readonly WatchResponse[]): Ev[] {
  return responses.flatMap((r) =>
    r.events.map((e): Ev => (e.prevKv === undefined ? { type: e.type, kv: kvOf(e.kv) } : { type: e.type, kv: kvOf(e.kv), prevKv: kvOf(e.prevKv) })),
  )
}

/**
 * reconcile resolves the optional parts of `expected` against `actual`: an optional delete that was not delivered
 * is dropped, an optional prevKv that was not delivered is removed. What remains must equal `actual` exactly.
 */
function reconcile(expected: readonly Expected[], actual: readonly Ev[]): Ev[] {
  const out: Ev[] = []
  let i = 0
  for (const e of expected) {
    const a = actual[i]
    const same = a !== undefined && a.type === e.type && a.kv.key === e.kv.key && a.kv.modRevision === e.kv.modRevision
    if (!same && e.optional) continue
    const { optional: _o, prevOptional, ...ev } = e
    if (same && prevOptional && a.prevKv === undefined) delete ev.prevKv
    out.push(ev)
    i++
  }
  return out
}

function checkWatcher(rec: WriteLog, s: StreamState, w: WatcherSpec): void {
  const mine = s.responses.filter((r) => r.watchId === w.id)
  const created = mine[0]
  const label = `watcher ${JSON.stringify({ ...w, range: { key: bin(w.range.key).toString('hex'), end: bin(w.range.end).toString('hex') } })}`
  expect(created?.created, `${label}: first response is the created one`).toBe(true)
  expect(created!.header.revision, label).toBe(w.createdAt)
  const rest = mine.slice(1)
  const cancelAt = rest.findIndex((r) => r.canceled)
  const delivered = cancelAt === -1 ? rest : rest.slice(0, cancelAt)
  if (cancelAt !== -1) expect(cancelAt, `${label}: nothing after the cancel`).toBe(rest.length - 1)

  // No revision is split across responses, and responses go up in revision.
  let last = 0
  for (const r of delivered) {
    expect(r.events.length, `${label}: event responses are not empty`).toBeGreaterThan(0)
    expect(r.events[0]!.kv.modRevision, `${label}: revisions go up across responses`).toBeGreaterThan(last)
    last = r.events.at(-1)!.kv.modRevision
    expect(r.header.revision, label).toBeGreaterThanOrEqual(last)
  }

  const expected = expectedEvents(rec, w)
  const actual = actualEvents(delivered)
  const reconciled = reconcile(expected, actual)
  if (w.start < w.compactedAt) expect(cancelAt, `${label}: started below the compact revision, so canceled`).not.toBe(-1)
  if (cancelAt === -1) {
    expect(actual, `${label}: every event of its range from its start`).toEqual(reconciled)
    return
  }
  // A compaction cancel: legitimate only for a compaction above the start, after a whole-revision prefix.
  const cancel = rest[cancelAt]!
  expect(rec.compactions, `${label}: canceled for a compaction that happened`).toContain(cancel.compactRevision)
  expect(cancel.compactRevision, `${label}: the compaction passed its start`).toBeGreaterThan(w.start)
  expect(cancel.events, label).toEqual([])
  expect(actual, `${label}: a prefix of its events before the cancel`).toEqual(reconciled.slice(0, actual.length))
  const next = reconciled[actual.length]
  if (next !== undefined && actual.length > 0) {
    expect(next.kv.modRevision, `${label}: the prefix ends at a revision boundary`).toBeGreaterThan(actual.at(-1)!.kv.modRevision)
  }
  for (const e of actual) expect(e.kv.modRevision, label).toBeLessThan(cancel.compactRevision)
  if (w.start < w.compactedAt) expect(actual, `${label}: started below the compact revision`).toEqual([])
}

// ---- running -----------------------------------------------------------------------------------------------------

async function write(etcd: Engine, rec: WriteLog, step: Step): Promise<void> {
  switch (step.kind) {
    case 'put': {
      const r = await etcd.put(bin(step.key), bin(step.value))
      expect(r.header.revision).toBe(rec.commit([{ put: [step.key, step.value] }]))
      return
    }
    case 'delete': {
      const { key: k, end } = step.range
      const deleted = rec.keysIn(step.range)
      const r = await etcd.delete(bin(k), end === '' ? {} : { rangeEnd: bin(end) })
      expect(r.deleted).toBe(deleted.length)
      expect(r.header.revision).toBe(rec.commit([{ del: deleted }]))
      return
    }
    case 'txn': {
      const ops = step.puts.map(([k, v]) => op.put(bin(k), bin(v)))
      if (step.del !== undefined) ops.push(op.delete(bin(step.del)))
      const deleted = step.del !== undefined && rec.live.has(step.del) ? [step.del] : []
      const r = await etcd.txn().then(...ops).commit()
      expect(r.header.revision).toBe(rec.commit([...step.puts.map(([k, v]) => ({ put: [k, v] as [string, string] })), { del: deleted }]))
      return
    }
    case 'compact': {
      const at = 1 + Math.floor(step.at * rec.rev)
      const revision = Math.min(at, rec.rev)
      try {
        await etcd.compact(revision)
      } catch (err) {
        if (err instanceof EtcdError && err.code === 'ETCD_COMPACTED' && revision <= rec.compacted) return
        throw err
      }
      expect(revision).toBeGreaterThan(rec.compacted)
      rec.compacted = revision
      rec.compactions.push(revision)
      return
    }
    default:
      throw new Error(`not a write: ${step.kind}`)
  }
}

async function run(maxPending: number, steps: readonly Step[]): Promise<void> {
  const etcd = await open({ watchMaxPending: maxPending })
  const rec = new WriteLog()
  const streams: StreamState[] = []
  try {
    for (let i = 0; i < steps.length; i++) {
      for (const s of streams) if (!s.pumping && i >= s.stalledUntil) pump(s)
      const step = steps[i]!
      if (step.kind === 'tick') {
        await new Promise((resolve) => setImmediate(resolve))
      } else if (step.kind === 'watch') {
        let s = streams[step.stream]
        if (s === undefined) {
          s = {
            stream: etcd.services.watch.watch(),
            responses: [],
            watchers: [],
            stalledUntil: i + step.stall,
            pumping: false,
            error: undefined,
            onResponse: undefined,
          }
          streams.push(s)
        }
        const start = 1 + (step.start % (rec.rev + 2))
        const w: WatcherSpec = {
          id: s.watchers.length,
          range: step.range,
          start,
          prevKv: step.prevKv,
          filters: step.filters,
          createdAt: rec.rev,
          compactedAt: rec.compacted,
        }
        s.watchers.push(w)
        s.stream.send({
          createRequest: {
            key: bin(w.range.key),
            ...(w.range.end === '' ? {} : { rangeEnd: bin(w.range.end) }),
            startRevision: start,
            prevKv: w.prevKv,
            filters: w.filters,
          },
        })
      } else {
        await write(etcd, rec, step)
      }
    }
    // Closing writes every watcher sees (every watch range holds one of KEYS): all keys put, all deleted, all put.
    // A watcher starts at most two revisions ahead of its creation, so it sees the delete, or the last puts.
    const putAll: Step = { kind: 'txn', puts: KEYS.map((k) => [k, 'end']), del: undefined }
    await write(etcd, rec, putAll)
    await write(etcd, rec, { kind: 'delete', range: { key: '\0', end: ALL_FROM } })
    await write(etcd, rec, putAll)
    for (const s of streams) await settle(rec, s)
    for (const s of streams) for (const w of s.watchers) checkWatcher(rec, s, w)
  } finally {
    for (const s of streams) s.stream.close()
    await etcd.close()
  }
}

describe('watch streams against the record of writes', () => {
  test('every watcher sees exactly its history, whole revisions per response, or a prefix and a compaction cancel', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2, 4, 128),
        fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }),
        async (maxPending, steps) => run(maxPending, steps),
      ),
      { numRuns: Number(process.env.WATCH_MODEL_RUNS ?? 400) },
    )
  }, 60_000)
})
