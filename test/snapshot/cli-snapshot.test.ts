import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { open } from '../../src/api/engine.ts'
import { main } from '../../src/cli/main.ts'
import { humanBytes, snapshotCommand } from '../../src/cli/snapshot-command.ts'
import { serve } from '../../src/server/serve.ts'
import { etcdctlMissing, ETCDCTL } from '../server/helpers.ts'
import { plain } from './workload.ts'

/** `etcdlite snapshot save | status | restore`: etcdctl's shape and output, and clean refusals. */

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-snapshot-cli-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, {}, { log: (l) => out.push(l), error: (l) => err.push(l) })
  if (typeof code !== 'number') throw new Error('snapshot commands do not keep running')
  return { code, out: out.join('\n'), err: err.join('\n') }
}

function etcdctlStatus(file: string, format: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ETCDCTL, ['snapshot', 'status', file, '-w', format], { env: { ...process.env, ETCDCTL_API: '3' } })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, out: out.trimEnd(), err: err.trimEnd() }))
  })
}

async function servedWithData() {
  const served = await serve({ port: 0 })
  cleanup.push(() => served.close())
  for (let i = 0; i < 200; i++) await served.engine.put(`key/${i % 40}`, `value ${i}`)
  await served.engine.delete('key/7')
  await served.engine.compact(100)
  return served
}

describe('etcdlite snapshot', () => {
  test('save, status and restore: the restored data directory serves the same history', async () => {
    const served = await servedWithData()
    const dir = tempDir()
    const file = join(dir, 'backup.db')
    expect(await run(['snapshot', 'save', file, '--endpoints', served.endpoint])).toEqual({ code: 0, out: `Snapshot saved at ${file}`, err: '' })
    expect(existsSync(`${file}.part`)).toBe(false)
    const status = JSON.parse((await run(['snapshot', 'status', file, '-w', 'json'])).out) as Record<string, number>
    expect(status.revision).toBe(served.engine.revision)
    // Revisions 101..202 (200 puts from 2, a delete), each key's version at the compaction (40), and 7 entries of
    // the other buckets (auth 2, cluster 1, members 1, meta 3).
    expect(status.totalKey).toBe(102 + 40 + 7)

    const restored = await run(['snapshot', 'restore', file, '--data-dir', join(dir, 'data')])
    expect(restored.code).toBe(0)
    expect(restored.out).toContain(`revision ${served.engine.revision}, compacted at 100, 142 records of history, 0 leases`)
    const copy = await open({ dir: join(dir, 'data') })
    cleanup.push(() => copy.close())
    for (const rev of [100, 150, served.engine.revision]) {
      expect(plain((await copy.get('key/', { prefix: true, revision: rev })).kvs)).toEqual(plain((await served.engine.get('key/', { prefix: true, revision: rev })).kvs))
    }
    // A second restore into the same directory is refused, as etcdctl refuses it.
    const again = await run(['snapshot', 'restore', file, '--data-dir', join(dir, 'data')])
    expect(again.code).toBe(1)
    expect(again.err).toMatch(/data-dir ".*" exists/)
  })

  test.skipIf(etcdctlMissing !== undefined).each(['simple', 'table', 'json', 'fields', 'protobuf', 'yaml'])(
    'status -w %s prints what etcdctl prints, and exits as it does',
    async (format) => {
      const served = await servedWithData()
      const file = join(tempDir(), 'backup.db')
      await run(['snapshot', 'save', file, '--endpoints', served.endpoint])
      const theirs = await etcdctlStatus(file, format)
      const mine = await run(['snapshot', 'status', file, '-w', format])
      expect({ code: mine.code, out: mine.out, err: mine.err }).toEqual(theirs)
    },
  )

  test('save signs in with --user once auth is on; without it the server refuses', async () => {
    const served = await servedWithData()
    await served.engine.auth.userAdd('root', 'rootpw')
    await served.engine.auth.userGrantRole('root', 'root')
    await served.engine.auth.authEnable()
    const dir = tempDir()
    const refused = await run(['snapshot', 'save', join(dir, 'anon.db'), '--endpoints', served.endpoint])
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(/user name is empty/)
    expect(existsSync(join(dir, 'anon.db.part'))).toBe(false)
    expect((await run(['snapshot', 'save', join(dir, 'root.db'), '--endpoints', served.endpoint, '--user', 'root:rootpw'])).code).toBe(0)
    expect((await run(['snapshot', 'save', join(dir, 'root2.db'), '--endpoints', served.endpoint, '--user', 'root', '--password', 'rootpw'])).code).toBe(0)
  })

  test('on a terminal, save and restore draw a progress bar that ends at 100% and is cleared', async () => {
    const served = await servedWithData()
    const dir = tempDir()
    const file = join(dir, 'backup.db')
    const lines: string[] = []
    const out = { log: () => undefined, error: () => undefined, progress: (line: string) => lines.push(line) }
    expect(await snapshotCommand(['save', file, '--endpoints', served.endpoint], out)).toBe(0)
    expect(lines.at(-2)).toMatch(/\] 100%$/)
    expect(lines.at(-1)).toBe('')
    lines.length = 0
    expect(await snapshotCommand(['restore', file, '--data-dir', join(dir, 'data')], out)).toBe(0)
    expect(lines.at(-2)).toMatch(/^writing .*\] 100%$/)
    expect(lines.at(-1)).toBe('')
  })

  test('a bad snapshot is refused by status and restore, and no data directory is left', async () => {
    const dir = tempDir()
    const file = join(dir, 'bad.db')
    writeFileSync(file, Buffer.alloc(3 * 4096 + 7))
    expect((await run(['snapshot', 'status', file])).err).toMatch(/not an etcd snapshot/)
    const r = await run(['snapshot', 'restore', file, '--data-dir', join(dir, 'data')])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/invalid snapshot/)
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })

  test('usage errors: no file, several endpoints, an unknown flag or subcommand', async () => {
    expect((await run(['snapshot', 'save'])).code).toBe(2)
    expect((await run(['snapshot', 'save', 'f.db', '--endpoints', 'a:1,b:2'])).err).toMatch(/one selected node/)
    expect((await run(['snapshot', 'status', 'f.db', '--bogus'])).code).toBe(2)
    expect((await run(['snapshot', 'frobnicate', 'f.db'])).code).toBe(2)
    expect((await run(['snapshot', 'help'])).out).toContain('etcdlite snapshot restore FILE')
  })

  test.each([
    [5, '5 B'],
    [999, '999 B'],
    [20_480, '20 kB'],
    [20_500, '20 kB'],
    [21_500, '22 kB'],
    [4_149_248, '4.1 MB'],
    [16_384, '16 kB'],
  ])('sizes print as go-humanize prints them: %i -> %s', (n, text) => {
    expect(humanBytes(n)).toBe(text)
  })
})
