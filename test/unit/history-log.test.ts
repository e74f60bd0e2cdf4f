import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { HistoryLog } from '../../src/mvcc/history-log.ts'
import { makeRecord, makeTombstone, type KeyRecord } from '../../src/mvcc/key-record.ts'

/**
 * The chunked history log against a flat array: the same changes appended, compacted and read back give the same
 * answers, with chunks small enough that reads and compactions cross chunk edges.
 */

type Step = { kind: 'write'; changes: boolean[] } | { kind: 'compact'; back: number } | { kind: 'read'; from: number; span: number; max: number }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), changes: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(8) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), from: fc.nat(40), span: fc.nat(40), max: fc.integer({ min: 1, max: 12 }) }) },
)

/** flatRead and flatCompact are the log's rules over one array (as the log was before it was chunked). */
function flatRead(records: KeyRecord[], fromRev: number, toRev: number, max: number): KeyRecord[] {
  const out: KeyRecord[] = []
  for (const r of records) {
    if (r.modRevision < fromRev) continue
    if (r.modRevision > toRev) break
    if (out.length >= max && r.modRevision !== out[out.length - 1]!.modRevision) break
    out.push(r)
  }
  return out
}

function flatCompact(records: KeyRecord[], rev: number): KeyRecord[] {
  return records.filter((r) => r.modRevision > rev || (r.modRevision === rev && r.version !== 0))
}

describe('HistoryLog', () => {
  test('chunked appends, compactions and reads agree with a flat array', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(stepArb, { maxLength: 80 }), (chunkSize, steps) => {
        const log = new HistoryLog(chunkSize)
        let flat: KeyRecord[] = []
        let rev = 1
        let compactRev = 0
        for (const step of steps) {
          if (step.kind === 'write') {
            rev++
            const records = step.changes.map((put, sub) => (put ? makeRecord(`k${sub}`, 'v', rev, rev, sub, 1, 0n) : makeTombstone(`k${sub}`, rev, sub)))
            log.appendChanges(records.map((record) => ({ record })))
            flat.push(...records)
          } else if (step.kind === 'compact') {
            const at = Math.max(compactRev + 1, rev - step.back)
            if (at > rev) continue
            log.compact(at)
            flat = flatCompact(flat, at)
            compactRev = at
          } else {
            const from = Math.max(compactRev, step.from)
            expect(log.read(from, from + step.span, step.max)).toEqual(flatRead(flat, from, from + step.span, step.max))
          }
          expect(log.size).toBe(flat.length)
        }
        expect(log.read(0, Infinity)).toEqual(flat)
      }),
      { numRuns: 500 },
    )
  })

  test('records read back from disk in revision order read as appended ones', () => {
    const log = new HistoryLog(3)
    const records = Array.from({ length: 10 }, (_, i) => makeRecord(`k${i}`, 'v', i + 2, i + 2, 0, 1, 0n))
    log.appendRecords(records)
    expect(log.read(5, 8)).toEqual(records.slice(3, 7))
    log.compact(6)
    expect(log.read(0, Infinity)).toEqual(records.slice(4))
  })
})
