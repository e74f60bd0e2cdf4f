import type { CallCredentials } from '../messages/auth.ts'
import { crc32 } from 'node:zlib'
import { EtcdError } from '../util/errors.ts'
import { int } from '../util/fields.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import type {
  AlarmRequest,
  AlarmResponse,
  Cluster,
  DefragmentResponse,
  HashKVRequest,
  HashKVResponse,
  HashResponse,
  Maintenance,
  Member,
  MemberListResponse,
  StatusResponse,
} from '../messages/maintenance.ts'
import type { MvccStore } from '../mvcc/store.ts'

/** ETCD_VERSION is the etcd release whose API and observed behaviour etcdlite follows. */
export const ETCD_VERSION = '3.4.23'

/** MaintenanceContext is what the Maintenance and Cluster services need from the engine. */
export interface MaintenanceContext {
  readonly store: MvccStore
  readonly memberId: bigint
  readonly raftTerm: number
  header(revision: number): ResponseHeader
  assertOpen(): void
  /** member describes this member (name and URLs; a server fills in its client URLs). */
  member(): Member
  /** checkAdmin, once auth is on, throws unless the caller holds the root role (hash, hashKV, defragment). */
  checkAdmin?(credentials: CallCredentials | undefined): void
  /** checkToken refuses an invalid token on Alarm, which needs no permission. */
  checkToken?(credentials: CallCredentials | undefined): void
}

/**
 * MaintenanceService answers etcd's Maintenance calls for a single member that is always its own leader: status,
 * alarms (there are none: the store never raises NOSPACE or CORRUPT), defragment (nothing to do in memory), and
 * hashes of the store for consistency checks.
 */
export class MaintenanceService implements Maintenance, Cluster {
  readonly #ctx: MaintenanceContext
  /** #sized: the last size computed, and the contents it was computed for (unchanged until a commit or compaction). */
  #sized: { index: unknown; rev: number; compactRev: number; size: number } | undefined

  constructor(ctx: MaintenanceContext) {
    this.#ctx = ctx
  }

  /** #size is storeSize, computed once per revision (a snapshot asks for a status before it streams). */
  #size(): number {
    const store = this.#ctx.store
    const last = this.#sized
    if (last !== undefined && last.index === store.index && last.rev === store.rev && last.compactRev === store.compactRev) return last.size
    const size = storeSize(store)
    this.#sized = { index: store.index, rev: store.rev, compactRev: store.compactRev, size }
    return size
  }

  async status(): Promise<StatusResponse> {
    const ctx = this.#ctx
    ctx.assertOpen()
    const size = this.#size()
    return {
      header: ctx.header(ctx.store.rev),
      version: ETCD_VERSION,
      dbSize: size,
      leader: ctx.memberId,
      raftIndex: ctx.store.rev,
      raftTerm: ctx.raftTerm,
      raftAppliedIndex: ctx.store.rev,
      errors: [],
      dbSizeInUse: size,
      isLearner: false,
    }
  }

  async alarm(request: AlarmRequest, credentials?: CallCredentials): Promise<AlarmResponse> {
    this.#ctx.assertOpen()
    this.#ctx.checkToken?.(credentials)
    if (typeof request !== 'object' || request === null) throw new TypeError('alarm request must be an object')
    return { header: this.#ctx.header(this.#ctx.store.rev), alarms: [] }
  }

  async defragment(_request?: Record<string, never>, credentials?: CallCredentials): Promise<DefragmentResponse> {
    this.#ctx.assertOpen()
    this.#ctx.checkAdmin?.(credentials)
    return { header: this.#ctx.header(this.#ctx.store.rev) }
  }

  /** hash is a CRC-32 over every retained record (all revisions), in key then revision order. */
  async hash(_request?: Record<string, never>, credentials?: CallCredentials): Promise<HashResponse> {
    this.#ctx.assertOpen()
    this.#ctx.checkAdmin?.(credentials)
    return { header: this.#ctx.header(this.#ctx.store.rev), hash: hashStore(this.#ctx.store, Infinity) }
  }

  /** hashKV is a CRC-32 over the retained records up to `revision` (0: current), as etcd's HashKV compares members. */
  async hashKV(request: HashKVRequest, credentials?: CallCredentials): Promise<HashKVResponse> {
    const ctx = this.#ctx
    ctx.assertOpen()
    ctx.checkAdmin?.(credentials)
    let revision = int(request?.revision, 'revision')
    if (revision > ctx.store.rev) throw new EtcdError('ETCD_FUTURE_REV')
    if (revision > 0 && revision < ctx.store.compactRev) throw new EtcdError('ETCD_COMPACTED')
    if (revision <= 0) revision = ctx.store.rev
    return {
      header: ctx.header(ctx.store.rev),
      hash: hashStore(ctx.store, revision),
      compactRevision: Math.max(ctx.store.compactRev, 0),
    }
  }

  async memberList(): Promise<MemberListResponse> {
    this.#ctx.assertOpen()
    return { header: this.#ctx.header(this.#ctx.store.rev), members: [this.#ctx.member()] }
  }
}

/** storeSize estimates the bytes the store holds: keys and values of every retained record, plus their metadata. */
function storeSize(store: MvccStore): number {
  let size = 0
  // A sum needs no key order: the hash map, not the ordered index (which a fresh burst of keys would first build).
  for (const ki of store.index.values()) for (const r of ki.records) size += r.key.length + r.value.length + 48
  return size
}

function hashStore(store: MvccStore, upTo: number): number {
  let h = 0
  const meta = Buffer.alloc(24)
  for (const [, ki] of store.index.entries()) {
    for (const r of ki.records) {
      if (r.modRevision > upTo) break
      h = crc32(Buffer.from(r.key, 'latin1'), h)
      meta.writeDoubleBE(r.modRevision, 0)
      meta.writeDoubleBE(r.createRevision, 8)
      meta.writeDoubleBE(r.version, 16)
      h = crc32(meta, h)
      h = crc32(Buffer.from(r.value, 'latin1'), h)
    }
  }
  return h >>> 0
}
