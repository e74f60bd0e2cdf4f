import type { BytesLike } from '../util/bytes.ts'
import { systemClock, type Clock } from '../util/clock.ts'
import type {
  CompactionResponse,
  DeleteRangeResponse,
  LeaseIdLike,
  PutResponse,
  RangeResponse,
} from '../messages/kv.ts'
import type {
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from '../messages/lease.ts'
import { keepAliveLoop, keepAliveOnce } from './lease-client.ts'
import { watchLoop, type Watching, type WatchOptions } from './watch-client.ts'
import { watchListen, type WatchListener, type WatchSubscription } from './watch-listener.ts'
import { deleteRequest, opResponse, rangeRequest, type Op, type OpResponse } from './ops.ts'
import type { DeleteOptions, GetOptions, PutOptions } from './options.ts'
import type { Services } from './services.ts'
import { TxnBuilder } from './txn-builder.ts'
import { AuthClient } from './auth-client.ts'
import { signedIn, type Login } from './login.ts'

/**
 * Client is the client-level API of etcd's Go client (KV: Put, Get, Delete, Compact, Do, Txn; Lease: Grant, Revoke,
 * TimeToLive, Leases, KeepAlive, KeepAliveOnce; Watch), written once over the services level, so it behaves the same over
 * the in-process engine and over any other Services.
 */
export class Client {
  /**
   * services is the services level underneath: etcd's gRPC API as plain objects. Its calls take the caller's
   * credentials as a last argument; this client's own calls carry its login's token.
   */
  readonly services: Services
  readonly #calls: Services
  readonly #clock: Clock
  #auth: AuthClient | undefined

  /**
   * @param clock times keepAlive renewals. @default the system clock
   * @param login signs every call in as this user (needed once auth is enabled). @default anonymous calls
   */
  constructor(services: Services, clock: Clock = systemClock, login?: Login) {
    this.services = services
    this.#calls = login === undefined ? services : signedIn(services, login)
    this.#clock = clock
  }

  /** auth manages users, roles and permissions, and turns authentication on and off (etcd's Auth API). */
  get auth(): AuthClient {
    return (this.#auth ??= new AuthClient(this.#calls.auth))
  }

  /**
   * put writes `value` under `key`.
   * @example await etcd.put('config/port', '8080', { prevKv: true })
   */
  put(key: BytesLike, value: BytesLike, options: PutOptions = {}): Promise<PutResponse> {
    return this.#calls.kv.put({ key, value, ...options })
  }

  /**
   * get reads a key, or a range with `prefix`, `fromKey` or `rangeEnd`. Cost: O(log keys + keys in range).
   * @example const { kvs } = await etcd.get('config/', { prefix: true })
   */
  get(key: BytesLike, options: GetOptions = {}): Promise<RangeResponse> {
    return this.#calls.kv.range(rangeRequest(key, options))
  }

  /**
   * delete removes a key, or a range with `prefix`, `fromKey` or `rangeEnd`.
   * @example const { deleted } = await etcd.delete('config/', { prefix: true })
   */
  delete(key: BytesLike, options: DeleteOptions = {}): Promise<DeleteRangeResponse> {
    return this.#calls.kv.deleteRange(deleteRequest(key, options))
  }

  /**
   * compact discards the history before `revision`; reads below it fail with ETCD_COMPACTED afterwards. With
   * `physical` the call returns once the history is gone.
   */
  compact(revision: number, options: { physical?: boolean } = {}): Promise<CompactionResponse> {
    return this.#calls.kv.compact({ revision, physical: options.physical ?? false })
  }

  /** do runs one op built with `op.get / put / delete / txn`. */
  async do(operation: Op): Promise<OpResponse> {
    const kv = this.#calls.kv
    if ('requestRange' in operation) return { get: await kv.range(operation.requestRange) }
    if ('requestPut' in operation) return { put: await kv.put(operation.requestPut) }
    if ('requestDeleteRange' in operation) return { delete: await kv.deleteRange(operation.requestDeleteRange) }
    if ('requestTxn' in operation) {
      const r = await kv.txn(operation.requestTxn)
      return opResponse({ responseTxn: r })
    }
    throw new TypeError('do: not an op; build one with op.get, op.put, op.delete or op.txn')
  }

  /** txn starts a transaction: `.if(...).then(...).else(...).commit()`. */
  txn(): TxnBuilder {
    return new TxnBuilder(this.#calls.kv)
  }

  /**
   * grant creates a lease of `ttl` seconds (raised to the minimum TTL, 2 s by default, as etcd does).
   * @example const { id } = await etcd.grant(10); await etcd.put('k', 'v', { lease: id })
   */
  grant(ttl: number, options: { id?: LeaseIdLike } = {}): Promise<LeaseGrantResponse> {
    return this.#calls.lease.leaseGrant({ ttl, id: options.id ?? 0n })
  }

  /** revoke ends a lease now and deletes its keys in one revision. */
  revoke(id: LeaseIdLike): Promise<LeaseRevokeResponse> {
    return this.#calls.lease.leaseRevoke({ id })
  }

  /** timeToLive reports a lease's remaining and granted TTL (ttl -1: no such lease), with `keys` its keys. */
  timeToLive(id: LeaseIdLike, options: { keys?: boolean } = {}): Promise<LeaseTimeToLiveResponse> {
    return this.#calls.lease.leaseTimeToLive({ id, keys: options.keys ?? false })
  }

  /** leases lists the granted leases. */
  leases(): Promise<LeaseLeasesResponse> {
    return this.#calls.lease.leaseLeases({})
  }

  /**
   * keepAlive renews a lease at a third of its TTL for as long as you iterate; the iteration ends when the lease is
   * gone. `break` stops the renewals.
   * @example for await (const ka of etcd.keepAlive(id)) console.log('ttl', ka.ttl)
   */
  keepAlive(id: LeaseIdLike): AsyncIterableIterator<LeaseKeepAliveResponse> {
    return keepAliveLoop(this.#calls.lease, id, this.#clock)
  }

  /**
   * watch streams the changes of a key or a range, from the next revision or from `startRevision`, in revision
   * order, each revision's events in one result. `break` or `cancel()` stops it.
   * @example for await (const { events } of etcd.watch('config/', { prefix: true })) console.log(events)
   */
  watch(key: BytesLike, options?: WatchOptions): Watching
  /**
   * watch with a listener calls it with each result instead of being iterated (see WatchListener): the fastest way
   * to follow changes in process, with no promise per result.
   * @example const sub = etcd.watch('config/', { prefix: true }, ({ events }) => reload(events)); await sub.cancel()
   */
  watch(key: BytesLike, options: WatchOptions, listener: WatchListener): WatchSubscription
  watch(key: BytesLike, listener: WatchListener): WatchSubscription
  watch(key: BytesLike, options: WatchOptions | WatchListener = {}, listener?: WatchListener): Watching | WatchSubscription {
    if (typeof options === 'function') return watchListen(this.#calls.watch, key, {}, options)
    if (listener !== undefined) return watchListen(this.#calls.watch, key, options, listener)
    return watchLoop(this.#calls.watch, key, options)
  }

  /** keepAliveOnce renews a lease once; ETCD_LEASE_NOT_FOUND when it does not exist. */
  keepAliveOnce(id: LeaseIdLike): Promise<LeaseKeepAliveResponse> {
    return keepAliveOnce(this.#calls.lease, id)
  }
}
