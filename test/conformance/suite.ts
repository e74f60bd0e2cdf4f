import type { Harness } from './harness.ts'
import { registerAuth } from './auth.ts'
import { registerCompact } from './compact.ts'
import { registerConcurrency } from './concurrency.ts'
import { registerDelete } from './delete.ts'
import { registerLease } from './lease.ts'
import { registerPut } from './put.ts'
import { registerRange } from './range.ts'
import { registerTxn } from './txn.ts'
import { registerWatch } from './watch.ts'

/**
 * registerAll registers the whole KV conformance suite against one harness. Each operation has its own file and
 * register function, so a harness that serves only part of etcd's API can register the parts it has.
 */
export function registerAll(h: Harness): void {
  registerRange(h)
  registerPut(h)
  registerDelete(h)
  registerTxn(h)
  registerCompact(h)
  registerLease(h)
  registerWatch(h)
  registerAuth(h)
  registerConcurrency(h)
}
