import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { TimerWheel } from '../../src/lease/timer-wheel.ts'

/**
 * The timer wheel against a naive model (a Map of deadlines): after any sequence of schedules, reschedules, cancels
 * and time steps, the wheel hands out exactly the keys whose deadline has passed, and its wake-up time is the
 * earliest deadline.
 */

type Step =
  | { kind: 'schedule'; key: number; inMs: number }
  | { kind: 'cancel'; key: number }
  | { kind: 'advance'; ms: number; max: number }

const TICK = 100
const SLOTS = 16 // a small wheel, so deadlines beyond the horizon (1.6 s) are common

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('schedule' as const), key: fc.nat(20), inMs: fc.integer({ min: -500, max: 10_000 }) }),
  fc.record({ kind: fc.constant('cancel' as const), key: fc.nat(20) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4_000 }), max: fc.integer({ min: 1, max: 30 }) }),
)

describe('TimerWheel', () => {
  test('hands out exactly the due keys, and wakes up exactly at the earliest deadline', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.array(step, { maxLength: 80 }), (start, steps) => {
        let now = start
        const wheel = new TimerWheel<number>(now, { tickMs: TICK, slots: SLOTS })
        const model = new Map<number, number>()
        for (const s of steps) {
          if (s.kind === 'schedule') {
            wheel.schedule(s.key, now + s.inMs)
            model.set(s.key, now + s.inMs)
          } else if (s.kind === 'cancel') {
            wheel.cancel(s.key)
            model.delete(s.key)
          } else {
            now += s.ms
            // Drain in batches of `max`, as the lessor does.
            const taken: number[] = []
            for (;;) {
              const batch = wheel.takeExpired(now, s.max)
              expect(batch.length).toBeLessThanOrEqual(s.max)
              taken.push(...batch)
              if (batch.length < s.max) break
            }
            const due = [...model].filter(([, d]) => d <= now).map(([k]) => k)
            expect(taken.sort((a, b) => a - b)).toEqual(due.sort((a, b) => a - b))
            for (const k of due) model.delete(k)
          }
          expect(wheel.size).toBe(model.size)
          const wake = wheel.wakeAt()
          if (model.size === 0) expect(wake).toBeUndefined()
          else expect(wake).toBe(Math.min(...model.values()))
        }
      }),
      { numRuns: Number(process.env.WHEEL_RUNS ?? 500) },
    )
  })

  test('an idle wheel with many far deadlines wakes only for the first one', () => {
    const wheel = new TimerWheel<number>(0, { tickMs: 100, slots: 1024 })
    for (let i = 0; i < 100_000; i++) wheel.schedule(i, 3_600_000 + i)
    expect(wheel.wakeAt()).toBe(3_600_000)
    expect(wheel.takeExpired(3_599_999, 10)).toEqual([])
    expect(wheel.takeExpired(3_600_001, 10)).toEqual([0, 1])
  })
})
