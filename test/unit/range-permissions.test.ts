import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { RangePermissions, type GrantedRange } from '../../src/auth/range-permissions.ts'

/**
 * RangePermissions against a brute-force model of etcd 3.4's rule (docs/etcd-3.4-auth-observations.md §3):
 * a grant is [key, key\0) for a key alone (rangeEnd ''), [key, +inf) for rangeEnd '\0', else [key, rangeEnd); empty
 * and inverted grants grant nothing. A point request is allowed when some granted interval contains the key; a range
 * request [k, e) when the union of the granted intervals covers it with no gap.
 *
 * The model decides coverage exactly: whether a key is covered changes only at interval endpoints, so it is constant
 * between consecutive sorted endpoints; [k, e) is covered iff every endpoint p (and k itself) with k <= p < e is.
 */

const INF = Symbol('+inf')
type End = string | typeof INF
interface ModelInterval {
  begin: string
  end: End
}

function intervalsOf(grants: readonly GrantedRange[], kind: 'read' | 'write'): ModelInterval[] {
  const out: ModelInterval[] = []
  for (const g of grants) {
    if (!g[kind]) continue
    const end: End = g.rangeEnd === '' ? `${g.key}\0` : g.rangeEnd === '\0' ? INF : g.rangeEnd
    if (end !== INF && end <= g.key) continue // empty or inverted: nothing
    out.push({ begin: g.key, end })
  }
  return out
}

function coveredAt(intervals: readonly ModelInterval[], x: string): boolean {
  return intervals.some((i) => i.begin <= x && (i.end === INF || x < i.end))
}

/** modelAllows: 'unspecified' for an empty or inverted request range (etcd's answer depends on its tree walk). */
function modelAllows(intervals: readonly ModelInterval[], key: string, rangeEnd: string): boolean | 'unspecified' {
  if (rangeEnd === '') return coveredAt(intervals, key)
  const end: End = rangeEnd === '\0' ? INF : rangeEnd
  if (end !== INF && end <= key) return 'unspecified'
  const points = new Set<string>([key])
  for (const i of intervals) {
    points.add(i.begin)
    if (i.end !== INF) points.add(i.end)
  }
  for (const p of points) {
    if (p < key || (end !== INF && p >= end)) continue
    if (!coveredAt(intervals, p)) return false
  }
  return true
}

// A small alphabet: NUL (so that a key's point interval [k, k\0) can touch a range starting at k\0), a few letters,
// and 0xff (byte order, not UTF-16 order, must hold for latin1 strings).
const char = fc.constantFrom('\0', 'a', 'b', 'c', 'd', 'e', '\xff')
const key = fc.array(char, { maxLength: 3 }).map((cs) => cs.join(''))
const rangeEnd = fc.oneof(fc.constant(''), fc.constant('\0'), key)
const grant: fc.Arbitrary<GrantedRange> = fc.record({ read: fc.boolean(), write: fc.boolean(), key, rangeEnd })
const request = fc.record({ key, rangeEnd })
/** FC_SEED=<n> replays the properties with that seed. */
const seed = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) }

describe('RangePermissions', () => {
  test('property: canRead / canWrite equal a brute-force coverage model', () => {
    fc.assert(
      fc.property(fc.array(grant, { maxLength: 8 }), fc.array(request, { minLength: 1, maxLength: 10 }), (grants, requests) => {
        const perms = new RangePermissions(grants)
        const read = intervalsOf(grants, 'read')
        const write = intervalsOf(grants, 'write')
        for (const r of requests) {
          const wantRead = modelAllows(read, r.key, r.rangeEnd)
          const wantWrite = modelAllows(write, r.key, r.rangeEnd)
          if (wantRead !== 'unspecified') expect(perms.canRead(r.key, r.rangeEnd)).toBe(wantRead)
          if (wantWrite !== 'unspecified') expect(perms.canWrite(r.key, r.rangeEnd)).toBe(wantWrite)
        }
      }),
      { numRuns: 3000, ...seed },
    )
  })

  test('property: requests built from the grants own endpoints (more hits on the edges)', () => {
    // Requests whose bounds are the grants' own keys and ends hit "touching" and "just past" cases far more often.
    const scenario = fc
      .array(grant, { minLength: 1, maxLength: 6 })
      .chain((grants) => {
        const edges = [...new Set(grants.flatMap((g) => [g.key, `${g.key}\0`, g.rangeEnd, `${g.rangeEnd}\0`]))]
        const edge = fc.constantFrom(...edges)
        const req = fc.record({ key: fc.oneof(edge, key), rangeEnd: fc.oneof(fc.constant(''), fc.constant('\0'), edge) })
        return fc.tuple(fc.constant(grants), fc.array(req, { minLength: 1, maxLength: 10 }))
      })
    fc.assert(
      fc.property(scenario, ([grants, requests]) => {
        const perms = new RangePermissions(grants)
        const read = intervalsOf(grants, 'read')
        const write = intervalsOf(grants, 'write')
        for (const r of requests) {
          const wantRead = modelAllows(read, r.key, r.rangeEnd)
          const wantWrite = modelAllows(write, r.key, r.rangeEnd)
          if (wantRead !== 'unspecified') expect(perms.canRead(r.key, r.rangeEnd)).toBe(wantRead)
          if (wantWrite !== 'unspecified') expect(perms.canWrite(r.key, r.rangeEnd)).toBe(wantWrite)
        }
      }),
      { numRuns: 3000, ...seed },
    )
  })

  const rw = (key: string, rangeEnd = ''): GrantedRange => ({ read: true, write: true, key, rangeEnd })
  const r = (key: string, rangeEnd = ''): GrantedRange => ({ read: true, write: false, key, rangeEnd })
  const w = (key: string, rangeEnd = ''): GrantedRange => ({ read: false, write: true, key, rangeEnd })

  test('no grants: nothing is allowed', () => {
    const p = new RangePermissions([])
    expect(p.canRead('a', '')).toBe(false)
    expect(p.canWrite('a', '')).toBe(false)
    expect(p.canRead('a', 'b')).toBe(false)
    expect(p.canRead('a', '\0')).toBe(false)
  })

  test('touching intervals join, also across grants given in any order', () => {
    for (const grants of [
      [r('c', 'd'), r('d', 'e')],
      [r('d', 'e'), r('c', 'd')],
    ]) {
      const p = new RangePermissions(grants)
      expect(p.canRead('c', 'e')).toBe(true)
      expect(p.canRead('c0', 'd1')).toBe(true)
      expect(p.canRead('c', 'e\0')).toBe(false)
      expect(p.canRead('b', 'e')).toBe(false)
    }
    // A key alone is [a, a\0): it touches a range that starts at a\0.
    const p = new RangePermissions([r('a'), r('a\0', 'b')])
    expect(p.canRead('a', 'b')).toBe(true)
    // Overlapping and nested intervals merge too.
    const q = new RangePermissions([r('a', 'c'), r('b', 'd'), r('b', 'bb'), r('d', 'f')])
    expect(q.canRead('a', 'f')).toBe(true)
    expect(q.canRead('a', 'f\0')).toBe(false)
  })

  test('a gap refuses the range, but not the keys around it', () => {
    const p = new RangePermissions([r('g', 'h'), r('h0', 'i')])
    expect(p.canRead('g', 'i')).toBe(false)
    expect(p.canRead('g', 'h')).toBe(true)
    expect(p.canRead('h0', 'i')).toBe(true)
    expect(p.canRead('h', '')).toBe(false)
    expect(p.canRead('h\0', '')).toBe(false)
    expect(p.canRead('g\xff', '')).toBe(true)
    // A gap of one key: [a, b) and [b\0, c) miss exactly b.
    const q = new RangePermissions([r('a', 'b'), r('b\0', 'c')])
    expect(q.canRead('a', 'c')).toBe(false)
    expect(q.canRead('b', '')).toBe(false)
    expect(q.canRead('b\0', '')).toBe(true)
  })

  test('point grants cover the key alone', () => {
    const p = new RangePermissions([r('a')])
    expect(p.canRead('a', '')).toBe(true)
    expect(p.canRead('a', 'a\0')).toBe(true)
    expect(p.canRead('a\0', '')).toBe(false)
    expect(p.canRead('ab', '')).toBe(false)
    expect(p.canRead('a', 'b')).toBe(false)
    expect(p.canRead('', '')).toBe(false)
    expect(p.canRead('a', '\0')).toBe(false)
  })

  test('from-key grants run to the end of the key space', () => {
    const p = new RangePermissions([w('m', '\0')])
    expect(p.canWrite('m', '')).toBe(true)
    expect(p.canWrite('zzz', '')).toBe(true)
    expect(p.canWrite('\xff\xff', '')).toBe(true)
    expect(p.canWrite('m', '\0')).toBe(true)
    expect(p.canWrite('n', '\0')).toBe(true)
    expect(p.canWrite('m', '\xff')).toBe(true)
    expect(p.canWrite('l', '\0')).toBe(false)
    expect(p.canWrite('l\xff', '')).toBe(false)
    // A from-key grant at '' or '\0' covers every (non-empty) key.
    const all = new RangePermissions([r('\0', '\0')])
    expect(all.canRead('\0', '\0')).toBe(true)
    const everything = new RangePermissions([r('', '\0')])
    expect(everything.canRead('', '')).toBe(true)
    expect(everything.canRead('\0', '\0')).toBe(true)
    // A range joining a from-key grant makes one unbounded interval.
    const joined = new RangePermissions([r('c', 'm'), r('m', '\0')])
    expect(joined.canRead('c', '\0')).toBe(true)
    expect(joined.canRead('b', '\0')).toBe(false)
  })

  test('inverted and empty grant ranges grant nothing', () => {
    const p = new RangePermissions([rw('b', 'a'), rw('c', 'c'), rw('d', '\0\0')])
    for (const k of ['a', 'b', 'c', 'd', 'a\0', 'b\0']) {
      expect(p.canRead(k, '')).toBe(false)
      expect(p.canWrite(k, '')).toBe(false)
    }
    expect(p.canRead('a', 'b')).toBe(false)
    // ... and do not bridge a gap between real grants.
    const q = new RangePermissions([r('a', 'b'), r('c', 'b'), r('c', 'd')])
    expect(q.canRead('a', 'd')).toBe(false)
  })

  test('READ and WRITE are separate; READWRITE gives both', () => {
    const p = new RangePermissions([r('a'), w('m', 'n'), rw('p/', 'p0')])
    expect(p.canRead('a', '')).toBe(true)
    expect(p.canWrite('a', '')).toBe(false)
    expect(p.canRead('m5', '')).toBe(false)
    expect(p.canWrite('m5', '')).toBe(true)
    expect(p.canWrite('m', 'n')).toBe(true)
    expect(p.canWrite('m', 'n0')).toBe(false)
    expect(p.canRead('p/x', '')).toBe(true)
    expect(p.canWrite('p/x', '')).toBe(true)
    expect(p.canRead('p/', 'p1')).toBe(false)
    // A read grant and a write grant next to each other do not join into a read range.
    const q = new RangePermissions([r('a', 'b'), w('b', 'c')])
    expect(q.canRead('a', 'c')).toBe(false)
    expect(q.canWrite('a', 'c')).toBe(false)
  })
})
