import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { Isolation, ManualClock, Mutex, open, Session, stm, type Engine } from '../../src/index.ts'

/**
 * Property tests of the concurrency recipes on the in-process engine: random contenders, hold times and transfers,
 * interleaved by random numbers of event-loop turns. fast-check prints the seed and the shrunk case on failure.
 */

/** turns yields to the event loop `n` times, so that other contenders' requests and watch events run meanwhile. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

async function withEngine<T>(run: (etcd: Engine) => Promise<T>): Promise<T> {
  const etcd = await open({ clock: new ManualClock() })
  try {
    return await run(etcd)
  } finally {
    await etcd.close()
  }
}

describe('mutex (property)', () => {
  test('contenders never hold the lock at once, and get it in the order their keys were created', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ arrive: fc.nat(4), hold: fc.nat(4), rounds: fc.integer({ min: 1, max: 3 }) }), { minLength: 2, maxLength: 6 }),
        async (contenders) =>
          withEngine(async (etcd) => {
            let inside = 0
            let most = 0
            /** grants records, for each acquisition, the create revision of the holder's key. */
            const grants: number[] = []
            await Promise.all(
              contenders.map(async ({ arrive, hold, rounds }) => {
                const session = await Session.open(etcd)
                const mutex = new Mutex(session, 'prop/lock')
                await turns(arrive)
                for (let r = 0; r < rounds; r++) {
                  await mutex.lock()
                  inside++
                  most = Math.max(most, inside)
                  grants.push((await etcd.get(mutex.key)).kvs[0]!.createRevision)
                  await turns(hold)
                  inside--
                  await mutex.unlock()
                }
                await session.close()
              }),
            )
            expect(most).toBe(1)
            expect(grants).toHaveLength(contenders.reduce((n, c) => n + c.rounds, 0))
            // Every key is created at its lock() and removed at unlock(): a later grant always went to a younger key.
            expect([...grants].sort((a, b) => a - b)).toEqual(grants)
            expect((await etcd.get('prop/lock/', { prefix: true, countOnly: true })).count).toBe(0)
          }),
      ),
      { numRuns: Number(process.env.CONCURRENCY_RUNS ?? 40) },
    )
  })
})

describe('stm (property)', () => {
  test.each([Isolation.SerializableSnapshot, Isolation.Serializable, Isolation.RepeatableReads])(
    '%s: random concurrent transfers keep the total, and no account goes negative',
    async (isolation) => {
      const accounts = 4
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.array(fc.record({ from: fc.nat(accounts - 1), to: fc.nat(accounts - 1), amount: fc.integer({ min: 1, max: 60 }), pause: fc.nat(2) }), {
              minLength: 1,
              maxLength: 5,
            }),
            { minLength: 2, maxLength: 4 },
          ),
          async (workers) =>
            withEngine(async (etcd) => {
              for (let i = 0; i < accounts; i++) await etcd.put(`prop/bank/${i}`, '50')
              await Promise.all(
                workers.map(async (transfers) => {
                  for (const { from, to, amount, pause } of transfers) {
                    if (from === to) continue
                    await stm(
                      etcd,
                      async (tx) => {
                        const a = Number(await tx.get(`prop/bank/${from}`))
                        await turns(pause)
                        const b = Number(await tx.get(`prop/bank/${to}`))
                        const moved = Math.min(a, amount)
                        tx.put(`prop/bank/${from}`, String(a - moved))
                        tx.put(`prop/bank/${to}`, String(b + moved))
                      },
                      { isolation },
                    )
                  }
                }),
              )
              const balances = (await etcd.get('prop/bank/', { prefix: true })).kvs.map((kv) => Number(Buffer.from(kv.value).toString()))
              expect(balances.reduce((a, b) => a + b, 0)).toBe(accounts * 50)
              expect(balances.every((b) => b >= 0)).toBe(true)
            }),
        ),
        { numRuns: Number(process.env.CONCURRENCY_RUNS ?? 40) },
      )
    },
  )

  test('read-committed loses concurrent updates that the other levels keep (the reason to choose a level)', async () => {
    await withEngine(async (etcd) => {
      const lost = async (isolation: Isolation) => {
        await etcd.put('prop/count', '0')
        await Promise.all(
          [0, 1, 2, 3].map(async () => {
            for (let i = 0; i < 5; i++) {
              await stm(
                etcd,
                async (tx) => {
                  const n = Number(await tx.get('prop/count'))
                  await turns(1)
                  tx.put('prop/count', String(n + 1))
                },
                { isolation },
              )
            }
          }),
        )
        return 20 - Number(Buffer.from((await etcd.get('prop/count')).kvs[0]!.value).toString())
      }
      expect(await lost(Isolation.SerializableSnapshot)).toBe(0)
      expect(await lost(Isolation.RepeatableReads)).toBe(0)
      expect(await lost(Isolation.ReadCommitted)).toBeGreaterThan(0)
    })
  })
})
