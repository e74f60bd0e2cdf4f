import type { EtcdClient, KeyValue } from './etcd-client.ts'

/**
 * readKeyHistory lists every retained change of one key, oldest first, with the gateway alone: a watch on the key
 * from just above the compact revision replays its history (etcd sends every retained event of a watched key from
 * the start revision on), and the version still visible at the compact revision is read with a range there. The
 * replay ends at the key's current mod revision; for a key that is deleted now, once the stream has been quiet for
 * a moment after its last event.
 */

export interface Change {
  readonly type: 'PUT' | 'DELETE'
  readonly kv: KeyValue
}

/** HISTORY_LIMIT caps how many changes one listing reads. */
export const HISTORY_LIMIT = 1000

const QUIET_MS = 250

export async function readKeyHistory(client: EtcdClient, key: Uint8Array): Promise<{ changes: Change[]; compactRevision: number; truncated: boolean }> {
  const { compactRevision } = await client.consoleStatus()
  const now = await client.range({ key })
  const current = now.kvs[0]
  const changes: Change[] = []
  if (compactRevision > 0) {
    const base = await client.get(key, compactRevision).catch(() => undefined)
    if (base !== undefined) changes.push({ type: 'PUT', kv: base })
  }
  if (current !== undefined && changes[0]?.kv.modRevision === current.modRevision) return { changes, compactRevision, truncated: false }
  const abort = new AbortController()
  let truncated = false
  let quiet: ReturnType<typeof setTimeout> | undefined
  const stopWhenQuiet = () => {
    clearTimeout(quiet)
    quiet = setTimeout(() => abort.abort(), QUIET_MS)
  }
  try {
    await client.watch(
      { key, startRevision: compactRevision + 1 },
      (m) => {
        for (const e of m.events) {
          if (e.kv.modRevision > now.revision) continue
          changes.push({ type: e.type, kv: e.kv })
          if (changes.length >= HISTORY_LIMIT) truncated = true
        }
        const done = truncated || (current !== undefined && changes.some((c) => c.kv.modRevision >= current.modRevision))
        if (done || m.canceled) abort.abort()
        else stopWhenQuiet()
      },
      abort.signal,
    )
  } catch (err) {
    if (!abort.signal.aborted) throw err
  } finally {
    clearTimeout(quiet)
  }
  return { changes, compactRevision, truncated }
}
