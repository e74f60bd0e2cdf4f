import type { Lessor } from '../lease/lessor.ts'
import type { Backend, BackendOp, Checkpoint, StoredMeta } from '../mvcc/backend/backend.ts'
import { GroupCommitter, type Durability } from '../mvcc/group-commit.ts'
import type { KeyRecord } from '../mvcc/key-record.ts'
import type { Commit, MvccStore } from '../mvcc/store.ts'
import { attachLeaseKeys, walkRecords } from './snapshot.ts'

/**
 * Storage wires a store to a persistent backend: it reads the state back on open, and from then on every commit,
 * lease grant and revocation, and compaction goes to the backend through a group committer.
 *
 * Checkpoints keep reopening fast. Records are written one backend entry each, and reading a million entries back
 * costs seconds; so after `checkpointEvery` records (and on close, after CHECKPOINT_AT_CLOSE) the store's records are
 * also written as a checkpoint, a few large entries. Once a meta record naming it is on disk, the entries it covers
 * are removed. A crash at any point leaves either the old state or the new one readable.
 */
export interface Storage {
  readonly committer: GroupCommitter
  /**
   * replace makes the backend hold a store restored from a snapshot, crash-safely. `records` (the restored store's,
   * up to `restored.rev`) go first into a new checkpoint, which is not in use yet. Then `settle` is awaited (work
   * that must not run across the switch), everything queued before is flushed to disk, and `swap` replaces the store
   * in memory, synchronously, returning the ops that finish the change: the old store's records above `dropAbove`
   * dropped, the leases and the auth state replaced. They go in one batch with the meta that names the new
   * checkpoint. Without checkpoints the records go in that batch too (and every old record is dropped).
   */
  replace(
    records: readonly KeyRecord[],
    restored: { rev: number; finishedCompactRev: number },
    settle: () => Promise<void>,
    swap: (dropAbove: number) => BackendOp[],
  ): Promise<void>
  close(): Promise<void>
}

/** REPLACE_CHUNK: records per checkpoint chunk when a restore replaces the store. */
const REPLACE_CHUNK = 8192

/** CHECKPOINT_AT_CLOSE: records written since the last checkpoint that make close() write one. */
const CHECKPOINT_AT_CLOSE = 20_000

/**
 * restoreStore reads a backend back into an empty store and lessor: a checkpoint's records, then the records written
 * after it, the revisions, the leases (each with its full TTL again, as etcd does after a restart) and their keys.
 */
export async function restoreStore(backend: Backend, store: MvccStore, lessor: Lessor): Promise<StoredMeta> {
  const meta = await backend.load({
    checkpoint: (records) => store.loadUnordered(records),
    records: (records) => store.load(records),
  })
  store.restoreRevisions(meta.rev, meta.compactRev)
  for (const lease of await backend.loadLeases()) lessor.restore(lease.id, lease.ttl)
  attachLeaseKeys(store, lessor)
  return meta
}

/** attachStorage starts persisting a restored store; `onDurable` hears each commit once it is on disk. */
export function attachStorage(options: {
  backend: Backend
  dir: string
  durability: Durability
  store: MvccStore
  meta: StoredMeta
  checkpointEvery: number
  onDurable: (commit: Commit) => void
}): Storage {
  const { backend, store, meta } = options
  let finishedCompactRev = meta.finishedCompactRev
  let checkpoint: Checkpoint | undefined = meta.checkpoint
  let sinceCheckpoint = 0
  let checkpointing: Promise<void> | undefined
  const committer = new GroupCommitter({
    backend,
    durability: options.durability,
    dir: options.dir,
    rev: store.rev,
    meta: () => ({
      rev: store.rev,
      compactRev: store.compactRev,
      finishedCompactRev,
      ...(checkpoint === undefined ? {} : { checkpoint }),
    }),
    onDurable: (commits) => {
      for (const c of commits) options.onDurable(c)
    },
  })

  const writeCheckpoint = async (): Promise<void> => {
    const write = backend.writeCheckpoint?.bind(backend)
    if (write === undefined) return
    const rev = store.rev
    const id = (checkpoint?.id ?? 0) + 1
    sinceCheckpoint = 0
    let compactRev = store.compactRev
    const chunks = (async function* (): AsyncGenerator<KeyRecord[]> {
      for await (const step of walkRecords(store, rev)) {
        if (step.records === undefined) compactRev = step.compactRev
        else yield step.records
      }
    })()
    try {
      const n = await write(id, chunks)
      const previous = checkpoint
      checkpoint = { id, rev, chunks: n, compactRev }
      committer.touch()
      await committer.durable()
      await backend.prune?.(checkpoint, previous)
    } catch {
      // A checkpoint only speeds up reopening: without it the store is read back from its records.
    }
  }
  let replacing = false
  const maybeCheckpoint = (threshold: number): Promise<void> | undefined => {
    if (checkpointing === undefined && !replacing && sinceCheckpoint >= threshold && committer.failure === undefined) {
      checkpointing = writeCheckpoint().finally(() => (checkpointing = undefined))
    }
    return checkpointing
  }

  store.onCommit((commit) => {
    committer.addCommit(commit)
    sinceCheckpoint += commit.changes.length
    void maybeCheckpoint(options.checkpointEvery)
  })
  store.onCompact(() => committer.touch())
  store.compactionSink = {
    dropped: (_rev, records) => committer.add(records.map((record) => ({ kind: 'drop-record', record }))),
    finished: (rev) => {
      finishedCompactRev = Math.max(finishedCompactRev, rev)
      committer.touch()
    },
  }
  // A compaction cut short, or one the checkpoint predates, is run again over what was read back.
  if (meta.finishedCompactRev < meta.compactRev || (meta.checkpoint !== undefined && meta.checkpoint.compactRev < meta.compactRev)) {
    void store.finishCompaction(meta.compactRev)
  }
  const replace = async (
    records: readonly KeyRecord[],
    restored: { rev: number; finishedCompactRev: number },
    settle: () => Promise<void>,
    swap: (dropAbove: number) => BackendOp[],
  ): Promise<void> => {
    replacing = true
    try {
      await checkpointing
      const id = (checkpoint?.id ?? 0) + 1
      const write = backend.writeCheckpoint?.bind(backend)
      const chunks = (async function* (): AsyncGenerator<KeyRecord[]> {
        for (let i = 0; i < records.length; i += REPLACE_CHUNK) yield records.slice(i, i + REPLACE_CHUNK)
      })()
      const n = write === undefined ? undefined : await write(id, chunks)
      await settle()
      await committer.flush()
      // With a checkpoint, old records up to its revision are skipped on load (and pruned); without, all must go.
      const swapOps = swap(n !== undefined ? restored.rev : -1)
      const previous = checkpoint
      if (n !== undefined) checkpoint = { id, rev: restored.rev, chunks: n, compactRev: restored.finishedCompactRev }
      const ops: BackendOp[] = n !== undefined ? swapOps : [...swapOps, ...records.map((record): BackendOp => ({ kind: 'record', record }))]
      finishedCompactRev = restored.finishedCompactRev
      sinceCheckpoint = 0
      committer.rewind(store.rev)
      committer.add(ops)
      committer.touch()
      await committer.durable()
      if (n !== undefined && checkpoint !== undefined) await backend.prune?.(checkpoint, previous)
    } finally {
      replacing = false
    }
  }

  return {
    committer,
    replace,
    async close() {
      try {
        await checkpointing
        await maybeCheckpoint(Math.min(CHECKPOINT_AT_CLOSE, options.checkpointEvery))
        await committer.flush()
      } catch {
        // A failed committer already said why to every writer; closing still releases the directory.
      }
      await backend.close()
    },
  }
}
