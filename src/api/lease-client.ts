import { AsyncQueue } from '../util/async-queue.ts'
import { systemClock, type Clock, type Timer } from '../util/clock.ts'
import { EtcdError } from '../util/errors.ts'
import type { LeaseIdLike } from '../messages/kv.ts'
import type { Lease, LeaseKeepAliveResponse } from '../messages/lease.ts'

/**
 * keepAliveLoop renews a lease for as long as the caller iterates, as etcd's Go client does: the first keepalive goes
 * out at once, each next one a third of the TTL after the last answer. The iteration ends when the lease is gone
 * (an answer with TTL 0) or the stream closes; breaking out of it stops the renewals.
 */
export function keepAliveLoop(lease: Lease, id: LeaseIdLike, clock: Clock = systemClock): AsyncIterableIterator<LeaseKeepAliveResponse> {
  const stream = lease.leaseKeepAlive()
  let timer: Timer | undefined
  let stopped = false
  const stop = () => {
    stopped = true
    if (timer !== undefined) clock.clearTimer(timer)
    stream.close()
  }
  const out = new AsyncQueue<LeaseKeepAliveResponse>(stop)
  const send = () => {
    timer = undefined
    if (stopped) return
    try {
      stream.send({ id })
    } catch (err) {
      stop()
      out.fail(err)
    }
  }
  void (async () => {
    try {
      for await (const response of stream) {
        if (response.ttl <= 0) break
        out.push(response)
        if (!stopped) timer = clock.setTimer(send, (response.ttl * 1000) / 3)
      }
      out.end()
    } catch (err) {
      out.fail(err)
    } finally {
      stop()
    }
  })()
  send()
  return out
}

/** keepAliveOnce renews a lease once; a lease that does not exist is ETCD_LEASE_NOT_FOUND, as in etcd's client. */
export async function keepAliveOnce(lease: Lease, id: LeaseIdLike): Promise<LeaseKeepAliveResponse> {
  const stream = lease.leaseKeepAlive()
  try {
    stream.send({ id })
    for await (const response of stream) {
      if (response.ttl <= 0) throw new EtcdError('ETCD_LEASE_NOT_FOUND')
      return response
    }
    throw new EtcdError('ETCD_STOPPED')
  } finally {
    stream.close()
  }
}
