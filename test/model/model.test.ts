import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { open, type Engine } from '../../src/index.ts'
import type { Compare, KeyValue, RequestOp, ResponseOp } from '../../src/messages/kv.ts'
import { EtcdModel, UNBOUNDED, type ModelCompare, type ModelKv, type ModelOp, type ModelResult } from './etcd-model.ts'

/**
 * The engine against the model: random sequences of put / delete / range / txn / compact, every answer compared,
 * and after each step the invariants: same revision, same key space now, same key space at a random past revision.
 * fast-check prints the seed and the shrunk sequence on failure.
 */

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const bytesOf = (h: string) => Buffer.from(h, 'hex')

// Keys chosen to exercise byte order: ASCII, a prefix of another key, 0xff, and a two-byte UTF-8 sequence.
const KEYS = ['a', 'ab', 'b', 'c', '\xff', '\xc3\xa9'].map((k) => Buffer.from(k, 'latin1').toString('hex'))
const VALUES = ['', 'x', 'y', 'zz'].map((v) => Buffer.from(v).toString('hex'))

const key = fc.constantFrom(...KEYS)
const value = fc.constantFrom(...VALUES)
const end = fc.option(fc.oneof(key, fc.constant(UNBOUNDED)), { nil: undefined })

const put = fc.record({
  kind: fc.constant('put' as const),
  key,
  value,
  prevKv: fc.boolean(),
  ignoreValue: fc.boolean(),
}).map((p) => (p.ignoreValue ? { ...p, value: '' } : p))
const del = fc.record({ kind: fc.constant('delete' as const), key, end, prevKv: fc.boolean() })
const range = fc.record({
  kind: fc.constant('range' as const),
  key,
  end,
  revision: fc.nat(12),
  limit: fc.nat(3),
  sortOrder: fc.constantFrom('NONE' as const, 'ASCEND' as const, 'DESCEND' as const),
  sortTarget: fc.constantFrom('KEY' as const, 'VERSION' as const, 'CREATE' as const, 'MOD' as const, 'VALUE' as const),
  keysOnly: fc.boolean(),
  countOnly: fc.boolean(),
})
const compareArb: fc.Arbitrary<ModelCompare> = fc.oneof(
  fc.record({
    key,
    end,
    target: fc.constant('VALUE' as const),
    result: fc.constantFrom('EQUAL' as const, 'NOT_EQUAL' as const, 'LESS' as const, 'GREATER' as const),
    operand: value,
  }),
  fc.record({
    key,
    end,
    target: fc.constantFrom('VERSION' as const, 'CREATE' as const, 'MOD' as const),
    result: fc.constantFrom('EQUAL' as const, 'NOT_EQUAL' as const, 'LESS' as const, 'GREATER' as const),
    operand: fc.nat(6),
  }),
)
const leafOp: fc.Arbitrary<ModelOp> = fc.oneof(put, del, range)
const nestedTxn: fc.Arbitrary<ModelOp> = fc.record({
  kind: fc.constant('txn' as const),
  compares: fc.array(compareArb, { maxLength: 2 }),
  success: fc.array(leafOp, { maxLength: 3 }),
  failure: fc.array(leafOp, { maxLength: 3 }),
})
const txn: fc.Arbitrary<ModelOp> = fc.record({
  kind: fc.constant('txn' as const),
  compares: fc.array(compareArb, { maxLength: 3 }),
  success: fc.array(fc.oneof({ weight: 4, arbitrary: leafOp }, { weight: 1, arbitrary: nestedTxn }), { maxLength: 4 }),
  failure: fc.array(fc.oneof({ weight: 4, arbitrary: leafOp }, { weight: 1, arbitrary: nestedTxn }), { maxLength: 4 }),
})
const compact = fc.record({ kind: fc.constant('compact' as const), revision: fc.nat(14) })
const step: fc.Arbitrary<ModelOp> = fc.oneof(
  { weight: 5, arbitrary: put },
  { weight: 2, arbitrary: del },
  { weight: 3, arbitrary: range },
  { weight: 3, arbitrary: txn },
  { weight: 1, arbitrary: compact },
)

function toRequestOp(op: ModelOp): RequestOp {
  switch (op.kind) {
    case 'put':
      return { requestPut: { key: bytesOf(op.key), value: bytesOf(op.value), prevKv: op.prevKv, ignoreValue: op.ignoreValue } }
    case 'delete':
      return { requestDeleteRange: { key: bytesOf(op.key), ...(op.end === undefined ? {} : { rangeEnd: bytesOf(op.end) }), prevKv: op.prevKv } }
    case 'range':
      return {
        requestRange: {
          key: bytesOf(op.key),
          ...(op.end === undefined ? {} : { rangeEnd: bytesOf(op.end) }),
          revision: op.revision,
          limit: op.limit,
          sortOrder: op.sortOrder,
          sortTarget: op.sortTarget,
          keysOnly: op.keysOnly,
          countOnly: op.countOnly,
        },
      }
    case 'txn':
      return {
        requestTxn: {
          compare: op.compares.map(toCompare),
          success: op.success.map(toRequestOp),
          failure: op.failure.map(toRequestOp),
        },
      }
    case 'compact':
      throw new Error('compact is not a RequestOp')
  }
}

function toCompare(c: ModelCompare): Compare {
  const base = { key: bytesOf(c.key), ...(c.end === undefined ? {} : { rangeEnd: bytesOf(c.end) }), result: c.result }
  switch (c.target) {
    case 'VALUE':
      return { ...base, target: 'VALUE', value: bytesOf(c.operand as string) }
    case 'VERSION':
      return { ...base, target: 'VERSION', version: c.operand as number }
    case 'CREATE':
      return { ...base, target: 'CREATE', createRevision: c.operand as number }
    case 'MOD':
      return { ...base, target: 'MOD', modRevision: c.operand as number }
  }
}

const kvOf = (kv: KeyValue): ModelKv => ({
  key: hex(kv.key),
  value: hex(kv.value),
  createRevision: kv.createRevision,
  modRevision: kv.modRevision,
  version: kv.version,
})

function fromResponseOp(r: ResponseOp): ModelResult {
  if ('responseRange' in r) {
    const x = r.responseRange
    return { kind: 'range', revision: x.header.revision, kvs: x.kvs.map(kvOf), count: x.count, more: x.more }
  }
  if ('responsePut' in r) {
    const x = r.responsePut
    return { kind: 'put', revision: x.header.revision, ...(x.prevKv ? { prevKv: kvOf(x.prevKv) } : {}) }
  }
  if ('responseDeleteRange' in r) {
    const x = r.responseDeleteRange
    return { kind: 'delete', revision: x.header.revision, deleted: x.deleted, prevKvs: x.prevKvs.map(kvOf) }
  }
  const x = r.responseTxn
  return { kind: 'txn', revision: x.header.revision, succeeded: x.succeeded, responses: x.responses.map(fromResponseOp) }
}

async function runOnEngine(etcd: Engine, op: ModelOp): Promise<ModelResult> {
  const kv = etcd.services.kv
  try {
    switch (op.kind) {
      case 'compact':
        return { kind: 'compact', revision: (await kv.compact({ revision: op.revision })).header.revision }
      case 'put':
        return fromResponseOp({ responsePut: await kv.put((toRequestOp(op) as { requestPut: never }).requestPut) })
      case 'delete':
        return fromResponseOp({
          responseDeleteRange: await kv.deleteRange((toRequestOp(op) as { requestDeleteRange: never }).requestDeleteRange),
        })
      case 'range':
        return fromResponseOp({ responseRange: await kv.range((toRequestOp(op) as { requestRange: never }).requestRange) })
      case 'txn':
        return fromResponseOp({ responseTxn: await kv.txn((toRequestOp(op) as { requestTxn: never }).requestTxn) })
    }
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === undefined) throw err
    return { error: code }
  }
}

async function checkInvariants(etcd: Engine, model: EtcdModel, pastRev: number): Promise<void> {
  expect(etcd.revision).toBe(model.rev)
  const all = await etcd.get('\0', { fromKey: true })
  expect(all.kvs.map(kvOf)).toEqual([...model.current().values()].sort((a, b) => (a.key < b.key ? -1 : 1)))
  const rev = Math.max(1, Math.min(model.rev, pastRev))
  if (rev >= model.compacted) {
    const then = await etcd.get('\0', { fromKey: true, revision: rev })
    expect(then.kvs.map(kvOf)).toEqual([...model.states[rev]!.values()].sort((a, b) => (a.key < b.key ? -1 : 1)))
  }
}

describe('engine against the etcd model', () => {
  test('random KV sequences answer exactly as the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(step, fc.nat(20)), { minLength: 1, maxLength: 40 }), async (steps) => {
        const etcd = await open()
        const model = new EtcdModel()
        try {
          for (const [op, pastRev] of steps) {
            const expected = model.apply(op)
            const actual = await runOnEngine(etcd, op)
            expect(actual).toEqual(expected)
            await checkInvariants(etcd, model, pastRev)
          }
        } finally {
          await etcd.close()
        }
      }),
      { numRuns: Number(process.env.MODEL_RUNS ?? 300) },
    )
  }, 120_000)
})
