import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { open } from '../../src/api/engine.ts'
import { readMeta, writeMeta } from '../../src/bbolt/meta.ts'
import { PageFlag } from '../../src/bbolt/page.ts'
import { writeBolt, type BoltItem } from '../../src/bbolt/writer.ts'
import { revisionKey } from '../../src/etcd-snapshot/layout.ts'
import { encodeKeyValue } from '../../src/etcd-snapshot/messages.ts'

/**
 * Snapshots that must be refused: each is made from a good one by one precise damage, and restoring it must fail
 * with ETCD_SNAPSHOT_INVALID, a message naming the problem, and no data directory left behind (also into memory).
 */

let good: Buffer
const PAGE = 4096
let root: string

beforeAll(async () => {
  const etcd = await open()
  // Enough keys for the key bucket to need branch pages over its leaves.
  for (let i = 0; i < 3000; i++) await etcd.put(`key/${String(i).padStart(5, '0')}`, `value ${i}`)
  const chunks: Buffer[] = []
  for await (const c of etcd.snapshot()) chunks.push(Buffer.from(c))
  good = Buffer.concat(chunks)
  await etcd.close()
  root = mkdtempSync(join(tmpdir(), 'etcdlite-bad-snapshot-'))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** db is a copy of the good snapshot without its SHA-256. */
function db(): Buffer {
  return Buffer.from(good.subarray(0, good.length - 32))
}
function withHash(file: Buffer): Buffer {
  return Buffer.concat([file, createHash('sha256').update(file).digest()])
}
/** editMetas changes both metas of `file` and keeps their checksums valid, so the damage is what a reader sees. */
function editMetas(file: Buffer, edit: (m: ReturnType<typeof readMeta> & { pageSize: number }) => object): Buffer {
  for (const at of [0, PAGE]) {
    const meta = readMeta(file, at)
    if ('problem' in meta) throw new Error(meta.problem)
    writeMeta(file, at, { ...meta, ...edit(meta) })
  }
  return file
}
/** firstBranchPage finds a branch page of the file. */
function firstBranchPage(file: Buffer): number {
  for (let id = 3; id * PAGE < file.length; id++) if ((file.readUInt16LE(id * PAGE + 8) & PageFlag.branch) !== 0) return id
  throw new Error('no branch page')
}
async function etcdFile(buckets: Record<string, [Buffer, Buffer][]>): Promise<Buffer> {
  const items: BoltItem[] = Object.keys(buckets)
    .sort()
    .map((name) => ({ key: Buffer.from(name), bucket: buckets[name]!.map(([key, value]) => ({ key, value })) }))
  return withHash(Buffer.concat(await writeBolt(items)))
}
const kv = (key: string, rev: number) => encodeKeyValue({ key, createRevision: rev, modRevision: rev, version: 1, value: 'v', lease: 0n })
const allBuckets = (key: [Buffer, Buffer][]): Record<string, [Buffer, Buffer][]> => ({ key, meta: [], lease: [], auth: [], authUsers: [], authRoles: [] })

const cases: [string, () => Buffer | Promise<Buffer>, RegExp][] = [
  ['truncated', () => good.subarray(0, good.length - 100), /truncated/],
  ['cut at a page boundary, hash lost', () => good.subarray(0, good.length - 32 - PAGE), /truncated|outside the file/],
  ['a wrong SHA-256', () => {
    const f = Buffer.from(good)
    f[f.length - 5000] = f[f.length - 5000]! ^ 0x40
    return f
  }, /SHA-256 .* does not match/],
  ['a page size of 1024 in the metas', () => editMetas(db(), () => ({ pageSize: 1024 })), /page size/],
  ['a page size of 8192 in the metas', () => editMetas(db(), () => ({ pageSize: 8192 })), /8192|page size/],
  ['a root pointing outside the file', () => withHash(editMetas(db(), (m) => ({ root: (m as { pgid: number }).pgid + 5 }))), /outside the file/],
  ['a branch page pointing at itself', () => {
    const f = db()
    const id = firstBranchPage(f)
    f.writeBigUInt64LE(BigInt(id), id * PAGE + 16 + 8)
    return withHash(f)
  }, /already in use \(a cycle\)/],
  ['no meta magic', () => Buffer.alloc(8192), /not an etcdlite snapshot nor an etcd snapshot/],
  ['a missing "key" bucket', () => etcdFile({ meta: [], lease: [], auth: [], authUsers: [], authRoles: [] }), /no "key" bucket/],
  ['a record that is not a KeyValue', () => etcdFile(allBuckets([[revisionKey(2, 0), Buffer.from('hello world')]])), /revision 2_0 is not an mvccpb.KeyValue/],
  ['a KeyValue of another revision', () => etcdFile(allBuckets([[revisionKey(2, 0), kv('a', 7)]])), /revision 2_0 is not an mvccpb.KeyValue of that revision/],
  ['a key that is not a revision', () => etcdFile(allBuckets([[Buffer.from('not-a-revision'), kv('a', 2)]])), /"not-a-revision", which is not a revision/],
]

describe('bad snapshots are refused', () => {
  test.each(cases)('%s', async (_name, make, message) => {
    const bytes = await make()
    const absent = join(root, `absent-${_name.replace(/\W+/g, '-')}`)
    await expect(open({ dir: absent, restoreFrom: bytes })).rejects.toMatchObject({ code: 'ETCD_SNAPSHOT_INVALID', message })
    expect(existsSync(absent)).toBe(false)
    const empty = join(root, `empty-${_name.replace(/\W+/g, '-')}`)
    mkdirSync(empty)
    await expect(open({ dir: empty, restoreFrom: bytes })).rejects.toMatchObject({ code: 'ETCD_SNAPSHOT_INVALID' })
    expect(readdirSync(empty)).toEqual([])
    await expect(open({ restoreFrom: bytes })).rejects.toMatchObject({ code: 'ETCD_SNAPSHOT_INVALID', message })
  })

  test('the good snapshot they are made from restores (with and without its SHA-256)', async () => {
    for (const [i, bytes] of [good, db()].entries()) {
      const copy = await open({ dir: join(root, `good${i}`), restoreFrom: bytes })
      expect((await copy.get('key/', { prefix: true, countOnly: true })).count).toBe(3000)
      await copy.close()
    }
  })
})
