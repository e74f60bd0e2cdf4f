import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { open, type WatchResult } from '../../src/index.ts'

/** tick lets every queued microtask and one macrotask run. */
const tick = () => new Promise((resolve) => setImmediate(resolve))

/** revisions lists the modRevisions of the events a listener heard. */
const revisions = (heard: readonly WatchResult[]) => heard.flatMap((r) => r.events.map((e) => e.kv.modRevision))

/**
 * The listener form of watch (`etcd.watch(key, options, listener)`), in process. The conformance suite checks that
 * it hears what the iterator form reads, on every target; these tests pin down what only the listener form has: when
 * it is called, what cancel() and the end of a watch do to it, and what a throwing listener does.
 */
describe('watch with a listener', () => {
  test('the listener runs after the commit, never inside it, with the results in revision order', async () => {
    await using etcd = await open()
    const heard: WatchResult[] = []
    etcd.watch('k/', { prefix: true }, (r) => void heard.push(r))
    const put = etcd.put('k/a', '1') // committed inside this call; the listener waits for a microtask
    expect(heard).toEqual([])
    await put
    await etcd.put('k/b', '2')
    await etcd.delete('k/', { prefix: true })
    await tick()
    expect(heard.map((r) => r.events.map((e) => [e.type, e.kv.modRevision]))).toEqual([
      [['put', 2]],
      [['put', 3]],
      [
        ['delete', 4],
        ['delete', 4],
      ],
    ])
    expect(Object.isFrozen(heard[0]) && Object.isFrozen(heard[0]!.events)).toBe(true)
  })

  test('a listener that writes to the keys it watches hears its own writes next', async () => {
    await using etcd = await open()
    const heard: number[] = []
    etcd.watch('n', {}, (r) => {
      const n = Number(r.events[0]!.kv.value.toString())
      heard.push(n)
      if (n < 5) void etcd.put('n', String(n + 1))
    })
    await etcd.put('n', '1')
    for (let i = 0; i < 20 && heard.length < 5; i++) await tick()
    expect(heard).toEqual([1, 2, 3, 4, 5])
  })

  test('history from a start revision arrives first, then live changes, with prevKv and filters applied', async () => {
    await using etcd = await open()
    await etcd.put('a', '1') // 2
    await etcd.put('a', '2') // 3
    await etcd.delete('a') // 4
    const heard: WatchResult[] = []
    etcd.watch('a', { startRevision: 3, prevKv: true, filters: ['NODELETE'] }, (r) => void heard.push(r))
    await etcd.put('a', '3') // 5
    await tick()
    const events = heard.flatMap((r) => r.events)
    expect(events.map((e) => [e.type, e.kv.modRevision, e.prevKv?.modRevision])).toEqual([
      ['put', 3, 2],
      ['put', 5, undefined],
    ])
  })

  test('cancel(): nothing is heard after it, not even results made before it; active turns false, done resolves', async () => {
    await using etcd = await open()
    const heard: WatchResult[] = []
    const sub = etcd.watch('k', {}, (r) => void heard.push(r))
    expect(sub.active).toBe(true)
    await etcd.put('k', '1')
    await tick()
    const put = etcd.put('k', '2') // its result is made now and waits for the microtask
    await sub.cancel()
    await put
    await etcd.put('k', '3')
    await tick()
    expect(revisions(heard)).toEqual([2])
    expect(sub.active).toBe(false)
    await expect(sub.done).resolves.toBeUndefined()
  })

  test('a start revision below the compact revision: the cancellation is the one result, then the watch is done', async () => {
    await using etcd = await open()
    for (let i = 0; i < 4; i++) await etcd.put('k', String(i)) // 2..5
    await etcd.compact(4)
    const heard: WatchResult[] = []
    const sub = etcd.watch('k', { startRevision: 2 }, (r) => void heard.push(r))
    await sub.done
    await tick()
    expect(heard.map((r) => ({ canceled: r.canceled, compactRevision: r.compactRevision, events: r.events.length }))).toEqual([
      { canceled: true, compactRevision: 4, events: 0 },
    ])
    expect(sub.active).toBe(false)
  })

  test('closing the engine ends every listening watch', async () => {
    const etcd = await open()
    const sub = etcd.watch('k', {}, () => {})
    await etcd.close()
    await expect(sub.done).resolves.toBeUndefined()
    expect(sub.active).toBe(false)
  })

  test('a listener that is not a function is a TypeError, and no watch is opened', async () => {
    await using etcd = await open()
    expect(() => etcd.watch('k', {}, 'nope' as never)).toThrow(TypeError)
    expect(() => etcd.watch('k', {}, null as never)).toThrow(TypeError)
    expect(etcd.stats().watchers).toBe(0)
  })

  test('a listener that throws: the others still hear the result, its own watch goes on, the error is uncaught', () => {
    // In a child process: the error surfaces as an uncaught exception, which the child catches and reports.
    const script = `
      import { open } from ${JSON.stringify(fileURLToPath(new URL('../../src/index.ts', import.meta.url)))}
      const errors = []
      process.on('uncaughtException', (err) => errors.push(err.message))
      const etcd = await open()
      const thrower = [], other = []
      etcd.watch('k', {}, (r) => { thrower.push(r.header.revision); throw new Error('boom ' + r.header.revision) })
      etcd.watch('k', {}, (r) => void other.push(r.header.revision))
      await etcd.put('k', '1')
      await etcd.put('k', '2')
      await new Promise((resolve) => setTimeout(resolve, 50))
      console.log(JSON.stringify({ errors, thrower, other }))
      await etcd.close()
    `
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
    expect(child.stderr).not.toMatch(/Error/)
    expect(JSON.parse(child.stdout.trim())).toEqual({ errors: ['boom 2', 'boom 3'], thrower: [2, 3], other: [2, 3] })
  })
})
