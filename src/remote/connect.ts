import { credentials, type ChannelCredentials } from '@grpc/grpc-js'
import { Client } from '../api/client.ts'
import type { Services } from '../api/services.ts'
import type { Auth, CallCredentials } from '../messages/auth.ts'
import type { Login } from '../api/login.ts'
import { systemClock, type Clock } from '../util/clock.ts'
import { EtcdError } from '../util/errors.ts'
import type { KV } from '../messages/kv.ts'
import type { Lease } from '../messages/lease.ts'
import type { Cluster, Maintenance } from '../messages/maintenance.ts'
import type { Watch } from '../messages/watch.ts'
import { asEtcdError, Endpoints, isUnreachable } from './endpoints.ts'
import { ResilientKeepAlive, ResilientWatch } from './resilient-streams.ts'

/** ConnectOptions say where a real etcd cluster (or etcdlite served) is, and how patient to be with it. */
export interface ConnectOptions {
  /** endpoints of the cluster's members: `host:port`, or `http://host:port` / `https://host:port`. */
  endpoints: string[]
  /** tls: PEM certificates, for endpoints served over TLS (client certificate and key for client-cert auth). */
  tls?: { ca?: string | Uint8Array; cert?: string | Uint8Array; key?: string | Uint8Array }
  /** requestTimeoutMs bounds each request; past it the request fails with ETCD_TIMEOUT. @default 5000 */
  requestTimeoutMs?: number
  /** retries: extra rounds over the endpoints for requests that are safe to repeat (reads). @default 1 */
  retries?: number
  /**
   * clock times keepAlive() renewals: a test whose server runs on a ManualClock hands the same clock here.
   * @default the system clock
   */
  clock?: Clock
  /** user and password sign every call in, needed once the cluster has auth enabled (etcdctl's --user). */
  user?: string
  password?: string
}

/**
 * Remote is the same client-level API as an engine's, over a real etcd cluster. Close it with `close()` or
 * `await using`.
 */
export class Remote extends Client {
  readonly #endpoints: Endpoints

  /** Not for direct use: remote engines come from connect(). */
  constructor(services: Services, endpoints: Endpoints, clock: Clock, login?: Login) {
    super(services, clock, login)
    this.#endpoints = endpoints
  }

  /** close ends every connection and stream. */
  async close(): Promise<void> {
    this.#endpoints.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * connect talks to a real etcd cluster (or etcdlite served) through the same services and client-level API as
 * `open()`, so code written against the engine runs against the cluster by changing one line.
 *
 * - Failover: a request that cannot reach its endpoint moves to the next; reads (ranges, lease and member listings,
 *   status, hashes) are tried again there, up to `retries` extra rounds; writes are not repeated, since the first
 *   attempt may have been applied, and fail with ETCD_UNAVAILABLE or ETCD_TIMEOUT.
 * - Watches resume after a reconnect from the revision after the last event delivered: no gap, no duplicate.
 * - Keepalive streams survive a reconnect; a lease that expired meanwhile ends its keepAlive() iteration.
 * - Errors are the engine's EtcdErrors; connect() itself rejects when no endpoint answers.
 *
 * @example
 * await using etcd = await connect({ endpoints: ['127.0.0.1:2379'] })
 * await etcd.put('config/port', '8080')
 */
export async function connect(options: ConnectOptions): Promise<Remote> {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.endpoints)) {
    throw new TypeError('connect: endpoints must be a list of host:port')
  }
  const useTls = options.tls !== undefined || options.endpoints.some((e) => e.startsWith('https://'))
  const addresses = options.endpoints.map((e) => e.replace(/^https?:\/\//, '').replace(/\/$/, ''))
  const timeout = options.requestTimeoutMs ?? 5000
  const retries = options.retries ?? 1
  const endpoints = new Endpoints(addresses, {
    credentials: useTls ? tlsCredentials(options.tls) : credentials.createInsecure(),
    deadlineMs: timeout,
  })
  const call = <Req, Res>(pick: (s: Services) => (request: Req, credentials?: CallCredentials) => Promise<Res>, safe: boolean) => {
    return async (request: Req, credentials?: CallCredentials): Promise<Res> => {
      const rounds = safe ? endpoints.size * (1 + retries) : 1
      let last: unknown
      let lastOn = 0
      for (let attempt = 0; attempt < rounds; attempt++) {
        const i = endpoints.current
        lastOn = i
        try {
          const services = endpoints.services(i)
          const answer = await pick(services).call(services, request, credentials)
          endpoints.answered(i)
          return answer
        } catch (err) {
          if (!isUnreachable(err)) throw err
          last = err
          endpoints.failed(i)
        }
      }
      throw asEtcdError(last, endpoints.address(lastOn))
    }
  }
  const kv: KV = {
    range: call((s) => s.kv.range, true),
    put: call((s) => s.kv.put, false),
    deleteRange: call((s) => s.kv.deleteRange, false),
    txn: call((s) => s.kv.txn, false),
    compact: call((s) => s.kv.compact, false),
  }
  const lease: Lease = {
    leaseGrant: call((s) => s.lease.leaseGrant, false),
    leaseRevoke: call((s) => s.lease.leaseRevoke, false),
    leaseKeepAlive: (credentials) => new ResilientKeepAlive(endpoints, credentials),
    leaseTimeToLive: call((s) => s.lease.leaseTimeToLive, true),
    leaseLeases: call((s) => s.lease.leaseLeases, true),
  }
  const watch: Watch = { watch: (credentials) => new ResilientWatch(endpoints, credentials) }
  const maintenance: Maintenance = {
    status: call((s) => s.maintenance.status, true),
    alarm: call((s) => s.maintenance.alarm, true),
    defragment: call((s) => s.maintenance.defragment, false),
    hash: call((s) => s.maintenance.hash, true),
    hashKV: call((s) => s.maintenance.hashKV, true),
  }
  const cluster: Cluster = { memberList: call((s) => s.cluster.memberList, true) }
  const authCall = <K extends keyof Auth>(name: K, safe: boolean): Auth[K] =>
    call((s) => s.auth[name] as (request: unknown, credentials?: CallCredentials) => Promise<unknown>, safe) as unknown as Auth[K]
  const auth: Auth = {
    authEnable: authCall('authEnable', false),
    authDisable: authCall('authDisable', false),
    authStatus: authCall('authStatus', true),
    authenticate: authCall('authenticate', true),
    userAdd: authCall('userAdd', false),
    userGet: authCall('userGet', true),
    userList: authCall('userList', true),
    userDelete: authCall('userDelete', false),
    userChangePassword: authCall('userChangePassword', false),
    userGrantRole: authCall('userGrantRole', false),
    userRevokeRole: authCall('userRevokeRole', false),
    roleAdd: authCall('roleAdd', false),
    roleGet: authCall('roleGet', true),
    roleList: authCall('roleList', true),
    roleDelete: authCall('roleDelete', false),
    roleGrantPermission: authCall('roleGrantPermission', false),
    roleRevokePermission: authCall('roleRevokePermission', false),
  }
  const login = options.user === undefined ? undefined : { user: options.user, password: options.password ?? '' }
  const remote = new Remote({ kv, lease, watch, maintenance, cluster, auth }, endpoints, options.clock ?? systemClock, login)
  try {
    await maintenance.status({})
  } catch (err) {
    endpoints.close()
    if (err instanceof EtcdError && (err.code === 'ETCD_UNAVAILABLE' || err.code === 'ETCD_TIMEOUT')) {
      throw new EtcdError('ETCD_UNAVAILABLE', `etcdlite: no endpoint of ${addresses.join(', ')} answered`)
    }
    throw err
  }
  return remote
}

function tlsCredentials(tls: ConnectOptions['tls']): ChannelCredentials {
  const buf = (v: string | Uint8Array | undefined) => (v === undefined ? null : Buffer.from(v))
  return credentials.createSsl(buf(tls?.ca), buf(tls?.key), buf(tls?.cert))
}
