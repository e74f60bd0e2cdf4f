import { describe, expect, test } from 'vitest'
import { compare, op } from '../../src/index.ts'
import type { Harness, Target } from './harness.ts'
import { lacks } from './harness.ts'
import {
  currentRevision,
  expectEtcdError,
  expectUnchanged,
  keysOf,
  kvPair,
  pair,
  snapshot,
  text,
  useTarget,
} from './helpers.ts'
import { deletedKv, eventsOf, Reader, watchSession } from './streams.ts'

/** MISSING_LEASE is a lease id that no fresh target has granted. */
const MISSING_LEASE = 12345n

/** MAX_TTL is etcd's largest lease TTL in seconds. */
const MAX_TTL = 9_000_000_000

/** sortedKeys decodes and sorts a timeToLive key list: etcd answers it in map order, which is unspecified. */
function sortedKeys(keys: readonly Uint8Array[]): string[] {
  return keys.map(text).sort()
}

/** leaseIds lists the ids of leases(), sorted: etcd answers them in map order. */
async function leaseIds(etcd: Target): Promise<bigint[]> {
  return (await etcd.leases()).leases.map((l) => l.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * Lease: etcd's Lease service through etcd.grant / revoke / timeToLive / leases / keepAlive / keepAliveOnce and
 * etcd.services.lease. Grant rules, revocation, attaching and detaching keys, keepalives, and (on a ManualClock)
 * expiry.
 */
export function registerLease(h: Harness): void {
  describe(`lease (${h.name})`, () => {
    const target = useTarget(h)

    describe('grant', () => {
      test.each([1, 0, -5])('grant with ttl %i raises it to the 2 s minimum', async (ttl) => {
        const etcd = target()
        const r = await etcd.grant(ttl)
        expect(r.ttl).toBe(2)
        expect((await etcd.timeToLive(r.id)).grantedTtl).toBe(2)
      })

      test.each([2, 60])('grant with ttl %i keeps it', async (ttl) => {
        const etcd = target()
        const r = await etcd.grant(ttl)
        expect(r.ttl).toBe(ttl)
        expect((await etcd.timeToLive(r.id)).grantedTtl).toBe(ttl)
      })

      test('grant with an explicit id uses that id', async () => {
        const etcd = target()
        const r = await etcd.grant(30, { id: 12345n })
        expect({ id: r.id, ttl: r.ttl }).toEqual({ id: 12345n, ttl: 30 })
        const services = await etcd.services.lease.leaseGrant({ ttl: 40, id: 777 })
        expect({ id: services.id, ttl: services.ttl }).toEqual({ id: 777n, ttl: 40 })
        expect(await leaseIds(etcd)).toEqual([777n, 12345n])
      })

      test('grant with a negative explicit id is accepted', async () => {
        const etcd = target()
        expect((await etcd.grant(30, { id: -1n })).id).toBe(-1n)
        expect(await leaseIds(etcd)).toEqual([-1n])
      })

      test('grant of an id in use rejects with ETCD_LEASE_EXISTS and leaves the lease as it was', async () => {
        const etcd = target()
        await etcd.grant(30, { id: 777n })
        await expectEtcdError(etcd.grant(60, { id: 777n }), 'ETCD_LEASE_EXISTS')
        expect((await etcd.timeToLive(777n)).grantedTtl).toBe(30)
        expect(await leaseIds(etcd)).toEqual([777n])
      })

      test('grant with ttl 9000000000 (the maximum) is accepted', async () => {
        const etcd = target()
        const r = await etcd.grant(MAX_TTL)
        expect(r.ttl).toBe(MAX_TTL)
        const ttl = await etcd.timeToLive(r.id)
        expect(ttl.grantedTtl).toBe(MAX_TTL)
        expect(ttl.ttl).toBeGreaterThan(MAX_TTL - 1000)
        expect(ttl.ttl).toBeLessThanOrEqual(MAX_TTL)
      })

      test('grant with ttl 9000000001 rejects with ETCD_LEASE_TTL_TOO_LARGE and grants nothing', async () => {
        const etcd = target()
        await expectEtcdError(etcd.grant(MAX_TTL + 1), 'ETCD_LEASE_TTL_TOO_LARGE')
        await expectEtcdError(etcd.grant(MAX_TTL + 1, { id: 5n }), 'ETCD_LEASE_TTL_TOO_LARGE')
        expect(await leaseIds(etcd)).toEqual([])
        expect((await etcd.timeToLive(5n)).ttl).toBe(-1)
      })

      test('grant consumes no revision and answers the current one', async () => {
        const etcd = target()
        expect((await etcd.grant(10)).header.revision).toBe(1)
        await etcd.put('k', 'v')
        expect((await etcd.grant(10)).header.revision).toBe(2)
        expect(await currentRevision(etcd)).toBe(2)
      })

      test('engine-chosen ids are positive and distinct', async () => {
        const etcd = target()
        const ids: bigint[] = []
        for (let i = 0; i < 5; i++) ids.push((await etcd.grant(30)).id)
        ids.push((await etcd.services.lease.leaseGrant({ ttl: 30 })).id)
        for (const id of ids) {
          expect(typeof id).toBe('bigint')
          expect(id).toBeGreaterThan(0n)
        }
        expect(new Set(ids).size).toBe(6)
        expect(await leaseIds(etcd)).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
      })

      test('an engine-chosen id avoids an id granted explicitly', async () => {
        const etcd = target()
        const chosen = (await etcd.grant(30)).id
        // Ask for the id right after it: the next engine choice, if ids count up, must skip it.
        await etcd.grant(30, { id: chosen + 1n })
        const next = (await etcd.grant(30)).id
        expect(next).not.toBe(chosen)
        expect(next).not.toBe(chosen + 1n)
      })
    })

    describe('revoke', () => {
      test('revoke of an unknown lease rejects with ETCD_LEASE_NOT_FOUND', async () => {
        const etcd = target()
        await expectEtcdError(etcd.revoke(MISSING_LEASE), 'ETCD_LEASE_NOT_FOUND')
        await expectEtcdError(etcd.services.lease.leaseRevoke({ id: MISSING_LEASE }), 'ETCD_LEASE_NOT_FOUND')
      })

      test('revoke of a revoked lease rejects with ETCD_LEASE_NOT_FOUND', async () => {
        const etcd = target()
        const { id } = await etcd.grant(30)
        await etcd.revoke(id)
        await expectEtcdError(etcd.revoke(id), 'ETCD_LEASE_NOT_FOUND')
      })

      test('revoke deletes every attached key in one revision', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('rv/c', '1', { lease: id }) // 2
        await etcd.put('rv/a', '1', { lease: id }) // 3
        await etcd.put('rv/b', '1', { lease: id }) // 4
        await etcd.put('rv/other', '1') // 5
        const r = await etcd.revoke(id)
        expect(r.header.revision).toBe(6)
        expect(await currentRevision(etcd)).toBe(6)
        expect(keysOf((await etcd.get('rv/', { prefix: true })).kvs)).toEqual(['rv/other'])
        // All three went at revision 6: at 5 they are all still there.
        expect(keysOf((await etcd.get('rv/', { prefix: true, revision: 5 })).kvs)).toEqual(['rv/a', 'rv/b', 'rv/c', 'rv/other'])
      })

      test('revoke of a lease without keys consumes no revision', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const { id } = await etcd.grant(60)
        const before = await snapshot(etcd)
        expect((await etcd.revoke(id)).header.revision).toBe(2)
        await expectUnchanged(etcd, before)
      })

      test('revoke of a lease whose keys were all deleted consumes no revision', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('a', '1', { lease: id }) // 2
        await etcd.delete('a') // 3
        const before = await snapshot(etcd)
        expect((await etcd.revoke(id)).header.revision).toBe(3)
        await expectUnchanged(etcd, before)
      })

      test('revoke leaves a key that a later put without a lease detached', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('k', 'v1', { lease: id }) // 2
        await etcd.put('k', 'v2') // 3
        const before = await snapshot(etcd)
        await etcd.revoke(id)
        await expectUnchanged(etcd, before)
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v2', 2, 3, 2)])
      })

      test('a key put again without a lease after its lease was revoked stays', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('k', 'v1', { lease: id }) // 2
        await etcd.revoke(id) // 3
        await etcd.put('k', 'v2') // 4
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v2', 4, 4, 1)])
      })

      test('a revoked lease is gone: not listed, timeToLive -1, puts with it rejected', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        const { id: other } = await etcd.grant(60)
        await etcd.revoke(id)
        expect(await leaseIds(etcd)).toEqual([other])
        expect((await etcd.timeToLive(id)).ttl).toBe(-1)
        await expectEtcdError(etcd.put('k', 'v', { lease: id }), 'ETCD_LEASE_NOT_FOUND')
      })

      test('revoke answers the new revision in its header', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('a', '1', { lease: id })
        expect((await etcd.services.lease.leaseRevoke({ id })).header.revision).toBe(3)
      })
    })

    describe('timeToLive', () => {
      test('timeToLive of an unknown lease answers ttl -1, not an error', async () => {
        const etcd = target()
        for (const keys of [false, true]) {
          const r = await etcd.timeToLive(MISSING_LEASE, { keys })
          expect({ id: r.id, ttl: r.ttl, grantedTtl: r.grantedTtl, keys: r.keys }).toEqual({
            id: MISSING_LEASE,
            ttl: -1,
            grantedTtl: 0,
            keys: [],
          })
        }
      })

      test('timeToLive of lease id 0 answers ttl -1', async () => {
        const etcd = target()
        const r = await etcd.timeToLive(0n)
        expect({ id: r.id, ttl: r.ttl, grantedTtl: r.grantedTtl }).toEqual({ id: 0n, ttl: -1, grantedTtl: 0 })
      })

      test('timeToLive answers the granted ttl and a remaining ttl no larger than it', async () => {
        const etcd = target()
        const { id } = await etcd.grant(10)
        const r = await etcd.timeToLive(id)
        expect(r.id).toBe(id)
        expect(r.grantedTtl).toBe(10)
        expect(r.ttl).toBeGreaterThanOrEqual(8)
        expect(r.ttl).toBeLessThanOrEqual(10)
        expect(r.keys).toEqual([])
        expect(r.header.revision).toBe(1)
      })

      test('timeToLive with keys lists the attached keys', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        for (const k of ['e', 'a', 'd', 'b', 'c']) await etcd.put(k, '1', { lease: id })
        await etcd.put('x', '1')
        expect(sortedKeys((await etcd.timeToLive(id, { keys: true })).keys)).toEqual(['a', 'b', 'c', 'd', 'e'])
        expect((await etcd.timeToLive(id)).keys).toEqual([])
        const services = await etcd.services.lease.leaseTimeToLive({ id, keys: true })
        expect(sortedKeys(services.keys)).toEqual(['a', 'b', 'c', 'd', 'e'])
      })

      test('timeToLive with keys of a lease without keys answers no keys', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        expect((await etcd.timeToLive(id, { keys: true })).keys).toEqual([])
      })

      test('a key put twice with the same lease is listed once', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('k', '1', { lease: id })
        await etcd.put('k', '2', { lease: id })
        expect(sortedKeys((await etcd.timeToLive(id, { keys: true })).keys)).toEqual(['k'])
      })
    })

    describe('leases', () => {
      test('leases on a fresh target is empty', async () => {
        const etcd = target()
        const r = await etcd.leases()
        expect(r.leases).toEqual([])
        expect(r.header.revision).toBe(1)
      })

      test('leases lists every granted lease, each with only its id', async () => {
        const etcd = target()
        const a = (await etcd.grant(30)).id
        const b = (await etcd.grant(60, { id: 42n })).id
        const c = (await etcd.grant(90)).id
        await etcd.revoke(c)
        expect(await leaseIds(etcd)).toEqual([a, b].sort((x, y) => (x < y ? -1 : 1)))
        const listed = (await etcd.services.lease.leaseLeases({})).leases
        for (const l of listed) expect(Object.keys(l)).toEqual(['id'])
      })
    })

    describe('attach and detach', () => {
      test('a put with a lease sets kv.lease and joins the lease', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('d/x', 'v', { lease: id })
        expect((await etcd.get('d/x')).kvs.map(pair)).toEqual([kvPair('d/x', 'v', 2, 2, 1, id)])
        expect(sortedKeys((await etcd.timeToLive(id, { keys: true })).keys)).toEqual(['d/x'])
      })

      test('a put with another lease moves the key', async () => {
        const etcd = target()
        const { id: first } = await etcd.grant(60)
        const { id: second } = await etcd.grant(60)
        await etcd.put('k', 'v1', { lease: first })
        await etcd.put('k', 'v2', { lease: second })
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v2', 2, 3, 2, second)])
        expect((await etcd.timeToLive(first, { keys: true })).keys).toEqual([])
        expect(sortedKeys((await etcd.timeToLive(second, { keys: true })).keys)).toEqual(['k'])
        await etcd.revoke(first)
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v2', 2, 3, 2, second)])
        await etcd.revoke(second)
        expect((await etcd.get('k')).kvs).toEqual([])
      })

      test('a put without a lease detaches the key', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('d/x', 'v1', { lease: id }) // 2
        await etcd.put('d/x', 'v2') // 3
        expect((await etcd.get('d/x')).kvs.map(pair)).toEqual([kvPair('d/x', 'v2', 2, 3, 2)])
        expect((await etcd.timeToLive(id, { keys: true })).keys).toEqual([])
      })

      test('a put with ignoreLease keeps the lease', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('k', 'v1', { lease: id })
        await etcd.put('k', 'v2', { ignoreLease: true })
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v2', 2, 3, 2, id)])
        expect(sortedKeys((await etcd.timeToLive(id, { keys: true })).keys)).toEqual(['k'])
        await etcd.revoke(id)
        expect((await etcd.get('k')).kvs).toEqual([])
      })

      test('a put with ignoreValue and without ignoreLease keeps the value and detaches the lease', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('k', 'v1', { lease: id })
        await etcd.services.kv.put({ key: 'k', ignoreValue: true })
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v1', 2, 3, 2)])
        expect((await etcd.timeToLive(id, { keys: true })).keys).toEqual([])
      })

      test('a put with ignoreValue and a lease keeps the value and attaches the lease', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('k', 'v1')
        await etcd.services.kv.put({ key: 'k', ignoreValue: true, lease: id })
        expect((await etcd.get('k')).kvs.map(pair)).toEqual([kvPair('k', 'v1', 2, 3, 2, id)])
        expect(sortedKeys((await etcd.timeToLive(id, { keys: true })).keys)).toEqual(['k'])
      })

      test('a delete detaches the key, and a put without a lease does not attach it again', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('d/x', 'v1', { lease: id }) // 2
        await etcd.delete('d/x') // 3
        expect((await etcd.timeToLive(id, { keys: true })).keys).toEqual([])
        await etcd.put('d/x', 'v2') // 4
        expect((await etcd.timeToLive(id, { keys: true })).keys).toEqual([])
        await etcd.revoke(id)
        expect((await etcd.get('d/x')).kvs.map(pair)).toEqual([kvPair('d/x', 'v2', 4, 4, 1)])
      })

      test('a put with an unknown lease rejects with ETCD_LEASE_NOT_FOUND and changes nothing', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const before = await snapshot(etcd)
        await expectEtcdError(etcd.put('k', 'v2', { lease: MISSING_LEASE }), 'ETCD_LEASE_NOT_FOUND')
        await expectEtcdError(etcd.put('new', 'v', { lease: MISSING_LEASE }), 'ETCD_LEASE_NOT_FOUND')
        await expectUnchanged(etcd, before)
      })
    })

    describe('leases in txns', () => {
      test('a txn that puts with a revoked lease fails whole and changes nothing', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.revoke(id)
        await etcd.put('a', '0')
        const before = await snapshot(etcd)
        await expectEtcdError(
          etcd.txn().then(op.put('a', '1'), op.put('b', '1', { lease: id }), op.delete('c')).commit(),
          'ETCD_LEASE_NOT_FOUND',
        )
        await expectUnchanged(etcd, before)
      })

      test('a txn put with a lease attaches the key', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        const r = await etcd.txn().then(op.put('a', '1', { lease: id }), op.put('b', '1')).commit()
        expect(r.header.revision).toBe(2)
        expect((await etcd.get('a')).kvs.map(pair)).toEqual([kvPair('a', '1', 2, 2, 1, id)])
        expect(sortedKeys((await etcd.timeToLive(id, { keys: true })).keys)).toEqual(['a'])
      })

      test.each<[string, '=' | '!=' | '<' | '>', 'lease' | 'zero' | 'other', boolean]>([
        ['lease = its lease holds', '=', 'lease', true],
        ['lease = 0 fails', '=', 'zero', false],
        ['lease != its lease fails', '!=', 'lease', false],
        ['lease != another lease holds', '!=', 'other', true],
        ['lease > 0 holds', '>', 'zero', true],
      ])('a compare on the LEASE of a key with a lease: %s', async (_name, operator, operand, expected) => {
        const etcd = target()
        const { id } = await etcd.grant(60, { id: 1000n })
        await etcd.put('k', 'v', { lease: id })
        const value = operand === 'lease' ? id : operand === 'zero' ? 0n : 2000n
        const r = await etcd.txn().if(compare.lease('k', operator, value)).then(op.put('hit', '1')).commit()
        expect(r.succeeded).toBe(expected)
      })

      test('a compare on the LEASE of a key whose lease was detached sees 0', async () => {
        const etcd = target()
        const { id } = await etcd.grant(60)
        await etcd.put('k', 'v1', { lease: id })
        await etcd.put('k', 'v2')
        expect((await etcd.txn().if(compare.lease('k', '=', 0n)).commit()).succeeded).toBe(true)
        expect((await etcd.txn().if(compare.lease('k', '=', id)).commit()).succeeded).toBe(false)
      })
    })

    describe('keepAliveOnce and the keepalive stream', () => {
      test('keepAliveOnce answers the granted ttl', async () => {
        const etcd = target()
        const { id } = await etcd.grant(100)
        const r = await etcd.keepAliveOnce(id)
        expect({ id: r.id, ttl: r.ttl }).toEqual({ id, ttl: 100 })
      })

      test('keepAliveOnce of an unknown lease rejects with ETCD_LEASE_NOT_FOUND', async () => {
        const etcd = target()
        await expectEtcdError(etcd.keepAliveOnce(MISSING_LEASE), 'ETCD_LEASE_NOT_FOUND')
      })

      test('keepAliveOnce of a revoked lease rejects with ETCD_LEASE_NOT_FOUND', async () => {
        const etcd = target()
        const { id } = await etcd.grant(100)
        await etcd.revoke(id)
        await expectEtcdError(etcd.keepAliveOnce(id), 'ETCD_LEASE_NOT_FOUND')
      })

      test('the keepalive stream answers each request; an unknown lease or id 0 gets ttl 0 and the stream stays usable', async () => {
        const etcd = target()
        const { id } = await etcd.grant(100)
        const stream = etcd.services.lease.leaseKeepAlive()
        const responses = new Reader(stream)
        try {
          stream.send({ id })
          const first = await responses.next()
          expect({ id: first.id, ttl: first.ttl }).toEqual({ id, ttl: 100 })
          expect(first.header.revision).toBe(1)
          stream.send({ id: 99999n })
          const unknown = await responses.next()
          expect({ id: unknown.id, ttl: unknown.ttl }).toEqual({ id: 99999n, ttl: 0 })
          stream.send({ id: 0n })
          const zero = await responses.next()
          expect({ id: zero.id, ttl: zero.ttl }).toEqual({ id: 0n, ttl: 0 })
          stream.send({ id })
          stream.send({ id })
          const again = await responses.take(2)
          expect(again.map((r) => ({ id: r.id, ttl: r.ttl }))).toEqual([
            { id, ttl: 100 },
            { id, ttl: 100 },
          ])
        } finally {
          stream.close()
        }
      })

      test('the keepalive stream answers ttl 0 for a revoked lease', async () => {
        const etcd = target()
        const { id } = await etcd.grant(100)
        await etcd.revoke(id)
        const stream = etcd.services.lease.leaseKeepAlive()
        try {
          stream.send({ id })
          const r = await new Reader(stream).next()
          expect({ id: r.id, ttl: r.ttl }).toEqual({ id, ttl: 0 })
        } finally {
          stream.close()
        }
      })

      test('keepAlive() answers at once with the granted ttl, and break ends it', async () => {
        const etcd = target()
        const { id } = await etcd.grant(30)
        let seen = 0
        for await (const ka of etcd.keepAlive(id)) {
          expect({ id: ka.id, ttl: ka.ttl }).toEqual({ id, ttl: 30 })
          seen++
          break
        }
        expect(seen).toBe(1)
        expect((await etcd.timeToLive(id)).grantedTtl).toBe(30)
      })

      test('keepAlive() of an unknown lease ends without a response', async () => {
        const etcd = target()
        await new Reader(etcd.keepAlive(MISSING_LEASE)).ended()
      })
    })

    describe('expiry (manual clock)', () => {
      test.skipIf(lacks(h, 'manualClock'))(
        "a lease's keys are gone after its ttl, in one revision of delete events in key order, and not before",
        async () => {
          const etcd = target()
          const clock = etcd.clock!
          const { id } = await etcd.grant(5)
          await etcd.put('x/m', '1', { lease: id }) // 2
          await etcd.put('x/b', '1', { lease: id }) // 3
          await etcd.put('x/z', '1', { lease: id }) // 4
          await etcd.put('x/keep', '1') // 5
          const watch = watchSession(etcd)
          try {
            expect((await watch.create({ key: 'x/', rangeEnd: 'x0' })).created).toBe(true)
            await clock.advance(4_999)
            expect(await currentRevision(etcd)).toBe(5)
            expect(keysOf((await etcd.get('x/', { prefix: true })).kvs)).toEqual(['x/b', 'x/keep', 'x/m', 'x/z'])
            await clock.advance(501)
            expect(await currentRevision(etcd)).toBe(6)
            expect(keysOf((await etcd.get('x/', { prefix: true })).kvs)).toEqual(['x/keep'])
            const [response] = await watch.eventsThrough(0, 6)
            expect(eventsOf([response!])).toEqual([
              { type: 'DELETE', kv: deletedKv('x/b', 6) },
              { type: 'DELETE', kv: deletedKv('x/m', 6) },
              { type: 'DELETE', kv: deletedKv('x/z', 6) },
            ])
            expect(await leaseIds(etcd)).toEqual([])
            expect((await etcd.timeToLive(id)).ttl).toBe(-1)
          } finally {
            watch.stream.close()
          }
        },
      )

      test.skipIf(lacks(h, 'manualClock'))('a lease without keys expires without a revision', async () => {
        const etcd = target()
        await etcd.put('k', 'v')
        const { id } = await etcd.grant(2)
        await etcd.clock!.advance(3_000)
        expect((await etcd.timeToLive(id)).ttl).toBe(-1)
        expect(await currentRevision(etcd)).toBe(2)
      })

      test.skipIf(lacks(h, 'manualClock'))('timeToLive counts down in whole seconds, rounded down', async () => {
        const etcd = target()
        const clock = etcd.clock!
        const { id } = await etcd.grant(10)
        await clock.advance(1_500)
        expect((await etcd.timeToLive(id)).ttl).toBe(8)
        await clock.advance(5_000)
        const r = await etcd.timeToLive(id)
        expect({ ttl: r.ttl, grantedTtl: r.grantedTtl }).toEqual({ ttl: 3, grantedTtl: 10 })
        await clock.advance(4_000)
        expect((await etcd.timeToLive(id)).ttl).toBe(-1)
      })

      test.skipIf(lacks(h, 'manualClock'))('keepAliveOnce gives the lease its full ttl again', async () => {
        const etcd = target()
        const clock = etcd.clock!
        const { id } = await etcd.grant(10)
        await etcd.put('k', 'v', { lease: id })
        await clock.advance(6_000)
        expect((await etcd.timeToLive(id)).ttl).toBe(4)
        expect((await etcd.keepAliveOnce(id)).ttl).toBe(10)
        expect((await etcd.timeToLive(id)).ttl).toBeGreaterThanOrEqual(9)
        await clock.advance(9_000) // 15 s after the grant, 9 s after the renewal
        expect(keysOf((await etcd.get('k')).kvs)).toEqual(['k'])
        await clock.advance(1_500)
        expect((await etcd.get('k')).kvs).toEqual([])
      })

      test.skipIf(lacks(h, 'manualClock'))('an expired lease answers ttl 0 on the keepalive stream', async () => {
        const etcd = target()
        const { id } = await etcd.grant(2)
        await etcd.clock!.advance(3_000)
        await expectEtcdError(etcd.keepAliveOnce(id), 'ETCD_LEASE_NOT_FOUND')
        const stream = etcd.services.lease.leaseKeepAlive()
        try {
          stream.send({ id })
          expect((await new Reader(stream).next()).ttl).toBe(0)
        } finally {
          stream.close()
        }
      })

      test.skipIf(lacks(h, 'manualClock'))(
        'keepAlive() keeps a lease alive over many ttls and stops renewing after break',
        async () => {
          const etcd = target()
          const clock = etcd.clock!
          const { id } = await etcd.grant(2)
          await etcd.put('k', 'v', { lease: id })
          const start = clock.now()
          let answers = 0
          for await (const ka of etcd.keepAlive(id)) {
            expect({ id: ka.id, ttl: ka.ttl }).toEqual({ id, ttl: 2 })
            answers++
            if (clock.now() - start >= 11_000) break
            // Half a ttl per step: the client renews every third of a ttl, so each step brings at least one answer.
            await clock.advance(1_000)
          }
          // 11 s have passed: more than five ttls, each renewed in time.
          expect(answers).toBeGreaterThanOrEqual(12)
          expect(keysOf((await etcd.get('k')).kvs)).toEqual(['k'])
          expect((await etcd.timeToLive(id)).ttl).toBeGreaterThan(0)
          await clock.advance(2_600)
          expect((await etcd.get('k')).kvs).toEqual([])
          expect((await etcd.timeToLive(id)).ttl).toBe(-1)
        },
      )

      test.skipIf(lacks(h, 'manualClock'))('keepAlive() ends once the lease is revoked', async () => {
        const etcd = target()
        const { id } = await etcd.grant(3)
        const responses = new Reader(etcd.keepAlive(id))
        expect((await responses.next()).ttl).toBe(3)
        await etcd.revoke(id)
        await etcd.clock!.advance(1_000) // the next renewal is due after a third of the ttl
        await responses.ended()
      })
    })
  })
}
