import { openAnti } from './peers/antietcd.ts'
import { drive, emit, label, quick, rate, settle, Timer, type Result } from './lib.ts'
import { open } from './subject.ts'

/**
 * bench/lease: grant N leases of a 3-second TTL with one key attached to each (grant, then put with the lease,
 * awaited one at a time); then block the thread (Atomics.wait, no CPU) until every deadline has passed, so all N
 * leases fall due at once when it wakes; count the deletions through a prefix watch. Reported: grants+puts per
 * second; revocations per second from the wake-up to the last deletion; and how late the last deletion came after
 * the last lease's deadline (an upper bound: it includes the 50 ms the block overshoots). etcdlite (hashed timer
 * wheel) beside antietcd (one setTimeout per lease).
 * Target: every lease revoked within one second of its deadline.
 */
const TTL = 3

export async function benchLease(): Promise<Result[]> {
  const results: Result[] = []
  for (const n of quick ? [20_000] : [1_000, 100_000]) {
    const grantCase = `lease grant+put, ${label(n)} leases`
    const expiryCase = `lease mass expiry, ${label(n)} leases`

    settle()
    const etcd = await open()
    const deletions = expire(n, (onDelete) => {
      const w = etcd.watch('lease/', { prefix: true })
      void (async () => {
        for await (const r of w) for (const e of r.events) if (e.type === 'delete') onDelete()
      })()
    })
    let lastDeadline = 0
    const grants = new Timer()
    await drive(grants, n, async (i) => {
      const { id } = await etcd.grant(TTL)
      lastDeadline = performance.now() + TTL * 1000
      await etcd.put(`lease/${i}`, 'v', { lease: id })
    })
    results.push(emit(grants.result(grantCase, 'etcdlite memory')))
    let woke = sleepPast(lastDeadline)
    const e = await deletions
    results.push(emit(rate(expiryCase, 'etcdlite memory', n, (e.last - woke) / 1000, { lastLateMs: Math.round(e.last - lastDeadline) })))
    await etcd.close()

    settle()
    const anti = await openAnti()
    const antiDeletions = expire(n, (onDelete) => {
      void anti.create_watch({ key: 'lease/', range_end: 'lease0' }, (msg) => {
        for (const ev of msg.result.events ?? []) if (ev.type === 'DELETE') onDelete()
      })
    })
    const antiGrants = new Timer()
    await drive(antiGrants, n, async (i) => {
      const { ID } = await anti.lease_grant({ TTL })
      lastDeadline = performance.now() + TTL * 1000
      await anti.put({ key: `lease/${i}`, value: 'v', lease: ID })
    })
    results.push(emit(antiGrants.result(grantCase, 'antietcd memory')))
    woke = sleepPast(lastDeadline)
    const a = await antiDeletions
    results.push(emit(rate(expiryCase, 'antietcd memory', n, (a.last - woke) / 1000, { lastLateMs: Math.round(a.last - lastDeadline) })))
    await anti.close()
  }
  return results
}

/** sleepPast blocks the thread until 50 ms after `deadline` (a performance.now() time) and returns when it woke. */
function sleepPast(deadline: number): number {
  const ms = Math.max(0, deadline + 50 - performance.now())
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
  return performance.now()
}

/**
 * expire resolves once n deletions were seen, with the time of the last.
 * Lease timers are unref()ed in etcdlite, so an interval holds the process open meanwhile.
 */
function expire(n: number, watch: (onDelete: () => void) => void): Promise<{ last: number }> {
  const hold = setInterval(() => undefined, 1000)
  return new Promise((resolve) => {
    let deleted = 0
    watch(() => {
      if (++deleted === n) {
        clearInterval(hold)
        resolve({ last: performance.now() })
      }
    })
  })
}
