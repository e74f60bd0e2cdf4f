import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { Client } from '../../src/api/client.ts'
import { open } from '../../src/api/engine.ts'
import { isEtcdError } from '../../src/util/errors.ts'

/**
 * Users, roles, permissions and the auth switch live beside the keys: they survive a restart, a kill -9 at any
 * instant (every acknowledged change is there), and a snapshot restore. Tokens do not survive: they live in memory,
 * and a client signs in again.
 */

const dirs: string[] = []
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-auth-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function setUp(dir: string): Promise<void> {
  const etcd = await open({ dir, durability: 'os' })
  await etcd.auth.userAdd('root', 'rootpw')
  await etcd.auth.userGrantRole('root', 'root')
  await etcd.auth.roleAdd('app')
  await etcd.auth.roleGrantPermission('app', 'READWRITE', 'app/', { prefix: true })
  await etcd.auth.userAdd('alice', 'alicepw')
  await etcd.auth.userGrantRole('alice', 'app')
  await etcd.auth.authEnable()
  await etcd.close()
}

async function denied(p: Promise<unknown>, code = 'ETCD_PERMISSION_DENIED'): Promise<void> {
  await expect(p).rejects.toSatisfy((err: unknown) => isEtcdError(err) && err.code === code)
}

describe('auth on disk', () => {
  test('users, roles, permissions and the switch survive a restart; tokens do not', async () => {
    const dir = scratch()
    await setUp(dir)
    const etcd = await open({ dir, durability: 'os' })
    try {
      expect((await etcd.services.auth.authStatus({})).enabled).toBe(true)
      await denied(etcd.services.kv.range({ key: 'app/x' }), 'ETCD_USER_EMPTY')
      const alice = new Client(etcd.services, undefined, { user: 'alice', password: 'alicepw' })
      await alice.put('app/x', '1')
      await denied(alice.put('other', '1'))
      const root = new Client(etcd.services, undefined, { user: 'root', password: 'rootpw' })
      expect((await root.auth.userList()).users).toEqual(['alice', 'root'])
      expect((await root.auth.roleGet('app')).perm.map((p) => [p.permType, p.key.toString(), p.rangeEnd.toString()])).toEqual([
        ['READWRITE', 'app/', 'app0'],
      ])
      const { token } = await etcd.services.auth.authenticate({ name: 'alice', password: 'alicepw' })
      await etcd.close()
      const again = await open({ dir, durability: 'os' })
      await denied(again.services.kv.range({ key: 'app/x' }, { token }), 'ETCD_INVALID_AUTH_TOKEN')
      // A signed-in client signs in again by itself.
      const aliceAgain = new Client(again.services, undefined, { user: 'alice', password: 'alicepw' })
      expect((await aliceAgain.get('app/x')).kvs[0]!.value.toString()).toBe('1')
      await again.close()
    } finally {
      await etcd.close()
    }
  })

  test('a password change and a deletion are durable too', async () => {
    const dir = scratch()
    await setUp(dir)
    const etcd = await open({ dir, durability: 'os', user: 'root', password: 'rootpw' })
    await etcd.auth.userChangePassword('alice', 'newpw')
    await etcd.auth.roleRevokePermission('app', 'app/', { prefix: true })
    await etcd.auth.userAdd('bob', 'bobpw')
    await etcd.auth.userDelete('bob')
    await etcd.close()
    const reopened = await open({ dir, durability: 'os', user: 'root', password: 'rootpw' })
    expect((await reopened.auth.userList()).users).toEqual(['alice', 'root'])
    expect((await reopened.auth.roleGet('app')).perm).toEqual([])
    await denied(reopened.services.auth.authenticate({ name: 'alice', password: 'alicepw' }), 'ETCD_AUTH_FAILED')
    await reopened.services.auth.authenticate({ name: 'alice', password: 'newpw' })
    await reopened.close()
  })

  test('every acknowledged auth change survives kill -9', async () => {
    const dir = scratch()
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'auth-child.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const acked: { name: string; password: string; prefix: string }[] = []
    let buffer = ''
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString()
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = JSON.parse(buffer.slice(0, nl)) as { kind: string; name: string; password: string; prefix: string }
          buffer = buffer.slice(nl + 1)
          if (line.kind === 'user') acked.push(line)
          // Kill somewhere in the middle of a change, after a few were acknowledged.
          if (acked.length === 3) setTimeout(() => child.kill('SIGKILL'), Math.random() * 150)
        }
      })
      child.on('exit', () => resolve())
    })
    expect(acked.length).toBeGreaterThanOrEqual(3)
    const etcd = await open({ dir, durability: 'os', user: 'root', password: 'rootpw' })
    try {
      expect((await etcd.auth.authStatus()).enabled).toBe(true)
      const users = (await etcd.auth.userList()).users
      for (const u of acked) {
        expect(users).toContain(u.name)
        const client = new Client(etcd.services, undefined, { user: u.name, password: u.password })
        await client.put(`${u.prefix}k`, 'v')
        await denied(client.put('elsewhere', 'v'))
      }
    } finally {
      await etcd.close()
    }
  }, 60_000)

  test('a snapshot restore brings users, roles and the switch back', async () => {
    const dir = scratch()
    await setUp(dir)
    const etcd = await open({ dir, durability: 'os', user: 'root', password: 'rootpw' })
    await etcd.put('app/a', 'kept')
    const chunks: Uint8Array[] = []
    for await (const c of etcd.snapshot({ token: (await etcd.services.auth.authenticate({ name: 'root', password: 'rootpw' })).token })) chunks.push(c)
    await etcd.close()
    const restored = await open({ dir: join(scratch(), 'restored'), restoreFrom: Buffer.concat(chunks), user: 'alice', password: 'alicepw' })
    try {
      expect((await restored.get('app/a')).kvs[0]!.value.toString()).toBe('kept')
      await denied(restored.put('other', 'x'))
      await denied(restored.services.kv.range({ key: 'app/a' }), 'ETCD_USER_EMPTY')
    } finally {
      await restored.close()
    }
  })

  test('a snapshot needs the root role once auth is on', async () => {
    const dir = scratch()
    await setUp(dir)
    const etcd = await open({ dir, durability: 'os' })
    try {
      expect(() => etcd.snapshot()).toThrow('auth: user name is empty')
      const { token } = await etcd.services.auth.authenticate({ name: 'alice', password: 'alicepw' })
      expect(() => etcd.snapshot({ token })).toThrow('auth: permission denied')
    } finally {
      await etcd.close()
    }
  })
})
