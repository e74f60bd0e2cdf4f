import type { LeaderKey } from '../messages/concurrency.ts'
import type { RequestOp, TxnRequest } from '../messages/kv.ts'

/** The keys a request names, as the testing kit's fault rules and recordings filter them by prefix. */

/**
 * requestKeys lists the keys a typed request names: a range's, put's or delete's key (a range's first key), every key
 * a txn compares or touches (nested txns included), a watch create's key, a lock's name or key, an election's name or
 * leader key. Other requests name none.
 */
export function requestKeys(name: string, request: unknown): Uint8Array[] {
  const r = request as Record<string, unknown>
  const keys: Uint8Array[] = []
  const add = (k: unknown) => {
    if (k instanceof Uint8Array) keys.push(k)
    else if (typeof k === 'string') keys.push(Buffer.from(k, 'utf8'))
  }
  switch (name) {
    case 'KV.Range':
    case 'KV.Put':
    case 'KV.DeleteRange':
    case 'Lock.Unlock':
      add(r.key)
      break
    case 'KV.Txn':
      txnKeys(request as TxnRequest, add)
      break
    case 'Watch.Watch':
      add((r.createRequest as { key?: unknown } | undefined)?.key)
      break
    case 'Lock.Lock':
    case 'Election.Campaign':
    case 'Election.Leader':
    case 'Election.Observe':
      add(r.name)
      break
    case 'Election.Proclaim':
    case 'Election.Resign':
      add((r.leader as LeaderKey | undefined)?.name)
      break
  }
  return keys
}

function txnKeys(txn: TxnRequest, add: (k: unknown) => void): void {
  for (const c of txn.compare ?? []) add(c.key)
  const op = (o: RequestOp) => {
    if ('requestRange' in o) add(o.requestRange.key)
    else if ('requestPut' in o) add(o.requestPut.key)
    else if ('requestDeleteRange' in o) add(o.requestDeleteRange.key)
    else if ('requestTxn' in o) txnKeys(o.requestTxn, add)
  }
  for (const o of txn.success ?? []) op(o)
  for (const o of txn.failure ?? []) op(o)
}

/** hasPrefix tells whether `key` begins with `prefix` (bytewise). */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false
  return true
}
