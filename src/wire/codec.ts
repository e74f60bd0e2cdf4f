import { Buffer } from 'node:buffer'
import { int as safeInt, leaseId } from '../util/fields.ts'
import { compareKinds, list, opField, sortOption } from '../messages/request-checks.ts'
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
import { messageCodec, type MessageRules } from './message-codec.ts'
import type { WireInt, WireMessage } from './proto.ts'
import { bytes, bytesArg, EMPTY, field, id, int, keyArg, long, request, type Codec } from './wire-values.ts'

export {
  bytes,
  bytesArg,
  boolArg,
  field,
  id,
  idArg,
  int,
  intArg,
  keyArg,
  long,
  request,
  str,
  strArg,
  uid,
  type Codec,
} from './wire-values.ts'

/**
 * The codec between the wire (protobufjs messages, see wire.ts) and the services level (src/messages): one
 * `Codec<T>` per message, with `fromWire` and `toWire`, compiled from the proto definitions (message-codec.ts), with
 * the rules that reach across fields (oneofs, a txn's ops) written out here. The server decodes requests with
 * `fromWire` and encodes responses with `toWire`; the remote services do the opposite; both use these functions.
 *
 * Numbers: revisions, counts and TTLs become numbers (a value beyond 2^53 is clamped to the nearest safe integer:
 * revisions are compared, never echoed, so clamping keeps every comparison's outcome); lease, cluster and member ids
 * become bigints, converted bit for bit. Bytes stay Buffers. Enums travel as numbers and are names above; unknown
 * numbers get etcd 3.4's observed treatment (see each codec). `toWire` leaves out fields holding the proto default,
 * as etcd's encoder does; for requests it runs the engine's own shape checks (src/messages/request-checks.ts: a
 * TypeError for a wrong type), so a bad request fails the same way in process and over the network, and leaves
 * etcd's checks (an empty key, ...) to the server that answers it.
 */


// ---- header and key-values

export const header = messageCodec<ResponseHeader>('etcdserverpb.ResponseHeader', { ids: ['clusterId', 'memberId'] })

/** headerOnlyResponse is the codec of the answers that carry only a header (auth changes, Unlock, Proclaim, Resign). */
export const headerOnlyResponse: Codec<{ header: ResponseHeader }> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage) }),
  toWire: (r) => ({ header: header.toWire(r.header) }),
}

export const keyValue = messageCodec<KeyValue>('mvccpb.KeyValue', { ids: ['lease'] })

// ---- KV requests

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

/**
 * rangeRules: a RangeRequest's rules, top-level or in a txn (see emptyEndIsUnbounded). etcd 3.4 ignores a sort order
 * it does not know: the range comes back in key order, whatever the target. A known order with an unknown target
 * crashed etcd 3.4; it decodes as the number's text, and the engine answers "invalid sort option".
 */
function rangeRules(emptyEndIsUnbounded: boolean): MessageRules {
  return {
    request: 'range request',
    keys: ['key'],
    hooks: {
      rangeEnd: { fromWire: (_v, w) => rangeEndOf(w, emptyEndIsUnbounded) },
      sortOrder: {
        fromWire: (v): SortOrder => sortOrders[v as number] ?? 'NONE',
        toWire: (_v, r) => sortOption(r.sortOrder as SortOrder, r.sortTarget as SortTarget).order || undefined,
      },
      sortTarget: {
        fromWire: (v, w): SortTarget =>
          sortOrders[w.sortOrder as number] === undefined ? 'KEY' : (sortTargets[v as number] ?? (`${v as number}` as SortTarget)),
        toWire: (_v, r) => sortOption(r.sortOrder as SortOrder, r.sortTarget as SortTarget).target || undefined,
      },
    },
  }
}

export const rangeRequest = messageCodec<RangeRequest>('etcdserverpb.RangeRequest', rangeRules(true))

/** rangeInWrites decodes a range that etcd 3.4 passes through raft (in a txn that writes). */
const rangeInWrites = messageCodec<RangeRequest>('etcdserverpb.RangeRequest', rangeRules(false))

export const putRequest = messageCodec<PutRequest>('etcdserverpb.PutRequest', {
  request: 'put request',
  keys: ['key'],
  ids: ['lease'],
  optional: ['lease', 'prevKv', 'ignoreValue', 'ignoreLease'],
})

export const deleteRangeRequest = messageCodec<DeleteRangeRequest>('etcdserverpb.DeleteRangeRequest', {
  request: 'delete request',
  keys: ['key'],
})

/** compareFromWire decodes a txn compare (see emptyEndIsUnbounded for its range_end). */
function compareFromWire(w: WireMessage, emptyEndIsUnbounded: boolean): Compare {
  const result = compareResults[w.result as number]
  const target = compareTargets[w.target as number]
  const key = bytes(w.key)
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
      c.version = int(w.version as WireInt)
      break
    case 'CREATE':
      c.createRevision = int(w.createRevision as WireInt)
      break
    case 'MOD':
      c.modRevision = int(w.modRevision as WireInt)
      break
    case 'VALUE':
      c.value = bytes(w.value)
      break
    case 'LEASE':
      c.lease = id(w.lease as WireInt)
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

/** requestOpFromWire decodes one op of a txn; `readOnly` tells whether the whole txn is ranges only. */
function requestOpFromWire(w: WireMessage, readOnly: boolean): RequestOp {
  if (w.requestRange) return { requestRange: (readOnly ? rangeRequest : rangeInWrites).fromWire(w.requestRange as WireMessage) }
  if (w.requestPut) return { requestPut: putRequest.fromWire(w.requestPut as WireMessage) }
  if (w.requestDeleteRange) return { requestDeleteRange: deleteRangeRequest.fromWire(w.requestDeleteRange as WireMessage) }
  // A txn inside a txn: the outer one is not ranges only, so it passes through raft, and so does this one.
  if (w.requestTxn) return { requestTxn: txnFromWire(w.requestTxn as WireMessage, false) }
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

function wireList(v: unknown): WireMessage[] {
  return (v as WireMessage[] | undefined) ?? []
}

/**
 * txnFromWire decodes a txn. etcd 3.4 serves a top-level txn whose every op is a range without raft (its
 * isTxnReadonly), so only there does a present, empty range_end mean "to the end" (see emptyEndIsUnbounded).
 */
function txnFromWire(w: WireMessage, topLevel: boolean): TxnRequest {
  const success = wireList(w.success)
  const failure = wireList(w.failure)
  const isRange = (op: WireMessage) => Boolean(op.requestRange)
  const readOnly = topLevel && success.every(isRange) && failure.every(isRange)
  return {
    compare: wireList(w.compare).map((c) => compareFromWire(c, readOnly)),
    success: success.map((op) => requestOpFromWire(op, readOnly)),
    failure: failure.map((op) => requestOpFromWire(op, readOnly)),
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

export const compactionRequest = messageCodec<CompactionRequest>('etcdserverpb.CompactionRequest', { request: 'compaction request' })

// ---- KV responses

export const rangeResponse = messageCodec<RangeResponse>('etcdserverpb.RangeResponse', { messages: { header, kvs: keyValue } })

export const putResponse = messageCodec<PutResponse>('etcdserverpb.PutResponse', {
  messages: { header, prevKv: keyValue },
  optional: ['prevKv'],
})

export const deleteRangeResponse = messageCodec<DeleteRangeResponse>('etcdserverpb.DeleteRangeResponse', {
  messages: { header, prevKvs: keyValue },
})

export const responseOp: Codec<ResponseOp> = {
  fromWire(w) {
    if (w.responseRange) return { responseRange: rangeResponse.fromWire(w.responseRange as WireMessage) }
    if (w.responsePut) return { responsePut: putResponse.fromWire(w.responsePut as WireMessage) }
    if (w.responseDeleteRange) return { responseDeleteRange: deleteRangeResponse.fromWire(w.responseDeleteRange as WireMessage) }
    if (w.responseTxn) return { responseTxn: txnResponse.fromWire(w.responseTxn as WireMessage) }
    throw new TypeError('etcd answered a txn operation with an empty response')
  },
  toWire(op) {
    if ('responseRange' in op) return { responseRange: rangeResponse.toWire(op.responseRange) }
    if ('responsePut' in op) return { responsePut: putResponse.toWire(op.responsePut) }
    if ('responseDeleteRange' in op) return { responseDeleteRange: deleteRangeResponse.toWire(op.responseDeleteRange) }
    return { responseTxn: txnResponse.toWire(op.responseTxn) }
  },
}

// A nested txn's header is present and empty in etcd's answers: header.toWire keeps it present.
export const txnResponse: Codec<TxnResponse> = messageCodec<TxnResponse>('etcdserverpb.TxnResponse', { messages: { header, responses: responseOp } })

export const compactionResponse = messageCodec<CompactionResponse>('etcdserverpb.CompactionResponse', { messages: { header } })
