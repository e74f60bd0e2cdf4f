import type { Client } from '../api/client.ts'
import { compare, op, type Op, type TxnResult } from '../api/ops.ts'
import type { GetOptions } from '../api/options.ts'
import type { Compare, LeaseIdLike, RangeResponse } from '../messages/kv.ts'
import type { BytesLike } from '../util/bytes.ts'
import { rangeOf } from './mutex.ts'

/**
 * Isolation names the isolation levels of etcd's software transactional memory (Go's concurrency.NewSTM):
 * - `serializable-snapshot` (the default): every read sees the store as of the first read, and the commit fails if
 *   any key read or written changed since then, so transactions are serializable and write skew is impossible.
 * - `serializable`: reads as of the first read; the commit fails if a key read changed (keys only written are not
 *   checked).
 * - `repeatable-reads`: each key is read once, at the latest revision; the commit fails if a key read changed.
 * - `read-committed`: each key is read once at the latest revision; the commit never fails (no checks), so
 *   concurrent transactions may overwrite each other's updates.
 */
export const Isolation = {
  SerializableSnapshot: 'serializable-snapshot',
  Serializable: 'serializable',
  RepeatableReads: 'repeatable-reads',
  ReadCommitted: 'read-committed',
} as const

export type Isolation = (typeof Isolation)[keyof typeof Isolation]

const isolations: ReadonlySet<string> = new Set(Object.values(Isolation))

/** STM is what a transaction function reads and writes through; writes are buffered until the commit. */
export interface STM {
  /** get reads a key's value as text ('' when the key does not exist), or what this transaction wrote to it. */
  get(key: string): Promise<string>
  /** rev reads a key's mod revision (0 when the key does not exist). */
  rev(key: string): Promise<number>
  /** put writes a key at the commit. */
  put(key: string, value: BytesLike, options?: { lease?: LeaseIdLike }): void
  /** del deletes a key at the commit. */
  del(key: string): void
}

/** STMOptions: the isolation level, keys to read ahead, and when to give up retrying. */
export interface STMOptions {
  /** @default 'serializable-snapshot' */
  isolation?: Isolation
  /** prefetch reads these keys in one request before the function runs (Go's WithPrefetch). */
  prefetch?: string[]
  /** signal stops retrying: the transaction rejects with its reason before the next attempt. */
  signal?: AbortSignal
}

/**
 * stm runs `apply` as a transaction: its reads are recorded, its writes buffered, and at the end they are committed in
 * one txn guarded by compares chosen by the isolation level. When a compare fails (another client changed what
 * `apply` read), `apply` runs again from scratch, until a commit succeeds; an error thrown by `apply` aborts with
 * nothing written. Resolves with the committing txn's answer. The same algorithm as etcd's Go client, so
 * transactions from either interleave correctly.
 *
 * @example
 * await stm(etcd, async (tx) => {
 *   const from = Number(await tx.get('accounts/a'))
 *   const to = Number(await tx.get('accounts/b'))
 *   tx.put('accounts/a', String(from - 10))
 *   tx.put('accounts/b', String(to + 10))
 * })
 */
export async function stm(client: Client, apply: (tx: STM) => Promise<void> | void, options: STMOptions = {}): Promise<TxnResult> {
  const isolation = options.isolation ?? Isolation.SerializableSnapshot
  if (!isolations.has(isolation)) throw new TypeError(`unknown STM isolation ${String(isolation)}; one of ${[...isolations].join(', ')}`)
  if (typeof apply !== 'function') throw new TypeError('stm: apply must be a function')
  const tx = new Transaction(client, isolation)
  let first = true
  for (;;) {
    options.signal?.throwIfAborted()
    tx.reset()
    if (first && options.prefetch !== undefined && options.prefetch.length > 0) await tx.prefetch(options.prefetch)
    first = false
    await apply(tx)
    const committed = await tx.commit()
    if (committed !== undefined) return committed
  }
}

interface Write {
  /** value is what get() answers for the key: the value put, '' after a delete. */
  value: string
  op: Op
}

/** Transaction is one STM: a read set of whole range answers, a write set of ops, and the read options in force. */
class Transaction implements STM {
  readonly #client: Client
  readonly #isolation: Isolation
  #reads = new Map<string, RangeResponse>()
  #writes = new Map<string, Write>()
  /** #prefetched holds the answers a failed serializable commit read for the next attempt. */
  #prefetched = new Map<string, RangeResponse>()
  /** #readAt pins the serializable levels' reads to the revision of the attempt's first read. */
  #readAt: number | undefined

  constructor(client: Client, isolation: Isolation) {
    this.#client = client
    this.#isolation = isolation
  }

  get #serializable(): boolean {
    return this.#isolation === Isolation.SerializableSnapshot || this.#isolation === Isolation.Serializable
  }

  reset(): void {
    this.#reads = new Map()
    this.#writes = new Map()
  }

  async get(key: string): Promise<string> {
    const written = this.#writes.get(key)
    if (written !== undefined) return written.value
    const kv = (await this.#read(key)).kvs[0]
    return kv === undefined ? '' : Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength).toString()
  }

  async rev(key: string): Promise<number> {
    return (await this.#read(key)).kvs[0]?.modRevision ?? 0
  }

  put(key: string, value: BytesLike, options: { lease?: LeaseIdLike } = {}): void {
    const text = typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString()
    this.#writes.set(key, { value: text, op: op.put(key, value, options.lease === undefined ? {} : { lease: options.lease }) })
  }

  del(key: string): void {
    this.#writes.set(key, { value: '', op: op.delete(key) })
  }

  /** prefetch reads `keys` in one txn into the read set. */
  async prefetch(keys: readonly string[]): Promise<void> {
    const wanted = keys.filter((k) => !this.#reads.has(k) && !this.#prefetched.has(k))
    if (wanted.length === 0) return
    const firstRead = this.#reads.size === 0
    const answer = await this.#client.txn().then(...wanted.map((k) => op.get(k, this.#readOptions()))).commit()
    wanted.forEach((k, i) => this.#reads.set(k, rangeOf(answer.responses[i])))
    if (firstRead && this.#serializable) this.#readAt = answer.header.revision
  }

  /** #read answers a key from the read set, from what a failed commit prefetched, or from the store (recorded). */
  async #read(key: string): Promise<RangeResponse> {
    const known = this.#reads.get(key)
    if (known !== undefined) return known
    const firstRead = this.#reads.size === 0
    let answer = this.#prefetched.get(key)
    if (answer !== undefined) this.#prefetched.delete(key)
    else answer = await this.#client.get(key, this.#readOptions())
    this.#reads.set(key, answer)
    if (firstRead && this.#serializable) this.#readAt = answer.header.revision
    return answer
  }

  #readOptions(): GetOptions {
    if (this.#serializable) return this.#readAt === undefined || this.#reads.size === 0 ? {} : { revision: this.#readAt, serializable: true }
    return { serializable: true }
  }

  /** commit writes the buffered ops if the isolation level's compares hold; undefined when the attempt must be retried. */
  async commit(): Promise<TxnResult | undefined> {
    const writes = [...this.#writes.values()].map((w) => w.op)
    const result = await this.#client.txn().if(...this.#conflicts()).then(...writes).else(...this.#rereads()).commit()
    if (result.succeeded) return result
    if (this.#serializable) {
      // The else branch read every key of the read set anew: the next attempt starts from those answers.
      const keys = [...this.#reads.keys()]
      this.#prefetched = new Map(keys.map((k, i) => [k, rangeOf(result.responses[i])]))
    }
    this.#readAt = undefined
    return undefined
  }

  /** #conflicts are the compares the commit needs: unchanged reads, and for snapshots unchanged written keys. */
  #conflicts(): Compare[] {
    if (this.#isolation === Isolation.ReadCommitted) return []
    const compares: Compare[] = []
    for (const [key, answer] of this.#reads) compares.push(compare.modRevision(key, '=', answer.kvs[0]?.modRevision ?? 0))
    if (this.#isolation === Isolation.SerializableSnapshot && this.#reads.size > 0) {
      let firstRev = Infinity
      for (const answer of this.#reads.values()) firstRev = Math.min(firstRev, answer.header.revision)
      for (const key of this.#writes.keys()) compares.push(compare.modRevision(key, '<', firstRev + 1))
    }
    return compares
  }

  /** #rereads: on a failed serializable commit, the else branch reads the read set again to prefetch the retry. */
  #rereads(): Op[] {
    return this.#serializable ? [...this.#reads.keys()].map((k) => op.get(k)) : []
  }
}
