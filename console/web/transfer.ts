import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { concatBytes, decodeUtf8, equalBytes, escapeBytes, fromBase64, isPrintable, prefixEnd, toBase64, unescapeBytes } from './bytes.ts'
import type { EtcdClient } from './etcd-client.ts'

/**
 * Import and export of a prefix as one JSON or YAML document: an object from key to value. Keys are written as the
 * browser shows them (\xNN for bytes that are not printable UTF-8); a value is a string when it is printable UTF-8
 * and `{ base64: "..." }` otherwise, so any bytes go out and come back unchanged.
 */

export type DocumentValue = string | { base64: string }
export type TransferFormat = 'json' | 'yaml'

/** PAGE is how many pairs one range of an export reads. */
const PAGE = 500
/** TXN_PUTS is how many puts one import txn carries (etcd allows 128 operations per txn by default). */
const TXN_PUTS = 100

/** exportPrefix reads every key under `prefix` (page by page, at one revision) into a document. */
export async function exportPrefix(client: EtcdClient, prefix: Uint8Array, format: TransferFormat): Promise<{ text: string; count: number }> {
  const doc: Record<string, DocumentValue> = {}
  const end = prefix.length === 0 ? Uint8Array.of(0) : prefixEnd(prefix)
  let from = prefix.length === 0 ? Uint8Array.of(0) : prefix
  let revision = 0
  let count = 0
  for (;;) {
    const r = await client.range({ key: from, rangeEnd: end, limit: PAGE, revision })
    revision = r.revision // every later page reads the same revision as the first
    for (const kv of r.kvs) {
      const text = decodeUtf8(kv.value)
      doc[escapeBytes(kv.key)] = text !== undefined && isPrintable(text) ? text : { base64: toBase64(kv.value) }
      count++
    }
    const last = r.kvs[r.kvs.length - 1]
    if (!r.more || last === undefined) break
    from = concatBytes(last.key, Uint8Array.of(0))
  }
  return { text: format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringifyYaml(doc), count }
}

/** PlannedPut is one key of an import with what it would do. */
export interface PlannedPut {
  readonly key: Uint8Array
  readonly value: Uint8Array
  readonly action: 'create' | 'update' | 'unchanged'
}

/** parseDocument reads a JSON or YAML document of key/value pairs. @throws Error saying what is wrong */
export function parseDocument(text: string): { key: Uint8Array; value: Uint8Array }[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    try {
      doc = parseYaml(text)
    } catch (err) {
      throw new Error(`not JSON or YAML: ${(err as Error).message.split('\n')[0]}`)
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('the document must be an object from key to value')
  return Object.entries(doc as Record<string, unknown>).map(([k, v]) => {
    if (k === '') throw new Error('a key may not be empty')
    if (typeof v === 'string') return { key: unescapeBytes(k), value: new TextEncoder().encode(v) }
    if (typeof v === 'object' && v !== null && typeof (v as { base64?: unknown }).base64 === 'string') {
      return { key: unescapeBytes(k), value: fromBase64((v as { base64: string }).base64) }
    }
    throw new Error(`the value of ${JSON.stringify(k)} must be a string or { base64: "..." }`)
  })
}

/** planImport compares each pair with the store: what an import would create, update or leave alone. */
export async function planImport(client: EtcdClient, pairs: { key: Uint8Array; value: Uint8Array }[]): Promise<PlannedPut[]> {
  return Promise.all(
    pairs.map(async (p) => {
      const current = await client.get(p.key)
      const action = current === undefined ? 'create' : equalBytes(current.value, p.value) ? 'unchanged' : 'update'
      return { ...p, action } as PlannedPut
    }),
  )
}

/** applyImport writes the planned creates and updates, TXN_PUTS to a txn; it answers how many keys it wrote. */
export async function applyImport(client: EtcdClient, plan: readonly PlannedPut[]): Promise<{ written: number; txns: number }> {
  const writes = plan.filter((p) => p.action !== 'unchanged')
  let txns = 0
  for (let i = 0; i < writes.length; i += TXN_PUTS) {
    const batch = writes.slice(i, i + TXN_PUTS)
    await client.call('kv/txn', { success: batch.map((p) => ({ request_put: { key: toBase64(p.key), value: toBase64(p.value) } })) })
    txns++
  }
  return { written: writes.length, txns }
}
