import { open } from '../src/index.ts'
import { emit, machine, quick, settle, Timer, type Result } from './lib.ts'

/**
 * bench/lease: grant N leases (one key attached to each), let them expire together on the real clock, and report
 * grants/s, revocations/s, and how late the last revocation came after the last lease's deadline.
 * Target: every lease revoked within one second of its deadline.
 */
export async function benchLease(): Promise<Result[]> {
  const n = quick ? 20_000 : 100_000
  const ttl = 3
  settle()
  const etcd = await open()
  const grants = new Timer()
  grants.start()
  let lastDeadline = 0
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint()
    const { id } = await etcd.grant(ttl)
    lastDeadline = performance.now() + ttl * 1000
    await etcd.put(`lease/${i}`, 'v', { lease: id })
    if (i % 64 === 0) grants.sample(t0)
  }
  grants.stop(n)
  const results = [emit(grants.result(`lease grant+put ${n / 1000}k`, 'etcdlite memory'))]

  // Watch the deletes: each revocation is one revision with one delete event. The engine's timers are unref()ed,
  // so hold the process open while waiting.
  const hold = setInterval(() => undefined, 1000)
  let deleted = 0
  let first = 0
  let last = 0
  for await (const r of etcd.watch('lease/', { prefix: true })) {
    for (const e of r.events) {
      if (e.type !== 'delete') continue
      if (deleted === 0) first = performance.now()
      deleted++
    }
    if (deleted === n) {
      last = performance.now()
      break
    }
  }
  clearInterval(hold)
  const revokeSeconds = (last - first) / 1000
  results.push(
    emit({
      case: `lease mass expiry ${n / 1000}k`,
      system: 'etcdlite memory',
      ops: n,
      opsPerSec: Math.round(n / Math.max(revokeSeconds, 1e-3)),
      p50Ms: 0,
      p99Ms: 0,
      lastLateMs: Math.round(last - lastDeadline),
      node: process.version,
      machine,
    }),
  )
  await etcd.close()
  return results
}
