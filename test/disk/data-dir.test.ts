import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { EtcdError, open, type Backend, type BackendOp } from '../../src/index.ts'
import { LevelBackend } from '../../src/mvcc/backend/level-backend.ts'

const dirs: string[] = []
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'etcdlite-dir-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function rejection(p: Promise<unknown>): Promise<EtcdError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(EtcdError)
  return err as EtcdError
}

describe('data directory', () => {
  test('a second open of a directory in use is refused with an error naming the directory', async () => {
    const dir = freshDir()
    const etcd = await open({ dir })
    const err = await rejection(open({ dir }))
    expect(err.code).toBe('ETCD_DATA_DIR_LOCKED')
    expect(err.message).toContain(dir)
    await etcd.put('k', 'v')
    await etcd.close()
    const again = await open({ dir })
    expect((await again.get('k')).kvs[0]?.value.toString()).toBe('v')
    await again.close()
  })

  test('a non-empty directory that is not an etcdlite store is refused and left untouched', async () => {
    const dir = freshDir()
    writeFileSync(join(dir, 'precious.txt'), 'keep me')
    const err = await rejection(open({ dir }))
    expect(err.code).toBe('ETCD_DATA_DIR_INVALID')
    expect(err.message).toContain(dir)
    expect(readdirSync(dir)).toEqual(['precious.txt'])
  })

  test('a directory of format 1 (before the write-ahead log) opens with its data and is marked format 2', async () => {
    const dir = freshDir()
    const etcd = await open({ dir, durability: 'os' })
    await etcd.put('k', 'v')
    await etcd.close()
    // What an etcdlite of format 1 left: the same LevelDB, its marker saying 1, no log.
    writeFileSync(join(dir, 'etcdlite.json'), JSON.stringify({ format: 1 }) + '\n')
    rmSync(join(dir, 'wal'))
    const again = await open({ dir })
    expect((await again.get('k')).kvs[0]?.value.toString()).toBe('v')
    await again.close()
    expect(JSON.parse(readFileSync(join(dir, 'etcdlite.json'), 'utf8'))).toEqual({ format: 2 })
  })

  test('a store written by a newer format is refused, nothing overwritten', async () => {
    const dir = freshDir()
    writeFileSync(join(dir, 'etcdlite.json'), JSON.stringify({ format: 99 }))
    mkdirSync(join(dir, 'kv'))
    const err = await rejection(open({ dir }))
    expect(err.code).toBe('ETCD_DATA_DIR_NEWER_FORMAT')
    expect(readdirSync(join(dir, 'kv'))).toEqual([])
  })

  test('state survives a reopen: keys, history, revisions, compaction, leases with a fresh TTL', async () => {
    const dir = freshDir()
    const etcd = await open({ dir, durability: 'fsync' })
    await etcd.put('a', '1')
    await etcd.put('a', '2')
    await etcd.put('gone', 'x')
    await etcd.delete('gone')
    const { id } = await etcd.grant(60)
    await etcd.put('leased', 'v', { lease: id })
    await etcd.compact(3, { physical: true })
    const rev = etcd.revision
    await etcd.close()

    const back = await open({ dir })
    expect(back.revision).toBe(rev)
    expect((await back.get('a')).kvs[0]).toMatchObject({ version: 2, createRevision: 2, modRevision: 3 })
    expect((await back.get('a', { revision: 3 })).kvs[0]?.value.toString()).toBe('2')
    await expect(back.get('a', { revision: 2 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
    const ttl = await back.timeToLive(id, { keys: true })
    expect(ttl.grantedTtl).toBe(60)
    expect(ttl.keys.map(String)).toEqual(['leased'])
    // A write after the reopen continues the revisions.
    expect((await back.put('b', '1')).header.revision).toBe(rev + 1)
    await back.close()
  })

  test('a failing backend write rejects the write, and the engine refuses everything after, saying why', async () => {
    const dir = freshDir()
    const level = await LevelBackend.open(dir)
    let failNext = false
    const flaky: Backend = {
      capabilities: level.capabilities,
      load: (f) => level.load(f),
      loadLeases: () => level.loadLeases(),
      close: () => level.close(),
      write: async (batch: readonly BackendOp[], sync: boolean) => {
        if (failNext) throw new Error('ENOSPC: no space left on device')
        return level.write(batch, sync)
      },
    }
    const etcd = await open({ dir, backend: flaky })
    await etcd.put('kept', '1')
    failNext = true
    const err = await rejection(etcd.put('lost', '2'))
    expect(err.code).toBe('ETCD_BACKEND_FAILED')
    expect(err.message).toContain('ENOSPC')
    await expect(etcd.get('kept')).rejects.toMatchObject({ code: 'ETCD_BACKEND_FAILED' })
    await etcd.close()
    const back = await open({ dir })
    expect((await back.get('kept')).count).toBe(1)
    expect((await back.get('lost')).count).toBe(0)
    expect(back.revision).toBe(2)
    await back.close()
  })

  test('a half-finished compaction is finished on reopen', async () => {
    const dir = freshDir()
    const etcd = await open({ dir, durability: 'os' })
    for (let i = 0; i < 30; i++) await etcd.put(`k${i % 3}`, String(i))
    // Compact without waiting for the removals, and close at once: the removals may or may not be on disk.
    await etcd.compact(20)
    await etcd.close()
    const back = await open({ dir })
    await expect(back.get('k0', { revision: 19 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
    expect((await back.get('', { prefix: true, revision: 20 })).count).toBe(3)
    await back.close()
  })

  test('a store read back from a checkpoint and the records after it equals the store that wrote it', async () => {
    const dir = freshDir()
    const etcd = await open({ dir, durability: 'os', checkpointEvery: 100 })
    for (let i = 0; i < 400; i++) await etcd.put(`k${i % 37}`, `v${i}`)
    await etcd.delete('k5')
    await etcd.compact(200) // after the first checkpoints: reopening must compact what they still hold
    for (let i = 0; i < 150; i++) await etcd.put(`k${i % 11}`, `w${i}`)
    const rev = etcd.revision
    const now = await etcd.get('', { prefix: true })
    const then = await etcd.get('', { prefix: true, revision: 300 })
    await etcd.close() // writes a checkpoint of what came after the last one
    const back = await open({ dir })
    expect(back.revision).toBe(rev)
    expect((await back.get('', { prefix: true })).kvs).toEqual(now.kvs)
    expect((await back.get('', { prefix: true, revision: 300 })).kvs).toEqual(then.kvs)
    await expect(back.get('k1', { revision: 199 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
    // History after the compaction replays in order for a watcher.
    const w = back.watch('k1', { startRevision: 200 })
    const first = await w.next()
    expect(first.value?.events[0]?.kv.modRevision).toBeGreaterThanOrEqual(200)
    await w.cancel()
    await back.close()
  })
})
