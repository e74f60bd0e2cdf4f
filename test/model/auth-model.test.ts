import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { Client, EtcdError, open, type Engine, type OpResponse } from '../../src/index.ts'
import type { CallCredentials, PermissionType } from '../../src/messages/auth.ts'
import type { Compare, KeyValue, RequestOp } from '../../src/messages/kv.ts'

/**
 * The engine's permission checks against a naive model of etcd 3.4's rules (docs/etcd-3.4-auth-observations.md §3):
 * random users, roles, grants and role assignments (the role `root` among them), then random requests by random
 * signed-in users. A request must succeed exactly when the model allows it, and fail with ETCD_PERMISSION_DENIED
 * otherwise; a refused request changes nothing (same revision, same keys). Successful requests are checked against a
 * small key-value model too, so "allowed" also means "did what it should".
 *
 * The model decides coverage by brute force over interval endpoints; it does not use RangePermissions.
 *
 * Keys are latin1 strings (one char per byte), sent as Buffers. The key set is chosen for edges: 'a\0' is where the
 * point grant 'a' ends, 'b0' where the prefix 'b/' ends, 'b\xff' sorts after every other 'b…' key.
 */

const bin = (s: string) => Buffer.from(s, 'latin1')
const str = (b: Uint8Array) => Buffer.from(b).toString('latin1')

const KEYS = ['a', 'a\0', 'ab', 'b', 'b/', 'b/x', 'b0', 'b\xff', 'c']
const GRANT_KEYS = ['', ...KEYS]
const VALUES = ['x', 'y']
const ROOT_CREDENTIALS: CallCredentials = { commonName: 'root' }
const MAX_USERS = 3
const USER_NAMES = [...Array(MAX_USERS).keys()].map((i) => `u${i}`)

// ---- the model of etcd's rules

const INF = Symbol('+inf')
type End = string | typeof INF
interface ModelInterval {
  begin: string
  end: End
}

/** prefixEndOf: the end of the keys starting with `prefix`; '\0' (from the key on) when there is none. */
function prefixEndOf(prefix: string): string {
  let p = prefix
  while (p.length > 0 && p.charCodeAt(p.length - 1) === 0xff) p = p.slice(0, -1)
  if (p === '') return '\0'
  return p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1)
}

/** A permission or request range, as etcd holds it: rangeEnd '' is the key alone, '\0' every key from it. */
interface Span {
  key: string
  rangeEnd: string
}

interface ModelPerm extends Span {
  type: PermissionType
}

function intervalOf(s: Span): ModelInterval | undefined {
  const end: End = s.rangeEnd === '' ? `${s.key}\0` : s.rangeEnd === '\0' ? INF : s.rangeEnd
  if (end !== INF && end <= s.key) return undefined // empty or inverted: grants nothing
  return { begin: s.key, end }
}

function coveredAt(intervals: readonly ModelInterval[], x: string): boolean {
  return intervals.some((i) => i.begin <= x && (i.end === INF || x < i.end))
}

type Verdict = 'allow' | 'deny' | 'unspecified'

/** covers: is the request range inside the union of the intervals? 'unspecified' for an empty or inverted request. */
function covers(intervals: readonly ModelInterval[], req: Span): Verdict {
  const yes = (b: boolean): Verdict => (b ? 'allow' : 'deny')
  if (req.rangeEnd === '') return yes(coveredAt(intervals, req.key))
  const end: End = req.rangeEnd === '\0' ? INF : req.rangeEnd
  if (end !== INF && end <= req.key) return 'unspecified'
  // Coverage only changes at endpoints: checking every endpoint inside [key, end), and key itself, decides it.
  const points = new Set([req.key, ...intervals.flatMap((i) => (i.end === INF ? [i.begin] : [i.begin, i.end]))])
  for (const p of points) {
    if (p < req.key || (end !== INF && p >= end)) continue
    if (!coveredAt(intervals, p)) return 'deny'
  }
  return 'allow'
}

function both(a: Verdict, b: Verdict): Verdict {
  if (a === 'deny' || b === 'deny') return 'deny'
  return a === 'unspecified' || b === 'unspecified' ? 'unspecified' : 'allow'
}

/** What a user may do: `root` for the root role, else its pooled READ and WRITE intervals. */
interface UserPerms {
  root: boolean
  read: ModelInterval[]
  write: ModelInterval[]
}

function userPerms(roles: readonly string[], rolePerms: ReadonlyMap<string, readonly ModelPerm[]>): UserPerms {
  const read: ModelInterval[] = []
  const write: ModelInterval[] = []
  for (const role of roles) {
    for (const p of rolePerms.get(role) ?? []) {
      const i = intervalOf(p)
      if (i === undefined) continue
      if (p.type !== 'WRITE') read.push(i)
      if (p.type !== 'READ') write.push(i)
    }
  }
  return { root: roles.includes('root'), read, write }
}

/**
 * grantModel applies a grant to a role's permission list as etcd 3.4 does: the list is sorted by key, and only the
 * first permission whose key is at or after the new one is looked at; when it has the same key and range end its type
 * is replaced, otherwise the new permission is added (so a role can hold two permissions on one key and range).
 */
function grantModel(perms: ModelPerm[], p: ModelPerm): void {
  const first = perms.findIndex((q) => q.key >= p.key)
  if (first >= 0 && perms[first]!.key === p.key && perms[first]!.rangeEnd === p.rangeEnd) {
    perms[first] = p
    return
  }
  perms.push(p)
  perms.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)) // stable: a new one goes after equal keys
}

// ---- requests

type RangeSpec = { kind: 'key' } | { kind: 'range'; end: string } | { kind: 'prefix' } | { kind: 'fromKey' }

function spanOf(key: string, r: RangeSpec): Span {
  switch (r.kind) {
    case 'key':
      return { key, rangeEnd: '' }
    case 'range':
      return { key, rangeEnd: r.end }
    case 'prefix':
      return { key, rangeEnd: prefixEndOf(key) }
    case 'fromKey':
      return { key, rangeEnd: '\0' }
  }
}

type LeafOp =
  | { kind: 'get'; key: string; range: RangeSpec }
  | { kind: 'put'; key: string; value: string; prevKv: boolean }
  | { kind: 'delete'; key: string; range: RangeSpec; prevKv: boolean }

interface TxnCompare {
  key: string
  /** VALUE = value (on a key alone); VERSION > 0 (some key exists) or VERSION = 0 (none does), on a range too. */
  test: { kind: 'value'; value: string } | { kind: 'exists'; range: RangeSpec } | { kind: 'missing'; range: RangeSpec }
}

type Request = LeafOp | { kind: 'txn'; compare: TxnCompare; success: LeafOp[]; failure: LeafOp[] }

function compareSpan(c: TxnCompare): Span {
  return c.test.kind === 'value' ? { key: c.key, rangeEnd: '' } : spanOf(c.key, c.test.range)
}

/** needs: the model's verdict for an op by a user; a txn needs its compares and both of its branches. */
function needs(op: Request, u: UserPerms): Verdict {
  if (u.root) return 'allow'
  const read = (s: Span) => covers(u.read, s)
  const write = (s: Span) => covers(u.write, s)
  switch (op.kind) {
    case 'get':
      return read(spanOf(op.key, op.range))
    case 'put': {
      const s = { key: op.key, rangeEnd: '' }
      return op.prevKv ? both(write(s), read(s)) : write(s)
    }
    case 'delete': {
      const s = spanOf(op.key, op.range)
      return op.prevKv ? both(write(s), read(s)) : write(s)
    }
    case 'txn':
      return [...op.success, ...op.failure].reduce((v, o) => both(v, needs(o, u)), read(compareSpan(op.compare)))
  }
}

// ---- the key-value model (what an allowed request does)

class KvModel {
  readonly kv = new Map<string, string>()
  rev = 1

  keysIn(s: Span): string[] {
    const inside = (x: string) =>
      s.rangeEnd === '' ? x === s.key : s.rangeEnd === '\0' ? x >= s.key : s.key <= x && x < s.rangeEnd
    return [...this.kv.keys()].filter(inside).sort()
  }

  holds(c: TxnCompare): boolean {
    const keys = this.keysIn(compareSpan(c))
    switch (c.test.kind) {
      case 'value':
        return keys.length === 1 && this.kv.get(c.key) === c.test.value
      case 'exists':
        return keys.length > 0
      case 'missing':
        return keys.length === 0
    }
  }

  /** apply runs one op inside the current revision's write; it returns what the op answers and whether it wrote. */
  apply(op: LeafOp): { pairs: [string, string][]; wrote: boolean } {
    switch (op.kind) {
      case 'get':
        return { pairs: this.keysIn(spanOf(op.key, op.range)).map((k) => [k, this.kv.get(k)!]), wrote: false }
      case 'put': {
        const prev = this.kv.get(op.key)
        this.kv.set(op.key, op.value)
        return { pairs: prev === undefined || !op.prevKv ? [] : [[op.key, prev]], wrote: true }
      }
      case 'delete': {
        const keys = this.keysIn(spanOf(op.key, op.range))
        const pairs: [string, string][] = op.prevKv ? keys.map((k) => [k, this.kv.get(k)!]) : []
        for (const k of keys) this.kv.delete(k)
        return { pairs, wrote: keys.length > 0 }
      }
    }
  }
}

// ---- sending requests

function rangeOptions(r: RangeSpec): { prefix?: boolean; fromKey?: boolean; rangeEnd?: Buffer } {
  switch (r.kind) {
    case 'key':
      return {}
    case 'range':
      return { rangeEnd: bin(r.end) }
    case 'prefix':
      return { prefix: true }
    case 'fromKey':
      return { fromKey: true }
  }
}

/** spanFields: a request range as the services level takes it (built here, not by the client's helpers). */
function spanFields(s: Span): { key: Buffer; rangeEnd?: Buffer } {
  return s.rangeEnd === '' ? { key: bin(s.key) } : { key: bin(s.key), rangeEnd: bin(s.rangeEnd) }
}

function requestOp(op: LeafOp): RequestOp {
  switch (op.kind) {
    case 'get':
      return { requestRange: spanFields(spanOf(op.key, op.range)) }
    case 'put':
      return { requestPut: { key: bin(op.key), value: bin(op.value), prevKv: op.prevKv } }
    case 'delete':
      return { requestDeleteRange: { ...spanFields(spanOf(op.key, op.range)), prevKv: op.prevKv } }
  }
}

function compareOf(c: TxnCompare): Compare {
  switch (c.test.kind) {
    case 'value':
      return { key: bin(c.key), target: 'VALUE', result: 'EQUAL', value: bin(c.test.value) }
    case 'exists':
      return { ...spanFields(spanOf(c.key, c.test.range)), target: 'VERSION', result: 'GREATER', version: 0 }
    case 'missing':
      return { ...spanFields(spanOf(c.key, c.test.range)), target: 'VERSION', result: 'EQUAL', version: 0 }
  }
}

/** Outcome: the pairs each op answered (get: kvs, put/delete: prev pairs), and for a txn which branch ran. */
interface Outcome {
  pairs: [string, string][][]
  succeeded?: boolean
}

const pairsOf = (kvs: readonly KeyValue[]): [string, string][] => kvs.map((kv) => [str(kv.key), str(kv.value)])

function responsePairs(r: OpResponse): [string, string][] {
  if ('get' in r) return pairsOf(r.get.kvs)
  if ('put' in r) return r.put.prevKv === undefined ? [] : pairsOf([r.put.prevKv])
  if ('delete' in r) return pairsOf(r.delete.prevKvs)
  throw new Error('no nested txns are sent')
}

async function send(client: Client, op: Request): Promise<Outcome> {
  switch (op.kind) {
    case 'get': {
      const r = await client.get(bin(op.key), rangeOptions(op.range))
      return { pairs: [pairsOf(r.kvs)] }
    }
    case 'put': {
      const r = await client.put(bin(op.key), bin(op.value), { prevKv: op.prevKv })
      return { pairs: [r.prevKv === undefined ? [] : pairsOf([r.prevKv])] }
    }
    case 'delete': {
      const r = await client.delete(bin(op.key), { ...rangeOptions(op.range), prevKv: op.prevKv })
      return { pairs: [pairsOf(r.prevKvs)] }
    }
    case 'txn': {
      const r = await client
        .txn()
        .if(compareOf(op.compare))
        .then(...op.success.map(requestOp))
        .else(...op.failure.map(requestOp))
        .commit()
      return { pairs: r.responses.map(responsePairs), succeeded: r.succeeded }
    }
  }
}

/** expected: what the model says an allowed request answers; it applies the request to the model. */
function expected(model: KvModel, op: Request): Outcome {
  let wrote = false
  const run = (o: LeafOp) => {
    const r = model.apply(o)
    wrote ||= r.wrote
    return r.pairs
  }
  let out: Outcome
  if (op.kind === 'txn') {
    const succeeded = model.holds(op.compare)
    out = { pairs: (succeeded ? op.success : op.failure).map(run), succeeded }
  } else {
    out = { pairs: [run(op)] }
  }
  if (wrote) model.rev++
  return out
}

// ---- arbitraries

const key = fc.constantFrom(...KEYS)
const value = fc.constantFrom(...VALUES)
const rangeSpec: fc.Arbitrary<RangeSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'key' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('range' as const), end: key }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'prefix' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fromKey' as const }) },
)
const leafOp: fc.Arbitrary<LeafOp> = fc.oneof(
  fc.record({ kind: fc.constant('get' as const), key, range: rangeSpec }),
  fc.record({ kind: fc.constant('put' as const), key, value, prevKv: fc.boolean() }),
  fc.record({ kind: fc.constant('delete' as const), key, range: rangeSpec, prevKv: fc.boolean() }),
)
const txnCompare: fc.Arbitrary<TxnCompare> = fc.record({
  key,
  test: fc.oneof(
    fc.record({ kind: fc.constant('value' as const), value }),
    fc.record({ kind: fc.constant('exists' as const), range: rangeSpec }),
    fc.record({ kind: fc.constant('missing' as const), range: rangeSpec }),
  ),
})
const txn: fc.Arbitrary<Request> = fc.record({
  kind: fc.constant('txn' as const),
  compare: txnCompare,
  success: fc.array(leafOp, { maxLength: 1 }),
  failure: fc.array(leafOp, { maxLength: 1 }),
})

type GrantSpec = { kind: 'key' } | { kind: 'range'; end: string } | { kind: 'prefix' } | { kind: 'fromKey' }

const grantSpec: fc.Arbitrary<GrantSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'key' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('range' as const), end: fc.constantFrom(...GRANT_KEYS) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'prefix' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fromKey' as const }) },
)

const scenario = fc
  .record({ users: fc.integer({ min: 2, max: MAX_USERS }), roles: fc.integer({ min: 2, max: 4 }) })
  .chain(({ users, roles }) =>
    fc.record({
      roles: fc.constant(roles),
      grants: fc.array(
        fc.record({
          role: fc.nat(roles - 1),
          type: fc.constantFrom<PermissionType>('READ', 'WRITE', 'READWRITE'),
          key: fc.constantFrom(...GRANT_KEYS),
          range: grantSpec,
        }),
        { minLength: 1, maxLength: 12, size: 'medium' },
      ),
      // Each user's roles: indexes into the roles, and now and then the role root.
      assignments: fc.array(
        fc.record({ roles: fc.subarray([...Array(roles).keys()]), root: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) }),
        { minLength: users, maxLength: users },
      ),
      initial: fc.dictionary(key, value, { maxKeys: 5 }),
      requests: fc.array(
        fc.record({
          user: fc.nat(users - 1),
          op: fc.oneof({ weight: 2, arbitrary: leafOp }, { weight: 1, arbitrary: txn }),
        }),
        { minLength: 1, maxLength: 25, size: 'medium' },
      ),
    }),
  )

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

// ---- the property

/**
 * One engine serves every run: signing in costs a scrypt hash (about 0.1 s here), so the users are made and signed in
 * once, and each run resets what it changes instead (the key space, the roles, who holds them). That the permission
 * checks follow role changes made while auth is on is tested along the way.
 */
interface World {
  engine: Engine
  clients: Client[]
}

const ALL_KEYS = { key: bin('\0'), rangeEnd: bin('\0') }

async function world(): Promise<World> {
  // The engine's own client signs in as root once auth is on.
  const engine = await open({ user: 'root', password: 'root-pw' })
  const admin = engine.auth
  await admin.roleAdd('root')
  await Promise.all([admin.userAdd('root', 'root-pw'), ...USER_NAMES.map((u) => admin.userAdd(u, `pw-${u}`))])
  await admin.userGrantRole('root', 'root')
  await admin.authEnable()
  const clients = USER_NAMES.map((u) => new Client(engine.services, undefined, { user: u, password: `pw-${u}` }))
  await Promise.all([admin.authStatus(), ...clients.map((c) => c.auth.authStatus())])
  return { engine, clients }
}

const counts = { runs: 0, allowed: 0, allowedNonRoot: 0, denied: 0, unspecified: 0, rootRequests: 0, txns: 0, txnsAllowedNonRoot: 0 }

async function keySpace(engine: Engine): Promise<[string, string][]> {
  return pairsOf((await engine.services.kv.range(ALL_KEYS, ROOT_CREDENTIALS)).kvs)
}

/** reset: no keys, no roles but root, no user but root holding root. */
async function reset({ engine }: World): Promise<void> {
  const admin = engine.auth
  await engine.delete(bin('\0'), { fromKey: true })
  for (const r of (await admin.roleList()).roles) if (r !== 'root') await admin.roleDelete(r)
  for (const u of USER_NAMES) if ((await admin.userGet(u)).roles.includes('root')) await admin.userRevokeRole(u, 'root')
}

async function check(w: World, s: Scenario): Promise<void> {
  const { engine } = w
  const admin = engine.auth
  counts.runs++
  await reset(w)
  const roleNames = [...Array(s.roles).keys()].map((i) => `r${i}`)
  const userNames = USER_NAMES.slice(0, s.assignments.length)
  for (const r of roleNames) await admin.roleAdd(r)

  const rolePerms = new Map<string, ModelPerm[]>(roleNames.map((r) => [r, []]))
  for (const g of s.grants) {
    const role = roleNames[g.role]!
    const range =
      g.range.kind === 'key'
        ? {}
        : g.range.kind === 'range'
          ? { rangeEnd: bin(g.range.end) }
          : g.range.kind === 'prefix'
            ? { prefix: true }
            : { fromKey: true }
    await admin.roleGrantPermission(role, g.type, bin(g.key), range)
    const rangeEnd =
      g.range.kind === 'key' ? '' : g.range.kind === 'range' ? g.range.end : g.range.kind === 'prefix' ? prefixEndOf(g.key) : '\0'
    grantModel(rolePerms.get(role)!, { type: g.type, key: g.key, rangeEnd })
  }
  // The roles hold what the model says they hold (this pins the grant semantics the checks are computed from).
  for (const r of roleNames) {
    const got = (await admin.roleGet(r)).perm.map((p) => ({ type: p.permType, key: str(p.key), rangeEnd: str(p.rangeEnd) }))
    expect(got, `permissions of ${r}`).toEqual(rolePerms.get(r)!)
  }

  const perms: UserPerms[] = []
  for (const [i, a] of s.assignments.entries()) {
    const roles = [...a.roles.map((r) => roleNames[r]!), ...(a.root ? ['root'] : [])]
    for (const r of roles) await admin.userGrantRole(userNames[i]!, r)
    perms.push(userPerms(roles, rolePerms))
  }

  for (const [k, v] of Object.entries(s.initial)) await engine.put(bin(k), bin(v))
  const model = new KvModel()
  for (const [k, v] of Object.entries(s.initial)) model.kv.set(k, v)
  model.rev = engine.revision
  expect(await keySpace(engine)).toEqual([...model.kv.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

  for (const [n, { user, op }] of s.requests.entries()) {
    const verdict = needs(op, perms[user]!)
    const what = `request #${n} by ${userNames[user]}: ${JSON.stringify(op)} (model: ${verdict})`
    const before = engine.revision
    let outcome: Outcome | undefined
    let error: unknown
    try {
      outcome = await send(w.clients[user]!, op)
    } catch (err) {
      error = err
    }
    if (op.kind === 'txn') counts.txns++
    if (perms[user]!.root) counts.rootRequests++
    if (verdict === 'allow' || (verdict === 'unspecified' && error === undefined)) {
      expect(error, what).toBeUndefined()
      counts[verdict === 'allow' ? 'allowed' : 'unspecified']++
      if (verdict === 'allow' && !perms[user]!.root) {
        counts.allowedNonRoot++
        if (op.kind === 'txn') counts.txnsAllowedNonRoot++
      }
      const want = expected(model, op)
      expect(outcome, what).toEqual(want)
      expect(engine.revision, what).toBe(model.rev)
    } else {
      counts[verdict === 'deny' ? 'denied' : 'unspecified']++
      expect(error, what).toBeInstanceOf(EtcdError)
      expect((error as EtcdError).code, `${what}: ${String(error)}`).toBe('ETCD_PERMISSION_DENIED')
      expect(engine.revision, `${what}: a refused request changed the revision`).toBe(before)
    }
    // Whatever happened, the key space is the model's.
    const want = [...model.kv.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    expect(await keySpace(engine), `${what}: key space`).toEqual(want)
  }
}

const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
const RUNS = Number(process.env.AUTH_MODEL_RUNS ?? 300)

describe('auth: the engine against a model of etcd 3.4 permissions', () => {
  test('a request succeeds exactly when the model allows it; a refused one changes nothing', async () => {
    const w = await world()
    try {
      await fc.assert(
        fc.asyncProperty(scenario, (s) => check(w, s)),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      )
    } finally {
      await w.engine.close()
    }
    // The runs exercised both sides of the rule.
    if (process.env.AUTH_MODEL_STATS !== undefined) console.log(counts)
    expect(counts.allowed).toBeGreaterThan(RUNS)
    expect(counts.denied).toBeGreaterThan(RUNS)
    expect(counts.txns).toBeGreaterThan(RUNS / 2)
    expect(counts.rootRequests).toBeGreaterThan(0)
  }, 60_000)

  test('model sanity: the edge cases of §3', () => {
    const u = (...ps: [PermissionType, string, string][]) =>
      userPerms(['r'], new Map([['r', ps.map(([type, key, rangeEnd]) => ({ type, key, rangeEnd }))]]))
    const alice = u(['READ', 'a', ''], ['READWRITE', 'p/', 'p0'], ['WRITE', 'm', 'n'], ['READ', 'c', 'd'], ['READ', 'd', 'e'], ['READ', 'g', 'h'], ['READ', 'h0', 'i'])
    const get = (k: string, end = ''): Request => ({ kind: 'get', key: k, range: end === '' ? { kind: 'key' } : { kind: 'range', end } })
    expect(needs(get('a'), alice)).toBe('allow')
    expect(needs(get('b'), alice)).toBe('deny')
    expect(needs(get('a', 'b'), alice)).toBe('deny')
    expect(needs(get('p/', 'p0'), alice)).toBe('allow')
    expect(needs(get('p/', 'p1'), alice)).toBe('deny')
    expect(needs(get('c', 'e'), alice)).toBe('allow')
    expect(needs(get('g', 'i'), alice)).toBe('deny')
    expect(needs(get('p/', '\0'), alice)).toBe('deny')
    expect(needs({ kind: 'put', key: 'm5', value: 'x', prevKv: false }, alice)).toBe('allow')
    expect(needs({ kind: 'put', key: 'm5', value: 'x', prevKv: true }, alice)).toBe('deny')
    expect(needs({ kind: 'delete', key: 'm', range: { kind: 'range', end: 'n' }, prevKv: false }, alice)).toBe('allow')
    expect(needs({ kind: 'delete', key: 'm', range: { kind: 'range', end: 'n0' }, prevKv: false }, alice)).toBe('deny')
    const txnOf = (failure: LeafOp): Request => ({
      kind: 'txn',
      compare: { key: 'a', test: { kind: 'value', value: 'x' } },
      success: [{ kind: 'get', key: 'a', range: { kind: 'key' } }],
      failure: [failure],
    })
    expect(needs(txnOf({ kind: 'get', key: 'a', range: { kind: 'key' } }), alice)).toBe('allow')
    expect(needs(txnOf({ kind: 'get', key: 'b', range: { kind: 'key' } }), alice)).toBe('deny')
    expect(prefixEndOf('b/')).toBe('b0')
    expect(prefixEndOf('b\xff')).toBe('c')
    expect(prefixEndOf('')).toBe('\0')
    expect(prefixEndOf('\xff')).toBe('\0')
  })
})
