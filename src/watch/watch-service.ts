import type { CallCredentials } from '../messages/auth.ts'
import type { KvAccess } from '../mvcc/kv-access.ts'
import type { Bin } from '../util/bytes.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import type { Watch, WatchRequest, WatchResponse } from '../messages/watch.ts'
import type { BidiStream } from '../messages/stream.ts'
import type { MvccStore } from '../mvcc/store.ts'
import type { WatchHub } from './watch-hub.ts'
import { WatchStream } from './watch-stream.ts'

/** WatchContext is what the Watch service needs from the engine. */
export interface WatchContext {
  readonly store: MvccStore
  readonly hub: WatchHub
  header(revision: number): ResponseHeader
  /** maxResponseBytes: above it a watch response is split, for watchers that asked for fragments. */
  readonly maxResponseBytes: number
  assertOpen(): void
  onClose(fn: () => void): void
  /** access checks permissions once auth is on: creating a watch needs read permission over its range. */
  readonly access?: KvAccess
}

/** WatchService is etcd's Watch service: each watch() call is one stream, as each Watch RPC is. */
export class WatchService implements Watch {
  readonly #ctx: WatchContext
  readonly #streams = new Set<WatchStream>()
  #nextStream = 0

  constructor(ctx: WatchContext) {
    this.#ctx = ctx
    ctx.onClose(() => {
      for (const s of [...this.#streams]) s.close()
      ctx.hub.close()
    })
  }

  /** streams is the number of open watch streams. */
  get streams(): number {
    return this.#streams.size
  }

  watch(credentials?: CallCredentials): BidiStream<WatchRequest, WatchResponse> {
    const ctx = this.#ctx
    ctx.assertOpen()
    const access = ctx.access
    const checkRead =
      access === undefined ? undefined : (key: Bin, end: Bin) => {
        if (credentials !== undefined || access.enabled) access.check(credentials, [[key, end]], [])
      }
    const stream = new WatchStream(
      this.#nextStream++,
      {
        hub: ctx.hub,
        rev: () => ctx.store.rev,
        header: ctx.header,
        maxResponseBytes: ctx.maxResponseBytes,
        assertOpen: ctx.assertOpen,
        ...(checkRead ? { checkRead } : {}),
      },
      (s) => this.#streams.delete(s),
    )
    this.#streams.add(stream)
    return stream
  }
}
