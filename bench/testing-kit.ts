import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Etcd3 } from 'etcd3'
import { etcdBinary, freePort, singleMemberArgs } from '../test/support/real-etcd.ts'
import { emit, machine, quick, type Result } from './lib.ts'
import { testing } from './subject.ts'

/**
 * bench/testing-kit: what a test pays for its etcd. (1) A fresh fake to its first acknowledged put through the etcd3
 * client: `fakeEtcd()`, a client, a put, beside spawning a real etcd 3.4 (free loopback ports, a temporary data
 * directory) and putting through the etcd3 client as soon as it takes one. (2) Emptying between tests with 1k keys in
 * the store: `fake.reset()` and `fake.reset(seed of 1k keys)`, beside what a test does to a real etcd (delete every
 * key through the etcd3 client). Every time is wall-clock per run, p50 and p99 over the runs.
 * Targets: fakeEtcd() to the first put >= 50x sooner than a spawned etcd; reset() with 1k keys < 1 ms.
 */

const KEYS = 1000

export async function benchTestingKit(): Promise<Result[]> {
  const { fakeEtcd } = await testing()
  const binary = etcdBinary()
  const results: Result[] = []
  const row = (caseName: string, system: string, times: number[], note: string) => {
    const sorted = [...times].sort((a, b) => a - b)
    const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! * 10_000) / 10_000
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
    results.push(emit({ case: caseName, system, ops: times.length, opsPerSec: Math.round(1000 / mean), p50Ms: at(0.5), p99Ms: at(0.99), node: process.version, machine, note }))
  }

  // (1) Start to first acknowledged put.
  const first = 'fresh etcd to its first acknowledged put (etcd3 client)'
  const fakeTimes: number[] = []
  for (let i = 0; i < (quick ? 20 : 50) + 5; i++) {
    const t = performance.now()
    const fake = await fakeEtcd()
    const client = new Etcd3({ hosts: fake.endpoint })
    await client.put('k').value('v')
    const ms = performance.now() - t
    client.close()
    await fake.close()
    if (i >= 5) fakeTimes.push(ms) // the first runs warm up the JIT and the etcd3 client's modules
  }
  row(first, 'etcdlite fakeEtcd()', fakeTimes, 'fakeEtcd() + new Etcd3 + put, until the put resolves')
  if (binary === undefined) console.log('bench/testing-kit: no etcd 3.4 installed; the real etcd rows are left out')
  else {
    const etcdTimes: number[] = []
    for (let i = 0; i < (quick ? 3 : 5); i++) {
      const { ms, etcd } = await spawnToFirstPut(binary)
      etcdTimes.push(ms)
      await etcd.stop()
    }
    row(first, 'etcd 3.4 spawned', etcdTimes, 'spawn etcd (temp data dir) + new Etcd3 + put, until the put resolves')
  }

  // (2) Emptying a store of 1k keys.
  const second = `empty the store between tests, ${KEYS / 1000}k keys`
  const seed: Record<string, string> = {}
  for (let i = 0; i < KEYS; i++) seed[`key/${String(i).padStart(4, '0')}`] = `value ${i}`
  const fake = await fakeEtcd()
  const runs = quick ? 200 : 1000
  const resets: number[] = []
  const seeded: number[] = []
  for (let i = 0; i < runs + 20; i++) {
    await fake.reset(seed) // fill (not timed)
    const t = performance.now()
    await fake.reset()
    if (i >= 20) resets.push(performance.now() - t)
  }
  for (let i = 0; i < runs / 10 + 5; i++) {
    const t = performance.now()
    await fake.reset(seed)
    if (i >= 5) seeded.push(performance.now() - t)
  }
  await fake.close()
  row(second, 'etcdlite fake.reset()', resets, `reset() of a fake holding ${KEYS} keys`)
  row(second, 'etcdlite fake.reset(seed)', seeded, `reset() loading a seed of ${KEYS} keys`)
  if (binary !== undefined) {
    const { etcd } = await spawnToFirstPut(binary)
    const client = new Etcd3({ hosts: etcd.endpoint })
    const deletes: number[] = []
    try {
      for (let i = 0; i < (quick ? 10 : 30); i++) {
        await Promise.all(Object.entries(seed).map(([k, v]) => client.put(k).value(v)))
        const t = performance.now()
        await client.delete().all()
        deletes.push(performance.now() - t)
      }
    } finally {
      client.close()
      await etcd.stop()
    }
    row(second, 'etcd 3.4: delete every key', deletes, `one DeleteRange of ${KEYS} keys through the etcd3 client`)
  }
  return results
}

/** SpawnedEtcd is a real etcd started by spawnToFirstPut. */
interface SpawnedEtcd {
  readonly endpoint: string
  stop(): Promise<void>
}

/**
 * spawnToFirstPut spawns a real etcd and puts one key through the etcd3 client as soon as the client port takes a
 * connection (polled every 2 ms; etcd serves calls once it has elected itself), timing spawn to the put's answer.
 */
async function spawnToFirstPut(binary: string): Promise<{ ms: number; etcd: SpawnedEtcd }> {
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-bench-etcd-'))
  const [client, peer] = [await freePort(), await freePort()]
  const t = performance.now()
  const proc: ChildProcess = spawn(binary, singleMemberArgs('bench', join(dir, 'data'), client, peer), { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  const etcd: SpawnedEtcd = {
    endpoint: `127.0.0.1:${client}`,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGKILL')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    const deadline = Date.now() + 20_000
    while (!(await accepts(client))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error('bench/testing-kit: etcd did not start')
      await new Promise((r) => setTimeout(r, 2))
    }
    const c = new Etcd3({ hosts: etcd.endpoint })
    try {
      await c.put('k').value('v')
    } finally {
      c.close()
    }
    return { ms: performance.now() - t, etcd }
  } catch (err) {
    await etcd.stop()
    throw err
  }
}

/** accepts tells whether 127.0.0.1:port takes a TCP connection. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}
