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
 *            (each writes a data directory its server then opens; both read the file etcdlite saved); beside them,
 *            etcdlite's open() of the restored directory and `open({ restoreFrom })` into memory, for what comes after
 *
 * Both stores are filled first; then ROUNDS rounds run etcdlite and etcd back to back (save, then restore), so that
 * load on the machine falls on both alike. Each row is the median round (opsPerSec counts keys per second); its note
 * lists every round's seconds. Real etcd rows appear where etcd 3.4 and etcdctl are installed. Goal (issue 21):
 * etcdlite no slower than etcd at both.
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

/** ROUNDS: rounds per size; rows report the median. */
const ROUNDS = 3

/** median of a list of seconds, with every round kept for the row's note. */
function median(seconds: number[]): { seconds: number; rounds: string } {
  const sorted = [...seconds].sort((a, b) => a - b)
  return { seconds: sorted[Math.floor(sorted.length / 2)]!, rounds: seconds.map((x) => x.toFixed(3)).join(' ') }
}

async function fill(client: { txn(): ReturnType<Awaited<ReturnType<typeof open>>['txn']> }, n: number): Promise<void> {
  for (let i = 0; i < n; i += 128) {
    const ops = []
    for (let j = i; j < Math.min(n, i + 128); j++) ops.push(etcdlite.op.put(key(j), VALUE))
    await client.txn().then(...ops).commit()
  }
}

export async function benchSnapshot(): Promise<Result[]> {
  const results: Result[] = []
  const real = etcdBinary() !== undefined
  for (const n of sizes([10_000, 100_000, 1_000_000], 100_000)) {
    const dir = mkdtempSync(join(tmpdir(), 'etcdlite-bench-snapshot-'))
    const saveCase = `snapshot save, ${label(n)} keys (etcdctl snapshot save)`
    const restoreCase = `snapshot restore, ${label(n)} keys`
    const times = { save: [] as number[], restore: [] as number[], open: [] as number[], memory: [] as number[], etcdSave: [] as number[], etcdRestore: [] as number[] }
    const mine = join(dir, 'etcdlite.db')
    const theirs = join(dir, 'etcd.db')
    const engine = await open()
    const served = await etcdlite.serve({ engine, port: 0 })
    const etcd = real ? await startEtcd() : undefined
    try {
      await fill(engine, n)
      if (etcd !== undefined) {
        const client = await etcdlite.connect({ endpoints: [etcd.endpoint] })
        await fill(client, n)
        await client.close()
      }
      for (let round = 0; round < ROUNDS; round++) {
        const data = join(dir, `etcdlite-data-${round}`)
        times.save.push(await timed(() => etcdctl(['--endpoints', served.endpoint, 'snapshot', 'save', mine])))
        if (etcd !== undefined) times.etcdSave.push(await timed(() => etcdctl(['--endpoints', etcd.endpoint, 'snapshot', 'save', theirs])))
        times.restore.push(await timed(() => run(process.execPath, [...CLI, 'snapshot', 'restore', mine, '--data-dir', data])))
        if (etcd !== undefined) {
          const peer = `http://127.0.0.1:${await freePort()}`
          const etcdData = join(dir, `etcd-data-${round}`)
          times.etcdRestore.push(await timed(() =>
            etcdctl(['snapshot', 'restore', mine, '--data-dir', etcdData, '--name', 'b', '--initial-cluster', `b=${peer}`, '--initial-advertise-peer-urls', peer]),
          ))
          rmSync(etcdData, { recursive: true, force: true })
        }
        times.open.push(await timed(async () => {
          const copy = await open({ dir: data })
          await copy.close()
        }))
        rmSync(data, { recursive: true, force: true })
        times.memory.push(await timed(async () => {
          const copy = await open({ restoreFrom: mine })
          await copy.close()
        }))
      }
      const row = (caseName: string, system: string, seconds: number[], extra: Record<string, unknown> = {}) => {
        const m = median(seconds)
        results.push(emit(rate(caseName, system, n, m.seconds, { ...extra, rounds: m.rounds })))
      }
      row(saveCase, 'etcdlite serve', times.save, { bytes: statSync(mine).size })
      if (etcd !== undefined) row(saveCase, 'etcd 3.4', times.etcdSave, { bytes: statSync(theirs).size })
      row(restoreCase, 'etcdlite snapshot restore', times.restore)
      row(restoreCase, 'etcdlite open({ restoreFrom }) in memory', times.memory)
      if (etcd !== undefined) row(restoreCase, 'etcd 3.4 etcdctl snapshot restore', times.etcdRestore)
      row(`open the restored data dir, ${label(n)} keys`, 'etcdlite open()', times.open)
    } finally {
      await etcd?.stop()
      await served.close()
      await engine.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return results
}
