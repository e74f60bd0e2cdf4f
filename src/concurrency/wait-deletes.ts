import type { Client } from '../api/client.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import { EtcdError } from '../util/errors.ts'

/**
 * waitDeletes waits until no key under `prefix` created at or below `maxCreateRevision` remains: the queue ahead of
 * a mutex waiter or an election candidate. As etcd's Go client does, it watches only the newest such key (the one
 * directly ahead) for its delete, then looks again, so each waiter wakes once per holder ahead of it rather than on
 * every change under the prefix. Resolves with the header of the read that found the queue empty.
 * @throws the signal's reason when `signal` aborts; ETCD_COMPACTED when the history it watches from is gone.
 */
export async function waitDeletes(client: Client, prefix: Uint8Array, maxCreateRevision: number, signal: AbortSignal | undefined): Promise<ResponseHeader> {
  for (;;) {
    signal?.throwIfAborted()
    const ahead = await client.get(prefix, {
      prefix: true,
      sortTarget: 'CREATE',
      sortOrder: 'DESCEND',
      limit: 1,
      maxCreateRevision,
    })
    const last = ahead.kvs[0]
    if (last === undefined) return ahead.header
    await waitDelete(client, last.key, ahead.header.revision, signal)
  }
}

/** waitDelete watches `key` from revision `rev` until it is deleted. */
async function waitDelete(client: Client, key: Uint8Array, rev: number, signal: AbortSignal | undefined): Promise<void> {
  // An abort that came during the read before this watch would never fire the listener below.
  signal?.throwIfAborted()
  const watching = client.watch(key, { startRevision: rev })
  const stop = (): void => void watching.cancel()
  signal?.addEventListener('abort', stop, { once: true })
  try {
    for await (const result of watching) {
      if (result.compactRevision > 0) throw new EtcdError('ETCD_COMPACTED')
      for (const event of result.events) if (event.type === 'delete') return
    }
    signal?.throwIfAborted()
    throw new EtcdError('ETCD_STOPPED', 'lost watcher waiting for delete')
  } finally {
    signal?.removeEventListener('abort', stop)
    await watching.cancel()
  }
}
