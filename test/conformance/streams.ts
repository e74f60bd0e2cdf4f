import type { BidiStream, KeyValue, WatchCreateRequest, WatchRequest, WatchResponse } from '../../src/index.ts'
import type { Target } from './harness.ts'
import { pair, text, type Pair } from './helpers.ts'

/**
 * Stream helpers for the lease and watch conformance files. A test never sleeps and then asserts that something
 * happened: it waits for the response it expects, each wait bounded by WAIT_MS so a missing response fails the test
 * instead of hanging it. Nothing here depends on in-process timing, so the same tests run against a real etcd over
 * the network. "Nothing arrived" is shown by ordering instead: a later response that must come after it.
 */

/** WAIT_MS bounds every wait for one response: generous for a real etcd, well inside vitest's 5 s test timeout. */
export const WAIT_MS = 3_000

/**
 * Reader pulls items from an async iterable (a services-level stream, a client-level watch or keepAlive) one at a
 * time. Each wait is bounded; a wait that times out leaves its pull pending, and the next call continues it, because
 * the streams allow one pending `next()` at a time. `received` keeps every item read, for failure messages.
 */
export class Reader<T> {
  readonly received: T[] = []
  readonly #it: AsyncIterator<T>
  #pending: Promise<IteratorResult<T>> | undefined

  constructor(iterable: AsyncIterable<T>) {
    this.#it = iterable[Symbol.asyncIterator]()
  }

  /** next waits for the next item; it fails when the stream ends or nothing comes within `timeoutMs`. */
  async next(what = 'a response', timeoutMs = WAIT_MS): Promise<T> {
    const r = await this.#pull(what, timeoutMs)
    if (r.done === true) throw new Error(`stream ended while waiting for ${what}; received ${summary(this.received)}`)
    this.received.push(r.value)
    return r.value
  }

  /** take reads exactly `n` items. */
  async take(n: number, what = `${n} responses`): Promise<T[]> {
    const out: T[] = []
    while (out.length < n) out.push(await this.next(what))
    return out
  }

  /** until reads items until one satisfies `done`, and returns everything read in this call, that one included. */
  async until(done: (item: T) => boolean, what = 'the awaited response', timeoutMs = WAIT_MS): Promise<T[]> {
    const out: T[] = []
    for (;;) {
      const item = await this.next(what, timeoutMs)
      out.push(item)
      if (done(item)) return out
    }
  }

  /** ended waits for the iteration to finish, failing if an item comes first. */
  async ended(timeoutMs = WAIT_MS): Promise<void> {
    const r = await this.#pull('the end of the stream', timeoutMs)
    if (r.done !== true) throw new Error(`expected the stream to end, got ${summary([r.value])}`)
  }

  async #pull(what: string, timeoutMs: number): Promise<IteratorResult<T>> {
    const pending = (this.#pending ??= this.#it.next())
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no ${what} within ${timeoutMs} ms; received so far ${summary(this.received)}`)),
        timeoutMs,
      )
    })
    try {
      const r = await Promise.race([pending, timeout])
      this.#pending = undefined
      return r
    } finally {
      clearTimeout(timer)
    }
  }
}

function summary(items: readonly unknown[]): string {
  const shown = items.slice(-5).map((item) =>
    JSON.stringify(item, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? text(v) : v,
    ),
  )
  return `${items.length} item(s)${shown.length > 0 ? `, last: ${shown.join(' | ')}` : ''}`
}

/** WatchSession is one services-level watch stream with a reader over its responses. */
export interface WatchSession {
  readonly stream: BidiStream<WatchRequest, WatchResponse>
  readonly responses: Reader<WatchResponse>
  /** create sends a create request and waits for its created response (the next response on the stream). */
  create(request: WatchCreateRequest): Promise<WatchResponse>
  /** progress sends a progress request and waits for its answer (watchId -1), returning what came before it too. */
  progress(): Promise<WatchResponse[]>
  /** eventsThrough reads the responses of `watchId` until it has seen an event at revision `rev` or later. */
  eventsThrough(watchId: number, rev: number): Promise<WatchResponse[]>
}

/** watchSession opens a services-level watch stream on a target. */
export function watchSession(etcd: Target): WatchSession {
  const stream = etcd.services.watch.watch()
  const responses = new Reader(stream)
  return {
    stream,
    responses,
    async create(request) {
      stream.send({ createRequest: request })
      return responses.next('the created response')
    },
    async progress() {
      stream.send({ progressRequest: {} })
      return responses.until((r) => r.watchId === -1 && !r.created && r.events.length === 0, 'the progress response')
    },
    async eventsThrough(watchId, rev) {
      return responses.until(
        (r) => r.watchId === watchId && (r.canceled || (r.events.at(-1)?.kv.modRevision ?? 0) >= rev),
        `events of watch ${watchId} through revision ${rev}`,
      )
    },
  }
}

/** Ev is an event with its bytes decoded, for readable assertions. */
export interface Ev {
  type: 'PUT' | 'DELETE'
  kv: Pair
  prevKv?: Pair
}

/** ev decodes one event; prevKv appears only when the event has one. */
export function ev(e: { type: string; kv: KeyValue; prevKv?: KeyValue | undefined }): Ev {
  const type = e.type.toUpperCase() as 'PUT' | 'DELETE'
  return e.prevKv === undefined ? { type, kv: pair(e.kv) } : { type, kv: pair(e.kv), prevKv: pair(e.prevKv) }
}

/** eventsOf flattens the events of responses, decoded, optionally of one watch id only. */
export function eventsOf(
  responses: ReadonlyArray<{ watchId: number; events: ReadonlyArray<{ type: string; kv: KeyValue; prevKv?: KeyValue }> }>,
  watchId?: number,
): Ev[] {
  return responses.filter((r) => watchId === undefined || r.watchId === watchId).flatMap((r) => r.events.map(ev))
}

/** revisionsOf lists, per response with events, the modRevisions of its events. */
export function revisionsOf(responses: ReadonlyArray<{ events: ReadonlyArray<{ kv: KeyValue }> }>): number[][] {
  return responses.filter((r) => r.events.length > 0).map((r) => r.events.map((e) => e.kv.modRevision))
}

/**
 * wholeRevisions tells whether no revision is split across responses: every revision's events sit in one
 * response, and revisions only go up from one response to the next.
 */
export function wholeRevisions(responses: ReadonlyArray<{ events: ReadonlyArray<{ kv: KeyValue }> }>): boolean {
  let last = -Infinity
  for (const revs of revisionsOf(responses)) {
    if (revs[0]! <= last) return false
    for (let i = 1; i < revs.length; i++) if (revs[i]! < revs[i - 1]!) return false
    last = revs.at(-1)!
  }
  return true
}

/** deletedKv is the kv of a DELETE event: only the key and the deleting revision are set (etcd 3.4.23). */
export function deletedKv(key: string, modRevision: number): Pair {
  return { key, value: '', createRevision: 0, modRevision, version: 0, lease: 0n }
}
