import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { etcdBinary, freePort, startEtcd } from '../test/support/real-etcd.ts'
import { emit, label, rate, sizes, type Result } from './lib.ts'
import { etcdlite, open } from './subject.ts'

/**
 * bench/snapshot: saving and restoring a store of N keys (16-byte keys, 64-byte values, one revision each), etcdlite
 * against real etcd 3.4 doing the same with its own tools:
 *
 *   save     `etcdctl snapshot save FILE` against `etcdlite serve`, and against a real etcd holding the same keys
 *   restore  etcdlite: `open({ dir, restoreFrom: FILE })` until the store answers (the restore and the open);
 *            etcd: `etcdctl snapshot restore FILE --data-dir DIR` (it writes the data dir; etcd would start after)
 *
 * Each row is one run, timed whole; opsPerSec counts keys per second. Real etcd rows appear where etcd 3.4 and
 * etcdctl are installed. Goal (issue 21): etcdlite no slower than etcd at both.
 */

const ETCDCTL = '/usr/bin/etcdctl'
const VALUE = 'v'.repeat(64)
const key = (i: number) => `bench/${String(i).padStart(10, '0')}`

function etcdctl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ETCDCTL, args, { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`etcdctl ${args[0]} ${args[1]} exited ${code}: ${err}`))))
  })
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) / 1000
}

export async function benchSnapshot(): Promise<Result[]> {
  const results: Result[] = []
  const real = etcdBinary() !== undefined
  for (const n of sizes([10_000, 100_000, 1_000_000], 100_000)) {
    const dir = mkdtempSync(join(tmpdir(), 'etcdlite-bench-snapshot-'))
    try {
      const saveCase = `snapshot save, ${label(n)} keys (etcdctl snapshot save)`
      const restoreCase = `snapshot restore, ${label(n)} keys`
      // etcdlite: an in-memory engine served on a free port, filled in txns of 128 puts.
      const engine = await open()
      for (let i = 0; i < n; i += 128) {
        const ops = []
        for (let j = i; j < Math.min(n, i + 128); j++) ops.push(etcdlite.op.put(key(j), VALUE))
        await engine.txn().then(...ops).commit()
      }
      const served = await etcdlite.serve({ engine, port: 0 })
      const mine = join(dir, 'etcdlite.db')
      const saveSeconds = await timed(() => etcdctl(['--endpoints', served.endpoint, 'snapshot', 'save', mine]))
      await served.close()
      await engine.close()
      results.push(emit(rate(saveCase, 'etcdlite serve', n, saveSeconds, { bytes: statSync(mine).size })))
      const restoreSeconds = await timed(async () => {
        const copy = await open({ dir: join(dir, 'etcdlite-data'), restoreFrom: mine, durability: 'os' })
        await copy.close()
      })
      results.push(emit(rate(restoreCase, 'etcdlite open({ restoreFrom })', n, restoreSeconds)))

      if (real) {
        const etcd = await startEtcd()
        try {
          const client = await etcdlite.connect({ endpoints: [etcd.endpoint] })
          for (let i = 0; i < n; i += 128) {
            const ops = []
            for (let j = i; j < Math.min(n, i + 128); j++) ops.push(etcdlite.op.put(key(j), VALUE))
            await client.txn().then(...ops).commit()
          }
          await client.close()
          const theirs = join(dir, 'etcd.db')
          const s = await timed(() => etcdctl(['--endpoints', etcd.endpoint, 'snapshot', 'save', theirs]))
          results.push(emit(rate(saveCase, 'etcd 3.4', n, s, { bytes: statSync(theirs).size })))
          const peer = `http://127.0.0.1:${await freePort()}`
          const r = await timed(() =>
            etcdctl(['snapshot', 'restore', theirs, '--data-dir', join(dir, 'etcd-data'), '--name', 'b', '--initial-cluster', `b=${peer}`, '--initial-advertise-peer-urls', peer]),
          )
          results.push(emit(rate(restoreCase, 'etcd 3.4 etcdctl snapshot restore', n, r)))
        } finally {
          await etcd.stop()
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return results
}
