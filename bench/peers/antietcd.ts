import { createRequire } from 'node:module'
import { freePort } from '../../test/support/real-etcd.ts'

/**
 * antietcd, the other JavaScript etcd replacement, in its embedded mode: `new AntiEtcd(cfg)` and then direct calls
 * (`put`, `range`, `txn`, `lease_grant`, `create_watch`) on the object, with no HTTP in between. Keys and values go
 * in as plain strings (`use_base64: false`), so neither side pays for base64.
 *
 * What it is, read from its source (etctree.js, antipersistence.js, 1.3.1): a tree of plain objects split at '/'
 * holding only the latest value of each key (no MVCC history), range reads only over whole "directories" (`key` ends
 * in '/', `range_end` is the same with '0'), one setTimeout per lease, and persistence as a gzipped JSON dump of the
 * whole store, written and fsynced after every change (or every `persist_interval` ms). Persistence is only set up
 * by `start()`, which also listens on HTTP (port 0 means 2379 there, so a free port is picked); `stop()` writes the
 * last dump but leaves the HTTP server open, so `close()` here closes it too.
 */

/** AntiEtcdKv is the part of antietcd's embedded API the benchmarks call. */
export interface AntiEtcd {
  put(req: { key: string; value: string; lease?: string }): Promise<unknown>
  range(req: { key: string; range_end?: string; keys_only?: boolean }): Promise<{ kvs: { key: string; value?: string; mod_revision?: number }[] }>
  txn(req: {
    compare?: { key: string; target: 'MOD' | 'VERSION' | 'VALUE'; mod_revision?: number; version?: number; value?: string }[]
    success?: { request_put?: { key: string; value: string }; request_range?: { key: string } }[]
    failure?: { request_put?: { key: string; value: string }; request_range?: { key: string } }[]
  }): Promise<{ succeeded: boolean; header: { revision: number } }>
  lease_grant(req: { TTL: number }): Promise<{ ID: string }>
  create_watch(req: { key: string; range_end?: string }, callback: (msg: WatchMessage) => void): Promise<string | number>
  cancel_watch(id: string | number): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
  etctree: { destroy(): void; mod_revision: number }
  persistence?: { persist_timer: ReturnType<typeof setTimeout> | null } | null
  server?: { close(cb?: () => void): void; closeAllConnections?(): void }
  wss?: { close(cb?: () => void): void }
}

/** WatchMessage is what antietcd hands a watch callback: one message per change (per txn). */
export interface WatchMessage {
  result: { events?: { type: 'PUT' | 'DELETE'; kv: { key: string; value?: string } }[] }
}

type AntiEtcdClass = new (cfg: Record<string, unknown>) => AntiEtcd

const AntiEtcdCtor = createRequire(import.meta.url)('antietcd') as AntiEtcdClass

/** AntiOptions choose between antietcd's in-memory mode and its persistence (a data file). */
export interface AntiOptions {
  /** data is the file antietcd dumps its store to; without it antietcd is memory only. */
  data?: string
  /** persistInterval: dump at most every this many ms instead of after every change (acks before the dump). */
  persistInterval?: number
}

/** openAnti creates an embedded antietcd; with `data` it is started (that loads the file, and listens on HTTP). */
export async function openAnti(options: AntiOptions = {}): Promise<AntiEtcd & { close(): Promise<void> }> {
  const cfg: Record<string, unknown> = { use_base64: false }
  const anti = new AntiEtcdCtor(cfg)
  if (options.data !== undefined) {
    cfg['data'] = options.data
    if (options.persistInterval !== undefined) cfg['persist_interval'] = options.persistInterval
    cfg['ip'] = '127.0.0.1'
    cfg['port'] = await freePort()
    await anti.start()
  }
  const close = async () => {
    // A dump timer firing during or after stop()'s own last dump would write again (into a directory since removed);
    // stop() waits for a dump already under way.
    if (anti.persistence?.persist_timer) clearTimeout(anti.persistence.persist_timer)
    await anti.stop()
    anti.etctree.destroy()
    await new Promise<void>((resolve) => (anti.wss ? anti.wss.close(() => resolve()) : resolve()))
    anti.server?.closeAllConnections?.()
    await new Promise<void>((resolve) => (anti.server ? anti.server.close(() => resolve()) : resolve()))
  }
  return Object.assign(anti, { close })
}

/** antiPrefixEnd is the range_end antietcd accepts for a directory `prefix` ending in '/': the same with '0'. */
export function antiPrefixEnd(prefix: string): string {
  if (!prefix.endsWith('/')) throw new Error(`antietcd ranges only over directories ending in '/': ${prefix}`)
  return prefix.slice(0, -1) + '0'
}
