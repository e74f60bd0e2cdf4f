import { Etcd3 } from 'etcd3'
import { describe, expect, test } from 'vitest'
import { fakeEtcd } from '../../src/testing/index.ts'
import { etcdctl, etcdctlMissing } from '../server/helpers.ts'
import { errorLine } from './client-errors.ts'
import { failure } from '../support/waiting.ts'
import { etcdBinary, startEtcd } from '../support/real-etcd.ts'

/**
 * The 'unavailable' fault is a dead member, as its clients see one: a connection that is gone, reported by the
 * client's own transport, with no message from etcd. A rule on every call ('*', no count) keeps the whole member dead
 * (compared here with a real etcd 3.4 killed with SIGKILL); a narrower rule cuts the connection its call came on.
 */

const binary = etcdBinary()
if (binary === undefined) console.log('skipping the comparison with a killed etcd: etcd 3.4 is not installed')

/** QUICK: etcdctl flags that bound a call against a dead member to a second. */
const QUICK = ['--dial-timeout=1s', '--command-timeout=1s']

/** deadMemberView: what the etcd3 client and etcdctl show for a put against a dead member at `endpoint`. */
async function deadMemberView(endpoint: string) {
  const client = new Etcd3({ hosts: endpoint })
  try {
    const etcd3 = await failure(async () => client.put('k').value('v'))
    const again = await failure(async () => client.put('k').value('v'))
    const ctl = etcdctlMissing === undefined ? errorLine((await etcdctl(endpoint, ['put', 'k', 'v'], { extra: QUICK })).stderr) : undefined
    return {
      etcd3: { name: etcd3.name, message: etcd3.message.split('. Last error')[0] },
      again: again.name,
      etcdctl: ctl,
    }
  } finally {
    client.close()
  }
}

describe("'unavailable': a dead member", () => {
  test.skipIf(binary === undefined)("a '*' rule looks to the etcd3 client and etcdctl as a killed etcd 3.4 does", async () => {
    const real = await startEtcd(binary)
    let killed
    try {
      await real.kill()
      killed = await deadMemberView(real.endpoint)
    } finally {
      await real.stop()
    }
    await using fake = await fakeEtcd()
    fake.faults.add({ method: '*', fault: 'unavailable' })
    const dead = await deadMemberView(fake.endpoint)
    expect(dead).toEqual(killed)
    expect(dead.etcd3).toEqual({ name: 'GRPCUnavailableError', message: '14 UNAVAILABLE: No connection established' })
    if (dead.etcdctl !== undefined) expect(dead.etcdctl).toBe('Error: context deadline exceeded')
    expect(await fake.dump()).toEqual({})
  })

  test('adding the rule cuts open connections; removing it brings the member back', async () => {
    await using fake = await fakeEtcd()
    const client = new Etcd3({ hosts: fake.endpoint })
    try {
      await client.put('k').value('before')
      const rule = fake.faults.add({ method: '*', fault: 'unavailable' })
      expect((await failure(() => client.get('k').string())).name).toBe('GRPCUnavailableError')
      rule.remove()
    } finally {
      client.close()
    }
    const back = new Etcd3({ hosts: fake.endpoint })
    try {
      expect(await back.get('k').string()).toBe('before')
    } finally {
      back.close()
    }
  })

  test('the JSON gateway of a dead member cuts its connections too', async () => {
    await using fake = await fakeEtcd({ seed: { k: 'v' } })
    const range = () => fetch(`${fake.url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('k').toString('base64') }) })
    expect((await range()).status).toBe(200)
    fake.faults.add({ method: '*', fault: 'unavailable' })
    await expect(range()).rejects.toThrow()
    fake.faults.clear()
    expect((await range()).status).toBe(200)
  })

  test('a rule on one method cuts the connection its call came on: the etcd3 client sees UNAVAILABLE from its transport', async () => {
    await using fake = await fakeEtcd()
    const client = new Etcd3({ hosts: fake.endpoint })
    try {
      const rule = fake.faults.add({ method: 'KV.Put', fault: 'unavailable' })
      expect(await failure(async () => client.put('k').value('v'))).toEqual({ name: 'GRPCUnavailableError', message: '14 UNAVAILABLE: Connection dropped' })
      expect(await fake.dump()).toEqual({})
      expect(fake.requests.of('KV.Put').every((r) => r.status === 'UNAVAILABLE' && r.fault === 'unavailable')).toBe(true)
      rule.remove()
    } finally {
      client.close()
    }
    const next = new Etcd3({ hosts: fake.endpoint })
    try {
      await next.put('k').value('v')
      expect(await fake.dump()).toEqual({ k: 'v' })
    } finally {
      next.close()
    }
  })

  test('with times: 1, the etcd3 client retries the cut call on a new connection, and the retry is served', async () => {
    await using fake = await fakeEtcd()
    const client = new Etcd3({ hosts: fake.endpoint })
    try {
      fake.faults.add({ method: 'KV.Put', fault: 'unavailable', times: 1 })
      await client.put('k').value('v')
      expect(fake.requests.of('KV.Put').map((r) => [r.status, r.fault])).toEqual([
        ['UNAVAILABLE', 'unavailable'],
        ['OK', undefined],
      ])
      expect(await fake.dump()).toEqual({ k: 'v' })
    } finally {
      client.close()
    }
  })

  test.skipIf(etcdctlMissing !== undefined)('etcdctl: a put on a cut connection fails with code Unavailable from its transport', async () => {
    await using fake = await fakeEtcd()
    fake.faults.add({ method: 'KV.Put', fault: 'unavailable' })
    const r = await etcdctl(fake.endpoint, ['put', 'k', 'v'], { extra: QUICK })
    expect(r.code).toBe(1)
    expect(errorLine(r.stderr)).toMatch(/^Error: rpc error: code = Unavailable desc = (transport is closing|.*EOF)/)
    expect(await fake.dump()).toEqual({})
  })

  test("an open watch stream on a cut connection ends, and the etcd3 watcher resumes once the member is back", async () => {
    await using fake = await fakeEtcd()
    const client = new Etcd3({ hosts: fake.endpoint })
    try {
      const watcher = await client.watch().key('k').create()
      const disconnected = new Promise<void>((resolve) => watcher.once('disconnected', () => resolve()))
      const rule = fake.faults.add({ method: '*', fault: 'unavailable' })
      await disconnected
      rule.remove()
      const put = new Promise<string>((resolve) => watcher.once('put', (kv) => resolve(kv.value.toString())))
      await new Promise<void>((resolve) => watcher.once('connected', () => resolve()))
      await fake.engine.put('k', 'after')
      expect(await put).toBe('after')
    } finally {
      client.close()
    }
  })

  test("'stopping' is the other way a member goes: UNAVAILABLE \"etcdserver: server stopped\" from a member shutting down", async () => {
    await using fake = await fakeEtcd()
    const client = new Etcd3({ hosts: fake.endpoint })
    try {
      fake.faults.add({ method: 'KV.Range', fault: 'stopping' })
      expect(await failure(() => client.get('k').string())).toEqual({ name: 'GRPCUnavailableError', message: '14 UNAVAILABLE: etcdserver: server stopped' })
    } finally {
      client.close()
    }
  })
})
