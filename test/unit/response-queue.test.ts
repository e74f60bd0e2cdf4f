import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import type { WatchResponse } from '../../src/messages/watch.ts'
import { ResponseQueue } from '../../src/watch/response-queue.ts'
import type { Watcher } from '../../src/watch/watcher.ts'

describe('ResponseQueue', () => {
  test('behaves as an array of pairs under any sequence of pushes, shifts and clears (growing past its capacity)', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('push' as const), n: fc.integer({ min: 1, max: 200 }) }),
      fc.record({ op: fc.constant('shift' as const), n: fc.integer({ min: 1, max: 200 }) }),
      fc.constant({ op: 'clear' as const, n: 0 }),
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const q = new ResponseQueue()
        const model: [WatchResponse, Watcher | undefined][] = []
        let seq = 0
        for (const s of steps) {
          if (s.op === 'push') {
            for (let i = 0; i < s.n; i++, seq++) {
              const response = { watchId: seq } as WatchResponse
              const watcher = seq % 3 === 0 ? undefined : ({ id: seq } as unknown as Watcher)
              q.push(response, watcher)
              model.push([response, watcher])
            }
          } else if (s.op === 'shift') {
            for (let i = 0; i < s.n && model.length > 0; i++) {
              const [response, watcher] = model.shift()!
              expect(q.peekWatcher()).toBe(watcher)
              expect(q.shift()).toBe(response)
            }
          } else {
            q.clear()
            model.length = 0
          }
          expect(q.size).toBe(model.length)
        }
      }),
    )
  })
})
