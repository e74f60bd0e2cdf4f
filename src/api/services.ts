import type { Auth } from '../messages/auth.ts'
import type { KV } from '../messages/kv.ts'
import type { Lease } from '../messages/lease.ts'
import type { Cluster, Maintenance } from '../messages/maintenance.ts'
import type { Watch } from '../messages/watch.ts'

/**
 * Services is etcd's v3 API at the services level: one object per gRPC service, one method per RPC, taking and
 * answering the proto's messages as plain objects (see src/messages). The in-process engine implements it; the
 * client-level API is written once over it. Every call takes the caller's credentials last (a token, or a client
 * certificate's name), as etcd's calls carry them in metadata; they matter once auth is enabled.
 */
export interface Services {
  readonly kv: KV
  readonly lease: Lease
  readonly watch: Watch
  readonly maintenance: Maintenance
  readonly cluster: Cluster
  readonly auth: Auth
}
