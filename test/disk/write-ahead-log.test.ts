import { cpSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { op, open } from '../../src/index.ts'
import { WAL_BYTES } from '../../src/mvcc/backend/write-ahead-log.ts'
import { WAL_FILE } from '../../src/mvcc/backend/level-backend.ts'

const dirs: string[] = []
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'etcdlite-wal-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString())

/**
 * machineCrash builds the data directory a machine crash can leave: the database as it was at `before` (its later,
 * unsynced writes lost with the OS's cache) and the write-ahead log as it is now (every frame of it was synced).
 */
function machineCrash(before: string, now: string): string {
  const crashed = freshDir()
  cpSync(before, crashed, { recursive: true })
  cpSync(join(now, WAL_FILE), join(crashed, WAL_FILE))
  return crashed
}

/**
 * The write-ahead log behind durability 'fsync' on disk: a synced write is acknowledged once its frame is synced
 * in the log, while the database takes it unsynced. These tests build the state a machine crash leaves (the
 * database without its unsynced writes) and check that reopening brings back exactly the acknowledged writes.
 */
describe('write-ahead log', () => {
  test('acknowledged writes the database lost in a machine crash come back from the log, with their revisions', async () => {
    const dir = freshDir()
    const etcd = await open({ dir })
    await etcd.put('a', '1') // 2
    await etcd.close()
    const before = freshDir()
    cpSync(dir, before, { recursive: true })

    const again = await open({ dir })
    await again.put('b', '2') // 3
    await again.txn().then(op.put('c', '3'), op.delete('a')).commit() // 4
    const lease = await again.grant(60)
    await again.put('d', '4', { lease: lease.id }) // 5
    await again.close()

    const crashed = machineCrash(before, dir)
    const back = await open({ dir: crashed })
    const { kvs, header } = await back.get('', { fromKey: true })
    expect(header.revision).toBe(5)
    expect(kvs.map((kv) => [text(kv.key), text(kv.value), kv.modRevision])).toEqual([
      ['b', '2', 3],
      ['c', '3', 4],
      ['d', '4', 5],
    ])
    expect((await back.get('a', { revision: 3 })).kvs.map((kv) => text(kv.value))).toEqual(['1'])
    expect((await back.timeToLive(lease.id)).ttl).toBeGreaterThan(0)
    await back.close()
  })

  test('a torn last frame is not replayed: the writes before it are, and the store opens at their revision', async () => {
    const dir = freshDir()
    const etcd = await open({ dir })
    await etcd.close()
    const before = freshDir()
    cpSync(dir, before, { recursive: true })

    const again = await open({ dir })
    await again.put('x', '1') // 2
    await again.put('y', '2') // 3
    await again.close()

    const crashed = machineCrash(before, dir)
    // Tear the last frame: flip a byte near the end of what was written (the first zero run after the frames).
    const path = join(crashed, WAL_FILE)
    const fd = openSync(path, 'r+')
    const head = Buffer.alloc(1 << 16)
    readSync(fd, head, 0, head.length, 0)
    let end = head.length - 1
    while (end > 0 && head[end] === 0) end--
    writeSync(fd, Buffer.from([head[end]! ^ 0xff]), 0, 1, end)
    closeSync(fd)

    const back = await open({ dir: crashed })
    expect((await back.get('', { fromKey: true })).kvs.map((kv) => [text(kv.key), kv.modRevision])).toEqual([['x', 2]])
    expect(back.revision).toBe(2)
    await back.put('z', '3')
    expect((await back.get('z')).kvs[0]!.modRevision).toBe(3)
    await back.close()
  })

  test('frames from before a reopen are stale: they are never replayed over later writes', async () => {
    const dir = freshDir()
    const etcd = await open({ dir })
    for (let i = 0; i < 5; i++) await etcd.put('k', `old ${i}`) // 2..6
    await etcd.close()
    // The reopen replays nothing new and starts the log over; its frames now hold the later writes only.
    const again = await open({ dir })
    await again.delete('k') // 7
    await again.close()
    const back = await open({ dir })
    expect((await back.get('k')).kvs).toEqual([])
    expect(back.revision).toBe(7)
    await back.close()
  })

  test("the log is preallocated once and a full log starts over without losing a write; 'os' durability does not use it", async () => {
    const dir = freshDir()
    const etcd = await open({ dir })
    expect(statSync(join(dir, WAL_FILE)).size).toBe(WAL_BYTES)
    // Values large enough to fill the log a few times over.
    const value = 'v'.repeat(256 * 1024)
    const writes = Math.ceil((3 * WAL_BYTES) / value.length)
    for (let i = 0; i < writes; i++) await etcd.put(`big/${i % 7}`, `${i}:${value}`)
    await etcd.close()
    expect(statSync(join(dir, WAL_FILE)).size).toBe(WAL_BYTES)
    const back = await open({ dir })
    expect(back.revision).toBe(writes + 1)
    const last = (await back.get(`big/${(writes - 1) % 7}`)).kvs[0]!
    expect(text(last.value)!.startsWith(`${writes - 1}:`)).toBe(true)
    await back.close()

    // With 'os' durability nothing is synced, so nothing goes through the log: after the reopen started it over, the
    // bytes after its header are still an earlier generation's frame (a frame's generation is at offset 8 in it).
    const os = await open({ dir, durability: 'os' })
    await os.put('k', 'v')
    await os.close()
    const fd = openSync(join(dir, WAL_FILE), 'r')
    const start = Buffer.alloc(24)
    readSync(fd, start, 0, 24, 0)
    closeSync(fd)
    expect(start.readUInt32LE(16)).toBeLessThan(start.readUInt32LE(4))
  })
})
