import { AsyncQueue } from '../util/async-queue.ts'
import type { BytesLike } from '../util/bytes.ts'
import type { KeyValue, ResponseHeader } from '../messages/kv.ts'
import type { Watch, WatchFilter } from '../messages/watch.ts'
import { keyRange, type KeyRangeOptions } from './options.ts'

/** WatchOptions: one field per option of etcd's Go client Watch (clientv3.WithRev, WithPrefix, WithPrevKV, ...). */
export interface WatchOptions extends KeyRangeOptions {
  /** startRevision replays history from that revision. @default 0, events after the current revision */
  startRevision?: number
  /** prevKv adds each event's previous pair. */
  prevKv?: boolean
  /** filters drop puts ('NOPUT') or deletes ('NODELETE'). */
  filters?: WatchFilter[]
  /** progressNotify asks for periodic empty responses carrying the revision while nothing happens. */
  progressNotify?: boolean
}

/** WatchEvent is one change, as etcd's client reports it. */
export interface WatchEvent {
  type: 'put' | 'delete'
  kv: KeyValue
  prevKv?: KeyValue
}

/** WatchResult is one response of a watch: events of whole revisions, or a progress notice, or the cancellation. */
export interface WatchResult {
  header: ResponseHeader
  watchId: number
  events: WatchEvent[]
  /** compactRevision is set when the requested history was compacted away; the watch is then canceled. */
  compactRevision: number
  canceled: boolean
  cancelReason: string
}

/** Watching is a running watch: iterate it with `for await`; `cancel()` or `break` stops it. */
export interface Watching extends AsyncIterableIterator<WatchResult> {
  cancel(): Promise<void>
}

/**
 * watchLoop opens a watch stream for one watcher and turns its responses into client results: the created response
 * is consumed, fragments are joined, and the iteration ends after a cancellation (which it yields when it carries a
 * reason or a compact revision).
 */
export function watchLoop(watch: Watch, key: BytesLike, options: WatchOptions = {}): Watching {
  const stream = watch.watch()
  const out = new AsyncQueue<WatchResult>(() => stream.close())
  stream.send({
    createRequest: {
      ...keyRange(key, options),
      startRevision: options.startRevision ?? 0,
      prevKv: options.prevKv ?? false,
      filters: options.filters ?? [],
      progressNotify: options.progressNotify ?? false,
      fragment: true,
    },
  })
  void (async () => {
    let partial: WatchEvent[] = []
    try {
      for await (const r of stream) {
        if (r.created && !r.canceled) continue
        const events = r.events.map(
          (e): WatchEvent => ({ type: e.type === 'PUT' ? 'put' : 'delete', kv: e.kv, ...(e.prevKv ? { prevKv: e.prevKv } : {}) }),
        )
        if (r.fragment) {
          partial.push(...events)
          continue
        }
        const all = partial.length > 0 ? partial.concat(events) : events
        partial = []
        out.push({
          header: r.header,
          watchId: r.watchId,
          events: all,
          compactRevision: r.compactRevision,
          canceled: r.canceled,
          cancelReason: r.cancelReason,
        })
        if (r.canceled) break
      }
      out.end()
    } catch (err) {
      out.fail(err)
    } finally {
      stream.close()
    }
  })()
  return Object.assign(out, {
    async cancel() {
      stream.close()
      out.end()
    },
  })
}
