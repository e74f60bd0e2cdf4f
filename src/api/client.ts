import type { BytesLike } from '../util/bytes.ts'
import type {
  CompactionResponse,
  DeleteRangeResponse,
  PutResponse,
  RangeResponse,
} from '../messages/kv.ts'
import { deleteRequest, opResponse, rangeRequest, type Op, type OpResponse } from './ops.ts'
import type { DeleteOptions, GetOptions, PutOptions } from './options.ts'
import type { Services } from './services.ts'
import { TxnBuilder } from './txn-builder.ts'

/**
 * Client is the client-level API of etcd's Go client (KV: Put, Get, Delete, Compact, Do, Txn), written once over the
 * services level, so it behaves the same over the in-process engine and over any other Services.
 */
export class Client {
  /** services is the services level underneath: etcd's gRPC API as plain objects. */
  readonly services: Services

  constructor(services: Services) {
    this.services = services
  }

  /**
   * put writes `value` under `key`.
   * @example await etcd.put('config/port', '8080', { prevKv: true })
   */
  put(key: BytesLike, value: BytesLike, options: PutOptions = {}): Promise<PutResponse> {
    return this.services.kv.put({ key, value, ...options })
  }

  /**
   * get reads a key, or a range with `prefix`, `fromKey` or `rangeEnd`. Cost: O(log keys + keys in range).
   * @example const { kvs } = await etcd.get('config/', { prefix: true })
   */
  get(key: BytesLike, options: GetOptions = {}): Promise<RangeResponse> {
    return this.services.kv.range(rangeRequest(key, options))
  }

  /**
   * delete removes a key, or a range with `prefix`, `fromKey` or `rangeEnd`.
   * @example const { deleted } = await etcd.delete('config/', { prefix: true })
   */
  delete(key: BytesLike, options: DeleteOptions = {}): Promise<DeleteRangeResponse> {
    return this.services.kv.deleteRange(deleteRequest(key, options))
  }

  /**
   * compact discards the history before `revision`; reads below it fail with ETCD_COMPACTED afterwards. With
   * `physical` the call returns once the history is gone.
   */
  compact(revision: number, options: { physical?: boolean } = {}): Promise<CompactionResponse> {
    return this.services.kv.compact({ revision, physical: options.physical ?? false })
  }

  /** do runs one op built with `op.get / put / delete / txn`. */
  async do(operation: Op): Promise<OpResponse> {
    const kv = this.services.kv
    if ('requestRange' in operation) return { get: await kv.range(operation.requestRange) }
    if ('requestPut' in operation) return { put: await kv.put(operation.requestPut) }
    if ('requestDeleteRange' in operation) return { delete: await kv.deleteRange(operation.requestDeleteRange) }
    if ('requestTxn' in operation) {
      const r = await kv.txn(operation.requestTxn)
      return opResponse({ responseTxn: r })
    }
    throw new TypeError('do: not an op; build one with op.get, op.put, op.delete or op.txn')
  }

  /** txn starts a transaction: `.if(...).then(...).else(...).commit()`. */
  txn(): TxnBuilder {
    return new TxnBuilder(this.services.kv)
  }
}
