import type { Engine } from '../api/engine.ts'

/**
 * Seeds: the keys a fake starts with (`fakeEtcd({ seed })`, `fake.reset(seed)`), loaded straight into the engine
 * before clients see it, one put per key in the order given, so that after a seed of n keys the revision is 1 + n.
 */

/** SeedLease attaches a seeded key to a lease: a TTL in seconds (keys with the same TTL share one lease), or an id and TTL. */
export type SeedLease = number | { readonly id: bigint; readonly ttl: number }

/** SeedEntry is one seeded key. */
export interface SeedEntry {
  readonly key: string | Uint8Array
  readonly value: string | Uint8Array
  /** lease: the seed grants it (once per TTL, or per id) and puts the key under it. @default no lease */
  readonly lease?: SeedLease
}

/** Seed is an object of key -> value (strings or bytes), or a list of entries (which may carry leases). */
export type Seed = Readonly<Record<string, string | Uint8Array>> | readonly SeedEntry[]

/** applySeed puts every key of `seed` into `engine`, granting the leases it names. */
export async function applySeed(engine: Engine, seed: Seed): Promise<void> {
  const entries = entriesOf(seed)
  const byTtl = new Map<number, bigint>()
  const byId = new Set<bigint>()
  for (const e of entries) {
    let lease: bigint | undefined
    if (typeof e.lease === 'number') {
      lease = byTtl.get(e.lease)
      if (lease === undefined) {
        lease = (await engine.grant(e.lease)).id
        byTtl.set(e.lease, lease)
      }
    } else if (e.lease !== undefined) {
      lease = e.lease.id
      if (!byId.has(lease)) {
        await engine.grant(e.lease.ttl, { id: lease })
        byId.add(lease)
      }
    }
    await engine.put(e.key, e.value, lease === undefined ? {} : { lease })
  }
}

function entriesOf(seed: Seed): readonly SeedEntry[] {
  if (Array.isArray(seed)) {
    for (const e of seed as readonly SeedEntry[]) {
      if (typeof e !== 'object' || e === null || !bytesLike(e.key) || !bytesLike(e.value)) {
        throw new TypeError('seed: each entry is { key, value, lease? } with a string or Uint8Array key and value')
      }
      const l = e.lease
      if (l !== undefined && typeof l !== 'number' && !(typeof l === 'object' && l !== null && typeof l.id === 'bigint' && typeof l.ttl === 'number')) {
        throw new TypeError('seed: a lease is a TTL in seconds or { id: bigint, ttl }')
      }
    }
    return seed as readonly SeedEntry[]
  }
  if (typeof seed !== 'object' || seed === null) throw new TypeError('seed: an object of key -> value, or a list of { key, value, lease? }')
  return Object.entries(seed).map(([key, value]) => {
    if (!bytesLike(value)) throw new TypeError(`seed: the value of ${JSON.stringify(key)} must be a string or a Uint8Array`)
    return { key, value }
  })
}

function bytesLike(v: unknown): v is string | Uint8Array {
  return typeof v === 'string' || v instanceof Uint8Array
}
