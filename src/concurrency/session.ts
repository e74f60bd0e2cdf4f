import type { Client } from '../api/client.ts'
import type { LeaseIdLike } from '../messages/kv.ts'
import { isEtcdError } from '../util/errors.ts'

/** SessionOptions: etcd's Go concurrency.NewSession options. */
export interface SessionOptions {
  /** ttl is the session lease's TTL in seconds, when the session grants its own lease. @default 60 */
  ttl?: number
  /** lease makes the session keep an existing lease alive instead of granting one (concurrency.WithLease). */
  lease?: LeaseIdLike
  /**
   * keepAlive false makes a session that never renews its lease, for a lease someone else keeps alive (etcd's lock
   * and election services act for a caller this way). @default true
   */
  keepAlive?: boolean
}

/** DEFAULT_SESSION_TTL is the TTL of a session's lease when none is given, in seconds, as in etcd's Go client. */
export const DEFAULT_SESSION_TTL = 60

/**
 * Session is a lease kept alive for as long as its owner lives, as etcd's Go `concurrency.Session`: mutexes and
 * elections attach their keys to it, so a process that dies (or stops renewing) frees what it held once the lease
 * expires. `close()` ends it at once by revoking the lease; `orphan()` stops the renewals and leaves the lease to
 * expire on its own.
 *
 * It works over any client: the in-process engine (`open()`), a server or a real etcd cluster (`connect()`).
 * Renewals follow the client's clock, so with a `ManualClock` a session whose renewals stop expires when the test
 * moves time.
 *
 * @example
 * await using session = await Session.open(etcd, { ttl: 10 })
 * const mutex = new Mutex(session, 'locks/config')
 */
export class Session {
  /** client is the client the session's lease and every recipe built on it talk through. */
  readonly client: Client
  /** lease is the id of the session's lease; the keys of its mutexes and elections are attached to it. */
  readonly lease: bigint
  /** ttl is the lease's TTL in seconds as asked for (etcd may raise it to its minimum). */
  readonly ttl: number
  /** done settles when the renewals stop: the lease expired or was revoked, the session was closed or orphaned. */
  readonly done: Promise<void>
  readonly #renewals: AsyncIterableIterator<unknown> | undefined

  private constructor(client: Client, lease: bigint, ttl: number, keepAlive: boolean) {
    this.client = client
    this.lease = lease
    this.ttl = ttl
    if (!keepAlive) {
      this.done = Promise.resolve()
      return
    }
    const renewals = client.keepAlive(lease)
    this.#renewals = renewals
    this.done = (async () => {
      try {
        for await (const _ of renewals) {
          // Each answer is a renewal; nothing to do but keep reading until the lease is gone.
        }
      } catch {
        // A failed keepalive stream ends the session, as the Go client's closed channel does.
      }
    })()
  }

  /**
   * open grants a lease (or adopts `options.lease`) and starts keeping it alive.
   * @throws EtcdError from the grant, e.g. ETCD_LEASE_TTL_TOO_LARGE; TypeError for a TTL that is not a positive
   *   whole number of seconds.
   */
  static async open(client: Client, options: SessionOptions = {}): Promise<Session> {
    const ttl = options.ttl ?? DEFAULT_SESSION_TTL
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new TypeError(`session ttl must be a positive whole number of seconds, got ${String(ttl)}`)
    const lease = options.lease !== undefined ? BigInt(options.lease) : (await client.grant(ttl)).id
    return new Session(client, lease, ttl, options.keepAlive ?? true)
  }

  /** orphan stops renewing the lease without revoking it: it expires after its TTL, and with it what it holds. */
  async orphan(): Promise<void> {
    await this.#renewals?.return?.()
    await this.done
  }

  /**
   * close stops the renewals and revokes the lease, which deletes every key attached to it (mutexes unlocked,
   * candidacies resigned) in one revision. A lease already gone is not an error.
   */
  async close(): Promise<void> {
    await this.orphan()
    try {
      await this.client.revoke(this.lease)
    } catch (err) {
      if (!isEtcdError(err, 'ETCD_LEASE_NOT_FOUND')) throw err
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** leaseKey is the key a session's lease owns under `prefix`: the prefix and the lease id in hex, as Go's "%s%x". */
export function leaseKey(prefix: string, lease: bigint): string {
  return prefix + lease.toString(16)
}
