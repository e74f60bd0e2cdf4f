import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { open, type Engine } from '../../src/index.ts'
import type { Compare, RequestOp, TxnRequest } from '../../src/messages/kv.ts'

/**
 * A txn whose compares are all on single keys and whose chosen branch is empty or one plain put (a compare-and-swap,
 * a create-if-absent) is answered by a fast path that skips the write txn. The general path must give the same
 * answers, the same store and the same watch events. Each generated txn runs on two engines: as generated on one
 * (fast path where it qualifies) and, on the other, with one more compare that always holds and is over a range,
 * which sends it down the general path. Everything observable is compared after every txn.
 */

const KEYS = ['a', 'b', 'c']
const VALUES = ['', 'x', 'yy']

const keyArb = fc.constantFrom(...KEYS)
const compareArb: fc.Arbitrary<Compare> = fc.oneof(
  fc.record({
    key: keyArb,
    target: fc.constantFrom('MOD' as const, 'CREATE' as const, 'VERSION' as const),
    result: fc.constantFrom('EQUAL' as const, 'NOT_EQUAL' as const, 'GREATER' as const, 'LESS' as const),
    // Revisions and versions stay small, so compares hold about as often as they fail.
    modRevision: fc.integer({ min: 0, max: 6 }),
    createRevision: fc.integer({ min: 0, max: 6 }),
    version: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({
    key: keyArb,
    target: fc.constant('VALUE' as const),
    result: fc.constantFrom('EQUAL' as const, 'NOT_EQUAL' as const),
    value: fc.constantFrom(...VALUES),
  }),
  fc.record({ key: keyArb, target: fc.constant('LEASE' as const), result: fc.constant('EQUAL' as const), lease: fc.constant(0) }),
)

/** A branch: empty, one put (sometimes with a lease, granted or not; sometimes with prevKv), or two ops. */
function branchArb(lease: number): fc.Arbitrary<RequestOp[]> {
  const put = fc.record({
    key: keyArb,
    value: fc.constantFrom(...VALUES),
    lease: fc.constantFrom(0, 0, lease, 999_999),
    prevKv: fc.boolean(),
  })
  const op: fc.Arbitrary<RequestOp> = fc.oneof(
    put.map((requestPut) => ({ requestPut })),
    keyArb.map((key) => ({ requestRange: { key } })),
    keyArb.map((key) => ({ requestDeleteRange: { key } })),
  )
  return fc.oneof(fc.constant<RequestOp[]>([]), put.map((requestPut) => [{ requestPut }]), fc.array(op, { minLength: 1, maxLength: 2 }))
}

/** ALWAYS holds and is over a range of no keys, so evaluation takes the general path. */
const ALWAYS: Compare = { key: 'zz/', rangeEnd: 'zz0', target: 'VERSION', result: 'LESS', version: 1 }

async function outcome(engine: Engine, txn: TxnRequest): Promise<unknown> {
  try {
    const r = await engine.services.kv.txn(txn)
    return { ok: JSON.parse(JSON.stringify(r, replacer)) }
  } catch (err) {
    return { error: (err as Error).message }
  }
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

async function state(engine: Engine): Promise<unknown> {
  const r = await engine.services.kv.range({ key: '\0', rangeEnd: '\0' })
  return JSON.parse(JSON.stringify({ rev: r.header.revision, kvs: r.kvs }, replacer))
}

describe('single-key txns', () => {
  test('the fast path answers, writes and notifies exactly as the general path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ compares: fc.array(compareArb, { maxLength: 3 }), success: fc.nat(), failure: fc.nat(), seed: fc.nat() }),
          { minLength: 1, maxLength: 12 },
        ),
        async (steps) => {
          const fast = await open()
          const general = await open()
          try {
            const fastLease = await fast.services.lease.leaseGrant({ ttl: 60, id: 7n })
            const generalLease = await general.services.lease.leaseGrant({ ttl: 60, id: 7n })
            expect(fastLease.id).toBe(7n)
            expect(generalLease.id).toBe(7n)
            const fastEvents: unknown[] = []
            const generalEvents: unknown[] = []
            fast.watch('', { prefix: true }, (r) => fastEvents.push(JSON.parse(JSON.stringify(r.events, replacer))))
            general.watch('', { prefix: true }, (r) => generalEvents.push(JSON.parse(JSON.stringify(r.events, replacer))))
            for (const step of steps) {
              const branches = fc.sample(fc.tuple(branchArb(7), branchArb(7)), { numRuns: 1, seed: step.seed })[0]!
              const txn: TxnRequest = { compare: step.compares, success: branches[0], failure: branches[1] }
              const a = await outcome(fast, txn)
              const b = await outcome(general, { ...txn, compare: [...step.compares, ALWAYS] })
              expect(a).toEqual(b)
              expect(await state(fast)).toEqual(await state(general))
            }
            await new Promise((resolve) => setImmediate(resolve))
            expect(fastEvents).toEqual(generalEvents)
          } finally {
            await fast.close()
            await general.close()
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  test('a compare-and-swap commits one revision and a failed one changes nothing', async () => {
    const etcd = await open()
    try {
      const put = await etcd.services.kv.put({ key: 'k', value: 'v1' })
      const rev = put.header.revision
      const cas = (modRevision: number, value: string) =>
        etcd.services.kv.txn({
          compare: [{ key: 'k', target: 'MOD', result: 'EQUAL', modRevision }],
          success: [{ requestPut: { key: 'k', value } }],
        })
      const won = await cas(rev, 'v2')
      expect(won.succeeded).toBe(true)
      expect(won.header.revision).toBe(rev + 1)
      expect(won.responses).toEqual([{ responsePut: { header: { clusterId: 0n, memberId: 0n, revision: rev + 1, raftTerm: 0 } } }])
      const lost = await cas(rev, 'v3')
      expect(lost.succeeded).toBe(false)
      expect(lost.header.revision).toBe(rev + 1)
      expect(lost.responses).toEqual([])
      const [kv] = (await etcd.services.kv.range({ key: 'k' })).kvs
      expect(kv!.value.toString()).toBe('v2')
      expect(kv!.version).toBe(2)
      // A put to an ungranted lease in the chosen branch is refused and writes nothing.
      await expect(
        etcd.services.kv.txn({
          compare: [{ key: 'k', target: 'MOD', result: 'EQUAL', modRevision: rev + 1 }],
          success: [{ requestPut: { key: 'k', value: 'v4', lease: 12345 } }],
        }),
      ).rejects.toMatchObject({ code: 'ETCD_LEASE_NOT_FOUND' })
      expect((await etcd.services.kv.range({ key: 'k' })).header.revision).toBe(rev + 1)
    } finally {
      await etcd.close()
    }
  })
})
