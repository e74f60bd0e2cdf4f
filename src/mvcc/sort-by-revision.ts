import type { KeyRecord } from './key-record.ts'

/**
 * sortByRevision orders records by {modRevision, sub}. Revisions are dense integers, so when their span is not much
 * larger than the number of records, a counting sort places each record directly: a comparison sort of a million
 * records was most of a reopen's time, and so was sorting each txn's records by sub afterwards (see below). When
 * the span is large, a comparison sort does it.
 */
export function sortByRevision(records: KeyRecord[]): KeyRecord[] {
  if (records.length < 2) return records
  const byRevision = (a: KeyRecord, b: KeyRecord) => a.modRevision - b.modRevision || a.sub - b.sub
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < records.length; i++) {
    const rev = records[i]!.modRevision
    if (rev < min) min = rev
    if (rev > max) max = rev
  }
  const span = max - min + 1
  if (span > 4 * records.length + 1024) return records.sort(byRevision)
  // starts[i + 1] counts revision min + i's records; subEnds[i] is one past its highest sub.
  const starts = new Int32Array(span + 1)
  const subEnds = new Float64Array(span)
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    const at = r.modRevision - min
    starts[at + 1]!++
    if (r.sub >= subEnds[at]!) subEnds[at] = r.sub + 1
  }
  // A revision is dense when its records hold subs 0..n-1: each record's place is then its revision's first slot plus
  // its sub. Others (thinned by compaction) are gathered in their slots and sorted by sub there.
  let thinned = 0
  for (let i = 0; i < span; i++) {
    if (subEnds[i] !== starts[i + 1]) {
      subEnds[i] = -1
      thinned++
    }
    starts[i + 1]! += starts[i]!
  }
  const out = new Array<KeyRecord>(records.length)
  const next = thinned === 0 ? starts : starts.slice()
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    const at = r.modRevision - min
    if (subEnds[at] === -1) out[next[at]!++] = r
    else out[starts[at]! + r.sub] = r
  }
  if (thinned > 0) {
    for (let i = 0; i < span; i++) {
      if (subEnds[i] !== -1 || starts[i + 1]! - starts[i]! < 2) continue
      const group = out.slice(starts[i], starts[i + 1]).sort(byRevision)
      for (let j = 0; j < group.length; j++) out[starts[i]! + j] = group[j]!
    }
  }
  return out
}
