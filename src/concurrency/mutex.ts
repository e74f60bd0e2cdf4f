import { compare, op } from '../api/ops.ts'
import type { Compare, RangeResponse, ResponseHeader } from '../messages/kv.ts'
import { binToUtf8, fromBin, toBin, type Bin, type BytesLike } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import { leaseKey, type Session } from './session.ts'
import { waitDeletes } from './wait-deletes.ts'

/** LockOptions: how long a lock() may wait. */
export interface LockOptions {
  /** signal aborts the wait; the waiter's key is then removed and lock() rejects with the signal's reason. */
  signal?: AbortSignal
}

/**
 * Mutex is a distributed lock over a key prefix, as etcd's Go `concurrency.Mutex`, and the same keys on the wire: a
 * contender puts `<name>/<lease id in hex>` attached to its session's lease, and the key with the lowest create
 * revision holds the lock. Waiters queue in create-revision order (first come, first served), each watching only the
 * key directly ahead of it. A holder's lock ends with unlock(), with its session's close(), or when its session's
 * lease expires (a crashed holder). So an etcdlite mutex, `etcdctl lock <name>` and a Go client's mutex on the same
 * name exclude each other.
 *
 * One Mutex object is one contender; contenders sharing a session share its key, so the lock is re-entrant per
 * session, as in etcd.
 *
 * @example
 * const mutex = new Mutex(session, 'locks/config')
 * await mutex.lock()
 * try { ... } finally { await mutex.unlock() }
 */
export class Mutex {
  readonly #session: Session
  /** #prefix is the name with a trailing '/' (as the engine holds bytes): every contender's key is under it. */
  readonly #prefix: Bin
  #key: Bin = ''
  #rev = -1
  #header: ResponseHeader | undefined

  /** @param name the lock's name; contenders' keys are `${name}/<lease id in hex>`. */
  constructor(session: Session, name: BytesLike) {
    this.#session = session
    this.#prefix = `${toBin(name, 'mutex name')}/`
  }

  /** key is this contender's key while it holds or waits for the lock ('' before, "\0" after unlock, as in Go). */
  get key(): string {
    return binToUtf8(this.#key)
  }

  /** keyBytes is `key` as bytes, exactly as stored (for names that are not UTF-8). */
  get keyBytes(): Buffer {
    return fromBin(this.#key)
  }

  /** header is the response header of the request that acquired the lock. */
  get header(): ResponseHeader | undefined {
    return this.#header
  }

  /**
   * lock acquires the lock, waiting behind every contender that came first.
   * @throws ETCD_SESSION_EXPIRED when the session's lease ended while waiting; the signal's reason when aborted
   *   (the waiter's key is removed first).
   */
  async lock(options: LockOptions = {}): Promise<void> {
    const { signal } = options
    signal?.throwIfAborted()
    const attempt = await this.#tryAcquire()
    if (this.#owns(attempt.owner)) {
      this.#header = attempt.header
      return
    }
    const client = this.#session.client
    let header: ResponseHeader
    try {
      header = await waitDeletes(client, fromBin(this.#prefix), this.#rev - 1, signal)
    } catch (err) {
      await this.#release().catch(() => undefined)
      throw err
    }
    // The queue ahead is gone; the key must still be there (its lease may have expired while waiting). etcd 3.4's
    // mutex did not look, and answered a lock whose key was gone; 3.5 does, as here.
    const mine = await client.get(fromBin(this.#key))
    if (mine.kvs.length === 0) throw new EtcdError('ETCD_SESSION_EXPIRED')
    // The header is that of the read that found the queue empty, as etcd 3.4's lock service answers it.
    this.#header = header
  }

  /**
   * tryLock acquires the lock if no other session holds it or waits for it ahead of this one, without waiting:
   * true when acquired; false when another session holds it (this contender's key is removed again).
   */
  async tryLock(): Promise<boolean> {
    const attempt = await this.#tryAcquire()
    if (this.#owns(attempt.owner)) {
      this.#header = attempt.header
      return true
    }
    await this.#release()
    return false
  }

  /**
   * unlock releases the lock (deletes this contender's key).
   * @throws ETCD_LOCK_RELEASED when this contender does not hold or wait for it.
   */
  async unlock(): Promise<void> {
    if (this.#key === '' || this.#key === '\0' || this.#rev <= 0) throw new EtcdError('ETCD_LOCK_RELEASED')
    await this.#release()
  }

  /** isOwner is a txn compare that holds only while this contender holds the lock: guard writes with it. */
  isOwner(): Compare {
    return compare.createRevision(fromBin(this.#key), '=', this.#rev)
  }

  /**
   * #tryAcquire puts this contender's key unless the session already has one (then it keeps the existing key and its
   * place in the queue), and reads the current holder, in one txn.
   */
  async #tryAcquire(): Promise<{ header: ResponseHeader; owner: RangeResponse }> {
    const session = this.#session
    this.#key = leaseKey(this.#prefix, session.lease)
    const key = fromBin(this.#key)
    const owner = op.get(fromBin(this.#prefix), { prefix: true, sortTarget: 'CREATE', sortOrder: 'ASCEND', limit: 1 })
    const result = await session.client
      .txn()
      .if(compare.createRevision(key, '=', 0))
      .then(op.put(key, '', { lease: session.lease }), owner)
      .else(op.get(key), owner)
      .commit()
    this.#rev = result.header.revision
    if (!result.succeeded) this.#rev = rangeOf(result.responses[0]).kvs[0]!.createRevision
    return { header: result.header, owner: rangeOf(result.responses[1]) }
  }

  #owns(owner: RangeResponse): boolean {
    const first = owner.kvs[0]
    return first === undefined || first.createRevision === this.#rev
  }

  async #release(): Promise<void> {
    await this.#session.client.delete(fromBin(this.#key))
    this.#key = '\0'
    this.#rev = -1
  }
}

/** rangeOf is the range answer of a txn op known to be a get. */
export function rangeOf(response: unknown): RangeResponse {
  const get = (response as { get?: RangeResponse } | undefined)?.get
  if (get === undefined) throw new Error('concurrency: expected a range answer in the txn response')
  return get
}
