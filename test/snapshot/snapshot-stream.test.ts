import { Buffer } from 'node:buffer'
import { expect, test } from 'vitest'
import { planBolt } from '../../src/bbolt/writer.ts'
import { op, open } from '../../src/index.ts'

test('a snapshot streams: its size is known from the first chunk on, and the file comes in many chunks', async () => {
  const etcd = await open()
  const value = 'x'.repeat(1000)
  for (let i = 0; i < 6000; i += 100) {
    const ops = []
    for (let j = i; j < i + 100; j++) ops.push(op.put(`k/${j}`, value))
    await etcd.txn().then(...ops).commit()
  }
  const stream = etcd.snapshot()
  expect(stream.size).toBeUndefined()
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) {
    expect(stream.size).toBeGreaterThan(6_000_000)
    chunks.push(chunk)
  }
  const total = chunks.reduce((n, c) => n + c.length, 0)
  expect(stream.size).toBe(total)
  // The database in whole pages, then the SHA-256 alone, as etcd sends it.
  expect(chunks.length).toBeGreaterThan(3)
  expect(chunks[chunks.length - 1]!.length).toBe(32)
  for (const c of chunks.slice(0, -1)) expect(c.length % 4096).toBe(0)
  const copy = await open({ restoreFrom: Buffer.concat(chunks) })
  expect((await copy.get('k/', { prefix: true, countOnly: true })).count).toBe(6000)
  await copy.close()
  await etcd.close()
})

test('a snapshot is read once: a second loop over it continues the first', async () => {
  const etcd = await open()
  await etcd.put('a', '1')
  const stream = etcd.snapshot()
  let first = 0
  for await (const c of stream) first += c.length
  let second = 0
  for await (const c of stream) second += c.length
  expect(first).toBe(stream.size)
  expect(second).toBe(0)
  await etcd.close()
})

test('after a compaction, versions kept below it and history above it restore at every retained revision', async () => {
  const etcd = await open()
  // Old keys written once (their only version lies below the compaction), hot keys rewritten across it, deletes.
  for (let i = 0; i < 300; i++) await etcd.put(`old/${(i * 37) % 300}`, `o${i}`)
  for (let i = 0; i < 400; i++) await etcd.put(`hot/${i % 13}`, `h${i}`)
  await etcd.delete('old/1', { prefix: true })
  const compactAt = etcd.revision - 150
  await etcd.compact(compactAt, { physical: true })
  for (let i = 0; i < 50; i++) await etcd.txn().then(op.put(`hot/${i % 13}`, `n${i}`), op.put(`new/${i}`, 'n')).commit()
  const chunks: Uint8Array[] = []
  for await (const c of etcd.snapshot()) chunks.push(c)
  const copy = await open({ restoreFrom: Buffer.concat(chunks) })
  expect(copy.revision).toBe(etcd.revision)
  await expect(copy.get('hot/1', { revision: compactAt - 1 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
  for (let rev = compactAt; rev <= etcd.revision; rev++) {
    const mine = await copy.get('', { prefix: true, revision: rev })
    const theirs = await etcd.get('', { prefix: true, revision: rev })
    expect(mine.kvs, `revision ${rev}`).toEqual(theirs.kvs)
  }
  await copy.close()
  await etcd.close()
}, 30_000)

test('planBolt knows the file size before writing: the chunks add up to it, in whole pages', async () => {
  const big = Buffer.alloc(10_000, 7)
  const bucket = Array.from({ length: 500 }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(4, '0')}`), value: i % 50 === 0 ? big : Buffer.from(`v${i}`) }))
  const file = await planBolt([{ key: Buffer.from('b'), bucket }], { pageSize: 1024 })
  let total = 0
  for await (const chunk of file.chunks()) {
    expect(chunk.length % 1024).toBe(0)
    total += chunk.length
  }
  expect(total).toBe(file.size)
})
