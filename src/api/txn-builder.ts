import type { Compare, TxnRequest } from '../messages/kv.ts'
import type { KV } from '../messages/kv.ts'
import { opResponse, type Op, type TxnResult } from './ops.ts'

/**
 * TxnBuilder is etcd's client txn: `if(...compares).then(...ops).else(...ops).commit()`. Each part may be given once,
 * in that order, as in etcd's Go client; commit() sends it as one atomic request.
 *
 * @example
 * const { succeeded } = await etcd.txn()
 *   .if(compare.value('lock', '=', ''))
 *   .then(op.put('lock', 'me'))
 *   .else(op.get('lock'))
 *   .commit()
 */
export class TxnBuilder {
  readonly #kv: KV
  readonly #request: Required<TxnRequest> = { compare: [], success: [], failure: [] }
  #stage: 0 | 1 | 2 | 3 = 0

  constructor(kv: KV) {
    this.#kv = kv
  }

  /** if adds the conditions; all of them must hold for `then` to run. */
  if(...compares: Compare[]): this {
    this.#advance(1, 'if')
    this.#request.compare.push(...compares)
    return this
  }

  /** then adds the ops run when every condition holds. */
  then(...ops: Op[]): this {
    this.#advance(2, 'then')
    this.#request.success.push(...ops)
    return this
  }

  /** else adds the ops run otherwise. */
  else(...ops: Op[]): this {
    this.#advance(3, 'else')
    this.#request.failure.push(...ops)
    return this
  }

  /** commit runs the txn. */
  async commit(): Promise<TxnResult> {
    const response = await this.#kv.txn(this.#request)
    return { header: response.header, succeeded: response.succeeded, responses: response.responses.map(opResponse) }
  }

  #advance(stage: 1 | 2 | 3, name: string): void {
    if (this.#stage >= stage) throw new TypeError(`txn: ${name}() called after ${['', 'if', 'then', 'else'][this.#stage]}()`)
    this.#stage = stage
  }
}
