import type { Lessor } from '../lease/lessor.ts'
import type { Backend, StoredMeta } from '../mvcc/backend/backend.ts'
import { GroupCommitter, type Durability } from '../mvcc/group-commit.ts'
import type { Commit, MvccStore } from '../mvcc/store.ts'

/**
 * Storage wires a store to a persistent backend: it reads the state back on open, and from then on every commit,
 * lease grant and revocation, and compaction goes to the backend through a group committer.
 */
export interface Storage {
  readonly committer: GroupCommitter
  close(): Promise<void>
}

/**
 * restoreStore reads a backend back into an empty store and lessor: records in chunks (the event loop runs between
 * them), the revisions, the leases (each with its full TTL again, as etcd does after a restart) and their keys.
 * A compaction the backend recorded but did not finish is finished.
 */
export async function restoreStore(backend: Backend, store: MvccStore, lessor: Lessor): Promise<StoredMeta> {
  // Each chunk is indexed in one step; the event loop runs while the backend reads the next.
  const meta = await backend.load((records) => store.load(records))
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
  onDurable: (commit: Commit) => void
}): Storage {
  const { backend, store } = options
  let finishedCompactRev = options.meta.finishedCompactRev
  const committer = new GroupCommitter({
    backend,
    durability: options.durability,
    dir: options.dir,
    rev: store.rev,
    meta: () => ({ rev: store.rev, compactRev: store.compactRev, finishedCompactRev }),
    onDurable: (commits) => {
      for (const c of commits) options.onDurable(c)
    },
  })
  store.onCommit((commit) => committer.addCommit(commit))
  store.onCompact(() => committer.touch())
  store.compactionSink = {
    dropped: (_rev, records) => committer.add(records.map((record) => ({ kind: 'drop-record', record }))),
    finished: (rev) => {
      finishedCompactRev = Math.max(finishedCompactRev, rev)
      committer.touch()
    },
  }
  if (options.meta.finishedCompactRev < options.meta.compactRev) void store.finishCompaction(options.meta.compactRev)
  return {
    committer,
    async close() {
      try {
        await committer.flush()
      } catch {
        // A failed committer already said why to every writer; closing still releases the directory.
      }
      await backend.close()
    },
  }
}
