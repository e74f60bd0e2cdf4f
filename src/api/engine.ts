import { createHash } from 'node:crypto'
import { EtcdError } from '../util/errors.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import { NO_LEASES } from '../mvcc/apply.ts'
import { KvService, type KvLimits } from '../mvcc/kv-service.ts'
import { MvccStore } from '../mvcc/store.ts'
import { Client } from './client.ts'
import type { Services } from './services.ts'

/** OpenOptions configure an engine. Every field is optional; absent means etcd's default. */
export interface OpenOptions {
  /**
   * name of the member, as etcd's --name; cluster and member ids in response headers derive from it, so they are
   * stable for a given name. @default 'default'
   */
  name?: string
  /** maxTxnOps caps the compares and the ops of each branch of a txn (etcd's --max-txn-ops). @default 128 */
  maxTxnOps?: number
  /** maxRequestBytes caps the encoded size of a write request (etcd's --max-request-bytes). @default 1572864 */
  maxRequestBytes?: number
}

/** defaults lists every tunable with its default: etcd's own. */
export const defaults = {
  name: 'default',
  maxTxnOps: 128,
  maxRequestBytes: 1_572_864,
} as const

/** RAFT_TERM is the raft term every header reports: a single member that never lost an election. */
const RAFT_TERM = 1

/**
 * Engine is an etcd in process: the services level (`engine.services`) and the client-level API over it. Create one
 * with `open()`; close it with `close()` or `await using`.
 */
export class Engine extends Client {
  readonly #store: MvccStore
  #closed = false

  /** @internal use open() */
  constructor(store: MvccStore, services: Services) {
    super(services)
    this.#store = store
  }

  /** revision is the current revision of the store. */
  get revision(): number {
    return this.#store.rev
  }

  /** closed tells whether close() was called. */
  get closed(): boolean {
    return this.#closed
  }

  /** close stops the engine; every later call rejects with ETCD_STOPPED. Closing twice is harmless. */
  async close(): Promise<void> {
    this.#closed = true
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * open starts an engine in memory.
 * @example
 * await using etcd = await open()
 * await etcd.put('greeting', 'hello')
 * const { kvs } = await etcd.get('greeting')
 */
export async function open(options: OpenOptions = {}): Promise<Engine> {
  const config = { ...defaults, ...definedOnly(options) }
  const limits: KvLimits = { maxTxnOps: positive(config.maxTxnOps, 'maxTxnOps'), maxRequestBytes: positive(config.maxRequestBytes, 'maxRequestBytes') }
  const clusterId = idFrom(`etcdlite cluster ${config.name}`)
  const memberId = idFrom(`etcdlite member ${config.name}`)
  const store = new MvccStore()
  let engine: Engine | undefined
  const kv = new KvService({
    store,
    leases: NO_LEASES,
    limits,
    header: (revision: number): ResponseHeader => ({ clusterId, memberId, revision, raftTerm: RAFT_TERM }),
    assertOpen: () => {
      if (engine?.closed) throw new EtcdError('ETCD_STOPPED')
    },
  })
  engine = new Engine(store, { kv })
  return engine
}

/** idFrom derives a stable positive 63-bit id from a text, as a bigint. */
function idFrom(text: string): bigint {
  const digest = createHash('sha256').update(text).digest()
  return digest.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn
}

function positive(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${what} must be a positive integer`)
  return value
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>
}
