import { fromBase64, prefixEnd, toBase64 } from './bytes.ts'

/**
 * EtcdClient is the console's one data client: etcd's v3 API through the JSON gateway on the page's own origin
 * (`POST /v3/...`), with the signed-in user's token in the Authorization header. Every call is a real etcd request:
 * the server's auth checks, limits and error texts apply unchanged. Tests drive the page, and the page drives this.
 */

/** KeyValue is one mvccpb.KeyValue, bytes decoded, int64 revisions as numbers and the lease id as a decimal string. */
export interface KeyValue {
  readonly key: Uint8Array
  readonly value: Uint8Array
  readonly createRevision: number
  readonly modRevision: number
  readonly version: number
  readonly lease: string
}

/** EtcdRequestError is a failed gateway call: etcd's message text, the gRPC code and the HTTP status. */
export class EtcdRequestError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly status: number,
  ) {
    super(message)
    this.name = 'EtcdRequestError'
  }
  /** permissionDenied: the user may not do this (gRPC PermissionDenied). */
  get permissionDenied(): boolean {
    return this.code === 7
  }
}

export interface RangeRequest {
  key: Uint8Array
  rangeEnd?: Uint8Array
  limit?: number
  revision?: number
  keysOnly?: boolean
  countOnly?: boolean
}

export interface RangeResult {
  kvs: KeyValue[]
  more: boolean
  count: number
  /** revision is the store's current revision (header.revision). */
  revision: number
}

/** WatchEvent is one mvccpb.Event. */
export interface WatchEvent {
  readonly type: 'PUT' | 'DELETE'
  readonly kv: KeyValue
  readonly prevKv: KeyValue | undefined
}

/** WatchMessage is one WatchResponse of a watch stream. */
export interface WatchMessage {
  readonly revision: number
  readonly created: boolean
  readonly canceled: boolean
  readonly compactRevision: number
  readonly cancelReason: string
  readonly events: WatchEvent[]
}

export interface LeaseInfo {
  readonly id: string
  readonly ttl: number
  readonly grantedTtl: number
  readonly keys: Uint8Array[]
}

/** ConsoleStatus is /ui/api/status (see src/console/console-routes.ts). */
export interface ConsoleStatus {
  readonly revision: number
  readonly compactRevision: number
  readonly keys: number
  readonly watchers: number
  readonly leases: number
  readonly authEnabled: boolean
}

/** ClockStatus is /ui/api/clock (see src/console/time-control.ts). */
export interface ClockStatus {
  readonly manual: boolean
  readonly allowed: boolean
  /** now is the clock's time in milliseconds. */
  readonly now: number
}

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export class EtcdClient {
  token: string | undefined
  /** onAuthLost is called when etcd refuses the token (it expired, or auth was switched off and on). */
  onAuthLost: (() => void) | undefined

  constructor(readonly base = '') {}

  /** call posts one unary gateway request (`kv/range`, ...) and answers its JSON. @throws EtcdRequestError */
  async call(path: string, body: Json): Promise<Json> {
    return this.#post(`v3/${path}`, body)
  }

  async #post(path: string, body: Json): Promise<Json> {
    const res = await fetch(`${this.base}/${path}`, { method: 'POST', headers: this.#headers(), body: JSON.stringify(body) })
    const text = await res.text()
    let json: Json
    try {
      json = JSON.parse(text) as Json
    } catch {
      throw new EtcdRequestError(text.trim() || res.statusText, 2, res.status)
    }
    if (!res.ok) {
      const err = new EtcdRequestError(String(json.message ?? json.error ?? res.statusText), Number(json.code ?? 2), res.status)
      if (this.token !== undefined && err.message === 'etcdserver: invalid auth token') this.onAuthLost?.()
      throw err
    }
    return json
  }

  #headers(): Record<string, string> {
    return this.token === undefined ? { 'Content-Type': 'application/json' } : { 'Content-Type': 'application/json', Authorization: this.token }
  }

  /** authenticate signs in as an etcd user; later calls carry the token. */
  async authenticate(name: string, password: string): Promise<void> {
    const r = await this.call('auth/authenticate', { name, password })
    this.token = String(r.token)
  }

  async authEnabled(): Promise<boolean> {
    return (await this.consoleStatus()).authEnabled
  }

  /** range is etcd's Range: `count` is every key of the range (which costs the whole range, as in etcd). */
  async range(req: RangeRequest): Promise<RangeResult> {
    return this.#range('v3/kv/range', req)
  }

  /**
   * page reads one page of a range through the console's /ui/api/range: the same Range, but the count stops just
   * past the page, so a page of a huge range costs the page. `count` is then a lower bound.
   */
  async page(req: RangeRequest): Promise<RangeResult> {
    return this.#range('ui/api/range', req)
  }

  async #range(path: string, req: RangeRequest): Promise<RangeResult> {
    const r = await this.#post(path, {
      key: toBase64(req.key),
      ...(req.rangeEnd === undefined ? {} : { range_end: toBase64(req.rangeEnd) }),
      ...(req.limit === undefined ? {} : { limit: req.limit }),
      ...(req.revision === undefined || req.revision === 0 ? {} : { revision: req.revision }),
      ...(req.keysOnly === true ? { keys_only: true } : {}),
      ...(req.countOnly === true ? { count_only: true } : {}),
    })
    return { kvs: ((r.kvs ?? []) as Json[]).map(keyValueOf), more: r.more === true, count: Number(r.count ?? 0), revision: Number(r.header?.revision ?? 0) }
  }

  async get(key: Uint8Array, revision = 0): Promise<KeyValue | undefined> {
    return (await this.range({ key, revision })).kvs[0]
  }

  async put(key: Uint8Array, value: Uint8Array, lease = '0'): Promise<number> {
    const r = await this.call('kv/put', { key: toBase64(key), value: toBase64(value), ...(lease === '0' ? {} : { lease }) })
    return Number(r.header?.revision ?? 0)
  }

  /**
   * putIfUnchanged writes `value` only if the key's mod_revision is still `modRevision` (0: only if the key does not
   * exist): a compare-and-swap txn. On a conflict it answers the key as it is now.
   */
  async putIfUnchanged(key: Uint8Array, value: Uint8Array, modRevision: number, lease = '0'): Promise<{ ok: boolean; current: KeyValue | undefined }> {
    const k = toBase64(key)
    const r = await this.call('kv/txn', {
      compare: [{ key: k, target: 'MOD', result: 'EQUAL', mod_revision: modRevision }],
      success: [{ request_put: { key: k, value: toBase64(value), ...(lease === '0' ? {} : { lease }) } }],
      failure: [{ request_range: { key: k } }],
    })
    if (r.succeeded === true) return { ok: true, current: undefined }
    const kvs = (r.responses?.[0]?.response_range?.kvs ?? []) as Json[]
    return { ok: false, current: kvs[0] === undefined ? undefined : keyValueOf(kvs[0]) }
  }

  /** deleteRange deletes [key, rangeEnd) (or the key alone) and answers how many keys went. */
  async deleteRange(key: Uint8Array, rangeEnd?: Uint8Array): Promise<number> {
    const r = await this.call('kv/deleterange', { key: toBase64(key), ...(rangeEnd === undefined ? {} : { range_end: toBase64(rangeEnd) }) })
    return Number(r.deleted ?? 0)
  }

  /** countPrefix counts the keys under a prefix ('' for every key), at a revision (0: now): etcd's count. */
  async countPrefix(prefix: Uint8Array, revision = 0): Promise<number> {
    const all = prefix.length === 0
    return (await this.range({ key: all ? Uint8Array.of(0) : prefix, rangeEnd: all ? Uint8Array.of(0) : prefixEnd(prefix), countOnly: true, revision })).count
  }

  async compact(revision: number): Promise<void> {
    await this.call('kv/compaction', { revision, physical: true })
  }

  async status(): Promise<Json> {
    return this.call('maintenance/status', {})
  }

  /** consoleStatus reads the console's /ui/api/status: revision, compact revision, counters, whether auth is on. */
  async consoleStatus(): Promise<ConsoleStatus> {
    const r = await fetch(`${this.base}/ui/api/status`)
    if (!r.ok) throw new EtcdRequestError(`console status: ${r.status} ${r.statusText}`, 2, r.status)
    return (await r.json()) as ConsoleStatus
  }

  /** clock reads /ui/api/clock: whether the engine runs on a ManualClock, and whether this user may advance it. */
  async clock(): Promise<ClockStatus> {
    const r = await fetch(`${this.base}/ui/api/clock`, { headers: this.#headers() })
    if (!r.ok) throw new EtcdRequestError(`console clock: ${r.status} ${r.statusText}`, 2, r.status)
    return (await r.json()) as ClockStatus
  }

  /** advanceTime moves a ManualClock `seconds` forward (leases expire as they would); answers the clock's time. */
  async advanceTime(seconds: number): Promise<number> {
    const r = await this.#post('ui/api/advance-time', { seconds })
    return Number(r.now)
  }

  async grant(ttl: number): Promise<string> {
    const r = await this.call('lease/grant', { TTL: ttl })
    return String(r.ID)
  }

  async revoke(id: string): Promise<void> {
    await this.call('lease/revoke', { ID: id })
  }

  async leases(): Promise<string[]> {
    const r = await this.call('lease/leases', {})
    return ((r.leases ?? []) as Json[]).map((l) => String(l.ID))
  }

  async timeToLive(id: string): Promise<LeaseInfo> {
    const r = await this.call('lease/timetolive', { ID: id, keys: true })
    return { id, ttl: Number(r.TTL ?? 0), grantedTtl: Number(r.grantedTTL ?? 0), keys: ((r.keys ?? []) as string[]).map(fromBase64) }
  }

  /** keepAliveOnce renews a lease once and answers the TTL it got (0: the lease is gone). */
  async keepAliveOnce(id: string): Promise<number> {
    const ttl = await this.#firstLine('lease/keepalive', { ID: id })
    return Number(ttl.TTL ?? 0)
  }

  async #firstLine(path: string, body: Json): Promise<Json> {
    const abort = new AbortController()
    const res = await fetch(`${this.base}/v3/${path}`, { method: 'POST', headers: this.#headers(), body: JSON.stringify(body), signal: abort.signal })
    try {
      for await (const line of jsonLines(res)) {
          return line.result as Json
      }
      throw new EtcdRequestError('the stream ended without an answer', 14, res.status)
    } finally {
      abort.abort()
    }
  }

  /**
   * watch streams WatchResponses for [key, rangeEnd) from `startRevision` (0: from now) until `signal` aborts. It
   * resolves when the stream ends, and rejects when it fails (a dropped connection, etcd's error).
   */
  async watch(
    opts: { key: Uint8Array; rangeEnd?: Uint8Array; startRevision?: number; prevKv?: boolean },
    onMessage: (m: WatchMessage) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const create = {
      key: toBase64(opts.key),
      ...(opts.rangeEnd === undefined ? {} : { range_end: toBase64(opts.rangeEnd) }),
      ...(opts.startRevision === undefined || opts.startRevision === 0 ? {} : { start_revision: opts.startRevision }),
      ...(opts.prevKv === true ? { prev_kv: true } : {}),
    }
    const res = await fetch(`${this.base}/v3/watch`, { method: 'POST', headers: this.#headers(), body: JSON.stringify({ create_request: create }), signal })
    if (!res.ok) {
      const json = (await res.json().catch(() => ({}))) as Json
      throw new EtcdRequestError(String(json.message ?? res.statusText), Number(json.code ?? 2), res.status)
    }
    for await (const line of jsonLines(res)) {
      const r = line.result as Json
      onMessage({
        revision: Number(r.header?.revision ?? 0),
        created: r.created === true,
        canceled: r.canceled === true,
        compactRevision: Number(r.compact_revision ?? 0),
        cancelReason: String(r.cancel_reason ?? ''),
        events: ((r.events ?? []) as Json[]).map(eventOf),
      })
    }
  }

  /**
   * latestChanges reads the `limit` most recent changes to [key, rangeEnd), newest first, through the console's
   * /ui/api/changes; `revision` is the store's revision they were read at (a watch from revision + 1 goes on from there).
   */
  async latestChanges(key: Uint8Array, rangeEnd: Uint8Array, limit: number): Promise<{ revision: number; compactRevision: number; events: WatchEvent[] }> {
    const r = await this.#post('ui/api/changes', { key: toBase64(key), range_end: toBase64(rangeEnd), limit })
    return { revision: Number(r.header?.revision ?? 0), compactRevision: Number(r.compact_revision ?? 0), events: ((r.events ?? []) as Json[]).map(eventOf) }
  }

  /** snapshot downloads the store as etcd's snapshot file. */
  async snapshot(): Promise<Uint8Array> {
    const res = await fetch(`${this.base}/v3/maintenance/snapshot`, { method: 'POST', headers: this.#headers(), body: '{}' })
    const chunks: Uint8Array[] = []
    for await (const line of jsonLines(res)) {
      chunks.push(fromBase64(line.result?.blob as string | undefined))
    }
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
    let at = 0
    for (const c of chunks) {
      out.set(c, at)
      at += c.length
    }
    return out
  }
}

/** jsonLines reads a streamed gateway response: one JSON object per line; an error line throws etcd's error. */
async function* jsonLines(res: Response): AsyncGenerator<Json> {
  for await (const line of rawLines(res)) {
    if (line.error !== undefined) throw new EtcdRequestError(String(line.error.message), Number(line.error.grpc_code ?? 2), res.status)
    yield line
  }
}

async function* rawLines(res: Response): AsyncGenerator<Json> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffered = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffered += value
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim()
      buffered = buffered.slice(nl + 1)
      if (line !== '') yield JSON.parse(line) as Json
    }
  }
  if (buffered.trim() !== '') yield JSON.parse(buffered) as Json
}

/** eventOf reads one mvccpb.Event of the gateway's JSON (a PUT leaves its type out, as proto3 leaves out zeros). */
function eventOf(e: Json): WatchEvent {
  return {
    type: e.type === 'DELETE' ? 'DELETE' : 'PUT',
    kv: keyValueOf(e.kv as Json),
    prevKv: e.prev_kv === undefined ? undefined : keyValueOf(e.prev_kv as Json),
  }
}

function keyValueOf(kv: Json): KeyValue {
  return {
    key: fromBase64(kv.key as string | undefined),
    value: fromBase64(kv.value as string | undefined),
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
    version: Number(kv.version ?? 0),
    lease: String(kv.lease ?? '0'),
  }
}
