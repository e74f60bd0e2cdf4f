import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import type { Bin } from '../util/bytes.ts'
import { systemClock, type Clock } from '../util/clock.ts'
import { EtcdError } from '../util/errors.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import { Lessor } from '../lease/lessor.ts'
import { LeaseService } from '../lease/lease-service.ts'
import { KvService, type KvLimits } from '../mvcc/kv-service.ts'
import { MvccStore, type Commit } from '../mvcc/store.ts'
import { LevelBackend } from '../mvcc/backend/level-backend.ts'
import type { Durability } from '../mvcc/group-commit.ts'
import type { Backend, BackendOp } from '../mvcc/backend/backend.ts'
import { attachStorage, restoreStore, type Storage } from './storage.ts'
import { attachLeaseKeys, loadRecords, loadSnapshot, readSnapshot, restoreSnapshot, snapshotStream, type SnapshotSource, type SnapshotStream } from './snapshot.ts'
import { existsSync, readdirSync } from 'node:fs'
import { MaintenanceService } from '../maintenance/maintenance-service.ts'
import type { Member } from '../messages/maintenance.ts'
import { WatchHub } from '../watch/watch-hub.ts'
import { WatchService } from '../watch/watch-service.ts'
import { latestChanges, type LatestChangesRequest, type LatestChangesResponse } from '../watch/latest-changes.ts'
import { Client } from './client.ts'
import { AuthService } from '../auth/auth-service.ts'
import { AuthStore, type StoredAuth } from '../auth/auth-store.ts'
import { kvAccess, maintenanceAdmin, maintenanceToken } from '../auth/auth-access.ts'
import { DEFAULT_TOKEN_TTL_SECONDS, SimpleTokens } from '../auth/simple-tokens.ts'
import type { CallCredentials } from '../messages/auth.ts'
import type { Login } from './login.ts'
import type { Services } from './services.ts'

/** OpenOptions configure an engine. Every field is optional; absent means etcd's default. */
export interface OpenOptions {
  /**
   * dir keeps the store on disk, in a LevelDB under this directory (created when missing); without it the engine
   * lives in memory. A directory holding other files is refused, as is one another engine has open.
   */
  dir?: string
  /**
   * durability of an acknowledged write, for an engine on disk. 'fsync' (etcd's own choice): it survives power
   * loss. 'os': it survives a crash of the process, not of the machine, and is several times faster.
   * @default 'fsync'
   */
  durability?: Durability
  /**
   * backend replaces the LevelDB backend of an engine on disk with one of your own (it must honour the Backend
   * contract: atomic batches, records back in revision order). `dir` then only names it in messages.
   */
  backend?: Backend
  /**
   * checkpointEvery: after this many records written, an engine on disk also writes them as a checkpoint (a few
   * large entries), so reopening reads a large store fast. @default 250000
   */
  checkpointEvery?: number
  /**
   * restoreFrom builds a new store in `dir` from a snapshot before opening it: `engine.snapshot()`'s bytes, a real
   * etcd 3.4 snapshot (`etcdctl snapshot save`'s file, with or without its SHA-256) or an earlier etcdlite snapshot,
   * as a stream, a buffer or a file path. `dir` must be empty or absent; a snapshot that is refused
   * (ETCD_SNAPSHOT_INVALID) leaves it as it was. Without `dir`, the snapshot is loaded into an engine in memory.
   */
  restoreFrom?: SnapshotSource
  /**
   * name of the member, as etcd's --name; cluster and member ids in response headers derive from it, so they are
   * stable for a given name. @default 'default'
   */
  name?: string
  /** maxTxnOps caps the compares and the ops of each branch of a txn (etcd's --max-txn-ops). @default 128 */
  maxTxnOps?: number
  /** maxRequestBytes caps the encoded size of a write request (etcd's --max-request-bytes). @default 1572864 */
  maxRequestBytes?: number
  /** minLeaseTtl in seconds: shorter lease TTLs are raised to it, as etcd does; at least 1. @default 2 */
  minLeaseTtl?: number
  /**
   * clock drives lease expiry and keepalive renewals. Hand in a `ManualClock` to move time yourself in tests:
   * `await clock.advance(ms)` expires leases without sleeping. @default the system clock
   */
  clock?: Clock
  /** watchProgressIntervalMs: how often progressNotify watchers hear the revision while idle. @default 600000 */
  watchProgressIntervalMs?: number
  /** watchMaxPending: responses a watcher may leave unread before it falls back to catching up. @default 128 */
  watchMaxPending?: number
  /** clientUrls this member reports in MemberList (a server sets them to where it listens). @default [] */
  clientUrls?: string[]
  /** peerUrls this member reports in MemberList. @default ['http://localhost:2380'] */
  peerUrls?: string[]
  /** authTokenTtl: seconds a simple token lives unused (etcd's --auth-token-ttl). @default 300 */
  authTokenTtl?: number
  /**
   * user and password sign this engine's own client API in (`engine.put`, `engine.auth`, ...), needed once auth is
   * enabled. `engine.services` stays unsigned: its calls take credentials, as a server's do.
   */
  user?: string
  password?: string
}

/** defaults lists every tunable with its default: etcd's own. */
export const defaults = {
  name: 'default',
  maxTxnOps: 128,
  maxRequestBytes: 1_572_864,
  minLeaseTtl: 2,
  durability: 'fsync' as Durability,
  checkpointEvery: 250_000,
  watchProgressIntervalMs: 600_000,
  watchMaxPending: 128,
  authTokenTtl: DEFAULT_TOKEN_TTL_SECONDS,
} as const

/** RAFT_TERM is the raft term every header reports: a single member that never lost an election. */
const RAFT_TERM = 1

/** EngineStats are the engine's counters and sizes, read when metrics are scraped. */
export interface EngineStats {
  /** ranges, puts, deletes and txns count the KV operations applied (see KvStats). */
  readonly ranges: number
  readonly puts: number
  readonly deletes: number
  readonly txns: number
  /** putBytes adds up the key and value sizes of every put. */
  readonly putBytes: number
  /** leasesGranted, leasesRevoked (expiries included), leasesExpired and leasesRenewed count over the engine's life. */
  readonly leasesGranted: number
  readonly leasesRevoked: number
  readonly leasesExpired: number
  readonly leasesRenewed: number
  /** keys counts the keys that exist now (etcd_debugging_mvcc_keys_total). */
  readonly keys: number
  readonly watchers: number
  readonly leases: number
  readonly revision: number
  readonly compactRevision: number
}

/**
 * Engine is an etcd in process: the services level (`engine.services`) and the client-level API over it. Create one
 * with `open()`; close it with `close()` or `await using`.
 */
export class Engine extends Client {
  readonly #store: MvccStore
  readonly #onClose: (() => void)[]
  readonly #release: () => Promise<void>
  readonly #snapshot: (credentials?: CallCredentials) => SnapshotStream
  readonly #stats: () => EngineStats
  readonly #restore: (source: SnapshotSource, credentials?: CallCredentials) => Promise<void>
  /**
   * clock is the clock the engine reads time from (open()'s `clock` option): lease expiry, token expiry and watch
   * progress run on it. A `ManualClock` here means time moves only when someone advances it.
   */
  readonly clock: Clock
  readonly #latestChanges: (request: LatestChangesRequest, credentials?: CallCredentials) => Promise<LatestChangesResponse>
  #closing: Promise<void> | undefined

  /** Not for direct use: engines come from open(). */
  constructor(
    store: MvccStore,
    services: Services,
    clock: Clock,
    onClose: (() => void)[],
    release: () => Promise<void>,
    snapshot: (credentials?: CallCredentials) => SnapshotStream,
    restore: (source: SnapshotSource, credentials?: CallCredentials) => Promise<void>,
    stats: () => EngineStats,
    latest: (request: LatestChangesRequest, credentials?: CallCredentials) => Promise<LatestChangesResponse>,
    login?: Login,
  ) {
    super(services, clock, login)
    this.#store = store
    this.#onClose = onClose
    this.#release = release
    this.#snapshot = snapshot
    this.#restore = restore
    this.#stats = stats
    this.clock = clock
    this.#latestChanges = latest
  }

  /**
   * latestChanges reads the `limit` (1 to 1000) most recent changes to keys in [key, rangeEnd), at or before
   * `revision` (default: now), newest first, from the retained history: what a feed of recent activity shows, which
   * etcd's API has no call for (a watch replays history oldest first). Like a watch, it needs read permission over
   * the range once auth is on, and refuses a revision below the compact revision. Cost: the changes of the
   * revisions it reads back through, in steps that yield to the event loop.
   * @example const { events } = await etcd.latestChanges({ key: 'config/', rangeEnd: 'config0', limit: 20 })
   */
  latestChanges(request: LatestChangesRequest, credentials?: CallCredentials): Promise<LatestChangesResponse> {
    return this.#latestChanges(request, credentials)
  }

  /** stats reads the engine's counters and sizes (what /metrics reports). */
  stats(): EngineStats {
    return this.#stats()
  }

  /**
   * snapshot streams a consistent copy of the live store (history since the last compaction, the leases and the auth
   * state) as of now, as etcd 3.4 does: a bbolt file in etcd's layout followed by its SHA-256, which `etcdctl snapshot
   * status` and `etcdctl snapshot restore` read. Writes go on meanwhile. The file is streamed as it is written (read
   * it once); its `size` is known from the first chunk on. Restore it with `open({ dir, restoreFrom })` or
   * `engine.restore()`.
   * @example await pipeline(Readable.from(etcd.snapshot()), createWriteStream('backup.snap'))
   */
  snapshot(credentials?: CallCredentials): SnapshotStream {
    return this.#snapshot(credentials)
  }

  /**
   * restore replaces everything the engine holds with a snapshot's contents, at once: every retained revision (the
   * revision may go back), the compaction, the leases (each with its granted TTL again, counting from now, as etcd
   * restores them) and the auth state (users, roles, the switch; with none in the snapshot, auth is off and empty).
   * It takes what `open({ restoreFrom })` takes: `snapshot()`'s bytes, a real etcd 3.4 snapshot (with or without its
   * SHA-256) or an earlier etcdlite snapshot, as a stream, a buffer or a file path. On disk the new contents are
   * durable when it resolves, and a crash in between leaves the old contents or the new ones.
   *
   * What was open on the old contents ends, as a restored etcd member ends its clients' streams: every watcher is
   * canceled with cancelReason `etcdlite: the store was restored from a snapshot` (its revisions no longer mean the
   * same); leases that are not in the snapshot are gone (their keepalives answer TTL 0); auth tokens are signed out.
   * Requests made while it runs see the old contents until the moment it switches. With auth on, it needs root.
   *
   * The snapshot is read and checked whole first: one that is refused (ETCD_SNAPSHOT_INVALID, naming the problem)
   * changes nothing. Memory: the snapshot's records are held twice while they load.
   * @example await etcd.restore('backup.db')   // the file `etcdctl snapshot save backup.db` wrote
   */
  restore(source: SnapshotSource, credentials?: CallCredentials): Promise<void> {
    return this.#restore(source, credentials)
  }

  /** revision is the current revision of the store. */
  get revision(): number {
    return this.#store.rev
  }

  /** closed tells whether close() was called. */
  get closed(): boolean {
    return this.#closing !== undefined
  }

  /**
   * close stops the engine: timers stop, streams end, every later call rejects with ETCD_STOPPED; on disk, queued
   * writes are written and the data directory is released. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      for (const fn of this.#onClose) fn()
      this.#closing = this.#release()
    }
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * open starts an engine, in memory or, with `dir`, on disk (reading back what is there).
 * @example
 * await using etcd = await open()
 * await etcd.put('greeting', 'hello')
 * const { kvs } = await etcd.get('greeting')
 */
export async function open(options: OpenOptions = {}): Promise<Engine> {
  const config = { ...defaults, ...definedOnly(options) }
  const limits: KvLimits = {
    maxTxnOps: positive(config.maxTxnOps, 'maxTxnOps'),
    maxRequestBytes: positive(config.maxRequestBytes, 'maxRequestBytes'),
  }
  if (config.durability !== 'fsync' && config.durability !== 'os') throw new TypeError("durability must be 'fsync' or 'os'")
  const clock = options.clock ?? systemClock
  const clusterId = idFrom(`etcdlite cluster ${config.name}`)
  const memberId = idFrom(`etcdlite member ${config.name}`)
  const store = new MvccStore()
  const onClose: (() => void)[] = []
  let closed = false
  let storage: Storage | undefined
  onClose.push(() => (closed = true))
  const assertOpen = () => {
    if (closed) throw new EtcdError('ETCD_STOPPED')
    const failure = storage?.committer.failure
    if (failure !== undefined) throw failure
  }
  const durable = () => storage?.committer.durable()
  const header = (revision: number): ResponseHeader => ({ clusterId, memberId, revision, raftTerm: RAFT_TERM })

  const lessor = new Lessor(clock, { deleteKeys: (keys) => deleteKeys(store, keys) }, {
    minTtl: config.minLeaseTtl,
    // Like etcd, chosen lease ids carry bits of the member id on top, so they are large and positive.
    firstId: ((memberId & 0x7fffn) << 48n) | BigInt(Math.floor(clock.now()) % 2 ** 40),
    persistence: {
      granted: (lease) => storage?.committer.add([{ kind: 'lease', lease: { id: lease.id, ttl: lease.ttl } }]),
      revoked: (id) => storage?.committer.add([{ kind: 'drop-lease', id }]),
    },
  })
  onClose.push(() => lessor.close())
  onClose.push(() => store.close())
  store.onCommit((commit) => trackLeases(lessor, commit))

  // Auth: users, roles and the switch live beside the keys, written whole on every change (see AuthStore).
  const tokens = new SimpleTokens(clock, positive(config.authTokenTtl, 'authTokenTtl'))
  const authStore = new AuthStore(tokens, (state) => storage?.committer.add([{ kind: 'state', name: AUTH_STATE, value: encodeAuth(state) }]))
  const access = kvAccess(authStore)
  const checkMaintenanceAdmin = maintenanceAdmin(authStore)

  const hub = new WatchHub(store, {
    maxPending: positive(config.watchMaxPending, 'watchMaxPending'),
    catchUpBatch: 1000,
    progressIntervalMs: positive(config.watchProgressIntervalMs, 'watchProgressIntervalMs'),
    clock,
    durableRev: () => storage?.committer.durableRev ?? store.rev,
  })

  if (options.restoreFrom !== undefined && options.dir === undefined) {
    if (options.backend !== undefined) throw new TypeError('restoreFrom restores into a dir or into memory, not into a backend of your own')
    // In memory: the snapshot is loaded straight into the store (nothing is kept after close).
    try {
      const contents = await readSnapshot(options.restoreFrom)
      await loadSnapshot(contents, store, lessor)
      if (contents.auth !== undefined) authStore.restore(contents.auth)
    } catch (err) {
      lessor.close()
      throw err
    }
  } else if (options.restoreFrom !== undefined && options.dir !== undefined) {
    if (existsSync(options.dir) && readdirSync(options.dir).length > 0) {
      throw new EtcdError('ETCD_DATA_DIR_INVALID', `etcdlite: cannot restore into ${options.dir}: it is not empty`)
    }
    await restoreSnapshot(options.restoreFrom, options.dir)
  }
  if (options.dir !== undefined || options.backend !== undefined) {
    const backend = options.backend ?? (await LevelBackend.open(options.dir!))
    const where = backend instanceof LevelBackend ? backend.dir : (options.dir ?? 'the backend')
    try {
      const meta = await restoreStore(backend, store, lessor)
      const auth = await backend.loadState?.(AUTH_STATE)
      if (auth !== undefined) authStore.restore(JSON.parse(Buffer.from(auth).toString('utf8')) as StoredAuth)
      storage = attachStorage({
        backend,
        dir: where,
        durability: config.durability,
        store,
        meta,
        checkpointEvery: positive(config.checkpointEvery, 'checkpointEvery'),
        onDurable: (commit) => hub.notify(commit),
      })
    } catch (err) {
      lessor.close()
      await backend.close()
      throw err
    }
  } else {
    store.onCommit((commit) => hub.notify(commit))
  }

  const leaseKeys = (id: bigint) => lessor.get(id)?.keys ?? []
  const kv = new KvService({ store, leases: lessor, limits, header, assertOpen, durable, access, leaseKeys })
  const lease = new LeaseService({
    lessor,
    header: () => header(store.rev),
    assertOpen,
    durable,
    onClose: (fn) => onClose.push(fn),
    access,
  })
  const watch = new WatchService({
    store,
    hub,
    header,
    maxResponseBytes: limits.maxRequestBytes,
    assertOpen,
    onClose: (fn) => onClose.push(fn),
    access,
  })
  const member = (): Member => ({
    id: memberId,
    name: config.name,
    peerURLs: [...(options.peerUrls ?? ['http://localhost:2380'])],
    clientURLs: [...(options.clientUrls ?? [])],
    isLearner: false,
  })
  const maintenance = new MaintenanceService({
    store,
    memberId,
    raftTerm: RAFT_TERM,
    header,
    assertOpen,
    member,
    checkAdmin: checkMaintenanceAdmin,
    checkToken: maintenanceToken(authStore),
  })
  const auth = new AuthService({ store: authStore, tokens, header: () => header(store.rev), assertOpen, durable })
  const services = { kv, lease, watch, maintenance, cluster: maintenance, auth }
  const stats = (): EngineStats => ({
    ranges: kv.stats.ranges,
    puts: kv.stats.puts,
    deletes: kv.stats.deletes,
    txns: kv.stats.txns,
    putBytes: kv.stats.putBytes,
    leasesGranted: lessor.counts.granted,
    leasesRevoked: lessor.counts.revoked,
    leasesExpired: lessor.counts.expired,
    leasesRenewed: lessor.counts.renewed,
    keys: store.liveKeys(),
    watchers: hub.size,
    leases: lessor.size,
    revision: store.rev,
    compactRevision: store.compactRev,
  })
  const snapshot = (credentials?: CallCredentials) => {
    assertOpen()
    checkMaintenanceAdmin(credentials)
    const m = member()
    return snapshotStream(store, lessor, {
      auth: authStore.state(),
      member: { id: m.id, name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs },
    })
  }
  const restore = async (source: SnapshotSource, credentials?: CallCredentials): Promise<void> => {
    assertOpen()
    checkMaintenanceAdmin(credentials)
    const contents = await readSnapshot(source)
    const loaded = new MvccStore()
    await loadRecords(contents, loaded)
    assertOpen()
    const auth = contents.auth ?? NO_AUTH
    // swap switches to the restored contents in one synchronous step, and lists what the backend must change.
    const swap = (dropAbove: number): BackendOp[] => {
      const ops: BackendOp[] = []
      for (const ki of store.index.values()) for (const record of ki.records) if (record.modRevision > dropAbove) ops.push({ kind: 'drop-record', record })
      for (const id of lessor.ids()) ops.push({ kind: 'drop-lease', id })
      for (const lease of contents.leases) ops.push({ kind: 'lease', lease })
      ops.push({ kind: 'state', name: AUTH_STATE, value: encodeAuth(auth) })
      store.adopt(loaded)
      lessor.replaceAll(contents.leases)
      attachLeaseKeys(store, lessor)
      authStore.restore(auth)
      tokens.clear()
      hub.cancelAll(RESTORED)
      return ops
    }
    await store.exclusive(async () => {
      // No lease expiry may run across the switch: it would revoke old leases in the new contents.
      const settle = () => lessor.settled()
      if (storage !== undefined) return storage.replace(contents.records, contents, settle, swap)
      await settle()
      swap(Infinity)
    })
  }
  const login = options.user === undefined ? undefined : { user: options.user, password: options.password ?? '' }
  const latest = (request: LatestChangesRequest, credentials?: CallCredentials) => latestChanges({ store, header, assertOpen, access }, request, credentials)
  return new Engine(store, services, clock, onClose, async () => storage?.close(), snapshot, restore, stats, latest, login)
}

/** AUTH_STATE names the auth state's blob in the backend and in snapshots. */
const AUTH_STATE = 'auth'

/** NO_AUTH is the auth state of a snapshot that has none: auth off, no users, no roles. */
const NO_AUTH: StoredAuth = { enabled: false, revision: 0, users: [], roles: [] }

/** RESTORED is the cancelReason of the watchers a restore ends. */
const RESTORED = 'etcdlite: the store was restored from a snapshot'

function encodeAuth(state: StoredAuth): Uint8Array {
  return Buffer.from(JSON.stringify(state), 'utf8')
}

/** deleteKeys deletes keys in one write txn: how a revoked lease's keys go, in one revision. */
function deleteKeys(store: MvccStore, keys: readonly Bin[]): void {
  const txn = store.write()
  try {
    for (const key of keys) txn.deleteRange(key, '')
    txn.end()
  } finally {
    txn.abort()
  }
}

/** trackLeases keeps the lessor's key sets in step with committed writes: puts attach, deletes and moves detach. */
function trackLeases(lessor: Lessor, commit: Commit): void {
  const changes = commit.changes
  for (let i = 0; i < changes.length; i++) {
    const { record, prev } = changes[i]!
    if (prev !== undefined && prev.lease !== 0n && prev.lease !== record.lease) lessor.detach(prev.lease, record.key)
    if (record.lease !== 0n) lessor.attach(record.lease, record.key)
  }
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
