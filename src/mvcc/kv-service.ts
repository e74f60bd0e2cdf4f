import { fromBin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  KV,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../messages/kv.ts'
import { applyDelete, applyPut, applyRange, type LeaseRegistry, type RangeOutcome } from './apply.ts'
import { EMPTY, keyValues } from './key-values.ts'
import type { KeyRecord } from './key-record.ts'
import { raftRequestSize } from './request-size.ts'
import { int } from '../util/fields.ts'
import { parseDelete, parsePut, parseRange, parseTxn, type RequestLimits, type TxnOp } from './requests.ts'
import type { MvccStore } from './store.ts'
import { evaluateCompares, evaluateTxn, type OpOutcome, type TxnOutcome } from './txn.ts'
import { checkDuplicateKeys } from './txn-intervals.ts'
import { KvStats } from './kv-stats.ts'
import { opNeeds, type KeyRange, type KvAccess, type LeaseKeys } from './kv-access.ts'
import type { CallCredentials } from '../messages/auth.ts'

/** KvLimits: etcd's request limits. */
export interface KvLimits extends RequestLimits {
  /** maxRequestBytes caps the encoded size of a write request. @default 1572864 (1.5 MiB) */
  maxRequestBytes: number
}

/** KvContext is what the KV service needs from the engine around it. */
export interface KvContext {
  readonly store: MvccStore
  readonly leases: LeaseRegistry
  readonly limits: KvLimits
  /** header builds a response header at a revision (cluster and member ids, raft term). */
  header(revision: number): ResponseHeader
  /** assertOpen throws ETCD_STOPPED once the engine is closed. */
  assertOpen(): void
  /**
   * durable returns a promise that settles once everything written so far is on disk, or undefined when nothing
   * is waiting. Writes are acknowledged, and reads answered, only then: no one sees a write a crash could lose.
   */
  durable(): Promise<void> | undefined
  /** access checks permissions once auth is on; absent, every request is allowed. */
  readonly access?: KvAccess
  /** leaseKeys lists a lease's keys, which a put with that lease needs write permission over. */
  readonly leaseKeys?: LeaseKeys
}

/**
 * KvService is etcd's KV service over the MVCC store: it parses each request (etcd's static checks), applies it in a
 * read or write txn, and answers the proto-shaped response. A request that fails changes nothing.
 */
export class KvService implements KV {
  readonly #ctx: KvContext
  /** stats counts the operations applied, for metrics. */
  readonly stats = new KvStats()

  constructor(ctx: KvContext) {
    this.#ctx = ctx
  }

  range(request: RangeRequest, credentials?: CallCredentials): Promise<RangeResponse> {
    // Not async, as put: a read with nothing waiting for the disk settles a ready promise without an async frame.
    try {
      const ctx = this.#ctx
      ctx.assertOpen()
      const op = parseRange(request)
      if (credentials !== undefined || ctx.access?.enabled === true) this.#check(credentials, op)
      const view = ctx.store.read()
      this.stats.ranges++
      const outcome = applyRange(view, op)
      const wait = ctx.durable()
      // The answer is built once the wait is over, so a read that fails meanwhile copies nothing.
      if (wait === undefined) return Promise.resolve(rangeResponse(outcome, ctx.header(view.rev)))
      return wait.then(() => rangeResponse(outcome, ctx.header(view.rev)))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  put(request: PutRequest, credentials?: CallCredentials): Promise<PutResponse> {
    return this.#answer(this.#put, request, credentials)
  }

  #put(request: PutRequest, credentials: CallCredentials | undefined): PutResponse {
    const ctx = this.#ctx
    ctx.assertOpen()
    const op = parsePut(request)
    // Small requests cannot reach the limit: skip measuring them.
    if (op.key.length + op.value.length > ctx.limits.maxRequestBytes - 64) this.#checkSize(raftRequestSize(op))
    if (credentials !== undefined || ctx.access?.enabled === true) this.#check(credentials, op)
    // A one-shot put looks the lease up before anything else, as etcd's does.
    if (op.lease !== 0n && !ctx.leases.has(op.lease)) throw new EtcdError('ETCD_LEASE_NOT_FOUND')
    if (!op.prevKv && !op.ignoreValue && !op.ignoreLease) {
      // The common put reads nothing first: one store write, no txn objects.
      const { rev } = ctx.store.put(op.key, op.value, op.lease)
      this.stats.countPut(op)
      return { header: ctx.header(rev) }
    }
    const txn = ctx.store.write()
    try {
      const outcome = applyPut(txn, op, ctx.leases)
      txn.end()
      this.stats.countPut(op)
      const response: PutResponse = { header: ctx.header(ctx.store.rev) }
      if (outcome.prev !== undefined) response.prevKv = keyValue(outcome.prev, false)
      return response
    } finally {
      txn.abort()
    }
  }

  deleteRange(request: DeleteRangeRequest, credentials?: CallCredentials): Promise<DeleteRangeResponse> {
    return this.#answer(this.#deleteRange, request, credentials)
  }

  #deleteRange(request: DeleteRangeRequest, credentials: CallCredentials | undefined): DeleteRangeResponse {
    const ctx = this.#ctx
    ctx.assertOpen()
    const op = parseDelete(request)
    this.#checkSize(raftRequestSize(op))
    if (credentials !== undefined || ctx.access?.enabled === true) this.#check(credentials, op)
    const txn = ctx.store.write()
    try {
      const outcome = applyDelete(txn, op)
      txn.end()
      this.stats.countDelete(op)
      return {
        header: ctx.header(ctx.store.rev),
        deleted: outcome.deleted,
        prevKvs: outcome.prevs === undefined ? [] : keyValues(outcome.prevs, false),
      }
    } finally {
      txn.abort()
    }
  }

  txn(request: TxnRequest, credentials?: CallCredentials): Promise<TxnResponse> {
    return this.#answer(this.#txn, request, credentials)
  }

  #txn(request: TxnRequest, credentials: CallCredentials | undefined): TxnResponse {
    const ctx = this.#ctx
    ctx.assertOpen()
    const op = parseTxn(request, ctx.limits)
    checkDuplicateKeys(op.success, op.failure)
    this.#checkSize(raftRequestSize(op))
    if (credentials !== undefined || ctx.access?.enabled === true) this.#check(credentials, op)
    const quick = this.#singleKeyTxn(op)
    if (quick !== undefined) return quick
    const txn = ctx.store.write()
    try {
      const outcome = evaluateTxn(txn, op, ctx.leases)
      txn.end()
      this.stats.countTxn(op, outcome.succeeded, outcome.responses)
      return txnResponses(outcome, ctx.header(ctx.store.rev))
    } finally {
      txn.abort()
    }
  }

  /**
   * #singleKeyTxn answers the commonest txns without a write txn: compares on single keys (a compare-and-swap, or a
   * create-if-absent) whose chosen branch is empty or one plain put. The compares read the current revision, as
   * evaluateTxn's would; the put is then the one-shot put's store write (`store.put`), which has the same effect as
   * the put inside a write txn. Returns undefined for any other txn, which then takes the general path.
   */
  #singleKeyTxn(op: TxnOp): TxnResponse | undefined {
    const compares = op.compares
    for (let i = 0; i < compares.length; i++) if (compares[i]!.end !== '') return undefined
    const ctx = this.#ctx
    const store = ctx.store
    const succeeded = evaluateCompares(store.read(), compares)
    const ops = succeeded ? op.success : op.failure
    if (ops.length === 0) {
      this.stats.countTxn(op, succeeded, NO_OUTCOMES)
      return { header: ctx.header(store.rev), succeeded, responses: [] }
    }
    const put = ops[0]!
    if (ops.length !== 1 || put.kind !== 'put' || put.prevKv || put.ignoreValue || put.ignoreLease) return undefined
    if (put.lease !== 0n && !ctx.leases.has(put.lease)) throw new EtcdError('ETCD_LEASE_NOT_FOUND')
    const { rev } = store.put(put.key, put.value, put.lease)
    this.stats.countTxn(op, succeeded, PUT_OUTCOMES)
    return { header: ctx.header(rev), succeeded, responses: [{ responsePut: { header: nestedHeader(rev) } }] }
  }

  /**
   * #answer runs a write (`run`, one of the private methods, called on this service) and answers its response once
   * everything written so far is on disk: writes are acknowledged only then. Not async, and given the method rather
   * than a closure: in memory it settles a ready promise with no async frame, extra turn or allocation of its own;
   * a request that throws becomes a rejected promise.
   */
  #answer<R, T>(
    run: (request: R, credentials: CallCredentials | undefined) => T,
    request: R,
    credentials: CallCredentials | undefined,
  ): Promise<T> {
    try {
      const response = run.call(this, request, credentials)
      const wait = this.#ctx.durable()
      return wait === undefined ? Promise.resolve(response) : wait.then(() => response)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** compact needs no permission, as in etcd 3.4 (a token given must still be valid). */
  async compact(request: CompactionRequest, credentials?: CallCredentials): Promise<CompactionResponse> {
    const ctx = this.#ctx
    ctx.assertOpen()
    if (credentials !== undefined) ctx.access?.checkToken(credentials)
    if (typeof request !== 'object' || request === null) throw new TypeError('compaction request must be an object')
    const revision = int(request.revision, 'revision')
    const done = ctx.store.compact(revision)
    this.stats.ranges++
    const rev = ctx.store.rev
    if (request.physical === true) await done
    await ctx.durable()
    return { header: ctx.header(rev) }
  }

  /** #check runs the permission check for an op (see opNeeds for what each op needs). */
  #check(credentials: CallCredentials | undefined, op: Parameters<typeof opNeeds>[0]): void {
    const access = this.#ctx.access
    if (access === undefined) return
    const reads: KeyRange[] = []
    const writes: KeyRange[] = []
    opNeeds(op, reads, writes, this.#ctx.leaseKeys)
    access.check(credentials, reads, writes)
  }

  #checkSize(size: number): void {
    if (size > this.#ctx.limits.maxRequestBytes) throw new EtcdError('ETCD_REQUEST_TOO_LARGE')
  }
}

/** keyValue turns a stored record into the KeyValue message (fresh buffers the caller may keep or change). */
export function keyValue(record: KeyRecord, keysOnly: boolean): KeyValue {
  return {
    key: fromBin(record.key),
    createRevision: record.createRevision,
    modRevision: record.modRevision,
    version: record.version,
    value: keysOnly || record.value === '' ? EMPTY : fromBin(record.value),
    lease: record.lease,
  }
}

/**
 * rangeResponse answers a range: its kvs copy the records' bytes (key-values.ts, or for a lone record two small
 * pooled Buffers, which cost less than a chunk and its views), countOnly has no records.
 */
function rangeResponse(outcome: RangeOutcome, header: ResponseHeader): RangeResponse {
  return {
    header,
    kvs:
      outcome.records.length === 0
        ? []
        : outcome.records.length === 1
          ? [keyValue(outcome.records[0]!, outcome.keysOnly)]
          : keyValues(outcome.records, outcome.keysOnly),
    more: outcome.more,
    count: outcome.count,
  }
}

/**
 * responseOp converts one op's outcome inside a txn. As in etcd, a nested response's header holds only its revision
 * (the txn's view revision right after that op), and a nested txn's header is empty.
 */
function responseOp(outcome: OpOutcome, rev: number): ResponseOp {
  const header = nestedHeader(rev)
  switch (outcome.kind) {
    case 'range':
      return { responseRange: rangeResponse(outcome, header) }
    case 'put': {
      const responsePut: PutResponse = { header }
      if (outcome.prev !== undefined) responsePut.prevKv = keyValue(outcome.prev, false)
      return { responsePut }
    }
    case 'delete':
      return {
        responseDeleteRange: {
          header,
          deleted: outcome.deleted,
          prevKvs: outcome.prevs === undefined ? [] : keyValues(outcome.prevs, false),
        },
      }
    case 'txn':
      return { responseTxn: txnResponses(outcome, nestedHeader(0)) }
  }
}

function txnResponses(outcome: TxnOutcome, header: ResponseHeader): TxnResponse {
  return {
    header,
    succeeded: outcome.succeeded,
    responses: outcome.responses.map((o, i) => responseOp(o, outcome.revs[i]!)),
  }
}

/** The outcomes of an empty branch and of a branch of one put without prevKv, for counting a single-key txn. */
const NO_OUTCOMES: readonly OpOutcome[] = []
const PUT_OUTCOMES: readonly OpOutcome[] = [{ kind: 'put', prev: undefined }]

function nestedHeader(revision: number): ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision, raftTerm: 0 }
}
