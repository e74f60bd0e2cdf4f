import { EtcdError } from '../util/errors.ts'
import { FORMAT, type Backend, type BackendOp, type StoredMeta } from './backend/backend.ts'
import type { Commit } from './store.ts'

/** Durability is how far an acknowledged write is guaranteed to survive. */
export type Durability = 'fsync' | 'os'

/**
 * GroupCommitter writes the engine's changes to the backend in atomic batches and says when they are durable.
 *
 * Writers apply their changes in memory, in order, and hand them here; everything handed in before a batch starts
 * goes into that batch, with the meta record (current and compact revisions), as one atomic backend write. While a
 * batch is being written, new changes gather for the next one, so concurrent writers share writes (group commit).
 * `durable()` is the promise a writer awaits before acknowledging: it settles when every change handed in so far is
 * on disk. Commits are announced durable (to watchers) in order, only after their batch is written.
 *
 * If a batch fails (a full disk, an I/O error) nothing later is written: the committer fails for good, every waiting
 * and later write is rejected with ETCD_BACKEND_FAILED naming the cause, and what is on disk is the state after the
 * last written batch. Reopening the store gives exactly that state.
 */
export class GroupCommitter {
  readonly #backend: Backend
  readonly #sync: boolean
  readonly #meta: () => Omit<StoredMeta, 'format'>
  readonly #onDurable: (commits: readonly Commit[]) => void
  readonly #dir: string
  #ops: BackendOp[] = []
  #commits: Commit[] = []
  #next: Deferred | undefined
  #writing: Promise<void> | undefined
  #scheduled = false
  /** #metaDirty asks for a batch even with no other change: the meta record itself changed (a compaction). */
  #metaDirty = false
  #failure: EtcdError | undefined
  #durableRev: number

  constructor(options: {
    backend: Backend
    durability: Durability
    dir: string
    rev: number
    meta: () => Omit<StoredMeta, 'format'>
    onDurable: (commits: readonly Commit[]) => void
  }) {
    this.#backend = options.backend
    this.#sync = options.durability === 'fsync'
    this.#meta = options.meta
    this.#onDurable = options.onDurable
    this.#dir = options.dir
    this.#durableRev = options.rev
  }

  /** durableRev is the revision of the last commit known to be on disk. */
  get durableRev(): number {
    return this.#durableRev
  }

  /** rewind sets the durable revision back to `rev`: the store was replaced (a restore) and continues from there. */
  rewind(rev: number): void {
    this.#durableRev = rev
  }

  /** failure is the error that stopped the committer, if one did. */
  get failure(): EtcdError | undefined {
    return this.#failure
  }

  /** addCommit queues a committed write's records. */
  addCommit(commit: Commit): void {
    for (const change of commit.changes) this.#ops.push({ kind: 'record', record: change.record })
    this.#commits.push(commit)
    this.#schedule()
  }

  /** add queues other changes: lease grants and revocations, compaction's removals. */
  add(ops: readonly BackendOp[]): void {
    for (const op of ops) this.#ops.push(op)
    this.#schedule()
  }

  /** touch asks for the meta record to be written (the compact revision moved). */
  touch(): void {
    this.#metaDirty = true
    this.#schedule()
  }

  /**
   * durable returns a promise that settles when everything queued so far is written, or undefined when nothing is
   * waiting (the common case for reads).
   */
  durable(): Promise<void> | undefined {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    if (this.#ops.length > 0 || this.#metaDirty) return (this.#next ??= deferred()).promise
    return this.#writing
  }

  /** flush writes what is queued and waits for every batch in flight. */
  async flush(): Promise<void> {
    for (;;) {
      const wait = this.durable()
      if (wait === undefined) return
      await wait
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing !== undefined || this.#failure !== undefined) return
    this.#scheduled = true
    // Writers of this turn of the event loop join the batch.
    setImmediate(() => {
      this.#scheduled = false
      void this.#write()
    })
  }

  async #write(): Promise<void> {
    if ((this.#ops.length === 0 && !this.#metaDirty) || this.#failure !== undefined) return
    this.#metaDirty = false
    const ops = this.#ops
    const commits = this.#commits
    const done = (this.#next ??= deferred())
    this.#ops = []
    this.#commits = []
    this.#next = undefined
    ops.push({ kind: 'meta', meta: { format: FORMAT, ...this.#meta() } })
    this.#writing = done.promise
    try {
      await this.#backend.write(ops, this.#sync)
      const last = commits[commits.length - 1]
      if (last !== undefined) this.#durableRev = last.rev
      this.#writing = undefined
      this.#onDurable(commits)
      done.resolve()
    } catch (err) {
      this.#writing = undefined
      this.#failure = new EtcdError(
        'ETCD_BACKEND_FAILED',
        `etcdlite: writing to ${this.#dir} failed (${(err as Error).message}); the store is read back as of its last good write on reopen`,
      )
      done.reject(this.#failure)
      ;(this.#next as Deferred | undefined)?.reject(this.#failure)
      this.#next = undefined
      return
    }
    if (this.#ops.length > 0 || this.#metaDirty) void this.#write()
  }
}

interface Deferred {
  promise: Promise<void>
  resolve(): void
  reject(err: unknown): void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  // A rejection nobody awaits (a write with no waiter) must not crash the process.
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}
