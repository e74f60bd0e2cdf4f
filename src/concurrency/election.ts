import { compare, op } from '../api/ops.ts'
import type { BytesLike } from '../util/bytes.ts'
import type { KeyValue, RangeResponse, ResponseHeader } from '../messages/kv.ts'
import type { Watching } from '../api/watch-client.ts'
import { binToUtf8, fromBin, toBin, type Bin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import { rangeOf } from './mutex.ts'
import { leaseKey, type Session } from './session.ts'
import { waitDeletes } from './wait-deletes.ts'

/** CampaignOptions: how long a campaign may wait. */
export interface CampaignOptions {
  /** signal aborts the wait; the candidacy is then withdrawn and campaign() rejects with the signal's reason. */
  signal?: AbortSignal
}

/** ObserveOptions: when observing stops, beside `break`. */
export interface ObserveOptions {
  /** signal ends the iteration. */
  signal?: AbortSignal
}

/** Leadership is one observed state of an election: the leader's key and value, and the revision it was seen at. */
export interface Leadership {
  header: ResponseHeader
  /** kv is the leader's key (`<name>/<lease id in hex>`) with the value it proclaims. */
  kv: KeyValue
}

/**
 * Election is leader election over a key prefix, as etcd's Go `concurrency.Election`, with the same keys on the wire:
 * a candidate puts `<name>/<lease id in hex>` (its value the proposal) attached to its session's lease, and the key
 * with the lowest create revision is the leader. Candidates queue in create-revision order; the leader changes its
 * value with proclaim(), gives up with resign(), and loses leadership when its session's lease ends. So an etcdlite
 * election, `etcdctl elect <name>` and a Go client's election on the same name agree on who leads.
 *
 * @example
 * const election = new Election(session, 'services/scheduler')
 * await election.campaign('node-1')        // resolves once this candidate leads
 * for await (const { kv } of election.observe()) console.log('leader says', kv.value.toString())
 */
export class Election {
  readonly #session: Session
  /** #prefix is the name with a trailing '/' (as the engine holds bytes): every candidate's key is under it. */
  readonly #prefix: Bin
  #leaderKey: Bin = ''
  #leaderRev = 0
  #leading = false
  #header: ResponseHeader | undefined

  /** @param name the election's name; candidates' keys are `${name}/<lease id in hex>`. */
  constructor(session: Session, name: BytesLike) {
    this.#session = session
    this.#prefix = `${toBin(name, 'election name')}/`
  }

  /**
   * resume takes up a leadership won elsewhere (another process, or an earlier call), as etcd's ResumeElection:
   * proclaim() and resign() then act on the leader key `key` created at revision `rev`.
   */
  static resume(session: Session, name: BytesLike, key: BytesLike, rev: number): Election {
    const election = new Election(session, name)
    election.#leaderKey = toBin(key)
    election.#leaderRev = rev
    election.#leading = true
    return election
  }

  /** key is this candidate's key while it campaigns or leads ('' otherwise). */
  get key(): string {
    return binToUtf8(this.#leaderKey)
  }

  /** keyBytes is `key` as bytes, exactly as stored (for names that are not UTF-8). */
  get keyBytes(): Buffer {
    return fromBin(this.#leaderKey)
  }

  /** rev is the create revision of this candidate's key while it campaigns or leads. */
  get rev(): number {
    return this.#leaderRev
  }

  /** header is the response header of the last campaign, proclaim or resign. */
  get header(): ResponseHeader | undefined {
    return this.#header
  }

  /**
   * campaign enters the election with `value` and resolves once this candidate leads. A session that already has a
   * candidacy in this election keeps its place and proclaims the new value.
   * @throws the signal's reason when aborted (the candidacy is withdrawn first).
   */
  async campaign(value: BytesLike, options: CampaignOptions = {}): Promise<void> {
    const { signal } = options
    signal?.throwIfAborted()
    const session = this.#session
    const client = session.client
    const key = fromBin(leaseKey(this.#prefix, session.lease))
    const result = await client
      .txn()
      .if(compare.createRevision(key, '=', 0))
      .then(op.put(key, value, { lease: session.lease }))
      .else(op.get(key))
      .commit()
    this.#leaderKey = toBin(key)
    this.#leaderRev = result.header.revision
    this.#leading = true
    if (!result.succeeded) {
      const mine = rangeOf(result.responses[0]).kvs[0]!
      this.#leaderRev = mine.createRevision
      if (!sameBytes(mine.value, value)) {
        try {
          await this.proclaim(value)
        } catch (err) {
          await this.resign().catch(() => undefined)
          throw err
        }
      }
    }
    try {
      await waitDeletes(client, fromBin(this.#prefix), this.#leaderRev - 1, signal)
    } catch (err) {
      if (signal?.aborted === true) await this.resign().catch(() => undefined)
      else this.#leading = false
      throw err
    }
    this.#header = result.header
  }

  /**
   * proclaim changes the leader's value without an election.
   * @throws ETCD_ELECTION_NOT_LEADER when this candidate does not lead (never did, resigned, or lost its key).
   */
  async proclaim(value: BytesLike): Promise<void> {
    if (!this.#leading) throw new EtcdError('ETCD_ELECTION_NOT_LEADER')
    const session = this.#session
    const result = await session.client
      .txn()
      .if(compare.createRevision(fromBin(this.#leaderKey), '=', this.#leaderRev))
      .then(op.put(fromBin(this.#leaderKey), value, { lease: session.lease }))
      .commit()
    if (!result.succeeded) {
      this.#leaderKey = ''
      this.#leading = false
      throw new EtcdError('ETCD_ELECTION_NOT_LEADER')
    }
    this.#header = result.header
  }

  /** resign gives up leadership (or a candidacy) so the next candidate can lead; nothing when not campaigning. */
  async resign(): Promise<void> {
    if (!this.#leading) return
    const key = fromBin(this.#leaderKey)
    const rev = this.#leaderRev
    this.#leaderKey = ''
    this.#leading = false
    const result = await this.#session.client.txn().if(compare.createRevision(key, '=', rev)).then(op.delete(key)).commit()
    this.#header = result.header
  }

  /**
   * leader reads the current leader: the candidate key with the lowest create revision.
   * @throws ETCD_ELECTION_NO_LEADER when nobody campaigns.
   */
  async leader(): Promise<Leadership> {
    const found = await this.#firstCandidate()
    const kv = found.kvs[0]
    if (kv === undefined) throw new EtcdError('ETCD_ELECTION_NO_LEADER')
    return { header: found.header, kv }
  }

  /**
   * observe yields the leader now (or, when there is none, the first one to come) and then every change: each value
   * the leader proclaims and each new leader, in revision order, until `break` or the signal. Over a real etcd or a
   * server a broken connection ends the iteration with the error.
   */
  async *observe(options: ObserveOptions = {}): AsyncGenerator<Leadership, void, undefined> {
    const { signal } = options
    const client = this.#session.client
    while (!isAborted(signal)) {
      const found = await this.#firstCandidate()
      let current: Leadership | undefined = found.kvs[0] && { header: found.header, kv: found.kvs[0] }
      if (current === undefined) {
        // Nobody leads: the first put under the prefix after this read is the next leader.
        current = await firstPut(client.watch(fromBin(this.#prefix), { prefix: true, startRevision: found.header.revision }), signal)
        if (current === undefined) return
      }
      yield current
      // Follow the leader's key: each put is a proclamation; its delete hands leadership on.
      if (isAborted(signal)) return
      const watching = client.watch(current.kv.key, { startRevision: current.header.revision + 1 })
      const stop = (): void => void watching.cancel()
      signal?.addEventListener('abort', stop, { once: true })
      try {
        let deleted = false
        for await (const result of watching) {
          if (result.compactRevision > 0) throw new EtcdError('ETCD_COMPACTED')
          for (const event of result.events) {
            if (event.type === 'delete') {
              deleted = true
              break
            }
            yield { header: result.header, kv: event.kv }
          }
          if (deleted) break
        }
        if (!deleted) return
      } finally {
        signal?.removeEventListener('abort', stop)
        await watching.cancel()
      }
    }
  }

  #firstCandidate(): Promise<RangeResponse> {
    return this.#session.client.get(fromBin(this.#prefix), { prefix: true, sortTarget: 'CREATE', sortOrder: 'ASCEND', limit: 1 })
  }
}

/**
 * firstPut reads a watch until its first put (the next leader when nobody led; the watch is then canceled), or until
 * the watch or the signal ends it (undefined). The header's revision is the put's: a response may carry several.
 */
async function firstPut(watching: Watching, signal: AbortSignal | undefined): Promise<Leadership | undefined> {
  if (isAborted(signal)) {
    await watching.cancel()
    return undefined
  }
  const stop = (): void => void watching.cancel()
  signal?.addEventListener('abort', stop, { once: true })
  try {
    for await (const result of watching) {
      if (result.compactRevision > 0) throw new EtcdError('ETCD_COMPACTED')
      const put = result.events.find((e) => e.type === 'put')
      if (put !== undefined) return { header: { ...result.header, revision: put.kv.modRevision }, kv: put.kv }
    }
    return undefined
  } finally {
    signal?.removeEventListener('abort', stop)
    await watching.cancel()
  }
}

/** isAborted reads the signal afresh each time (a plain property test would be narrowed away by TypeScript). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

function sameBytes(stored: Uint8Array, value: BytesLike): boolean {
  const given = typeof value === 'string' ? Buffer.from(value) : value
  return Buffer.compare(stored, given) === 0
}
