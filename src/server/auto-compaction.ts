import type { Engine } from '../api/engine.ts'
import { isEtcdError } from '../util/errors.ts'

/**
 * AutoCompactionOptions mirror etcd's --auto-compaction-mode and --auto-compaction-retention.
 * - `periodic`: keep `retentionMs` of history. As etcd 3.4's periodic compactor: the revision is sampled every
 *   min(retention, 1 h) / 10; the first compaction comes `retentionMs` after start, to the revision sampled then
 *   `retentionMs` ago, and the next ones every min(retention, 1 h).
 * - `revision`: keep the last `retention` revisions; every `intervalMs` (etcd: 5 minutes) the store is compacted to
 *   the current revision minus `retention`.
 */
export type AutoCompactionOptions =
  | { mode: 'periodic'; retentionMs: number; now?: () => number }
  | { mode: 'revision'; retention: number; intervalMs?: number }

/** REVISION_INTERVAL_MS: how often etcd's revision compactor looks at the revision. */
export const REVISION_INTERVAL_MS = 5 * 60_000

const HOUR_MS = 3_600_000

/** startAutoCompaction compacts `engine` on a timer (unref'd); it returns the function that stops it. */
export function startAutoCompaction(engine: Engine, options: AutoCompactionOptions): () => void {
  const step = options.mode === 'revision' ? revisionCompactor(engine, options.retention) : periodicCompactor(engine, options)
  const every =
    options.mode === 'revision' ? (options.intervalMs ?? REVISION_INTERVAL_MS) : Math.min(options.retentionMs, HOUR_MS) / 10
  if (!(every > 0)) throw new RangeError('auto-compaction: the retention must be positive')
  let running = false
  const timer = setInterval(() => {
    if (running || engine.closed) return
    running = true
    step().finally(() => (running = false))
  }, every)
  timer.unref()
  return () => clearInterval(timer)
}

/** compactTo compacts and tells whether the store is now compacted there (an earlier compaction counts). */
async function compactTo(engine: Engine, revision: number): Promise<boolean> {
  try {
    await engine.compact(revision)
    return true
  } catch (err) {
    if (isEtcdError(err, 'ETCD_COMPACTED')) return true
    return false
  }
}

function revisionCompactor(engine: Engine, retention: number): () => Promise<void> {
  if (!Number.isSafeInteger(retention) || retention <= 0) throw new RangeError('auto-compaction: retention must be a positive number of revisions')
  let last = 0
  return async () => {
    const target = engine.revision - retention
    if (target <= 0 || target === last) return
    if (await compactTo(engine, target)) last = target
  }
}

function periodicCompactor(engine: Engine, options: { retentionMs: number; now?: () => number }): () => Promise<void> {
  const period = options.retentionMs
  const now = options.now ?? Date.now
  const compactInterval = Math.min(period, HOUR_MS)
  const keep = Math.floor(period / (compactInterval / 10)) + 1
  // revs holds one sample per tick; once full, revs[0] is the revision of `period` ago.
  const revs: number[] = [engine.revision]
  let lastSuccess = now()
  let wait = period
  return async () => {
    revs.push(engine.revision)
    if (revs.length > keep) revs.shift()
    if (now() - lastSuccess < wait) return
    if (await compactTo(engine, revs[0]!)) {
      wait = compactInterval
      lastSuccess = now()
    }
  }
}
