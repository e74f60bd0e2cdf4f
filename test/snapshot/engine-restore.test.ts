import { Buffer } from 'node:buffer'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { ManualClock, op, open, type Engine } from '../../src/index.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'etcdlite-restore-'))
  dirs.push(d)
  return d
}

async function snapshotOf(etcd: Engine): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const c of etcd.snapshot()) chunks.push(c)
  return Buffer.concat(chunks)
}

/** filled writes history with a compaction, a delete and a leased key; returns the snapshot and what it held. */
async function filled(etcd: Engine) {
  for (let i = 0; i < 40; i++) await etcd.put(`k/${i % 6}`, `v${i}`)
  await etcd.delete('k/5')
  await etcd.compact(20)
  const { id } = await etcd.grant(60)
  await etcd.put('leased', 'x', { lease: id })
  const rev = etcd.revision
  const all = (await etcd.get('', { prefix: true })).kvs
  const past = (await etcd.get('k/', { prefix: true, revision: 25 })).kvs
  return { bytes: await snapshotOf(etcd), rev, all, past, lease: id }
}

test.each(['memory', 'dir'] as const)('restore replaces every revision, the leases and the compaction (%s)', async (where) => {
  const clock = new ManualClock()
  const dir = where === 'dir' ? freshDir() : undefined
  let etcd = await open({ clock, ...(dir ? { dir, durability: 'os' as const } : {}) })
  const saved = await filled(etcd)
  // After the snapshot: more revisions than it has, a new lease, a key it does not know.
  for (let i = 0; i < 30; i++) await etcd.put(`k/${i % 3}`, `later${i}`)
  const { id: later } = await etcd.grant(60)
  await etcd.put('only-later', 'y', { lease: later })
  expect(etcd.revision).toBeGreaterThan(saved.rev)

  await etcd.restore(saved.bytes)
  const check = async (e: Engine) => {
    expect(e.revision).toBe(saved.rev)
    expect((await e.get('', { prefix: true })).kvs).toEqual(saved.all)
    expect((await e.get('k/', { prefix: true, revision: 25 })).kvs).toEqual(saved.past)
    await expect(e.get('k/1', { revision: 19 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
    expect((await e.timeToLive(saved.lease, { keys: true })).keys.map(String)).toEqual(['leased'])
    expect((await e.timeToLive(later)).ttl).toBe(-1)
  }
  await check(etcd)
  // Writes go on from the restored revision.
  await etcd.put('after', 'z')
  expect(etcd.revision).toBe(saved.rev + 1)
  if (dir !== undefined) {
    await etcd.close()
    etcd = await open({ dir, clock })
    expect((await etcd.get('after')).kvs[0]!.value.toString()).toBe('z')
    await etcd.delete('after')
    await etcd.compact(saved.rev + 1)
    await etcd.put('after2', 'w')
    await etcd.close()
    etcd = await open({ dir, clock })
    expect((await etcd.get('only-later')).count).toBe(0)
    expect((await etcd.get('k/', { prefix: true })).kvs).toEqual(saved.all.filter((kv) => kv.key.toString().startsWith('k/')))
  }
  // The restored lease expires as a lease granted at the restore, taking its key with it.
  await clock.advance(61_000)
  expect((await etcd.get('leased')).count).toBe(0)
  await etcd.close()
})

test('restore cancels open watches with a reason; new watches see the restored history', async () => {
  const etcd = await open()
  await etcd.put('w', 'one')
  const bytes = await snapshotOf(etcd)
  await etcd.put('w', 'two')
  const watching = etcd.watch('w', { startRevision: 1 })
  const first = await watching.next()
  expect(first.value.events.map((e: { kv: { value: Buffer } }) => e.kv.value.toString())).toEqual(['one', 'two'])
  await etcd.restore(bytes)
  const canceled = await watching.next()
  expect(canceled.value).toMatchObject({ canceled: true, cancelReason: 'etcdlite: the store was restored from a snapshot' })
  expect((await watching.next()).done).toBe(true)
  const again = etcd.watch('w', { startRevision: 1 })
  expect((await again.next()).value.events.map((e: { kv: { value: Buffer } }) => e.kv.value.toString())).toEqual(['one'])
  await etcd.put('w', 'three')
  expect((await again.next()).value.events[0].kv.modRevision).toBe(3)
  await again.cancel()
  await etcd.close()
})

test.each(['memory', 'dir'] as const)('a bad snapshot is refused with ETCD_SNAPSHOT_INVALID and changes nothing (%s)', async (where) => {
  const dir = where === 'dir' ? freshDir() : undefined
  const etcd = await open(dir ? { dir } : {})
  await etcd.put('keep', 'me')
  const good = await snapshotOf(etcd)
  await etcd.put('keep', 'me too')
  const watching = etcd.watch('keep')
  const corrupt = Buffer.from(good)
  corrupt[5000] = corrupt[5000]! ^ 0xff
  for (const bad of [corrupt, good.subarray(0, 8192 + 100), Buffer.from('not a snapshot')]) {
    await expect(etcd.restore(bad)).rejects.toMatchObject({ code: 'ETCD_SNAPSHOT_INVALID' })
  }
  expect(etcd.revision).toBe(3)
  expect((await etcd.get('keep')).kvs[0]!.value.toString()).toBe('me too')
  // The watch is still open: it sees the next write.
  await etcd.put('keep', 'still')
  expect((await watching.next()).value.events[0].kv.value.toString()).toBe('still')
  await watching.cancel()
  await etcd.close()
})

test('restore brings the auth state with it, and needs root once auth is on', async () => {
  const source = await open()
  await source.auth.userAdd('root', 'rootpw')
  await source.auth.userGrantRole('root', 'root')
  await source.auth.userAdd('alice', 'alicepw')
  const withUsers = await snapshotOf(source)
  await source.close()

  const etcd = await open()
  await etcd.put('k', 'v')
  await etcd.restore(withUsers)
  expect((await etcd.auth.userList()).users).toEqual(['alice', 'root'])
  expect((await etcd.get('k')).count).toBe(0)
  await etcd.auth.authEnable()
  const empty = await open()
  const plain = await snapshotOf(empty)
  await empty.close()
  // As etcd's Snapshot answers a caller without a user, and one who is not root.
  await expect(etcd.restore(plain)).rejects.toMatchObject({ code: 'ETCD_MAINTENANCE_USER_EMPTY' })
  const { token: aliceToken } = await etcd.auth.authenticate('alice', 'alicepw')
  await expect(etcd.restore(plain, { token: aliceToken })).rejects.toMatchObject({ code: 'ETCD_MAINTENANCE_PERMISSION_DENIED' })
  const { token } = await etcd.auth.authenticate('root', 'rootpw')
  expect((await etcd.services.auth.userList({}, { token })).users).toEqual(['alice', 'root'])
  // Root may; the snapshot has no auth state, so auth is off and empty after it, and the old token is signed out.
  await etcd.restore(plain, { token })
  expect((await etcd.auth.userList()).users).toEqual([])
  expect((await etcd.get('k')).count).toBe(0)
  await etcd.close()
}, 30_000)

test('restore of a store written in txns keeps their sub-revisions; a restored engine snapshots the same file', async () => {
  const etcd = await open()
  await etcd.txn().then(op.put('a', '1'), op.put('b', '2'), op.put('c', '3')).commit()
  await etcd.txn().then(op.delete('a'), op.put('d', '4')).commit()
  const bytes = await snapshotOf(etcd)
  const other = await open()
  await other.put('noise', 'x')
  await other.restore(bytes)
  expect(await snapshotOf(other)).toEqual(bytes)
  await other.close()
  await etcd.close()
})
