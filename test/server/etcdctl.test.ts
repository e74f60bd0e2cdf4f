import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { open } from '../../src/api/engine.ts'
import { serve, type Serving } from '../../src/server/serve.ts'
import { b64, ETCDCTL, etcdctl, etcdctlMissing, json, Lines, ok } from './helpers.ts'

/**
 * etcdctl (the real Go binary, API v3) against `serve({ port: 0 })`: every command a user of etcd reaches for, with
 * the output etcd 3.4 gives. Skipped, with the reason printed once, where etcdctl is not installed.
 */
if (etcdctlMissing !== undefined) console.log(`skipping etcdctl tests: ${etcdctlMissing}`)

/** countOnly tells whether this etcdctl has `get --count-only` (added after 3.4). */
let hasCountOnly = false

describe.skipIf(etcdctlMissing !== undefined)('etcdctl against etcdlite', () => {
  let server: Serving
  let ep: string
  beforeAll(async () => {
    const help = await new Promise<string>((resolve) => {
      const c = spawn(ETCDCTL, ['get', '--help'], { env: { ...process.env, ETCDCTL_API: '3' } })
      let out = ''
      c.stdout.on('data', (d: Buffer) => (out += d.toString()))
      c.stderr.on('data', (d: Buffer) => (out += d.toString()))
      c.on('close', () => resolve(out))
    })
    hasCountOnly = help.includes('--count-only')
  })
  beforeEach(async () => {
    server = await serve({ port: 0 })
    ep = server.endpoint
  })
  afterEach(async () => {
    await server.close()
  })

  describe('put, get, del', () => {
    test('put answers OK and get shows the pair with its revisions', async () => {
      expect(await ok(ep, ['put', 'greeting', 'hello'])).toBe('OK\n')
      expect(await ok(ep, ['get', 'greeting'])).toBe('greeting\nhello\n')
      const r = await json<{ header: { revision: number; raft_term: number }; kvs: Record<string, unknown>[]; count: number }>(
        ep,
        ['get', 'greeting'],
      )
      expect(r.header.revision).toBe(2)
      expect(r.header.raft_term).toBe(1)
      expect(r.count).toBe(1)
      expect(r.kvs[0]).toMatchObject({ create_revision: 2, mod_revision: 2, version: 1 })
      expect(b64(r.kvs[0]!.value as string)).toBe('hello')
    })

    test('get --prefix lists the keys under a prefix in key order', async () => {
      for (const k of ['app/b', 'app/a', 'apps', 'other']) await ok(ep, ['put', k, k.toUpperCase()])
      expect(await ok(ep, ['get', 'app/', '--prefix'])).toBe('app/a\nAPP/A\napp/b\nAPP/B\n')
    })

    test('get --rev reads an older revision', async () => {
      await ok(ep, ['put', 'k', 'v1']) // 2
      await ok(ep, ['put', 'k', 'v2']) // 3
      expect(await ok(ep, ['get', 'k', '--rev=2', '--print-value-only'])).toBe('v1\n')
      expect(await ok(ep, ['get', 'k', '--print-value-only'])).toBe('v2\n')
    })

    test('get --limit returns the first keys, with more and the full count', async () => {
      for (const k of ['a', 'b', 'c']) await ok(ep, ['put', k, '1'])
      const r = await json<{ kvs: { key: string }[]; more: boolean; count: number }>(ep, ['get', 'a', 'z', '--limit=2'])
      expect(r.kvs.map((kv) => b64(kv.key))).toEqual(['a', 'b'])
      expect(r.more).toBe(true)
      expect(r.count).toBe(3)
    })

    test('get --sort-by --order sorts before the limit', async () => {
      await ok(ep, ['put', 'a', '1']) // 2
      await ok(ep, ['put', 'c', '1']) // 3
      await ok(ep, ['put', 'b', '1']) // 4
      expect(await ok(ep, ['get', 'a', 'z', '--sort-by=MODIFY', '--order=DESCEND', '--keys-only'])).toBe('b\n\nc\n\na\n\n')
      expect(await ok(ep, ['get', 'a', 'z', '--sort-by=KEY', '--order=DESCEND', '--limit=1', '--keys-only'])).toBe('c\n\n')
    })

    test('get --keys-only leaves the values out', async () => {
      await ok(ep, ['put', 'k', 'secret'])
      const r = await json<{ kvs: Record<string, unknown>[] }>(ep, ['get', 'k', '--keys-only'])
      expect(r.kvs[0]!.value).toBeUndefined()
      expect(b64(r.kvs[0]!.key as string)).toBe('k')
    })

    test('get --count-only answers the count without pairs', async (ctx) => {
      if (!hasCountOnly) {
        ctx.skip('this etcdctl (3.4) has no get --count-only; the count is checked through --limit instead')
      }
      for (const k of ['a', 'b', 'c']) await ok(ep, ['put', k, '1'])
      const r = await json<{ kvs?: unknown[]; count: number }>(ep, ['get', 'a', 'z', '--count-only'])
      expect(r.count).toBe(3)
      expect(r.kvs).toBeUndefined()
    })

    test('del --prev-kv prints the count and the deleted pairs', async () => {
      await ok(ep, ['put', 'k1', 'v1'])
      await ok(ep, ['put', 'k2', 'v2'])
      expect(await ok(ep, ['del', 'k', '--prefix', '--prev-kv'])).toBe('2\nk1\nv1\nk2\nv2\n')
      expect(await ok(ep, ['get', 'k', '--prefix'])).toBe('')
    })
  })

  describe('txn', () => {
    const script = (cmp: string) => `${cmp}\n\nput k taken\nget k\n\nput k other\n\n`

    test('txn from stdin takes the success branch when the compare holds', async () => {
      await ok(ep, ['put', 'k', 'v'])
      expect(await ok(ep, ['txn'], { input: script('value("k") = "v"') })).toBe('SUCCESS\n\nOK\n\nk\ntaken\n')
    })

    test('txn from stdin takes the failure branch when the compare fails', async () => {
      await ok(ep, ['put', 'k', 'v'])
      expect(await ok(ep, ['txn'], { input: script('mod("k") > "100"') })).toBe('FAILURE\n\nOK\n')
      expect(await ok(ep, ['get', 'k', '--print-value-only'])).toBe('other\n')
    })

    test("a txn etcd rejects reports etcd's error", async () => {
      const r = await etcdctl(ep, ['txn'], { input: '\nput k a\nput k b\n\n\n' })
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain('etcdserver: duplicate key given in txn request')
    })
  })

  describe('watch', () => {
    test('watch --prefix --rev replays history and then streams new events', async () => {
      await ok(ep, ['put', 'w/a', '1']) // 2
      await ok(ep, ['put', 'x', '1']) // 3
      const child = spawn(ETCDCTL, [`--endpoints=${ep}`, 'watch', 'w/', '--prefix', '--rev=2'], {
        env: { ...process.env, ETCDCTL_API: '3' },
      })
      try {
        const lines = new Lines(child)
        expect(await lines.take(3)).toEqual(['PUT', 'w/a', '1'])
        await ok(ep, ['put', 'w/b', '2'])
        await ok(ep, ['del', 'w/a'])
        expect(await lines.take(5)).toEqual(['PUT', 'w/b', '2', 'DELETE', 'w/a'])
      } finally {
        child.kill()
      }
      // The killed client's stream is gone; the server keeps serving.
      expect(await ok(ep, ['get', 'w/b', '--print-value-only'])).toBe('2\n')
    })
  })

  describe('leases', () => {
    test('lease grant, keep-alive --once, timetolive --keys, list, revoke', async () => {
      const granted = await ok(ep, ['lease', 'grant', '60'])
      const m = /^lease ([0-9a-f]+) granted with TTL\(60s\)$/.exec(granted.trim())
      expect(m).not.toBeNull()
      const hex = m![1]!
      // The id etcdctl shows is the engine's, bit for bit (ids are above 2^53).
      const { leases } = await server.engine.leases()
      expect(leases.map((l) => l.id.toString(16))).toEqual([hex])
      expect(leases[0]!.id > 2n ** 53n).toBe(true)

      await ok(ep, ['put', 'held', 'v', `--lease=${hex}`])
      expect(await ok(ep, ['lease', 'keep-alive', '--once', hex])).toBe(`lease ${hex} keepalived with TTL(60)\n`)
      expect(await ok(ep, ['lease', 'timetolive', hex, '--keys'])).toMatch(
        new RegExp(`^lease ${hex} granted with TTL\\(60s\\), remaining\\(5[89]s\\), attached keys\\(\\[held\\]\\)\\n$`),
      )
      expect(await ok(ep, ['lease', 'list'])).toBe(`found 1 leases\n${hex}\n`)
      expect(await ok(ep, ['lease', 'revoke', hex])).toBe(`lease ${hex} revoked\n`)
      expect(await ok(ep, ['get', 'held'])).toBe('')
      expect(await ok(ep, ['lease', 'list'])).toBe('found 0 leases\n')
    })

    test('unknown leases get etcd’s answers', async () => {
      const revoke = await etcdctl(ep, ['lease', 'revoke', '3e7'])
      expect(revoke.code).not.toBe(0)
      expect(revoke.stderr).toContain('etcdserver: requested lease not found')
      expect(await ok(ep, ['lease', 'timetolive', '3e7'])).toBe('lease 00000000000003e7 already expired\n')
      const once = await etcdctl(ep, ['lease', 'keep-alive', '--once', '3e7'])
      expect(once.code).not.toBe(0)
      expect(once.stderr).toContain('etcdserver: requested lease not found')
    })
  })

  describe('compaction', () => {
    test('compaction discards old revisions; reading one is the compacted error', async () => {
      for (const v of ['1', '2', '3']) await ok(ep, ['put', 'k', v]) // 2, 3, 4
      expect(await ok(ep, ['compaction', '3'])).toBe('compacted revision 3\n')
      expect(await ok(ep, ['get', 'k', '--rev=3', '--print-value-only'])).toBe('2\n')
      const old = await etcdctl(ep, ['get', 'k', '--rev=2'])
      expect(old.code).not.toBe(0)
      expect(old.stderr).toContain('etcdserver: mvcc: required revision has been compacted')
      const future = await etcdctl(ep, ['compaction', '99'])
      expect(future.stderr).toContain('etcdserver: mvcc: required revision is a future revision')
    })
  })

  describe('cluster and maintenance', () => {
    test('endpoint status reports a leader, raft term 1 and version 3.4.23', async () => {
      await ok(ep, ['put', 'k', 'v'])
      const [st] = await json<{ Endpoint: string; Status: Record<string, unknown> & { header: Record<string, number> } }[]>(
        ep,
        ['endpoint', 'status'],
      )
      expect(st!.Endpoint).toBe(ep)
      expect(st!.Status.version).toBe('3.4.23')
      expect(st!.Status.leader).toBe(st!.Status.header.member_id)
      expect(st!.Status.raftTerm).toBe(1)
      expect(st!.Status.header.revision).toBe(2)
    })

    test('endpoint health is healthy', async () => {
      // etcdctl 3.4 prints the health line on stderr.
      const r = await etcdctl(ep, ['endpoint', 'health'])
      expect(r.code).toBe(0)
      expect(r.stdout + r.stderr).toMatch(new RegExp(`^${ep} is healthy: successfully committed proposal`))
    })

    test('member list shows the one member with the URL the server listens on', async () => {
      const r = await json<{ members: { ID: number; name: string; clientURLs: string[] }[] }>(ep, ['member', 'list'])
      expect(r.members).toHaveLength(1)
      expect(r.members[0]!.name).toBe('default')
      expect(r.members[0]!.clientURLs).toEqual([`http://${ep}`])
      expect(await ok(ep, ['member', 'list'])).toContain(`started, default, http://localhost:2380, http://${ep}, false`)
    })

    test('snapshot save writes the engine snapshot, which open({ restoreFrom }) restores', async () => {
      await ok(ep, ['put', 'a', '1'])
      await ok(ep, ['put', 'b', '2'])
      const dir = mkdtempSync(join(tmpdir(), 'etcdlite-snap-'))
      try {
        const file = join(dir, 'backup.snap')
        const r = await etcdctl(ep, ['snapshot', 'save', file])
        expect(r.code).toBe(0)
        expect(r.stdout).toContain(`Snapshot saved at ${file}`)
        await using restored = await open({ dir: join(dir, 'data'), restoreFrom: file })
        const all = await restored.get('\0', { rangeEnd: '\0' })
        expect(all.kvs.map((kv) => `${kv.key}=${kv.value}`)).toEqual(['a=1', 'b=2'])
        expect(restored.revision).toBe(3)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
})
