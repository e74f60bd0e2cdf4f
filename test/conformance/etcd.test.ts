import { afterAll } from 'vitest'
import { connect } from '../../src/remote/connect.ts'
import { EtcdPool, etcdBinary } from '../support/real-etcd.ts'
import type { Harness, Target } from './harness.ts'
import { registerAll } from './suite.ts'

/**
 * The oracle: the conformance suite against a real etcd 3.4 (Debian's etcd-server), a fresh one per test on free
 * loopback ports, driven through the remote backend, `connect()`. Every test not marked engineOnly must pass here; a
 * test that fails was wrong about etcd. Tests that need a ManualClock are skipped (real etcd keeps real time).
 */
const binary = etcdBinary()

if (binary === undefined) {
  console.log('conformance (etcd): skipped, no etcd 3.4 binary is installed (apt-get install etcd-server)')
} else {
  const pool = new EtcdPool(binary)
  afterAll(() => pool.drain())
  const etcd: Harness = {
    name: 'etcd 3.4',
    open: async (): Promise<Target> => {
      const server = await pool.take()
      const remote = await connect({ endpoints: [server.endpoint] })
      const closeRemote = remote.close.bind(remote)
      const others: { close(): Promise<void> }[] = []
      return Object.assign(remote, {
        close: async () => {
          for (const o of others) await o.close()
          await closeRemote()
          await server.stop()
        },
        signIn: async (user: string, password: string) => {
          const other = await connect({ endpoints: [server.endpoint], user, password })
          others.push(other)
          return other
        },
      })
    },
    supports: { engineOnly: false, manualClock: false },
  }
  registerAll(etcd)
}
