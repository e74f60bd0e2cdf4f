import { Buffer } from 'node:buffer'
import { expect } from 'vitest'
import type { Client } from '../../src/api/client.ts'
import { op } from '../../src/api/ops.ts'

/**
 * Helpers shared by the snapshot tests: a seeded random workload that any client (etcdlite or a real etcd) runs the
 * same way, and comparisons of what two clients answer at every retained revision.
 */

/** rng is mulberry32: a small seeded generator, so a failing workload can be run again from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Workload {
  /** leases granted and still alive at the end, with their granted TTLs. */
  readonly leases: { id: bigint; ttl: number }[]
  /** compactRev is the last compaction made. */
  readonly compactRev: number
}

/**
 * runWorkload drives `client` through `steps` random writes over a few keys: puts (some with a lease, some with
 * binary values), deletes of keys and prefixes, multi-key txns, lease grants and revokes, and two compactions.
 */
export async function runWorkload(client: Client, seed: number, steps: number): Promise<Workload> {
  const random = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const keys = ['a', 'a/1', 'a/2', 'b', 'c/x', 'c/y', 'd', '\u00ff\u00fe', 'e']
  const leases: { id: bigint; ttl: number }[] = []
  let compactRev = 0
  for (let i = 0; i < steps; i++) {
    const r = random()
    const key = pick(keys)
    if (r < 0.45) {
      const value = random() < 0.2 ? Buffer.from([0, 255, i & 255, 10]) : `v${i}`
      const lease = leases.length > 0 && random() < 0.25 ? pick(leases).id : undefined
      await client.put(key, value, lease === undefined ? {} : { lease })
    } else if (r < 0.6) {
      await client.delete(key, random() < 0.3 ? { prefix: true } : {})
    } else if (r < 0.72) {
      await client.txn().then(op.put(pick(keys), `t${i}`), op.put(`txn/${i % 5}`, `u${i}`)).commit()
    } else if (r < 0.8) {
      const ttl = 300 + Math.floor(random() * 1000)
      const { id } = await client.grant(ttl)
      leases.push({ id, ttl })
    } else if (r < 0.85 && leases.length > 0) {
      const [gone] = leases.splice(Math.floor(random() * leases.length), 1)
      await client.revoke(gone!.id)
    } else {
      await client.put(`big/${i % 3}`, 'x'.repeat(Math.floor(random() * 6000)))
    }
    if (i === Math.floor(steps / 3) || i === Math.floor((2 * steps) / 3)) {
      const rev = (await client.get('a')).header.revision
      compactRev = rev - Math.floor(steps / 10)
      if (compactRev > 1) await client.compact(compactRev, { physical: true })
      else compactRev = 0
    }
  }
  return { leases, compactRev }
}

/** plain turns a range answer's pairs into comparable plain data. */
export function plain(kvs: readonly { key: Uint8Array; value: Uint8Array; createRevision: number; modRevision: number; version: number; lease: bigint }[]): unknown[] {
  return kvs.map((kv) => ({
    key: Buffer.from(kv.key).toString('hex'),
    value: Buffer.from(kv.value).toString('hex'),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: String(kv.lease),
  }))
}

/** expectSameHistory compares the whole keyspace of two clients at every revision from `from` to `to`. */
export async function expectSameHistory(a: Client, b: Client, from: number, to: number): Promise<void> {
  for (let rev = from; rev <= to; rev++) {
    const [x, y] = await Promise.all([a.get('\0', { rangeEnd: '\0', revision: rev }), b.get('\0', { rangeEnd: '\0', revision: rev })])
    expect(plain(x.kvs), `revision ${rev}`).toEqual(plain(y.kvs))
  }
}

/** expectSameAuth compares users (with their roles) and roles (with their permissions). */
export async function expectSameAuth(a: Client, b: Client): Promise<void> {
  const describe = async (c: Client) => {
    const users = (await c.auth.userList()).users
    const roles = (await c.auth.roleList()).roles
    return {
      users: await Promise.all(users.map(async (u) => ({ u, roles: (await c.auth.userGet(u)).roles }))),
      roles: await Promise.all(
        roles.map(async (r) => ({
          r,
          perms: (await c.auth.roleGet(r)).perm.map((p) => ({ t: p.permType, k: Buffer.from(p.key).toString('hex'), e: Buffer.from(p.rangeEnd).toString('hex') })),
        })),
      ),
    }
  }
  expect(await describe(a)).toEqual(await describe(b))
}
