import { serve } from '../../src/server/serve.ts'
import { etcdBinary, startEtcd } from './real-etcd.ts'

/** ServedTarget is a server reached over the network: `etcdlite serve` or a real etcd 3.4. */
export interface ServedTarget {
  /** endpoint is host:port of its client URL. */
  readonly endpoint: string
  stop(): Promise<void>
}

/**
 * servedTargets lists what wire-level tests run against, by name: a fresh in-memory `serve({ port: 0 })`, and a
 * fresh real etcd 3.4 where one is installed. For `describe.each`.
 */
export function servedTargets(): [string, () => Promise<ServedTarget>][] {
  const targets: [string, () => Promise<ServedTarget>][] = [
    [
      'etcdlite serve',
      async () => {
        const s = await serve({ port: 0 })
        return { endpoint: s.endpoint, stop: () => s.close() }
      },
    ],
  ]
  const binary = etcdBinary()
  if (binary !== undefined) targets.push(['etcd 3.4', async () => startEtcd(binary)])
  return targets
}
