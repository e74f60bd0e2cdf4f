import { Buffer } from 'node:buffer'
import { notBytes } from '../util/bytes.ts'
import { int as safeInt, leaseId } from '../util/fields.ts'
import { bool, compareKinds, list, opField, requestObject, sortOption } from '../messages/request-checks.ts'
import {
  compareResults,
  compareTargets,
  sortOrders,
  sortTargets,
  type Compare,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type ResponseOp,
  type SortOrder,
  type SortTarget,
  type TxnRequest,
  type TxnResponse,
} from '../messages/kv.ts'
import type { Long, WireInt, WireMessage } from './proto.ts'

/**
 * The codec between the wire (protobufjs messages, see wire.ts) and the services level (src/messages): one
 * `Codec<T>` per message, with `fromWire` and `toWire`. The server decodes requests with `fromWire` and encodes
 * responses with `toWire`; the remote services do the opposite; both use these same functions.
 *
 * Numbers: revisions, counts and TTLs become numbers (a value beyond 2^53 is clamped to the nearest safe integer:
 * revisions are compared, never echoed, so clamping keeps every comparison's outcome); lease, cluster and member ids
 * become bigints, converted bit for bit. Bytes stay Buffers. Enums travel as numbers and are names above; unknown
 * numbers get etcd 3.4's observed treatment (see each codec). `toWire` leaves out fields holding the proto default,
 * as etcd's encoder does; for requests it runs the engine's own shape checks (src/messages/request-checks.ts: a
 * TypeError for a wrong type), so a bad request fails the same way in process and over the network, and leaves
 * etcd's checks (an empty key, ...) to the server that answers it.
 */

/** Codec converts one message between its wire form and its services-level form. */
export interface Codec<T> {
  fromWire(wire: WireMessage): T
  toWire(value: T): WireMessage
}

const EMPTY = Buffer.alloc(0)
const TWO_32 = 4294967296

// ---- numbers

/** int reads an int64 / uint64 wire field as a number, clamped to the safe integers. */
export function int(v: WireInt | null | undefined): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number') return v
  const high = (v as Long).unsigned ? v.high >>> 0 : v.high | 0
  if (high === 0) return v.low >>> 0
  const n = high * TWO_32 + (v.low >>> 0)
  return n > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n < Number.MIN_SAFE_INTEGER ? Number.MIN_SAFE_INTEGER : n
}

/** id reads a signed int64 wire field (lease ids) as a bigint, losslessly. */
export function id(v: WireInt | null | undefined): bigint {
  if (v === undefined || v === null) return 0n
  if (typeof v === 'number') return BigInt(v)
  if (v.low === 0 && v.high === 0) return 0n
  return BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0))
}

/** uid reads an unsigned uint64 wire field (cluster and member ids) as a bigint, losslessly. */
export function uid(v: WireInt | null | undefined): bigint {
  if (v === undefined || v === null) return 0n
  if (typeof v === 'number') return BigInt(v)
  if (v.low === 0 && v.high === 0) return 0n
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0)
}

const longs = new Map<bigint, { low: number; high: number }>()

/** long writes a bigint id as the two 32-bit halves protobufjs encodes (two's complement, so negatives work). */
export function long(b: bigint): { low: number; high: number } {
  let l = longs.get(b)
  if (l === undefined) {
    l = { low: Number(b & 0xffffffffn) | 0, high: Number((b >> 32n) & 0xffffffffn) | 0 }
    // Header ids repeat on every response; other ids pass once. Keep the cache small.
    if (longs.size > 256) longs.clear()
    longs.set(b, l)
  }
  return l
}

// ---- bytes

/** bytes reads a bytes wire field; an absent one decodes as protobufjs' shared empty array. */
export function bytes(v: unknown): Buffer {
  return v === undefined || v === null || (v as Uint8Array).length === 0 ? EMPTY : (v as Buffer)
}

/** BytesArg is what a request may hold where etcd takes bytes. */
type BytesArg = Uint8Array | string | undefined | null

/** bytesArg checks a request's bytes field and returns it as the wire takes it; undefined for empty or absent. */
export function bytesArg(v: BytesArg, what: string): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v.length === 0 ? undefined : Buffer.from(v, 'utf8')
  if (v instanceof Uint8Array) return v.length === 0 ? undefined : v
  return notBytes(v, what)
}

/** keyArg is bytesArg for a required key: absent is a TypeError, as the engine has it; empty goes as empty. */
export function keyArg(v: BytesArg, what = 'key'): Uint8Array | undefined {
  if (v === undefined || v === null) return notBytes(v, what)
  return bytesArg(v, what)
}

/** intArg checks an integer field of a request; undefined for 0 or absent. */
export function intArg(v: number | undefined | null, what: string): number | undefined {
  const n = safeInt(v, what)
  return n === 0 ? undefined : n
}

/** idArg checks a lease id field of a request; undefined for 0 or absent. */
export function idArg(v: bigint | number | undefined | null, what: string): { low: number; high: number } | undefined {
  const b = leaseId(v, what)
  return b === 0n ? undefined : long(b)
}

/** boolArg checks a boolean field of a request; undefined for false or absent. */
export function boolArg(v: boolean | undefined | null, what: string): true | undefined {
  return bool(v, what) ? true : undefined
}

/** request checks that a request is an object. */
export function request<T>(v: T, what: string): T {
  requestObject(v, what)
  return v
}

/** field adds a field to a wire message unless it holds the default (0, false, empty, absent). */
export function field(w: WireMessage, name: string, v: unknown): void {
  if (v !== undefined && v !== 0 && v !== false && v !== '') w[name] = v
}

// ---- header and key-values

interface WireHeader {
  clusterId?: WireInt
  memberId?: WireInt
  revision?: WireInt
  raftTerm?: WireInt
}

const ZERO_HEADER: ResponseHeader = Object.freeze({ clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 })

export const header: Codec<ResponseHeader> = {
  fromWire(w) {
    const h = w as WireHeader | null
    if (h === null || h === undefined) return { ...ZERO_HEADER }
    return { clusterId: uid(h.clusterId), memberId: uid(h.memberId), revision: int(h.revision), raftTerm: int(h.raftTerm) }
  },
  toWire(h) {
    const w: WireMessage = {}
    if (h.clusterId !== 0n) w.clusterId = long(h.clusterId)
    if (h.memberId !== 0n) w.memberId = long(h.memberId)
    field(w, 'revision', h.revision)
    field(w, 'raftTerm', h.raftTerm)
    return w
  },
}

/** headerOnlyResponse is the codec of the answers that carry only a header (auth changes, Unlock, Proclaim, Resign). */
export const headerOnlyResponse: Codec<{ header: ResponseHeader }> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage) }),
  toWire: (r) => ({ header: header.toWire(r.header) }),
}

interface WireKeyValue {
  key: Uint8Array
  createRevision: WireInt
  modRevision: WireInt
  version: WireInt
  value: Uint8Array
  lease: WireInt
}

export const keyValue: Codec<KeyValue> = {
  fromWire(w) {
    const kv = w as unknown as WireKeyValue
    return {
      key: bytes(kv.key),
      createRevision: int(kv.createRevision),
      modRevision: int(kv.modRevision),
      version: int(kv.version),
      value: bytes(kv.value),
      lease: id(kv.lease),
    }
  },
  toWire(kv) {
    const w: WireMessage = { key: kv.key }
    field(w, 'createRevision', kv.createRevision)
    field(w, 'modRevision', kv.modRevision)
    field(w, 'version', kv.version)
    if (kv.value.length > 0) w.value = kv.value
    if (kv.lease !== 0n) w.lease = long(kv.lease)
    return w
  },
}

function kvsFromWire(list: unknown): KeyValue[] {
  const a = list as WireMessage[] | undefined
  return a === undefined || a.length === 0 ? [] : a.map(keyValue.fromWire)
}

function kvsToWire(kvs: readonly KeyValue[]): WireMessage[] | undefined {
  return kvs.length === 0 ? undefined : kvs.map(keyValue.toWire)
}

// ---- KV requests

interface WireRangeRequest {
  key: Uint8Array
  rangeEnd: Uint8Array
  limit: WireInt
  revision: WireInt
  sortOrder: number
  sortTarget: number
  serializable: boolean
  keysOnly: boolean
  countOnly: boolean
  minModRevision: WireInt
  maxModRevision: WireInt
  minCreateRevision: WireInt
  maxCreateRevision: WireInt
}

/**
 * emptyEndIsUnbounded: etcd 3.4 serves a Range, and a txn made only of ranges, without passing it through raft, on
 * the message as decoded, where a range_end that is present on the wire but empty (a non-nil empty slice) selects
 * every key from `key` on, as "\0" does. Everything that passes through raft (puts, deletes, txns with any other op)
 * is encoded again on the way, which drops empty fields: there an empty range_end is no range_end, one key. Watches
 * are told so explicitly. So the decoders turn a present, empty range_end into UNBOUNDED_END where etcd reads it so,
 * and into nothing elsewhere (docs/etcd-3.4-present-empty-fields.md).
 */
const UNBOUNDED_END = Buffer.from([0])

/** rangeEndOf reads a message's range_end: a present but empty one is UNBOUNDED_END when `emptyEndIsUnbounded`. */
function rangeEndOf(w: WireMessage, emptyEndIsUnbounded: boolean): Buffer {
  const end = bytes(w.rangeEnd)
  if (end.length === 0 && emptyEndIsUnbounded && Object.prototype.hasOwnProperty.call(w, 'rangeEnd')) return UNBOUNDED_END
  return end
}

/** rangeFromWire decodes a RangeRequest, top-level or in a txn (see emptyEndIsUnbounded). */
function rangeFromWire(w: WireMessage, emptyEndIsUnbounded: boolean): RangeRequest {
  const m = w as unknown as WireRangeRequest
  let sortOrder: SortOrder | undefined = sortOrders[m.sortOrder]
  let sortTarget = sortTargets[m.sortTarget] ?? (`${m.sortTarget}` as SortTarget)
  if (sortOrder === undefined) {
    // etcd 3.4 ignores a sort order it does not know: the range comes back in key order, whatever the target.
    // A known order with an unknown target crashed etcd 3.4; the engine answers "invalid sort option" instead.
    sortOrder = 'NONE'
    sortTarget = 'KEY'
  }
  return {
    key: bytes(m.key),
    rangeEnd: rangeEndOf(w, emptyEndIsUnbounded),
    limit: int(m.limit),
    revision: int(m.revision),
    sortOrder,
    sortTarget,
    serializable: m.serializable === true,
    keysOnly: m.keysOnly === true,
    countOnly: m.countOnly === true,
    minModRevision: int(m.minModRevision),
    maxModRevision: int(m.maxModRevision),
    minCreateRevision: int(m.minCreateRevision),
    maxCreateRevision: int(m.maxCreateRevision),
  }
}

export const rangeRequest: Codec<RangeRequest> = {
  fromWire: (w) => rangeFromWire(w, true),
  toWire(r) {
    request(r, 'range request')
    const w: WireMessage = {}
    field(w, 'key', keyArg(r.key))
    field(w, 'rangeEnd', bytesArg(r.rangeEnd, 'rangeEnd'))
    field(w, 'limit', intArg(r.limit, 'limit'))
    field(w, 'revision', intArg(r.revision, 'revision'))
    const sort = sortOption(r.sortOrder, r.sortTarget)
    field(w, 'sortOrder', sort.order)
    field(w, 'sortTarget', sort.target)
    field(w, 'serializable', boolArg(r.serializable, 'serializable'))
    field(w, 'keysOnly', boolArg(r.keysOnly, 'keysOnly'))
    field(w, 'countOnly', boolArg(r.countOnly, 'countOnly'))
    field(w, 'minModRevision', intArg(r.minModRevision, 'minModRevision'))
    field(w, 'maxModRevision', intArg(r.maxModRevision, 'maxModRevision'))
    field(w, 'minCreateRevision', intArg(r.minCreateRevision, 'minCreateRevision'))
    field(w, 'maxCreateRevision', intArg(r.maxCreateRevision, 'maxCreateRevision'))
    return w
  },
}

interface WirePutRequest {
  key: Uint8Array
  value: Uint8Array
  lease: WireInt
  prevKv: boolean
  ignoreValue: boolean
  ignoreLease: boolean
}

export const putRequest: Codec<PutRequest> = {
  fromWire(w) {
    const m = w as unknown as WirePutRequest
    const r: PutRequest = { key: bytes(m.key), value: bytes(m.value) }
    const lease = id(m.lease)
    if (lease !== 0n) r.lease = lease
    if (m.prevKv === true) r.prevKv = true
    if (m.ignoreValue === true) r.ignoreValue = true
    if (m.ignoreLease === true) r.ignoreLease = true
    return r
  },
  toWire(r) {
    request(r, 'put request')
    const w: WireMessage = {}
    field(w, 'key', keyArg(r.key))
    field(w, 'value', bytesArg(r.value, 'value'))
    field(w, 'lease', idArg(r.lease, 'lease'))
    field(w, 'prevKv', boolArg(r.prevKv, 'prevKv'))
    field(w, 'ignoreValue', boolArg(r.ignoreValue, 'ignoreValue'))
    field(w, 'ignoreLease', boolArg(r.ignoreLease, 'ignoreLease'))
    return w
  },
}

interface WireDeleteRangeRequest {
  key: Uint8Array
  rangeEnd: Uint8Array
  prevKv: boolean
}

export const deleteRangeRequest: Codec<DeleteRangeRequest> = {
  fromWire(w) {
    const m = w as unknown as WireDeleteRangeRequest
    return { key: bytes(m.key), rangeEnd: bytes(m.rangeEnd), prevKv: m.prevKv === true }
  },
  toWire(r) {
    request(r, 'delete request')
    const w: WireMessage = {}
    field(w, 'key', keyArg(r.key))
    field(w, 'rangeEnd', bytesArg(r.rangeEnd, 'rangeEnd'))
    field(w, 'prevKv', boolArg(r.prevKv, 'prevKv'))
    return w
  },
}

interface WireCompare {
  result: number
  target: number
  key: Uint8Array
  rangeEnd: Uint8Array
  version: WireInt | null
  createRevision: WireInt | null
  modRevision: WireInt | null
  value: Uint8Array | null
  lease: WireInt | null
}

/** compareFromWire decodes a txn compare (see emptyEndIsUnbounded for its range_end). */
function compareFromWire(w: WireMessage, emptyEndIsUnbounded: boolean): Compare {
  const m = w as unknown as WireCompare
  const result = compareResults[m.result]
  const target = compareTargets[m.target]
  const key = bytes(m.key)
  const rangeEnd = rangeEndOf(w, emptyEndIsUnbounded)
  if (result === undefined) {
    // etcd 3.4 counts a compare with an unknown result as true, except that a VALUE compare fails on a missing
    // key before the result is looked at: "version > 0" (the key exists) expresses that one.
    return { key, rangeEnd, target: 'VERSION', result: 'GREATER', version: target === 'VALUE' ? 0 : -1 }
  }
  if (target === undefined) {
    // An unknown target compares as equal in etcd 3.4: only EQUAL holds. "version > -1" always holds and
    // "version < 0" never does.
    return result === 'EQUAL'
      ? { key, rangeEnd, target: 'VERSION', result: 'GREATER', version: -1 }
      : { key, rangeEnd, target: 'VERSION', result: 'LESS', version: 0 }
  }
  const c: Compare = { key, rangeEnd, result, target }
  switch (target) {
    case 'VERSION':
      c.version = int(m.version)
      break
    case 'CREATE':
      c.createRevision = int(m.createRevision)
      break
    case 'MOD':
      c.modRevision = int(m.modRevision)
      break
    case 'VALUE':
      c.value = bytes(m.value)
      break
    case 'LEASE':
      c.lease = id(m.lease)
      break
  }
  return c
}

export const compare: Codec<Compare> = {
  fromWire: (w) => compareFromWire(w, false),
  toWire(c) {
    const { target, result } = compareKinds(c)
    const w: WireMessage = {}
    field(w, 'result', result)
    field(w, 'target', target)
    field(w, 'key', keyArg(c.key, 'compare key'))
    field(w, 'rangeEnd', bytesArg(c.rangeEnd, 'compare rangeEnd'))
    // The operand is a oneof: set exactly the member of the target, as etcd's clients do, even when it is zero.
    switch (c.target) {
      case 'VERSION':
        w.version = safeInt(c.version, 'compare version')
        break
      case 'CREATE':
        w.createRevision = safeInt(c.createRevision, 'compare createRevision')
        break
      case 'MOD':
        w.modRevision = safeInt(c.modRevision, 'compare modRevision')
        break
      case 'VALUE':
        w.value = bytesArg(c.value, 'compare value') ?? EMPTY
        break
      case 'LEASE':
        w.lease = long(leaseId(c.lease, 'compare lease'))
        break
    }
    return w
  },
}

interface WireRequestOp {
  requestRange: WireMessage | null
  requestPut: WireMessage | null
  requestDeleteRange: WireMessage | null
  requestTxn: WireMessage | null
}

/** requestOpFromWire decodes one op of a txn; `readOnly` tells whether the whole txn is ranges only. */
function requestOpFromWire(w: WireMessage, readOnly: boolean): RequestOp {
  const m = w as unknown as WireRequestOp
  if (m.requestRange) return { requestRange: rangeFromWire(m.requestRange, readOnly) }
  if (m.requestPut) return { requestPut: putRequest.fromWire(m.requestPut) }
  if (m.requestDeleteRange) return { requestDeleteRange: deleteRangeRequest.fromWire(m.requestDeleteRange) }
  // A txn inside a txn: the outer one is not ranges only, so it passes through raft, and so does this one.
  if (m.requestTxn) return { requestTxn: txnFromWire(m.requestTxn, false) }
  // An op with nothing in it: the engine answers it as etcd does ("key not found").
  return {} as RequestOp
}

export const requestOp: Codec<RequestOp> = {
  fromWire: (w) => requestOpFromWire(w, false),
  toWire(op) {
    const o = op as Partial<Record<NonNullable<ReturnType<typeof opField>>, unknown>>
    switch (opField(op)) {
      case 'requestRange':
        return { requestRange: rangeRequest.toWire(o.requestRange as RangeRequest) }
      case 'requestPut':
        return { requestPut: putRequest.toWire(o.requestPut as PutRequest) }
      case 'requestDeleteRange':
        return { requestDeleteRange: deleteRangeRequest.toWire(o.requestDeleteRange as DeleteRangeRequest) }
      case 'requestTxn':
        return { requestTxn: txnRequest.toWire(o.requestTxn as TxnRequest) }
      default:
        // An operation with nothing in it goes as sent; the server answers it (etcd: "key not found").
        return {}
    }
  },
}

interface WireTxnRequest {
  compare: WireMessage[]
  success: WireMessage[]
  failure: WireMessage[]
}

/**
 * txnFromWire decodes a txn. etcd 3.4 serves a top-level txn whose every op is a range without raft (its
 * isTxnReadonly), so only there does a present, empty range_end mean "to the end" (see emptyEndIsUnbounded).
 */
function txnFromWire(w: WireMessage, topLevel: boolean): TxnRequest {
  const m = w as unknown as WireTxnRequest
  const isRange = (op: WireMessage) => Boolean((op as unknown as WireRequestOp).requestRange)
  const readOnly = topLevel && m.success.every(isRange) && m.failure.every(isRange)
  return {
    compare: m.compare.map((c) => compareFromWire(c, readOnly)),
    success: m.success.map((op) => requestOpFromWire(op, readOnly)),
    failure: m.failure.map((op) => requestOpFromWire(op, readOnly)),
  }
}

export const txnRequest: Codec<TxnRequest> = {
  fromWire: (w) => txnFromWire(w, true),
  toWire(r) {
    request(r, 'txn request')
    const w: WireMessage = {}
    const cmp = list(r.compare, 'compare')
    const success = list(r.success, 'success')
    const failure = list(r.failure, 'failure')
    if (cmp.length > 0) w.compare = cmp.map(compare.toWire)
    if (success.length > 0) w.success = success.map(requestOp.toWire)
    if (failure.length > 0) w.failure = failure.map(requestOp.toWire)
    return w
  },
}

interface WireCompactionRequest {
  revision: WireInt
  physical: boolean
}

export const compactionRequest: Codec<CompactionRequest> = {
  fromWire(w) {
    const m = w as unknown as WireCompactionRequest
    return { revision: int(m.revision), physical: m.physical === true }
  },
  toWire(r) {
    request(r, 'compaction request')
    const w: WireMessage = {}
    field(w, 'revision', intArg(r.revision, 'revision'))
    field(w, 'physical', boolArg(r.physical, 'physical'))
    return w
  },
}

// ---- KV responses

interface WireRangeResponse {
  header: WireMessage | null
  kvs: WireMessage[]
  more: boolean
  count: WireInt
}

export const rangeResponse: Codec<RangeResponse> = {
  fromWire(w) {
    const m = w as unknown as WireRangeResponse
    return { header: header.fromWire(m.header!), kvs: kvsFromWire(m.kvs), more: m.more === true, count: int(m.count) }
  },
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'kvs', kvsToWire(r.kvs))
    field(w, 'more', r.more)
    field(w, 'count', r.count)
    return w
  },
}

interface WirePutResponse {
  header: WireMessage | null
  prevKv: WireMessage | null
}

export const putResponse: Codec<PutResponse> = {
  fromWire(w) {
    const m = w as unknown as WirePutResponse
    const r: PutResponse = { header: header.fromWire(m.header!) }
    if (m.prevKv) r.prevKv = keyValue.fromWire(m.prevKv)
    return r
  },
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    if (r.prevKv !== undefined) w.prevKv = keyValue.toWire(r.prevKv)
    return w
  },
}

interface WireDeleteRangeResponse {
  header: WireMessage | null
  deleted: WireInt
  prevKvs: WireMessage[]
}

export const deleteRangeResponse: Codec<DeleteRangeResponse> = {
  fromWire(w) {
    const m = w as unknown as WireDeleteRangeResponse
    return { header: header.fromWire(m.header!), deleted: int(m.deleted), prevKvs: kvsFromWire(m.prevKvs) }
  },
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'deleted', r.deleted)
    field(w, 'prevKvs', kvsToWire(r.prevKvs))
    return w
  },
}

interface WireResponseOp {
  responseRange: WireMessage | null
  responsePut: WireMessage | null
  responseDeleteRange: WireMessage | null
  responseTxn: WireMessage | null
}

export const responseOp: Codec<ResponseOp> = {
  fromWire(w) {
    const m = w as unknown as WireResponseOp
    if (m.responseRange) return { responseRange: rangeResponse.fromWire(m.responseRange) }
    if (m.responsePut) return { responsePut: putResponse.fromWire(m.responsePut) }
    if (m.responseDeleteRange) return { responseDeleteRange: deleteRangeResponse.fromWire(m.responseDeleteRange) }
    if (m.responseTxn) return { responseTxn: txnResponse.fromWire(m.responseTxn) }
    throw new TypeError('etcd answered a txn operation with an empty response')
  },
  toWire(op) {
    if ('responseRange' in op) return { responseRange: rangeResponse.toWire(op.responseRange) }
    if ('responsePut' in op) return { responsePut: putResponse.toWire(op.responsePut) }
    if ('responseDeleteRange' in op) return { responseDeleteRange: deleteRangeResponse.toWire(op.responseDeleteRange) }
    return { responseTxn: txnResponse.toWire(op.responseTxn) }
  },
}

interface WireTxnResponse {
  header: WireMessage | null
  succeeded: boolean
  responses: WireMessage[]
}

export const txnResponse: Codec<TxnResponse> = {
  fromWire(w) {
    const m = w as unknown as WireTxnResponse
    return {
      header: header.fromWire(m.header!),
      succeeded: m.succeeded === true,
      responses: m.responses.length === 0 ? [] : m.responses.map(responseOp.fromWire),
    }
  },
  toWire(r) {
    // A nested txn's header is present and empty in etcd's answers; header.toWire keeps it present.
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'succeeded', r.succeeded)
    if (r.responses.length > 0) w.responses = r.responses.map(responseOp.toWire)
    return w
  },
}

export const compactionResponse: Codec<CompactionResponse> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage) }),
  toWire: (r) => ({ header: header.toWire(r.header) }),
}

