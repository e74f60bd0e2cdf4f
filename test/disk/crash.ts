import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { open } from '../../src/index.ts'

/**
 * The crash check shared by the test and the long soak script: run the writer child, kill it with SIGKILL after a
 * random delay, reopen the store, and check every acknowledged write is there, no txn is half applied, no revoked
 * lease's key survives, and the revision never goes back.
 */

const child = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.ts')

export interface Ack {
  kind: 'open' | 'put' | 'txn' | 'lease' | 'revoke' | 'delete'
  rev: number
  key?: string
  value?: string
  a?: string
  b?: string
  id?: string
}

/** runAndKill runs the writer for `ms` milliseconds after it opened the store, kills it, returns its acks. */
export async function runAndKill(dir: string, ms: number, durability: 'os' | 'fsync' = 'os'): Promise<Ack[]> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, durability], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  // Wait for the store to be open before the clock starts, so every run writes.
  const deadline = Date.now() + 30_000
  while (!out.includes('"open"') && Date.now() < deadline && proc.exitCode === null) await sleep(10)
  if (!out.includes('"open"')) {
    proc.kill('SIGKILL')
    throw new Error(`crash child did not open the store: ${err}`)
  }
  await sleep(ms)
  proc.kill('SIGKILL')
  await exited
  // Only whole lines are acknowledgements; a line cut by the kill was never acknowledged.
  return out
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as Ack)
}

/** verify reopens the store and checks it against the acknowledgements; returns the reopened revision. */
export async function verify(dir: string, acks: Ack[], lastRev: number): Promise<number> {
  const etcd = await open({ dir })
  try {
    const rev = etcd.revision
    const maxAcked = Math.max(lastRev, ...acks.map((a) => a.rev))
    if (rev < maxAcked) throw new Error(`revision went back: reopened at ${rev}, acknowledged ${maxAcked}`)
    for (const a of acks) {
      if (a.kind === 'put') {
        const kv = (await etcd.get(a.key!, { revision: a.rev })).kvs[0]
        if (kv?.value.toString() !== a.value) throw new Error(`lost put ${a.key}=${a.value} @${a.rev}`)
      } else if (a.kind === 'txn') {
        const [x, y] = await Promise.all([etcd.get(a.a!, { revision: a.rev }), etcd.get(a.b!, { revision: a.rev })])
        if (x.kvs[0]?.value.toString() !== a.value || y.kvs[0]?.value.toString() !== a.value) throw new Error(`lost txn @${a.rev}`)
      } else if (a.kind === 'delete') {
        if ((await etcd.get(a.key!, { revision: a.rev })).count !== 0) throw new Error(`lost delete of ${a.key} @${a.rev}`)
      } else if (a.kind === 'revoke') {
        if ((await etcd.get(a.key!)).count !== 0) throw new Error(`key ${a.key} of revoked lease ${a.id} survived`)
        if ((await etcd.timeToLive(BigInt(a.id!))).ttl !== -1) throw new Error(`revoked lease ${a.id} came back`)
      }
    }
    // No half txn anywhere: each a<n> has its b<n>, written at the same revision.
    for (const kv of (await etcd.get('a', { prefix: true })).kvs) {
      const b = await etcd.get('b' + kv.key.toString().slice(1))
      if (b.kvs[0]?.modRevision !== kv.modRevision) throw new Error(`half txn: ${kv.key} @${kv.modRevision} without its pair`)
    }
    return rev
  } finally {
    await etcd.close()
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
