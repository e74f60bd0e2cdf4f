import { describe, expect, test } from 'vitest'
import { AsyncQueue } from '../../src/util/async-queue.ts'

/** The one async queue: order, ending, failing, breaking out, and the producer paused and resumed at its marks. */

describe('AsyncQueue', () => {
  test('values queued before and after the reader waits come in order; end finishes after them', async () => {
    const q = new AsyncQueue<number>()
    q.push(1)
    q.push(2)
    const seen: number[] = []
    const reading = (async () => {
      for await (const v of q) seen.push(v)
    })()
    await new Promise((r) => setImmediate(r))
    q.push(3)
    q.end()
    q.push(4)
    await reading
    expect(seen).toEqual([1, 2, 3])
    expect(q.ended).toBe(true)
  })

  test('fail ends after the queued values, then the next step throws once', async () => {
    const q = new AsyncQueue<string>()
    q.push('a')
    q.fail(new Error('gone'))
    expect(await q.next()).toEqual({ value: 'a', done: false })
    await expect(q.next()).rejects.toThrow('gone')
    expect(await q.next()).toEqual({ value: undefined, done: true })
  })

  test('a reader waiting when the queue fails is rejected', async () => {
    const q = new AsyncQueue<string>()
    const waiting = q.next()
    q.fail(new Error('cut'))
    await expect(waiting).rejects.toThrow('cut')
  })

  test('breaking out drops what is queued and calls onReturn once', async () => {
    let returned = 0
    const q = new AsyncQueue<number>(() => returned++)
    for (let i = 0; i < 5; i++) q.push(i)
    for await (const v of q) {
      expect(v).toBe(0)
      break
    }
    await q.return()
    expect(returned).toBe(1)
    expect(q.length).toBe(0)
    expect(await q.next()).toEqual({ value: undefined, done: true })
  })

  test('the producer is paused at the high water mark and resumed when the reader is down to the low one', async () => {
    const calls: string[] = []
    const q = new AsyncQueue<number>(undefined, {
      highWater: 4,
      lowWater: 1,
      pause: () => calls.push(`pause at ${q.length}`),
      resume: () => calls.push(`resume at ${q.length}`),
    })
    for (let i = 0; i < 6; i++) q.push(i)
    expect(calls).toEqual(['pause at 4'])
    expect(q.paused).toBe(true)
    const taken: number[] = []
    for (let i = 0; i < 5; i++) taken.push((await q.next()).value as number)
    expect(taken).toEqual([0, 1, 2, 3, 4])
    expect(calls).toEqual(['pause at 4', 'resume at 1'])
    expect(q.paused).toBe(false)
  })

  test('marks that cannot work are refused', () => {
    const flow = { pause() {}, resume() {} }
    expect(() => new AsyncQueue(undefined, { ...flow, highWater: 2, lowWater: 2 })).toThrow(RangeError)
    expect(() => new AsyncQueue(undefined, { ...flow, highWater: 2, lowWater: -1 })).toThrow(RangeError)
  })
})
