import type { Lessor } from '../lease/lessor.ts'
import type { Backend, Checkpoint, StoredMeta } from '../mvcc/backend/backend.ts'
import { GroupCommitter, type Durability } from '../mvcc/group-commit.ts'
import type { KeyRecord } from '../mvcc/key-record.ts'
import type { Commit, MvccStore } from '../mvcc/store.ts'
import { walkRecords } from './snapshot.ts'

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
  close(): Promise<void>
}

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
  for (const ki of store.index.values()) {
    const lease = ki.live ? ki.latest.lease : 0n
    if (lease !== 0n) lessor.attach(lease, ki.key)
  }
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
  const maybeCheckpoint = (threshold: number): Promise<void> | undefined => {
    if (checkpointing === undefined && sinceCheckpoint >= threshold && committer.failure === undefined) {
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
  return {
    committer,
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
