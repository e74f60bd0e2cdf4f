import type { Bin } from '../util/bytes.ts'
import type { Clock, Timer } from '../util/clock.ts'
import { EtcdError } from '../util/errors.ts'
import { TimerWheel, type ExpiryQueue } from './timer-wheel.ts'

/**
 * KeyDeleter is what the lessor needs from the store: delete these keys in one write txn (one revision, the deletes
 * in the given order), producing delete events. The engine hands the store in through it, so the lease layer never
 * imports the store.
 */
export interface KeyDeleter {
  deleteKeys(keys: readonly Bin[]): void
}

/** Lease is one granted lease: its id, granted TTL, expiry time and attached keys. */
export interface LeaseEntry {
  readonly id: bigint
  /** ttl is the granted TTL in seconds (after raising to the minimum). */
  readonly ttl: number
  /** expiry is when it expires, in clock milliseconds. */
  expiry: number
  readonly keys: Set<Bin>
}

/** LeasePersistence hears grants and revocations, so a backend can keep leases across restarts. */
export interface LeasePersistence {
  granted(lease: LeaseEntry): void
  revoked(id: bigint): void
}

export interface LessorOptions {
  /** persistence, when given, hears every grant and revocation. */
  persistence?: LeasePersistence
  /** minTtl in seconds: shorter TTLs are raised to it, as etcd does. @default 2 */
  minTtl?: number
  /** revokeBatch caps the leases revoked per step before yielding to the event loop. @default 1000 */
  revokeBatch?: number
  /** firstId seeds the ids the lessor chooses. */
  firstId?: bigint
}

/** MAX_LEASE_TTL is etcd's largest lease TTL, in seconds. */
export const MAX_LEASE_TTL = 9_000_000_000

/**
 * Lessor grants, renews and revokes leases and deletes the keys of those that expire, as etcd's lessor does:
 *
 * - A lease lives until its expiry time unless renewed (keepalive: a full TTL again from now) or revoked.
 * - Revoking (or expiring) deletes every attached key in one write txn, keys in byte order, then forgets the lease.
 * - Expiry is driven by a timer wheel and one clock timer armed for the next due tick; expired leases are revoked
 *   in batches of `revokeBatch`, yielding to the event loop between batches, so a mass expiry never blocks it long.
 */
export class Lessor {
  readonly #clock: Clock
  readonly #deleter: KeyDeleter
  readonly #leases = new Map<bigint, LeaseEntry>()
  readonly #expiries: ExpiryQueue<bigint>
  readonly #minTtl: number
  readonly #revokeBatch: number
  readonly #persistence: LeasePersistence | undefined
  #nextId: bigint
  #timer: Timer | undefined
  #timerAt = Infinity
  #expiring: Promise<void> | undefined
  #closed = false
  /** granted, revoked and expired count leases over the lessor's life, for metrics. */
  readonly counts = { granted: 0, revoked: 0, expired: 0, renewed: 0 }

  constructor(clock: Clock, deleter: KeyDeleter, options: LessorOptions = {}) {
    this.#clock = clock
    this.#deleter = deleter
    this.#minTtl = options.minTtl ?? 2
    if (!Number.isInteger(this.#minTtl) || this.#minTtl < 1) throw new RangeError('minTtl must be an integer >= 1')
    this.#revokeBatch = options.revokeBatch ?? 1000
    this.#nextId = options.firstId ?? 1n
    this.#persistence = options.persistence
    this.#expiries = new TimerWheel<bigint>(clock.now())
  }

  get size(): number {
    return this.#leases.size
  }

  /** has tells whether a lease is granted (the KV layer's LeaseRegistry). */
  has(id: bigint): boolean {
    return this.#leases.has(id)
  }

  get(id: bigint): LeaseEntry | undefined {
    return this.#leases.get(id)
  }

  /** ids lists the granted leases. */
  ids(): bigint[] {
    return [...this.#leases.keys()]
  }

  /**
   * grant creates a lease. `id` 0n lets the lessor choose a positive id.
   * @throws EtcdError ETCD_LEASE_TTL_TOO_LARGE above 9e9 s, ETCD_LEASE_EXISTS for an id in use.
   */
  grant(id: bigint, ttl: number): LeaseEntry {
    if (ttl > MAX_LEASE_TTL) throw new EtcdError('ETCD_LEASE_TTL_TOO_LARGE')
    if (id === 0n) id = this.#chooseId()
    else if (this.#leases.has(id)) throw new EtcdError('ETCD_LEASE_EXISTS')
    const lease = this.#add(id, Math.max(ttl, this.#minTtl))
    this.counts.granted++
    this.#persistence?.granted(lease)
    return lease
  }

  /**
   * restore brings back a lease read from disk. As etcd does after a restart, it gets its full TTL again from now
   * (the time it had left is not kept).
   */
  restore(id: bigint, ttl: number): LeaseEntry {
    return this.#add(id, ttl)
  }

  /**
   * replaceAll forgets every lease (their timers with them; nothing is revoked, no key deleted) and brings back
   * `leases` as restore() does: a restore from a snapshot. Call it when no expiry is in progress (settled()).
   */
  replaceAll(leases: readonly { readonly id: bigint; readonly ttl: number }[]): void {
    for (const id of this.#leases.keys()) this.#expiries.cancel(id)
    this.#leases.clear()
    for (const lease of leases) this.#add(lease.id, lease.ttl)
  }

  #add(id: bigint, ttl: number): LeaseEntry {
    const lease: LeaseEntry = { id, ttl, expiry: this.#clock.now() + ttl * 1000, keys: new Set() }
    this.#leases.set(id, lease)
    this.#schedule(lease)
    return lease
  }

  /**
   * renew gives a lease its full TTL again from now and returns that TTL, or 0 when the lease does not exist (or
   * has expired and waits for revocation), as etcd's keepalive answers.
   */
  renew(id: bigint): number {
    const lease = this.#leases.get(id)
    if (lease === undefined || lease.expiry <= this.#clock.now()) return 0
    lease.expiry = this.#clock.now() + lease.ttl * 1000
    this.#schedule(lease)
    this.counts.renewed++
    return lease.ttl
  }

  /**
   * revoke deletes the lease's keys in one write txn and forgets the lease.
   * @throws EtcdError ETCD_LEASE_NOT_FOUND for an unknown id.
   */
  revoke(id: bigint): void {
    const lease = this.#leases.get(id)
    if (lease === undefined) throw new EtcdError('ETCD_LEASE_NOT_FOUND')
    const keys = [...lease.keys].sort()
    if (keys.length > 0) this.#deleter.deleteKeys(keys)
    this.#leases.delete(id)
    this.#expiries.cancel(id)
    this.counts.revoked++
    this.#persistence?.revoked(id)
  }

  /** remaining is the lease's time to live in whole seconds, rounded down, never below 0. */
  remaining(lease: LeaseEntry): number {
    return Math.max(0, Math.floor((lease.expiry - this.#clock.now()) / 1000))
  }

  /** attach records that `key` now belongs to lease `id` (called for each committed put with a lease). */
  attach(id: bigint, key: Bin): void {
    this.#leases.get(id)?.keys.add(key)
  }

  /** detach records that `key` left lease `id` (a put with another lease or none, or a delete). */
  detach(id: bigint, key: Bin): void {
    this.#leases.get(id)?.keys.delete(key)
  }

  /** settled resolves when no expiry work is in progress (for tests and close()). */
  async settled(): Promise<void> {
    while (this.#expiring !== undefined) await this.#expiring
  }

  /** close stops the expiry timer; leases stay as they are. */
  close(): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timer = undefined
  }

  #chooseId(): bigint {
    for (;;) {
      const id = this.#nextId
      this.#nextId = id >= 0x7fff_ffff_ffff_ffffn ? 1n : id + 1n
      if (id > 0n && !this.#leases.has(id)) return id
    }
  }

  #schedule(lease: LeaseEntry): void {
    this.#expiries.schedule(lease.id, lease.expiry)
    this.#arm()
  }

  /** #arm sets the clock timer for the wheel's next due tick, unless one is set for that time or earlier. */
  #arm(): void {
    if (this.#closed || this.#expiring !== undefined) return
    const at = this.#expiries.wakeAt()
    if (at === undefined || at >= this.#timerAt) return
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timerAt = at
    this.#timer = this.#clock.setTimer(() => this.#onTimer(), at - this.#clock.now())
  }

  #onTimer(): Promise<void> {
    this.#timer = undefined
    this.#timerAt = Infinity
    this.#expiring = this.#expire().finally(() => {
      this.#expiring = undefined
      this.#arm()
    })
    return this.#expiring
  }

  /** #expire revokes every lease past its expiry, a batch at a time, yielding between batches. */
  async #expire(): Promise<void> {
    for (;;) {
      if (this.#closed) return
      const due = this.#expiries.takeExpired(this.#clock.now(), this.#revokeBatch)
      for (const id of due) {
        const lease = this.#leases.get(id)
        // A lease renewed after its deadline was taken is rescheduled, not revoked.
        if (lease === undefined) continue
        if (lease.expiry > this.#clock.now()) {
          this.#expiries.schedule(id, lease.expiry)
          continue
        }
        this.counts.expired++
        this.revoke(id)
      }
      if (due.length < this.#revokeBatch) return
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}
