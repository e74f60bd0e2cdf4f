import { Buffer } from 'node:buffer'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { open } from '../../src/api/engine.ts'
import { main } from '../../src/cli/main.ts'
import { snapshotStatus } from '../../src/etcd-snapshot/status.ts'
import { connect } from '../../src/remote/connect.ts'
import { serve } from '../../src/server/serve.ts'
import { etcdBinary, freePort, startEtcd, type RealEtcd } from '../support/real-etcd.ts'
import { expectSameAuth, expectSameHistory, plain, runWorkload } from './workload.ts'

/**
 * Snapshots both ways with the real tools: etcdlite's snapshot through `etcdctl snapshot save / status / restore`
 * into a real etcd 3.4, and a real etcd's snapshot into etcdlite. Skipped, with the reason printed once, where etcd
 * 3.4 is not installed (CI installs it).
 */

const binary = etcdBinary()
const ETCDCTL = '/usr/bin/etcdctl'
if (binary === undefined) console.log('snapshot round trips: skipped, no etcd 3.4 binary is installed (apt-get install etcd-server etcd-client)')

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-snapshot-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** etcdctl runs etcdctl (API v3) without blocking the event loop; it rejects unless it exits 0. */
function etcdctl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(ETCDCTL, args, { env: { ...process.env, ETCDCTL_API: '3' } })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`etcdctl ${args.join(' ')} exited ${code}: ${err}`))))
  })
}

/** restoreIntoEtcd runs `etcdctl snapshot restore` and starts a real etcd on the restored directory. */
async function restoreIntoEtcd(file: string, dir: string): Promise<RealEtcd> {
  const peerPort = await freePort()
  const dataDir = join(dir, 'restored')
  const peer = `http://127.0.0.1:${peerPort}`
  await etcdctl(['snapshot', 'restore', file, '--data-dir', dataDir, '--name', 'restored', '--initial-cluster', `restored=${peer}`, '--initial-advertise-peer-urls', peer])
  const etcd = await startEtcd(binary, { dataDir, name: 'restored', peerPort })
  cleanup.push(() => etcd.stop())
  return etcd
}

describe.skipIf(binary === undefined)('etcdlite snapshots into a real etcd', () => {
  test.each([1, 2, 3])('etcdctl snapshot save, status and restore: etcd serves the same history, leases and auth (seed %i)', async (seed) => {
    const served = await serve({ port: 0 })
    cleanup.push(() => served.close())
    const client = await connect({ endpoints: [served.endpoint] })
    cleanup.push(() => client.close())
    const { leases, compactRev } = await runWorkload(client, seed, 160)
    await client.auth.roleAdd('reader')
    await client.auth.roleGrantPermission('reader', 'READ', 'a/', { prefix: true })
    await client.auth.roleGrantPermission('reader', 'READWRITE', 'd')
    await client.auth.userAdd('alice', 'secret')
    await client.auth.userGrantRole('alice', 'reader')
    const rev = served.engine.revision

    const dir = tempDir()
    const file = join(dir, 'backup.db')
    expect(await etcdctl(['--endpoints', served.endpoint, 'snapshot', 'save', file])).toContain(`Snapshot saved at ${file}`)
    const status = JSON.parse(await etcdctl(['snapshot', 'status', file, '-w', 'json'])) as Record<string, number>
    expect(status).toEqual({ ...snapshotStatus(readFileSync(file)) })
    expect(status.revision).toBe(rev)

    const etcd = await restoreIntoEtcd(file, dir)
    const real = await connect({ endpoints: [etcd.endpoint] })
    cleanup.push(() => real.close())
    expect((await real.get('a')).header.revision).toBe(rev)
    await expectSameHistory(client, real, Math.max(compactRev, 1), rev)
    if (compactRev > 1) await expect(real.get('a', { revision: compactRev - 1 })).rejects.toThrow(/compacted/)
    const ids = (await real.leases()).leases.map((l) => l.id).sort()
    expect(ids).toEqual(leases.map((l) => l.id).sort())
    for (const lease of leases) {
      const [mine, theirs] = await Promise.all([client.timeToLive(lease.id, { keys: true }), real.timeToLive(lease.id, { keys: true })])
      expect(theirs.grantedTtl).toBe(lease.ttl)
      // etcd lists a lease's keys in Go map order: compare them as sets.
      expect(theirs.keys.map((k) => Buffer.from(k).toString('hex')).sort()).toEqual(mine.keys.map((k) => Buffer.from(k).toString('hex')).sort())
    }
    await expectSameAuth(client, real)
    // The restored etcd takes writes on top of the restored revision.
    expect((await real.put('new', 'after restore')).header.revision).toBe(rev + 1)
    // Passwords set in etcdlite are bcrypt, as etcd's: with auth on, etcd signs alice in with hers.
    await real.auth.userAdd('root', 'rootpw')
    await real.auth.userGrantRole('root', 'root')
    await real.auth.authEnable()
    expect((await real.auth.authenticate('alice', 'secret')).token).not.toBe('')
    await expect(real.auth.authenticate('alice', 'wrong')).rejects.toMatchObject({ code: 'ETCD_AUTH_FAILED' })
  }, 60_000)
})

describe.skipIf(binary === undefined)('real etcd snapshots into etcdlite', () => {
  test.each([4, 5])('a snapshot of a real etcd after random writes and compactions restores every retained revision (seed %i)', async (seed) => {
    const etcd = await startEtcd(binary)
    cleanup.push(() => etcd.stop())
    const real = await connect({ endpoints: [etcd.endpoint] })
    cleanup.push(() => real.close())
    const { leases, compactRev } = await runWorkload(real, seed, 200)
    await real.auth.roleAdd('writer')
    await real.auth.roleGrantPermission('writer', 'WRITE', 'c/', { prefix: true })
    await real.auth.userAdd('bob', 'pw')
    await real.auth.userGrantRole('bob', 'writer')
    const rev = (await real.get('a')).header.revision

    const dir = tempDir()
    const file = join(dir, 'real.db')
    await etcdctl(['--endpoints', etcd.endpoint, 'snapshot', 'save', file])
    const bytes = readFileSync(file)
    expect(snapshotStatus(bytes)).toEqual(JSON.parse(await etcdctl(['snapshot', 'status', file, '-w', 'json'])))

    // With etcd's SHA-256 at the end and without it (the bare db of a data directory), into a data directory and
    // into memory.
    const bare = join(dir, 'bare.db')
    writeFileSync(bare, bytes.subarray(0, bytes.length - 32))
    const targets = [
      { source: file, dir: join(dir, 'copy0') },
      { source: bare, dir: join(dir, 'copy1') },
      { source: file, dir: undefined },
    ]
    for (const target of targets) {
      const copy = await open({ dir: target.dir, restoreFrom: target.source })
      cleanup.push(() => copy.close())
      expect(copy.revision).toBe(rev)
      await expectSameHistory(copy, real, Math.max(compactRev, 1), rev)
      if (compactRev > 1) await expect(copy.get('a', { revision: compactRev - 1 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
      expect((await copy.leases()).leases.map((l) => l.id).sort()).toEqual(leases.map((l) => l.id).sort())
      for (const lease of leases) {
        const [mine, theirs] = await Promise.all([copy.timeToLive(lease.id, { keys: true }), real.timeToLive(lease.id, { keys: true })])
        expect(mine.grantedTtl).toBe(lease.ttl)
        expect(mine.keys.map((k) => Buffer.from(k).toString('hex')).sort()).toEqual(theirs.keys.map((k) => Buffer.from(k).toString('hex')).sort())
      }
      await expectSameAuth(copy, real)
    }
  }, 60_000)

  test('etcdlite snapshot save works against a real etcd: the same database etcdctl saves', async () => {
    const etcd = await startEtcd(binary)
    cleanup.push(() => etcd.stop())
    const real = await connect({ endpoints: [etcd.endpoint] })
    cleanup.push(() => real.close())
    await runWorkload(real, 11, 80)
    const dir = tempDir()
    const out: string[] = []
    const code = await main(['snapshot', 'save', join(dir, 'ours.db'), '--endpoints', etcd.endpoint], {}, { log: (l) => out.push(l), error: (l) => out.push(l) })
    expect({ code, out }).toEqual({ code: 0, out: [`Snapshot saved at ${join(dir, 'ours.db')}`] })
    await etcdctl(['--endpoints', etcd.endpoint, 'snapshot', 'save', join(dir, 'theirs.db')])
    expect(snapshotStatus(readFileSync(join(dir, 'ours.db')))).toEqual(snapshotStatus(readFileSync(join(dir, 'theirs.db'))))
  }, 60_000)

  test('a watch from a past revision on the imported store replays what the real etcd recorded', async () => {
    const etcd = await startEtcd(binary)
    cleanup.push(() => etcd.stop())
    const real = await connect({ endpoints: [etcd.endpoint] })
    cleanup.push(() => real.close())
    const { compactRev } = await runWorkload(real, 9, 60)
    const rev = (await real.get('a')).header.revision
    const dir = tempDir()
    const file = join(dir, 'real.db')
    await etcdctl(['--endpoints', etcd.endpoint, 'snapshot', 'save', file])
    const copy = await open({ dir: join(dir, 'copy'), restoreFrom: file })
    cleanup.push(() => copy.close())

    const events = async (c: typeof real | typeof copy) => {
      const out: unknown[] = []
      const w = c.watch('\0', { rangeEnd: '\0', startRevision: Math.max(compactRev + 1, 2), prevKv: true })
      for await (const r of w) {
        for (const e of r.events) out.push({ type: e.type, kv: plain([e.kv])[0], prev: e.prevKv === undefined ? null : plain([e.prevKv])[0] })
        if (r.events.some((e) => e.kv.modRevision >= rev)) break
      }
      return out
    }
    expect(await events(copy)).toEqual(await events(real))
  }, 60_000)

  test('passwords: a real etcd user signs in to etcdlite with its etcd password, and keeps it through etcd -> etcdlite -> etcd', async () => {
    const etcd = await startEtcd(binary)
    cleanup.push(() => etcd.stop())
    const real = await connect({ endpoints: [etcd.endpoint] })
    cleanup.push(() => real.close())
    await real.auth.userAdd('root', 'root-password')
    await real.auth.userGrantRole('root', 'root')
    await real.auth.userAdd('bob', 'bobs-password')
    const dir = tempDir()
    const file = join(dir, 'real.db')
    await etcdctl(['--endpoints', etcd.endpoint, 'snapshot', 'save', file])

    // etcd's bcrypt hash verifies in etcdlite: the right password signs in, a wrong or empty one does not.
    const restored = await open({ dir: join(dir, 'signin'), restoreFrom: file })
    cleanup.push(() => restored.close())
    await restored.auth.authEnable()
    expect((await restored.services.auth.authenticate({ name: 'bob', password: 'bobs-password' })).token).toMatch(/\S/)
    expect((await restored.services.auth.authenticate({ name: 'root', password: 'root-password' })).token).toMatch(/\S/)
    await expect(restored.services.auth.authenticate({ name: 'bob', password: 'not-bobs' })).rejects.toMatchObject({ code: 'ETCD_AUTH_FAILED' })
    await expect(restored.services.auth.authenticate({ name: 'root', password: '' })).rejects.toMatchObject({ code: 'ETCD_AUTH_FAILED' })

    // Back into a real etcd, the hashes are the ones etcd wrote: the passwords work there again.
    const copy = await open({ dir: join(dir, 'copy'), restoreFrom: file })
    cleanup.push(() => copy.close())
    const chunks: Buffer[] = []
    for await (const c of copy.snapshot()) chunks.push(Buffer.from(c))
    const back = join(dir, 'back.db')
    writeFileSync(back, Buffer.concat(chunks))
    const again = await restoreIntoEtcd(back, dir)
    const client = await connect({ endpoints: [again.endpoint] })
    cleanup.push(() => client.close())
    await client.auth.authEnable()
    expect((await client.auth.authenticate('bob', 'bobs-password')).token).not.toBe('')
    await expect(client.auth.authenticate('bob', 'wrong')).rejects.toMatchObject({ code: 'ETCD_AUTH_FAILED' })
  }, 60_000)
})
