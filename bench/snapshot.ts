import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { etcdBinary, freePort, startEtcd } from '../test/support/real-etcd.ts'
import { emit, label, rate, sizes, type Result } from './lib.ts'
import { build, etcdlite, open } from './subject.ts'

/**
 * bench/snapshot: saving and restoring a store of N keys (16-byte keys, 64-byte values, one revision each), etcdlite
 * against real etcd 3.4 doing the same with its own tools:
 *
 *   save     `etcdctl snapshot save FILE` against `etcdlite serve`, and against a real etcd holding the same keys
 *   restore  `etcdlite snapshot restore FILE --data-dir DIR` against `etcdctl snapshot restore FILE --data-dir DIR`
 *            (each writes a data directory its server then opens); beside them, etcdlite's open() of the restored
 *            directory and `open({ restoreFrom })` into memory, for what comes after
 *
 * Each row is one run, timed whole; opsPerSec counts keys per second. Real etcd rows appear where etcd 3.4 and
 * etcdctl are installed. Goal (issue 21): etcdlite no slower than etcd at both.
 */

const ETCDCTL = '/usr/bin/etcdctl'
const VALUE = 'v'.repeat(64)
const key = (i: number) => `bench/${String(i).padStart(10, '0')}`

/** CLI runs the etcdlite command of the build under test. */
const CLI = build === 'dist' ? [fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))] : ['--import', 'tsx', fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))]

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err}`))))
  })
}

function etcdctl(args: string[]): Promise<void> {
  return run(ETCDCTL, args)
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
      const restoreSeconds = await timed(() => run(process.execPath, [...CLI, 'snapshot', 'restore', mine, '--data-dir', join(dir, 'etcdlite-data')]))
      results.push(emit(rate(restoreCase, 'etcdlite snapshot restore', n, restoreSeconds)))
      const openSeconds = await timed(async () => {
        const copy = await open({ dir: join(dir, 'etcdlite-data') })
        await copy.close()
      })
      results.push(emit(rate(`open the restored data dir, ${label(n)} keys`, 'etcdlite open()', n, openSeconds)))
      const memorySeconds = await timed(async () => {
        const copy = await open({ restoreFrom: mine })
        await copy.close()
      })
      results.push(emit(rate(restoreCase, 'etcdlite open({ restoreFrom }) in memory', n, memorySeconds)))

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
