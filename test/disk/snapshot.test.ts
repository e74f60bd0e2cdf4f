import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test, vi } from 'vitest'
import { op, open } from '../../src/index.ts'

const dirs: string[] = []
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'etcdlite-snap-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}

test('a snapshot of a live store round-trips history, leases and compaction state', async () => {
  const etcd = await open()
  for (let i = 0; i < 50; i++) await etcd.put(`k${i % 7}`, `v${i}`)
  await etcd.delete('k3')
  const { id } = await etcd.grant(120)
  await etcd.put('leased', 'x', { lease: id })
  await etcd.compact(20, { physical: true })
  const snapshotRev = etcd.revision
  const stream = etcd.snapshot()
  // Writes made while the snapshot streams are not in it.
  const later = etcd.put('later', 'y')
  const bytes = await bytesOf(stream)
  await later

  const dir = freshDir()
  const copy = await open({ dir, restoreFrom: bytes })
  expect(copy.revision).toBe(snapshotRev)
  expect((await copy.get('later')).count).toBe(0)
  const all = await copy.get('', { prefix: true })
  const original = await etcd.get('', { prefix: true, revision: snapshotRev })
  expect(all.kvs).toEqual(original.kvs)
  expect((await copy.get('k1', { revision: 25 })).kvs).toEqual((await etcd.get('k1', { revision: 25 })).kvs)
  await expect(copy.get('k1', { revision: 19 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
  expect((await copy.timeToLive(id, { keys: true })).keys.map(String)).toEqual(['leased'])
  await copy.close()
  await etcd.close()
})

test('a snapshot opens in memory too: open({ restoreFrom }) without a dir', async () => {
  const etcd = await open()
  for (let i = 0; i < 30; i++) await etcd.put(`k${i % 4}`, `v${i}`)
  const { id } = await etcd.grant(60)
  await etcd.put('leased', 'x', { lease: id })
  await etcd.compact(10)
  const bytes = await bytesOf(etcd.snapshot())
  const copy = await open({ restoreFrom: bytes })
  expect(copy.revision).toBe(etcd.revision)
  for (const rev of [10, 20, etcd.revision]) {
    expect((await copy.get('k', { prefix: true, revision: rev })).kvs).toEqual((await etcd.get('k', { prefix: true, revision: rev })).kvs)
  }
  await expect(copy.get('k1', { revision: 9 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
  expect((await copy.timeToLive(id, { keys: true })).keys.map(String)).toEqual(['leased'])
  // It takes writes on top of the restored revision, and watchers see them.
  const w = copy.watch('k0', { startRevision: 20 })
  await copy.put('k0', 'new')
  const seen: number[] = []
  for await (const r of w) {
    for (const e of r.events) seen.push(e.kv.modRevision)
    if (seen.includes(etcd.revision + 1)) break
  }
  expect(seen[0]).toBeGreaterThanOrEqual(20)
  expect(seen.at(-1)).toBe(etcd.revision + 1)
  await copy.close()
  await etcd.close()
})

test('a snapshot of sparse history (an old key beside a compacted hot one) keeps revision order', async () => {
  const etcd = await open()
  await etcd.put('old', 'kept since revision 2')
  for (let i = 0; i < 3000; i++) await etcd.put('hot', `v${i}`)
  await etcd.compact(2990)
  await etcd.txn().then(op.put('hot', 'a'), op.put('new', 'b')).commit()
  const copy = await open({ restoreFrom: await bytesOf(etcd.snapshot()) })
  for (const rev of [2990, 2995, etcd.revision]) {
    expect((await copy.get('', { prefix: true, revision: rev })).kvs).toEqual((await etcd.get('', { prefix: true, revision: rev })).kvs)
  }
  await copy.close()
  await etcd.close()
})

test('a corrupt or truncated snapshot is refused', async () => {
  const etcd = await open()
  await etcd.put('a', '1')
  const bytes = await bytesOf(etcd.snapshot())
  await etcd.close()
  const flipped = Buffer.from(bytes)
  flipped[flipped.length - 40] = flipped[flipped.length - 40]! ^ 1
  await expect(open({ dir: freshDir(), restoreFrom: flipped })).rejects.toThrow(/corrupt/)
  await expect(open({ dir: freshDir(), restoreFrom: bytes.subarray(0, bytes.length - 10) })).rejects.toThrow(/truncated|corrupt/)
  await expect(open({ dir: freshDir(), restoreFrom: Buffer.from('hello\n') })).rejects.toThrow(/not an etcdlite snapshot/)
})

test('restoring into a directory that is not empty is refused', async () => {
  const source = freshDir()
  const etcd = await open({ dir: source })
  await etcd.put('a', '1')
  const bytes = await bytesOf(etcd.snapshot())
  await etcd.close()
  await expect(open({ dir: source, restoreFrom: bytes })).rejects.toMatchObject({ code: 'ETCD_DATA_DIR_INVALID' })
})

test('a snapshot taken while writes add thousands of keys still holds every key of its revision', async () => {
  const etcd = await open()
  for (let i = 0; i < 12_000; i++) await etcd.put(`old/${String(i * 7919 % 12_000).padStart(5, '0')}`, 'v')
  const rev = etcd.revision
  const stream = etcd.snapshot()
  const reading = bytesOf(stream)
  // New keys land between the pages of the walk, splitting the tree's nodes under it.
  for (let i = 0; i < 12_000; i++) {
    await etcd.put(`new/${String(i * 104729 % 12_000).padStart(5, '0')}`, 'v')
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  const bytes = await reading
  const copy = await open({ dir: freshDir(), restoreFrom: bytes })
  expect(copy.revision).toBe(rev)
  expect((await copy.get('old/', { prefix: true, countOnly: true })).count).toBe(12_000)
  expect((await copy.get('new/', { prefix: true, countOnly: true })).count).toBe(0)
  await copy.close()
  await etcd.close()
}, 60_000)

test('a restored directory keeps its records in a checkpoint file until a later checkpoint replaces it', async () => {
  const source = await open()
  for (let i = 0; i < 300; i++) await source.put(`k/${i % 40}`, `v${i}`)
  const chunks: Uint8Array[] = []
  for await (const c of source.snapshot()) chunks.push(c)
  const dir = freshDir()
  const restored = await open({ dir, restoreFrom: Buffer.concat(chunks), checkpointEvery: 50 })
  expect(readdirSync(dir)).toContain('checkpoint-1')
  // Enough writes for a checkpoint of the store's own: it takes over from the file, which goes.
  for (let i = 0; i < 60; i++) await restored.put(`new/${i}`, 'n')
  await vi.waitFor(() => expect(readdirSync(dir)).not.toContain('checkpoint-1'), { timeout: 10_000 })
  await restored.close()
  const again = await open({ dir })
  expect((await again.get('k/', { prefix: true })).kvs).toEqual((await source.get('k/', { prefix: true })).kvs)
  expect((await again.get('k/3', { revision: 100 })).kvs).toEqual((await source.get('k/3', { revision: 100 })).kvs)
  expect((await again.get('new/', { prefix: true, countOnly: true })).count).toBe(60)
  await again.close()
  await source.close()
})
