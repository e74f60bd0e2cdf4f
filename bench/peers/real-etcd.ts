import { Etcd3 } from 'etcd3'
import { etcdBinary, startEtcd } from '../../test/support/real-etcd.ts'

/**
 * Real etcd 3.4 for the benchmarks: the test launcher's `startEtcd()` (a fresh single member on free loopback ports,
 * a temporary data directory, fsync on every commit as etcd always does) and the etcd3 npm client over gRPC.
 * Where no etcd 3.4 is installed `startRealEtcd()` resolves to undefined and the real etcd rows are left out.
 */
export interface RealEtcdPeer {
  readonly client: Etcd3
  readonly endpoint: string
  stop(): Promise<void>
}

/** realEtcdInstalled says whether real etcd rows can appear in this run. */
export const realEtcdInstalled = etcdBinary() !== undefined

/** startRealEtcd starts a fresh etcd and connects a client to it, or resolves to undefined when none is installed. */
export async function startRealEtcd(): Promise<RealEtcdPeer | undefined> {
  if (!realEtcdInstalled) return undefined
  const etcd = await startEtcd()
  const client = new Etcd3({ hosts: `http://${etcd.endpoint}` })
  await client.put('bench/ready').value('1')
  return {
    client,
    endpoint: etcd.endpoint,
    async stop() {
      client.close()
      await etcd.stop()
    },
  }
}
