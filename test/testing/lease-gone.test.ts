import { Etcd3 } from 'etcd3'
import { describe, expect, test } from 'vitest'
import { fakeEtcd } from '../../src/testing/index.ts'
import { remoteServices } from '../../src/remote/remote-services.ts'
import { etcdctl, etcdctlMissing } from '../server/helpers.ts'
import { etcdBinary, startEtcd } from '../support/real-etcd.ts'

/**
 * A lease gone (revoked elsewhere, or expired) as the clients see it, on the fake and on a real etcd 3.4: etcd answers
 * a keepalive of a lease it no longer has with TTL 0, which the etcd3 client turns into EtcdLeaseInvalidError (for a
 * keepaliveOnce, and as the 'lost' event of a lease it keeps alive), and etcdctl into "lease ... expired or revoked."
 * (keep-alive) and "lease ... already expired" (timetolive). On the fake the lease also expires on its ManualClock.
 */

const binary = etcdBinary()
if (binary === undefined) console.log('skipping the comparison of a lease gone with real etcd: etcd 3.4 is not installed')

type Gone = (id: bigint) => Promise<void>

/** leaseGoneView grants leases at `endpoint`, makes each go with `gone`, and records what the clients show. */
async function leaseGoneView(endpoint: string, gone: Gone) {
  const client = new Etcd3({ hosts: endpoint })
  const described = (e: Error) => ({ name: e.constructor.name, message: e.message.replace(/\d+/, 'ID') })
  try {
    const view: Record<string, unknown> = {}
    const lease = client.lease(30, { autoKeepAlive: false })
    const id = await lease.grant()
    await gone(BigInt(id))
    view.keepaliveOnce = await lease.keepaliveOnce().then(
      () => 'kept alive',
      (e: Error) => described(e),
    )
    if (etcdctlMissing === undefined) {
      // etcdctl prints lease ids as %016x: zero-padded to 16 hex digits.
      const hex = BigInt(id).toString(16).padStart(16, '0')
      const strip = (s: string) => s.replaceAll(hex, 'ID')
      const keepAlive = await etcdctl(endpoint, ['lease', 'keep-alive', hex])
      const timeToLive = await etcdctl(endpoint, ['lease', 'timetolive', hex])
      view.etcdctl = { keepAlive: [keepAlive.code, strip(keepAlive.stdout)], timeToLive: [timeToLive.code, strip(timeToLive.stdout)] }
    }
    // A lease the client keeps alive (every ttl/3 s) hears that it is gone at its next keepalive.
    const kept = client.lease(3)
    const keptId = await kept.grant()
    const lost = new Promise<Error>((resolve) => kept.once('lost', resolve))
    await gone(BigInt(keptId))
    view.lost = described(await lost)
    return view
  } finally {
    client.close()
  }
}

describe('a lease gone', () => {
  test.skipIf(binary === undefined)('a revoked lease: the etcd3 client and etcdctl show on the fake what they show on etcd 3.4', async () => {
    const real = await startEtcd(binary)
    let fromEtcd
    try {
      const services = remoteServices(real.endpoint)
      try {
        fromEtcd = await leaseGoneView(real.endpoint, async (id) => void (await services.lease.leaseRevoke({ id })))
      } finally {
        services.close()
      }
    } finally {
      await real.stop()
    }
    await using fake = await fakeEtcd()
    const fromFake = await leaseGoneView(fake.endpoint, async (id) => void (await fake.engine.revoke(id)))
    expect(fromFake).toEqual(fromEtcd)
    expect(fromFake.keepaliveOnce).toEqual({ name: 'EtcdLeaseInvalidError', message: 'Lease ID is expired or revoked' })
    expect(fromFake.lost).toEqual({ name: 'EtcdLeaseInvalidError', message: 'Lease ID is expired or revoked' })
    if (fromFake.etcdctl !== undefined) {
      expect(fromFake.etcdctl).toEqual({ keepAlive: [0, 'lease ID expired or revoked.\n'], timeToLive: [0, 'lease ID already expired\n'] })
    }
  })

  test('a lease expired on the fake clock looks like a revoked one', async () => {
    await using fake = await fakeEtcd()
    const revoked = await leaseGoneView(fake.endpoint, async (id) => void (await fake.engine.revoke(id)))
    await fake.reset()
    // Expiry: the clock passes the lease's TTL (granted with 30 s and 3 s above); nothing is revoked by hand.
    const expired = await leaseGoneView(fake.endpoint, async () => fake.clock.advance(31_000))
    expect(expired).toEqual(revoked)
  })
})
