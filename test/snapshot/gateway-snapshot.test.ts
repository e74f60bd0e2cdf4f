import { Buffer } from 'node:buffer'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { open } from '../../src/api/engine.ts'
import { snapshotStatus } from '../../src/etcd-snapshot/status.ts'
import { chunksOf } from '../../src/server/snapshot-handler.ts'
import { serve } from '../../src/server/serve.ts'

/** The JSON gateway's /v3/maintenance/snapshot streams the same etcd snapshot as gRPC, as lines of base64 blobs. */

test('POST /v3/maintenance/snapshot streams an etcd snapshot that restores', async () => {
  const served = await serve({ port: 0 })
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-gateway-snapshot-'))
  try {
    for (let i = 0; i < 2000; i++) await served.engine.put(`k/${i}`, 'x'.repeat(i % 97))
    const res = await fetch(`http://${served.endpoint}/v3/maintenance/snapshot`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(200)
    const lines = (await res.text()).split('\n').filter((l) => l !== '')
    const messages = lines.map((l) => (JSON.parse(l) as { result: { remaining_bytes?: string; blob?: string } }).result)
    expect(messages.length).toBeGreaterThan(1)
    const bytes = Buffer.concat(messages.map((m) => Buffer.from(m.blob ?? '', 'base64')))
    // Each message says how much is still to come; the last says nothing is.
    expect(messages.map((m) => Number(m.remaining_bytes ?? 0)).at(-1)).toBe(0)
    expect(Number(messages[0]!.remaining_bytes) + Buffer.from(messages[0]!.blob!, 'base64').length).toBe(bytes.length)
    expect(snapshotStatus(bytes).revision).toBe(served.engine.revision)
    const copy = await open({ dir: join(dir, 'data'), restoreFrom: bytes })
    expect((await copy.get('k/', { prefix: true, countOnly: true })).count).toBe(2000)
    await copy.close()
  } finally {
    await served.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the snapshot is cut into 32 KiB messages across the writer chunks, copying only those that straddle two', () => {
  const parts = [Buffer.alloc(70_000, 1), Buffer.alloc(10, 2), Buffer.alloc(0), Buffer.alloc(65_536, 3)]
  const chunks = [...chunksOf(parts, 32_768)]
  expect(chunks.map((c) => c.length)).toEqual([32_768, 32_768, 32_768, 32_768, 4_474])
  expect(Buffer.concat(chunks)).toEqual(Buffer.concat(parts))
  expect([...chunksOf([], 32_768)].map((c) => c.length)).toEqual([0])
  expect([...chunksOf([Buffer.alloc(32_768)], 32_768)].map((c) => c.length)).toEqual([32_768])
})
