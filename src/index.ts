/**
 * etcdlite: an in-process, embeddable, etcd v3-compatible key-value engine.
 * @packageDocumentation
 */
export { open, Engine, defaults, type OpenOptions } from './api/engine.ts'
export { Client } from './api/client.ts'
export { TxnBuilder } from './api/txn-builder.ts'
export { op, compare, type Op, type OpResponse, type TxnResult, type CompareOperator } from './api/ops.ts'
export type { GetOptions, PutOptions, DeleteOptions, KeyRangeOptions } from './api/options.ts'
export type { Services } from './api/services.ts'
export type { Backend, BackendCapabilities, BackendOp, StoredLease, StoredMeta } from './mvcc/backend/backend.ts'
export type { Durability } from './mvcc/group-commit.ts'
export { EtcdError, isEtcdError, type EtcdErrorCode } from './util/errors.ts'
export type { BytesLike } from './util/bytes.ts'
export { ManualClock, systemClock, type Clock, type Timer } from './util/clock.ts'
export type * from './messages/kv.ts'
export type * from './messages/lease.ts'
export type * from './messages/stream.ts'
export type * from './messages/watch.ts'
export type * from './messages/maintenance.ts'
export type { WatchOptions, WatchEvent, WatchResult, Watching } from './api/watch-client.ts'
