import type { EtcdClient, WatchEvent } from './etcd-client.ts'
import { errorText } from './error-text.ts'

/**
 * followWatch keeps a watch on [key, rangeEnd) going until `signal` aborts: when the stream breaks it reports it and
 * opens a new watch from the revision after the last event seen, so nothing is missed or shown twice; it never stops
 * silently. A watch etcd cancels (a compacted start revision) ends it, with etcd's reason. It resolves once stopped.
 */

export interface WatchFollower {
  /** created: the watch is open, from `from` (0: from now, at `revision`); `resumed` after a reconnect. */
  created(from: number, revision: number, resumed: boolean): void
  events(events: WatchEvent[]): void
  /** lost: the stream broke; a new watch from `resumeFrom` opens after RETRY_MS. */
  lost(reason: string, resumeFrom: number): void
  /** canceled: etcd ended the watch and it is not resumed. */
  canceled(reason: string): void
}

export const RETRY_MS = 500

export async function followWatch(
  client: EtcdClient,
  range: { key: Uint8Array; rangeEnd: Uint8Array },
  startRevision: number,
  signal: AbortSignal,
  follower: WatchFollower,
): Promise<void> {
  let from = startRevision
  let resumes = 0
  while (!signal.aborted) {
    try {
      await client.watch(
        { ...range, startRevision: from },
        (m) => {
          if (m.created) follower.created(from, m.revision, resumes > 0)
          if (m.canceled) {
            // Thrown to leave the stream, which the gateway keeps open after a cancel.
            throw new WatchCanceled(m.compactRevision > 0 ? `etcdserver: mvcc: required revision has been compacted (compact revision ${m.compactRevision})` : m.cancelReason)
          }
          if (m.events.length > 0) {
            follower.events(m.events)
            from = m.events[m.events.length - 1]!.kv.modRevision + 1
          } else if (from === 0 && m.created) from = m.revision + 1
        },
        signal,
      )
      if (signal.aborted) return
      throw new Error('the server ended the stream')
    } catch (err) {
      if (signal.aborted) return
      if (err instanceof WatchCanceled) return follower.canceled(`watch canceled: ${err.message}`)
      resumes++
      follower.lost(errorText(err), from)
      await new Promise((r) => setTimeout(r, RETRY_MS))
    }
  }
}

class WatchCanceled extends Error {}
