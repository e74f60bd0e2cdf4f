import { describe, expect, test } from 'vitest'
import { Election, Isolation, Mutex, Session, stm, type Client } from '../../src/index.ts'
import type { Harness, Target } from './harness.ts'
import { lacks } from './harness.ts'
import { currentRevision, expectEtcdError, keysOf, text, useTarget } from './helpers.ts'

/** tracked follows a promise: `settled` turns true once it resolves or rejects (the promise itself is kept). */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: boolean } {
  const t = { promise, settled: false }
  promise.then(
    () => (t.settled = true),
    () => (t.settled = true),
  )
  return t
}

/**
 * roundTrips lets a target work for a while: a few reads, each a full round trip on a served or real target, so a
 * waiter that could proceed would have. Used to check that a waiter still waits.
 */
async function roundTrips(etcd: Client): Promise<void> {
  for (let i = 0; i < 5; i++) await etcd.get('concurrency/quiet')
  await new Promise((resolve) => setTimeout(resolve, 50))
}

/** until polls `condition` (with round trips in between) until it holds; fails after `ms`. */
async function until(etcd: Client, condition: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('until: the condition never held')
    await etcd.get('concurrency/quiet')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** pass moves a target's ManualClock by `ms` in steps of 250 ms with round trips between, so renewals get answered. */
async function pass(etcd: Target, ms: number): Promise<void> {
  for (let moved = 0; moved < ms; moved += 250) {
    await etcd.clock!.advance(Math.min(250, ms - moved))
    await etcd.get('concurrency/quiet')
    await etcd.get('concurrency/quiet')
  }
}

/** candidates counts the keys under an election's or mutex's name. */
async function candidates(etcd: Client, name: string): Promise<number> {
  return (await etcd.get(`${name}/`, { prefix: true, countOnly: true })).count
}

/**
 * Concurrency: the recipes of etcd's Go concurrency package (session, mutex, election, software transactional
 * memory) over the client API, so they behave the same on every target: in process, served, and a real etcd.
 */
export function registerConcurrency(h: Harness): void {
  describe(`concurrency recipes (${h.name})`, () => {
    const target = useTarget(h)

    describe('session', () => {
      test('a session grants a lease of its ttl; close revokes it and deletes its keys', async () => {
        const etcd = target()
        const session = await Session.open(etcd, { ttl: 30 })
        expect((await etcd.timeToLive(session.lease)).grantedTtl).toBe(30)
        await etcd.put('owned', 'v', { lease: session.lease })
        await session.close()
        await session.done
        expect((await etcd.timeToLive(session.lease)).ttl).toBe(-1)
        expect((await etcd.get('owned')).kvs).toEqual([])
      })

      test('a session adopts a granted lease, and closing it twice is not an error', async () => {
        const etcd = target()
        const { id } = await etcd.grant(20)
        const session = await Session.open(etcd, { lease: id })
        expect(session.lease).toBe(id)
        await session.close()
        await session.close()
        expect((await etcd.timeToLive(id)).ttl).toBe(-1)
      })

      test.each([0, -1, 1.5, Number.NaN])('a session ttl of %s is a TypeError, and grants nothing', async (ttl) => {
        const etcd = target()
        await expect(Session.open(etcd, { ttl })).rejects.toThrow(TypeError)
        expect((await etcd.leases()).leases).toEqual([])
      })

      test.skipIf(lacks(h, 'manualClock'))(
        "a session renews its lease, so its keys outlive the ttl; orphaned, they go when the ttl runs out",
        async () => {
          const etcd = target()
          const session = await Session.open(etcd, { ttl: 3 })
          await etcd.put('owned', 'v', { lease: session.lease })
          await pass(etcd, 9_000)
          expect(keysOf((await etcd.get('owned')).kvs)).toEqual(['owned'])
          await session.orphan()
          await pass(etcd, 3_500)
          expect((await etcd.get('owned')).kvs).toEqual([])
          await session.done
        },
      )
    })

    describe('mutex', () => {
      test("lock on a free name holds it at once, under the name's key for the session's lease", async () => {
        const etcd = target()
        const session = await Session.open(etcd)
        const mutex = new Mutex(session, 'locks/a')
        await mutex.lock()
        expect(mutex.key).toBe(`locks/a/${session.lease.toString(16)}`)
        const [held] = (await etcd.get(mutex.key)).kvs
        expect({ lease: held!.lease, value: text(held!.value) }).toEqual({ lease: session.lease, value: '' })
        expect(mutex.header!.revision).toBe(await currentRevision(etcd))
        await mutex.unlock()
        expect(await candidates(etcd, 'locks/a')).toBe(0)
        await session.close()
      })

      test('a second session waits until the holder unlocks, then holds the lock', async () => {
        const etcd = target()
        const [s1, s2] = [await Session.open(etcd), await Session.open(etcd)]
        const first = new Mutex(s1, 'locks/b')
        const second = new Mutex(s2, 'locks/b')
        await first.lock()
        const waiting = tracked(second.lock())
        await until(etcd, async () => (await candidates(etcd, 'locks/b')) === 2)
        await roundTrips(etcd)
        expect(waiting.settled).toBe(false)
        await first.unlock()
        await waiting.promise
        const { succeeded } = await etcd.txn().if(second.isOwner()).commit()
        expect(succeeded).toBe(true)
        await s1.close()
        await s2.close()
      })

      test('waiters get the lock in the order they asked for it', async () => {
        const etcd = target()
        const sessions = [await Session.open(etcd), await Session.open(etcd), await Session.open(etcd)]
        const [a, b, c] = sessions.map((s) => new Mutex(s, 'locks/fifo'))
        await a!.lock()
        const order: string[] = []
        const bWaits = b!.lock().then(() => order.push('b'))
        await until(etcd, async () => (await candidates(etcd, 'locks/fifo')) === 2)
        const cWaits = c!.lock().then(() => order.push('c'))
        await until(etcd, async () => (await candidates(etcd, 'locks/fifo')) === 3)
        await a!.unlock()
        await bWaits
        await roundTrips(etcd)
        expect(order).toEqual(['b'])
        await b!.unlock()
        await cWaits
        expect(order).toEqual(['b', 'c'])
        for (const s of sessions) await s.close()
      })

      test('tryLock takes a free lock, and fails without leaving a key while another session holds it', async () => {
        const etcd = target()
        const [s1, s2] = [await Session.open(etcd), await Session.open(etcd)]
        const first = new Mutex(s1, 'locks/try')
        expect(await first.tryLock()).toBe(true)
        const second = new Mutex(s2, 'locks/try')
        expect(await second.tryLock()).toBe(false)
        expect(keysOf((await etcd.get('locks/try/', { prefix: true })).kvs)).toEqual([first.key])
        await first.unlock()
        expect(await second.tryLock()).toBe(true)
        await s1.close()
        await s2.close()
      })

      test('the lock is re-entrant within a session: a second mutex of the same session holds it too', async () => {
        const etcd = target()
        const session = await Session.open(etcd)
        const one = new Mutex(session, 'locks/same')
        const two = new Mutex(session, 'locks/same')
        await one.lock()
        await two.lock()
        expect(two.key).toBe(one.key)
        expect(await candidates(etcd, 'locks/same')).toBe(1)
        await session.close()
      })

      test('unlock of a mutex that does not hold the lock rejects with ETCD_LOCK_RELEASED', async () => {
        const etcd = target()
        const session = await Session.open(etcd)
        const mutex = new Mutex(session, 'locks/none')
        await expectEtcdError(mutex.unlock(), 'ETCD_LOCK_RELEASED')
        await mutex.lock()
        await mutex.unlock()
        await expectEtcdError(mutex.unlock(), 'ETCD_LOCK_RELEASED')
        await session.close()
      })

      test("isOwner guards a txn: it holds for the holder and fails once the holder's key is gone", async () => {
        const etcd = target()
        const session = await Session.open(etcd)
        const mutex = new Mutex(session, 'locks/guard')
        await mutex.lock()
        const guard = mutex.isOwner()
        expect((await etcd.txn().if(guard).then().commit()).succeeded).toBe(true)
        await mutex.unlock()
        expect((await etcd.txn().if(guard).then().commit()).succeeded).toBe(false)
        await session.close()
      })

      test("closing the holder's session hands the lock to the next waiter", async () => {
        const etcd = target()
        const [s1, s2] = [await Session.open(etcd), await Session.open(etcd)]
        await new Mutex(s1, 'locks/close').lock()
        const waiting = tracked(new Mutex(s2, 'locks/close').lock())
        await until(etcd, async () => (await candidates(etcd, 'locks/close')) === 2)
        await s1.close()
        await waiting.promise
        await s2.close()
      })

      test("an aborted lock rejects with the signal's reason and takes its key out of the queue", async () => {
        const etcd = target()
        const [s1, s2] = [await Session.open(etcd), await Session.open(etcd)]
        const holder = new Mutex(s1, 'locks/abort')
        await holder.lock()
        const controller = new AbortController()
        const waiting = new Mutex(s2, 'locks/abort').lock({ signal: controller.signal })
        await until(etcd, async () => (await candidates(etcd, 'locks/abort')) === 2)
        const reason = new Error('gave up')
        controller.abort(reason)
        await expect(waiting).rejects.toBe(reason)
        expect(keysOf((await etcd.get('locks/abort/', { prefix: true })).kvs)).toEqual([holder.key])
        await s1.close()
        await s2.close()
      })

      test.skipIf(lacks(h, 'manualClock'))(
        'a holder whose lease expires hands the lock to the next waiter, with no real time passing',
        async () => {
          const etcd = target()
          const holder = await Session.open(etcd, { ttl: 5 })
          const waiter = await Session.open(etcd, { ttl: 5 })
          await new Mutex(holder, 'locks/expiry').lock()
          const waiting = tracked(new Mutex(waiter, 'locks/expiry').lock())
          await until(etcd, async () => (await candidates(etcd, 'locks/expiry')) === 2)
          await holder.orphan() // the holder's process stops renewing, as if it had crashed
          await pass(etcd, 4_000)
          expect(waiting.settled).toBe(false)
          await pass(etcd, 1_500)
          await waiting.promise
          expect(keysOf((await etcd.get('locks/expiry/', { prefix: true })).kvs)).toEqual([`locks/expiry/${waiter.lease.toString(16)}`])
          await waiter.close()
        },
      )
    })

    describe('election', () => {
      test('the first candidate leads at once; leader() answers its key and value', async () => {
        const etcd = target()
        const session = await Session.open(etcd)
        const election = new Election(session, 'elect/a')
        await election.campaign('node-1')
        expect(election.key).toBe(`elect/a/${session.lease.toString(16)}`)
        const { kv, header } = await election.leader()
        expect({ key: text(kv.key), value: text(kv.value), lease: kv.lease }).toEqual({ key: election.key, value: 'node-1', lease: session.lease })
        expect(header.revision).toBe(await currentRevision(etcd))
        await session.close()
      })

      test('leader() of an election nobody runs in rejects with ETCD_ELECTION_NO_LEADER', async () => {
        const etcd = target()
        const session = await Session.open(etcd)
        await expectEtcdError(new Election(session, 'elect/none').leader(), 'ETCD_ELECTION_NO_LEADER')
        await session.close()
      })

      test('a second candidate waits until the leader resigns, then leads', async () => {
        const etcd = target()
        const [s1, s2] = [await Session.open(etcd), await Session.open(etcd)]
        const first = new Election(s1, 'elect/b')
        const second = new Election(s2, 'elect/b')
        await first.campaign('one')
        const waiting = tracked(second.campaign('two'))
        await until(etcd, async () => (await candidates(etcd, 'elect/b')) === 2)
        await roundTrips(etcd)
        expect(waiting.settled).toBe(false)
        expect(text((await second.leader()).kv.value)).toBe('one')
        await first.resign()
        await waiting.promise
        expect(text((await first.leader()).kv.value)).toBe('two')
        await s1.close()
        await s2.close()
      })

      test('proclaim changes the leader value; a candidate that does not lead cannot (ETCD_ELECTION_NOT_LEADER)', async () => {
        const etcd = target()
        const [s1, s2] = [await Session.open(etcd), await Session.open(etcd)]
        const leader = new Election(s1, 'elect/c')
        await leader.campaign('v1')
        await leader.proclaim('v2')
        expect(text((await leader.leader()).kv.value)).toBe('v2')
        await expectEtcdError(new Election(s2, 'elect/c').proclaim('mine'), 'ETCD_ELECTION_NOT_LEADER')
        await leader.resign()
        await expectEtcdError(leader.proclaim('v3'), 'ETCD_ELECTION_NOT_LEADER')
        expect(await candidates(etcd, 'elect/c')).toBe(0)
        await s1.close()
        await s2.close()
      })

      test('campaigning again in the same session keeps its place and proclaims the new value', async () => {
        const etcd = target()
        const session = await Session.open(etcd)
        const election = new Election(session, 'elect/again')
        await election.campaign('first')
        const rev = election.rev
        await new Election(session, 'elect/again').campaign('second')
        const { kv } = await election.leader()
        expect({ value: text(kv.value), createRevision: kv.createRevision }).toEqual({ value: 'second', createRevision: rev })
        await session.close()
      })

      test('observe yields the leader, each value it proclaims, and each new leader, in order', async () => {
        const etcd = target()
        const [s1, s2, watcher] = [await Session.open(etcd), await Session.open(etcd), await Session.open(etcd)]
        const first = new Election(s1, 'elect/observe')
        const second = new Election(s2, 'elect/observe')
        const seen: string[] = []
        const observing = (async () => {
          for await (const { kv } of new Election(watcher, 'elect/observe').observe()) {
            seen.push(text(kv.value))
            if (seen.length === 4) break
          }
        })()
        await first.campaign('a')
        const secondLeads = second.campaign('c')
        await until(etcd, () => seen.length === 1)
        await first.proclaim('b')
        await until(etcd, () => seen.length === 2)
        await first.resign()
        await secondLeads
        await until(etcd, () => seen.length === 3)
        await second.proclaim('d')
        await observing
        expect(seen).toEqual(['a', 'b', 'c', 'd'])
        for (const s of [s1, s2, watcher]) await s.close()
      })

      test('observe stops when its signal aborts, also while nobody leads', async () => {
        const etcd = target()
        const session = await Session.open(etcd)
        const controller = new AbortController()
        const seen: string[] = []
        const observing = (async () => {
          for await (const { kv } of new Election(session, 'elect/quiet').observe({ signal: controller.signal })) seen.push(text(kv.value))
        })()
        await roundTrips(etcd)
        controller.abort()
        await observing
        expect(seen).toEqual([])
        await session.close()
      })

      test("an aborted campaign rejects with the signal's reason and withdraws the candidacy", async () => {
        const etcd = target()
        const [s1, s2] = [await Session.open(etcd), await Session.open(etcd)]
        const leader = new Election(s1, 'elect/abort')
        await leader.campaign('one')
        const controller = new AbortController()
        const waiting = new Election(s2, 'elect/abort').campaign('two', { signal: controller.signal })
        await until(etcd, async () => (await candidates(etcd, 'elect/abort')) === 2)
        const reason = new Error('gave up')
        controller.abort(reason)
        await expect(waiting).rejects.toBe(reason)
        expect(keysOf((await etcd.get('elect/abort/', { prefix: true })).kvs)).toEqual([leader.key])
        await s1.close()
        await s2.close()
      })

      test("a leader whose session closes hands leadership to the next candidate", async () => {
        const etcd = target()
        const [s1, s2] = [await Session.open(etcd), await Session.open(etcd)]
        await new Election(s1, 'elect/close').campaign('one')
        const next = new Election(s2, 'elect/close')
        const waiting = next.campaign('two')
        await until(etcd, async () => (await candidates(etcd, 'elect/close')) === 2)
        await s1.close()
        await waiting
        expect(text((await next.leader()).kv.value)).toBe('two')
        await s2.close()
      })
    })

    describe('software transactional memory', () => {
      test('a transaction commits its writes in one revision and answers with that txn', async () => {
        const etcd = target()
        await etcd.put('stm/a', '10')
        const before = await currentRevision(etcd)
        const result = await stm(etcd, async (tx) => {
          const a = Number(await tx.get('stm/a'))
          tx.put('stm/a', String(a - 3))
          tx.put('stm/b', String(3))
          expect(await tx.get('stm/b')).toBe('3')
        })
        expect(result.succeeded).toBe(true)
        expect(result.header.revision).toBe(before + 1)
        const { kvs } = await etcd.get('stm/', { prefix: true })
        expect(kvs.map((kv) => [text(kv.key), text(kv.value), kv.modRevision])).toEqual([
          ['stm/a', '7', before + 1],
          ['stm/b', '3', before + 1],
        ])
      })

      test('get of a missing key is empty and rev is 0; del removes a key at the commit', async () => {
        const etcd = target()
        await etcd.put('stm/gone', 'x')
        await stm(etcd, async (tx) => {
          expect(await tx.get('stm/missing')).toBe('')
          expect(await tx.rev('stm/missing')).toBe(0)
          tx.del('stm/gone')
          expect(await tx.get('stm/gone')).toBe('')
        })
        expect((await etcd.get('stm/gone')).kvs).toEqual([])
      })

      test('an error thrown by the function aborts the transaction with nothing written', async () => {
        const etcd = target()
        const before = await currentRevision(etcd)
        const failure = new Error('no')
        await expect(
          stm(etcd, (tx) => {
            tx.put('stm/never', '1')
            throw failure
          }),
        ).rejects.toBe(failure)
        expect(await currentRevision(etcd)).toBe(before)
      })

      // A read key changed by another client between the read and the commit: every level but read-committed retries.
      test.each([
        [Isolation.SerializableSnapshot, 2],
        [Isolation.Serializable, 2],
        [Isolation.RepeatableReads, 2],
        [Isolation.ReadCommitted, 1],
      ])('%s: a key read and changed by another client before the commit makes %i run(s)', async (isolation, runs) => {
        const etcd = target()
        await etcd.put('stm/counter', '0')
        let attempts = 0
        await stm(
          etcd,
          async (tx) => {
            attempts++
            const n = Number(await tx.get('stm/counter'))
            if (attempts === 1) await etcd.put('stm/counter', '100')
            tx.put('stm/counter', String(n + 1))
          },
          { isolation },
        )
        expect(attempts).toBe(runs)
        expect(text((await etcd.get('stm/counter')).kvs[0]!.value)).toBe(runs === 2 ? '101' : '1')
      })

      // A key only written, changed by another client after the transaction's first read: only snapshots retry.
      test.each([
        [Isolation.SerializableSnapshot, 2],
        [Isolation.Serializable, 1],
        [Isolation.RepeatableReads, 1],
        [Isolation.ReadCommitted, 1],
      ])('%s: a key only written and changed by another client after the first read makes %i run(s)', async (isolation, runs) => {
        const etcd = target()
        await etcd.put('stm/read', 'r')
        let attempts = 0
        await stm(
          etcd,
          async (tx) => {
            attempts++
            await tx.get('stm/read')
            if (attempts === 1) await etcd.put('stm/written', 'theirs')
            tx.put('stm/written', 'mine')
          },
          { isolation },
        )
        expect(attempts).toBe(runs)
        expect(text((await etcd.get('stm/written')).kvs[0]!.value)).toBe('mine')
      })

      // The serializable levels read as of their first read; the others read the latest value of each key.
      test.each([
        [Isolation.SerializableSnapshot, 'old'],
        [Isolation.Serializable, 'old'],
        [Isolation.RepeatableReads, 'new'],
        [Isolation.ReadCommitted, 'new'],
      ])('%s: a key changed after the first read reads as %s', async (isolation, expected) => {
        const etcd = target()
        await etcd.put('stm/x', 'x')
        await etcd.put('stm/y', 'old')
        let firstRead: string | undefined
        await stm(
          etcd,
          async (tx) => {
            await tx.get('stm/x')
            if (firstRead === undefined) {
              await etcd.put('stm/y', 'new')
              firstRead = await tx.get('stm/y')
            }
          },
          { isolation },
        )
        expect(firstRead).toBe(expected)
      })

      test.each([Isolation.SerializableSnapshot, Isolation.Serializable, Isolation.RepeatableReads])(
        '%s: concurrent transfers between accounts keep the total',
        async (isolation) => {
          const etcd = target()
          const accounts = 5
          for (let i = 0; i < accounts; i++) await etcd.put(`bank/${i}`, '100')
          const worker = async (w: number) => {
            for (let t = 0; t < 8; t++) {
              const from = `bank/${(w + t) % accounts}`
              const to = `bank/${(w * 3 + t + 1) % accounts}`
              if (from === to) continue
              await stm(
                etcd,
                async (tx) => {
                  const a = Number(await tx.get(from))
                  const b = Number(await tx.get(to))
                  const amount = Math.min(a, 1 + ((w + t) % 7))
                  tx.put(from, String(a - amount))
                  tx.put(to, String(b + amount))
                },
                { isolation, prefetch: [from, to] },
              )
            }
          }
          await Promise.all([0, 1, 2, 3].map(worker))
          const { kvs } = await etcd.get('bank/', { prefix: true })
          expect(kvs.reduce((sum, kv) => sum + Number(text(kv.value)), 0)).toBe(accounts * 100)
        },
      )

      test('an unknown isolation level is a TypeError', async () => {
        const etcd = target()
        await expect(stm(etcd, () => undefined, { isolation: 'snapshot' as Isolation })).rejects.toThrow(TypeError)
      })
    })
  })
}
