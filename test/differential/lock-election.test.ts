import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { serve, type Serving } from '../../src/server/serve.ts'
import { etcdBinary, startEtcd, type RealEtcd } from '../support/real-etcd.ts'
import { b64, normalise, post, send, type Answer, type Step } from './http-steps.ts'

/**
 * etcd's lock and election services through the JSON gateway, against a real etcd 3.4: one fixed list of requests,
 * sent in order to each, every answer compared byte for byte (cluster and member ids and raft term aside). Leases are
 * granted with fixed ids, so the lock and candidate keys (`<name>/<lease id in hex>`) are the same on both. Then the
 * waiting calls, run side by side: a second Lock waits for the first's Unlock, a second Campaign for a Resign,
 * Observe streams each change, and a Lock whose caller goes away leaves no key.
 */

const binary = etcdBinary()
if (binary === undefined) console.log('lock and election differential: skipped, no etcd 3.4 binary is installed')

const A = 0x1234
const B = 0x5678
const leader = (name: string, lease: number, rev: number) => ({ name: b64(name), key: b64(`${name}/${lease.toString(16)}`), rev, lease })

const STEPS: Step[] = [
  post('/v3/lease/grant', { TTL: 60, ID: A }),
  post('/v3/lease/grant', { TTL: 60, ID: B }),
  post('/v3/lock/lock', { name: b64('lk'), lease: A }), // 2
  post('/v3/lock/lock', { name: b64('lk'), lease: A }), // the same session holds it already: no new revision
  post('/v3/lock/lock', { name: b64('other'), lease: String(B) }), // 3
  post('/v3/lock/lock', { name: b64('lk'), lease: 999 }),
  post('/v3/lock/lock', { name: Buffer.from([0xff, 0x00, 0x2f]).toString('base64'), lease: B }), // 4
  post('/v3/lock/unlock', { key: b64(`lk/${A.toString(16)}`) }), // 5
  post('/v3/lock/unlock', { key: b64(`lk/${A.toString(16)}`) }),
  post('/v3/lock/unlock', {}),
  post('/v3/lock/unlock', '{"key":5}'),
  post('/v3/election/leader', { name: b64('e') }),
  post('/v3/election/campaign', { name: b64('e'), lease: A, value: b64('v1') }), // 6
  post('/v3/election/campaign', { name: b64('e'), lease: A, value: b64('v1') }), // same value: nothing written
  post('/v3/election/campaign', { name: b64('e'), lease: A, value: b64('v2') }), // 7: proclaims v2
  post('/v3/election/campaign', { name: b64('e2'), lease: 999, value: b64('x') }),
  post('/v3/election/leader', { name: b64('e') }),
  post('/v3/election/leader', {}),
  post('/v3/election/proclaim', { leader: leader('e', A, 6), value: b64('v3') }), // 8
  post('/v3/election/proclaim', { leader: leader('e', A, 99), value: b64('nope') }),
  post('/v3/election/proclaim', { value: b64('nope') }),
  { ...post('/v3/election/observe', { name: b64('e') }), lines: 1 },
  post('/v3/election/resign', { leader: leader('e', A, 99) }),
  post('/v3/election/resign', {}),
  post('/v3/election/resign', { leader: leader('e', A, 6) }), // 9
  post('/v3/election/leader', { name: b64('e') }),
  post('/v3/kv/range', { key: b64('\0'), range_end: b64('\0') }),
  post('/v3/lease/timetolive', { ID: A, keys: true }),
]

/** later waits `ms` milliseconds. */
const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** pending sends a step that is expected to wait, and tells whether it has answered yet. */
function pending(base: string, step: Step): { answer: Promise<Answer>; done: () => boolean } {
  let finished = false
  const answer = send(base, step).finally(() => (finished = true))
  return { answer, done: () => finished }
}

describe.skipIf(binary === undefined)('lock and election differential: etcdlite answers as etcd 3.4 does', () => {
  describe('a fixed sequence of requests', () => {
    let etcd: RealEtcd
    let lite: Serving
    const etcdAnswers: Answer[] = []
    const liteAnswers: Answer[] = []

    beforeAll(async () => {
      ;[etcd, lite] = await Promise.all([startEtcd(binary), serve({ port: 0 })])
      for (const step of STEPS) {
        etcdAnswers.push(await send(`http://${etcd.endpoint}`, step))
        liteAnswers.push(await send(`http://${lite.endpoint}`, step))
      }
    }, 60_000)

    afterAll(async () => {
      await Promise.all([etcd?.stop(), lite?.close()])
    })

    test('the calls show in the grpc_server_* metrics as on etcd: each series once it counts something', async () => {
      const lines = async (base: string) =>
        (await (await fetch(`${base}/metrics`)).text())
          .split('\n')
          .filter((l) => l.includes('v3lockpb') || l.includes('v3electionpb'))
          .sort()
      const [fromEtcd, fromLite] = [await lines(`http://${etcd.endpoint}`), await lines(`http://${lite.endpoint}`)]
      expect(fromEtcd.length).toBeGreaterThan(10)
      expect(fromLite).toEqual(fromEtcd)
    })

    test.skipIf(process.env.SHOW_ANSWERS === undefined)('(debug) print the answers', () => {
      console.log(etcdAnswers.map((a, i) => `${i} ${a.status} ${a.body}`).join('\n'))
    })

    test.each(STEPS.map((step, i) => [i, `${step.path} ${step.body ?? ''}`.slice(0, 160)] as const))('step %i: %s', (i) => {
      expect(liteAnswers[i]).toEqual(etcdAnswers[i])
    })
  })

  describe('waiting calls, side by side', () => {
    let etcd: RealEtcd
    let lite: Serving
    let bases: string[]

    beforeEach(async () => {
      ;[etcd, lite] = await Promise.all([startEtcd(binary), serve({ port: 0 })])
      bases = [`http://${etcd.endpoint}`, `http://${lite.endpoint}`]
      for (const base of bases) {
        for (const id of [A, B]) await send(base, post('/v3/lease/grant', { TTL: 60, ID: id }))
      }
    }, 30_000)

    afterEach(async () => {
      await Promise.all([etcd?.stop(), lite?.close()])
    })

    /** onBoth runs the same scenario against each server and returns what each saw. */
    const onBoth = <T>(scenario: (base: string) => Promise<T>) => Promise.all(bases.map(scenario))

    test('a second Lock waits until the holder unlocks, then answers with its own key', async () => {
      const [fromEtcd, fromLite] = await onBoth(async (base) => {
        await send(base, post('/v3/lock/lock', { name: b64('w'), lease: A }))
        const second = pending(base, post('/v3/lock/lock', { name: b64('w'), lease: B }))
        await later(400)
        const waited = !second.done()
        const unlocked = await send(base, post('/v3/lock/unlock', { key: b64(`w/${A.toString(16)}`) }))
        return { waited, unlocked, second: await second.answer }
      })
      expect(fromEtcd!.waited).toBe(true)
      expect(fromLite).toEqual(fromEtcd)
    }, 30_000)

    test('a second Campaign waits until the leader resigns; Observe streams the leader, its value and the next leader', async () => {
      const [fromEtcd, fromLite] = await onBoth(async (base) => {
        const first = await send(base, post('/v3/election/campaign', { name: b64('el'), lease: A, value: b64('one') }))
        const observing = send(base, { ...post('/v3/election/observe', { name: b64('el') }), lines: 3 })
        await later(200)
        const second = pending(base, post('/v3/election/campaign', { name: b64('el'), lease: B, value: b64('two') }))
        await later(400)
        const waited = !second.done()
        const proclaimed = await send(base, post('/v3/election/proclaim', { leader: leader('el', A, 2), value: b64('uno') }))
        const resigned = await send(base, post('/v3/election/resign', { leader: leader('el', A, 2) }))
        return { first, waited, proclaimed, resigned, second: await second.answer, observed: await observing }
      })
      expect(fromEtcd!.waited).toBe(true)
      expect(fromLite).toEqual(fromEtcd)
    }, 30_000)

    test('a Lock whose caller goes away stops waiting and leaves no key behind', async () => {
      const [fromEtcd, fromLite] = await onBoth(async (base) => {
        await send(base, post('/v3/lock/lock', { name: b64('gone'), lease: A }))
        const controller = new AbortController()
        const abandoned = fetch(`${base}/v3/lock/lock`, {
          method: 'POST',
          body: JSON.stringify({ name: b64('gone'), lease: B }),
          signal: controller.signal,
        }).catch(() => 'aborted')
        await later(400)
        controller.abort()
        await abandoned
        await later(400)
        const keys = await send(base, post('/v3/kv/range', { key: b64('gone/'), range_end: b64('gone0'), keys_only: true }))
        return normalise(keys.body)
      })
      expect(fromLite).toEqual(fromEtcd)
      expect(fromEtcd).toContain(b64(`gone/${A.toString(16)}`))
      expect(fromEtcd).not.toContain(b64(`gone/${B.toString(16)}`))
    }, 30_000)
  })
})
