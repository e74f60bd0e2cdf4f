import { describe, expect, test } from 'vitest'
import { compare, EtcdError, op, type Client } from '../../src/index.ts'
import type { Permission } from '../../src/messages/auth.ts'
import type { Harness, Target } from './harness.ts'
import { lacks } from './harness.ts'
import { currentRevision, etcdMessages, expectEtcdError, keysOf, pair, text, useTarget, type Pair } from './helpers.ts'
import { Reader } from './streams.ts'

/** The cancel reason etcd 3.4 gives a watch whose create is refused. */
const WATCH_DENIED = 'rpc error: code = PermissionDenied desc = etcdserver: permission denied'
const WATCH_NO_USER = 'rpc error: code = InvalidArgument desc = etcdserver: user name is empty'
const WATCH_BAD_TOKEN = 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token'

/**
 * outcome names how a call ended: 'OK', or the EtcdError code (its message checked against etcd's), so that a
 * table of calls is asserted in one readable comparison.
 */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'OK'
  } catch (err) {
    if (!(err instanceof EtcdError)) return `${(err as Error).name}: ${(err as Error).message}`
    const expected = (etcdMessages as Record<string, string>)[err.code]
    return expected === undefined || expected === err.message ? err.code : `${err.code} (message ${JSON.stringify(err.message)})`
  }
}

/** outcomes runs each call in order (they may depend on each other) and names how each ended. */
async function outcomes(calls: ReadonlyArray<readonly [string, () => Promise<unknown>]>): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [name, call] of calls) out[name] = await outcome(call())
  return out
}

const OK = 'OK'
const DENIED = 'ETCD_PERMISSION_DENIED'

const ROOT_PW = 'rootpw'
const ALICE_PW = 'alicepw'

/** enableAuth adds user root with role root, turns auth on, and returns a client signed in as root. */
async function enableAuth(t: Target): Promise<Client> {
  await t.auth.userAdd('root', ROOT_PW)
  await t.auth.userGrantRole('root', 'root')
  await t.auth.authEnable()
  return t.signIn('root', ROOT_PW)
}

/** Perm is a role's permission with its bytes decoded. */
interface Perm {
  permType: string
  key: string
  rangeEnd: string
}

function perms(list: readonly Permission[]): Perm[] {
  return list.map((p) => ({ permType: p.permType, key: text(p.key), rangeEnd: text(p.rangeEnd) }))
}

/** State is everything root sees: the revision and every pair. */
interface State {
  revision: number
  pairs: Pair[]
}

async function stateOf(c: Client): Promise<State> {
  const r = await c.get('\0', { rangeEnd: '\0' })
  return { revision: r.header.revision, pairs: r.kvs.map(pair) }
}

/** KEYS are the keys a limited-user setup starts with (revisions 2..12, in this order). */
const KEYS = ['a', 'b', 'c1', 'd1', 'g1', 'h1', 'm5', 'm7', 'p/x', 'p1', 'z'] as const

/** Limited is a target with auth on, a root client, and alice, who holds roles ra and rb. */
interface Limited {
  t: Target
  root: Client
  alice: Client
}

/**
 * limitedUser seeds KEYS, then gives alice role ra (READ a; READWRITE prefix p/; WRITE [m,n); READ [c,d); READ [g,h)
 * and [h0,i), with a gap between them) and role rb (READ [d,e), which touches ra's [c,d)), and turns auth on.
 */
async function limitedUser(t: Target): Promise<Limited> {
  for (const key of KEYS) await t.put(key, `v-${key}`)
  const auth = t.auth
  await auth.roleAdd('ra')
  await auth.roleGrantPermission('ra', 'READ', 'a')
  await auth.roleGrantPermission('ra', 'READWRITE', 'p/', { prefix: true })
  await auth.roleGrantPermission('ra', 'WRITE', 'm', { rangeEnd: 'n' })
  await auth.roleGrantPermission('ra', 'READ', 'c', { rangeEnd: 'd' })
  await auth.roleGrantPermission('ra', 'READ', 'g', { rangeEnd: 'h' })
  await auth.roleGrantPermission('ra', 'READ', 'h0', { rangeEnd: 'i' })
  await auth.roleAdd('rb')
  await auth.roleGrantPermission('rb', 'READ', 'd', { rangeEnd: 'e' })
  await auth.userAdd('alice', ALICE_PW)
  await auth.userGrantRole('alice', 'ra')
  await auth.userGrantRole('alice', 'rb')
  const root = await enableAuth(t)
  const alice = await t.signIn('alice', ALICE_PW)
  return { t, root, alice }
}

/**
 * Auth: etcd 3.4's users, roles, key-range permissions and simple tokens, through etcd.auth and signed-in clients
 * (`target.signIn`). Enabling, the admin calls and their errors, listing order, permission shapes, authenticating,
 * what a limited user may read and write (range, put, delete, txn, lease revoke, watch), and how role, password,
 * user and enabled-state changes take effect. On real etcd every sign-in costs a bcrypt (~100 ms), so each test
 * signs in as few users as it can.
 */
export function registerAuth(h: Harness): void {
  describe(`auth (${h.name})`, () => {
    const target = useTarget(h)

    describe('enabling', () => {
      test('authEnable without a root user rejects with ETCD_ROOT_USER_MISSING, and auth stays off', async () => {
        const t = target()
        await t.auth.userAdd('alice', ALICE_PW)
        await expectEtcdError(t.auth.authEnable(), 'ETCD_ROOT_USER_MISSING')
        expect((await t.put('k', 'v')).header.revision).toBe(2)
        await expectEtcdError(t.auth.authenticate('alice', ALICE_PW), 'ETCD_AUTH_NOT_ENABLED')
      })

      test('authEnable when root lacks the root role rejects with ETCD_ROOT_ROLE_MISSING, and auth stays off', async () => {
        const t = target()
        await t.auth.userAdd('root', ROOT_PW)
        await t.auth.roleAdd('root')
        await expectEtcdError(t.auth.authEnable(), 'ETCD_ROOT_ROLE_MISSING')
        expect((await t.put('k', 'v')).header.revision).toBe(2)
      })

      test('the root role need not exist as a role: granting it is allowed, and enabling works', async () => {
        const t = target()
        const root = await enableAuth(t)
        expect((await root.auth.roleList()).roles).toEqual([])
        expect((await root.auth.userGet('root')).roles).toEqual(['root'])
        expect((await root.auth.userList()).users).toEqual(['root'])
        // Enabling again is a no-op.
        await root.auth.authEnable()
        expect((await root.put('k', 'v')).header.revision).toBe(2)
      })

      test('auth calls answer the current KV revision and consume none', async () => {
        const t = target()
        expect((await t.auth.userAdd('u1', 'p')).header.revision).toBe(1)
        await t.put('k', 'v') // 2
        expect((await t.auth.roleAdd('r1')).header.revision).toBe(2)
        expect((await t.auth.roleGrantPermission('r1', 'READ', 'a')).header.revision).toBe(2)
        expect((await t.auth.userGrantRole('u1', 'r1')).header.revision).toBe(2)
        expect((await t.auth.userGet('u1')).header.revision).toBe(2)
        expect((await t.auth.roleGet('r1')).header.revision).toBe(2)
        expect((await t.auth.userList()).header.revision).toBe(2)
        expect((await t.auth.authDisable()).header.revision).toBe(2) // disabling while off: a no-op
        expect(await currentRevision(t)).toBe(2)
        expect((await t.put('k', 'v')).header.revision).toBe(3)
      })
    })

    describe('admin calls and their errors', () => {
      test('users: empty name, duplicate, missing user, roles not granted', async () => {
        const t = target()
        const auth = t.auth
        await auth.userAdd('u1', 'p')
        await auth.roleAdd('r1')
        expect(
          await outcomes([
            ['add empty name', () => auth.userAdd('', 'p')],
            ['add duplicate', () => auth.userAdd('u1', 'other')],
            ['get missing', () => auth.userGet('nope')],
            ['delete missing', () => auth.userDelete('nope')],
            ['change password of missing', () => auth.userChangePassword('nope', 'x')],
            ['grant to missing user (missing role too)', () => auth.userGrantRole('nope', 'nope')],
            ['grant missing role', () => auth.userGrantRole('u1', 'nope')],
            ['grant r1', () => auth.userGrantRole('u1', 'r1')],
            ['grant r1 again (no-op)', () => auth.userGrantRole('u1', 'r1')],
            ['revoke from missing user', () => auth.userRevokeRole('nope', 'r1')],
            ['revoke role not granted', () => auth.userRevokeRole('u1', 'other')],
            ['revoke r1', () => auth.userRevokeRole('u1', 'r1')],
            ['revoke r1 again', () => auth.userRevokeRole('u1', 'r1')],
          ]),
        ).toEqual({
          'add empty name': 'ETCD_USER_EMPTY',
          'add duplicate': 'ETCD_USER_EXISTS',
          'get missing': 'ETCD_USER_NOT_FOUND',
          'delete missing': 'ETCD_USER_NOT_FOUND',
          'change password of missing': 'ETCD_USER_NOT_FOUND',
          'grant to missing user (missing role too)': 'ETCD_USER_NOT_FOUND',
          'grant missing role': 'ETCD_ROLE_NOT_FOUND',
          'grant r1': OK,
          'grant r1 again (no-op)': OK,
          'revoke from missing user': 'ETCD_USER_NOT_FOUND',
          'revoke role not granted': 'ETCD_ROLE_NOT_GRANTED',
          'revoke r1': OK,
          'revoke r1 again': 'ETCD_ROLE_NOT_GRANTED',
        })
        expect((await auth.userGet('u1')).roles).toEqual([])
        expect((await auth.userList()).users).toEqual(['u1'])
      })

      test('roles: empty name, duplicate, missing role, permission not granted', async () => {
        const t = target()
        const auth = t.auth
        await auth.roleAdd('r1')
        await auth.roleGrantPermission('r1', 'READWRITE', 'p/', { prefix: true })
        expect(
          await outcomes([
            ['add empty name', () => auth.roleAdd('')],
            ['add duplicate', () => auth.roleAdd('r1')],
            ['get missing', () => auth.roleGet('nope')],
            ['delete missing', () => auth.roleDelete('nope')],
            ['grant to missing', () => auth.roleGrantPermission('nope', 'READ', 'a')],
            ['revoke from missing', () => auth.roleRevokePermission('nope', 'a')],
            ['revoke key alone of a prefix grant', () => auth.roleRevokePermission('r1', 'p/')],
            ['revoke key never granted', () => auth.roleRevokePermission('r1', 'zz')],
            ['revoke the prefix grant', () => auth.roleRevokePermission('r1', 'p/', { prefix: true })],
            ['revoke it again', () => auth.roleRevokePermission('r1', 'p/', { prefix: true })],
          ]),
        ).toEqual({
          'add empty name': 'ETCD_ROLE_EMPTY',
          'add duplicate': 'ETCD_ROLE_EXISTS',
          'get missing': 'ETCD_ROLE_NOT_FOUND',
          'delete missing': 'ETCD_ROLE_NOT_FOUND',
          'grant to missing': 'ETCD_ROLE_NOT_FOUND',
          'revoke from missing': 'ETCD_ROLE_NOT_FOUND',
          'revoke key alone of a prefix grant': 'ETCD_PERMISSION_NOT_GRANTED',
          'revoke key never granted': 'ETCD_PERMISSION_NOT_GRANTED',
          'revoke the prefix grant': OK,
          'revoke it again': 'ETCD_PERMISSION_NOT_GRANTED',
        })
        expect(perms((await auth.roleGet('r1')).perm)).toEqual([])
        expect((await auth.roleList()).roles).toEqual(['r1'])
      })

      test('roleDelete takes the role away from every user that holds it', async () => {
        const t = target()
        const auth = t.auth
        await auth.roleAdd('r1')
        await auth.roleAdd('r2')
        await auth.userAdd('u1', 'p')
        await auth.userAdd('u2', 'p')
        await auth.userGrantRole('u1', 'r1')
        await auth.userGrantRole('u1', 'r2')
        await auth.userGrantRole('u2', 'r1')
        await auth.roleDelete('r1')
        expect((await auth.userGet('u1')).roles).toEqual(['r2'])
        expect((await auth.userGet('u2')).roles).toEqual([])
        expect((await auth.roleList()).roles).toEqual(['r2'])
        // A role of the same name added again is not granted to anyone.
        await auth.roleAdd('r1')
        expect((await auth.userGet('u2')).roles).toEqual([])
      })

      test('while auth is off, user root may be deleted or lose role root, and role root may be deleted', async () => {
        const t = target()
        const auth = t.auth
        await auth.userAdd('root', ROOT_PW)
        await auth.roleAdd('root')
        await auth.userGrantRole('root', 'root')
        await auth.userRevokeRole('root', 'root')
        expect((await auth.userGet('root')).roles).toEqual([])
        await auth.roleDelete('root')
        expect((await auth.roleList()).roles).toEqual([])
        await auth.userDelete('root')
        expect((await auth.userList()).users).toEqual([])
      })

      test('while auth is on, deleting user root, revoking role root from root or deleting role root rejects with ETCD_INVALID_AUTH_MGMT', async () => {
        const t = target()
        await t.auth.roleAdd('root')
        const root = await enableAuth(t)
        expect(
          await outcomes([
            ['delete user root', () => root.auth.userDelete('root')],
            ['revoke role root from root', () => root.auth.userRevokeRole('root', 'root')],
            ['delete role root', () => root.auth.roleDelete('root')],
          ]),
        ).toEqual({
          'delete user root': 'ETCD_INVALID_AUTH_MGMT',
          'revoke role root from root': 'ETCD_INVALID_AUTH_MGMT',
          'delete role root': 'ETCD_INVALID_AUTH_MGMT',
        })
        expect((await root.auth.userGet('root')).roles).toEqual(['root'])
        expect((await root.auth.roleList()).roles).toEqual(['root'])
      })
    })

    describe('listing order', () => {
      test("userGet lists a user's roles sorted by bytes, whatever the grant order", async () => {
        const t = target()
        const auth = t.auth
        for (const r of ['zz', 'aa', 'r1', 'b', 'B', 'a9']) await auth.roleAdd(r)
        await auth.userAdd('u1', 'p', { noPassword: true })
        await auth.userAdd('u2', 'p', { noPassword: true })
        for (const r of ['zz', 'aa', 'r1']) await auth.userGrantRole('u1', r)
        for (const r of ['b', 'B', 'a9']) await auth.userGrantRole('u2', r)
        expect((await auth.userGet('u1')).roles).toEqual(['aa', 'r1', 'zz'])
        expect((await auth.userGet('u2')).roles).toEqual(['B', 'a9', 'b'])
      })

      test('userList and roleList are in byte order', async () => {
        const t = target()
        const auth = t.auth
        const names = ['é', 'carl', 'b', 'root', 'a9', 'a10', 'B']
        for (const n of names) await auth.userAdd(n, '', { noPassword: true })
        for (const n of names) await auth.roleAdd(n)
        const sorted = ['B', 'a10', 'a9', 'b', 'carl', 'root', 'é']
        expect((await auth.userList()).users).toEqual(sorted)
        expect((await auth.roleList()).roles).toEqual(sorted)
      })
    })

    describe('permission shapes', () => {
      test('roleGet shows a key, a prefix, a range and a from-key grant, sorted by key', async () => {
        const t = target()
        const auth = t.auth
        await auth.roleAdd('r1')
        await auth.roleGrantPermission('r1', 'READWRITE', 'p/', { prefix: true })
        await auth.roleGrantPermission('r1', 'WRITE', 'm', { rangeEnd: 'n' })
        await auth.roleGrantPermission('r1', 'READ', 'f', { fromKey: true })
        await auth.roleGrantPermission('r1', 'READ', 'a')
        expect(perms((await auth.roleGet('r1')).perm)).toEqual([
          { permType: 'READ', key: 'a', rangeEnd: '' },
          { permType: 'READ', key: 'f', rangeEnd: '\0' },
          { permType: 'WRITE', key: 'm', rangeEnd: 'n' },
          { permType: 'READWRITE', key: 'p/', rangeEnd: 'p0' },
        ])
        // A from-key grant is revoked with range end "\0".
        await auth.roleRevokePermission('r1', 'f', { fromKey: true })
        await auth.roleRevokePermission('r1', 'm', { rangeEnd: 'n' })
        expect(perms((await auth.roleGet('r1')).perm)).toEqual([
          { permType: 'READ', key: 'a', rangeEnd: '' },
          { permType: 'READWRITE', key: 'p/', rangeEnd: 'p0' },
        ])
      })

      test('granting the same key and range again replaces the type in place', async () => {
        const t = target()
        const auth = t.auth
        await auth.roleAdd('r1')
        await auth.roleGrantPermission('r1', 'READ', 'a')
        await auth.roleGrantPermission('r1', 'READ', 'b')
        await auth.roleGrantPermission('r1', 'WRITE', 'a')
        await auth.roleGrantPermission('r1', 'READWRITE', 'b')
        expect(perms((await auth.roleGet('r1')).perm)).toEqual([
          { permType: 'WRITE', key: 'a', rangeEnd: '' },
          { permType: 'READWRITE', key: 'b', rangeEnd: '' },
        ])
      })

      test('touching grants are kept apart, and only the first grant at a key is matched for replacement', async () => {
        const t = target()
        const auth = t.auth
        await auth.roleAdd('r1')
        await auth.roleGrantPermission('r1', 'READ', 'd', { rangeEnd: 'e' })
        await auth.roleGrantPermission('r1', 'READ', 'c', { rangeEnd: 'd' })
        await auth.roleGrantPermission('r1', 'WRITE', 'a')
        await auth.roleGrantPermission('r1', 'READ', 'a', { rangeEnd: 'b' })
        // etcd looks only at the first grant whose key is >= 'a' ({WRITE a}): [a,b) is appended, not replaced.
        await auth.roleGrantPermission('r1', 'READWRITE', 'a', { rangeEnd: 'b' })
        expect(perms((await auth.roleGet('r1')).perm)).toEqual([
          { permType: 'WRITE', key: 'a', rangeEnd: '' },
          { permType: 'READ', key: 'a', rangeEnd: 'b' },
          { permType: 'READWRITE', key: 'a', rangeEnd: 'b' },
          { permType: 'READ', key: 'c', rangeEnd: 'd' },
          { permType: 'READ', key: 'd', rangeEnd: 'e' },
        ])
        // A revoke takes every grant that matches key and range end.
        await auth.roleRevokePermission('r1', 'a', { rangeEnd: 'b' })
        expect(perms((await auth.roleGet('r1')).perm)).toEqual([
          { permType: 'WRITE', key: 'a', rangeEnd: '' },
          { permType: 'READ', key: 'c', rangeEnd: 'd' },
          { permType: 'READ', key: 'd', rangeEnd: 'e' },
        ])
      })
    })

    describe('authenticate and tokens', () => {
      test('authenticate while auth is off rejects with ETCD_AUTH_NOT_ENABLED', async () => {
        const t = target()
        await t.auth.userAdd('root', ROOT_PW)
        await t.auth.userGrantRole('root', 'root')
        await expectEtcdError(t.auth.authenticate('root', ROOT_PW), 'ETCD_AUTH_NOT_ENABLED')
        await expectEtcdError(t.auth.authenticate('root', 'wrong'), 'ETCD_AUTH_NOT_ENABLED')
      })

      test('a wrong password, an unknown user, or a user without password cannot authenticate', async () => {
        const t = target()
        await t.auth.userAdd('nopw', '', { noPassword: true })
        await enableAuth(t)
        expect(
          await outcomes([
            ['wrong password', () => t.auth.authenticate('root', 'wrong')],
            ['unknown user', () => t.auth.authenticate('nobody', ROOT_PW)],
            ['empty name', () => t.auth.authenticate('', '')],
            ['no-password user', () => t.auth.authenticate('nopw', '')],
          ]),
        ).toEqual({
          'wrong password': 'ETCD_AUTH_FAILED',
          'unknown user': 'ETCD_AUTH_FAILED',
          'empty name': 'ETCD_AUTH_FAILED',
          'no-password user': 'ETCD_NO_PASSWORD_USER',
        })
      })

      test('authenticate answers a simple token and the current revision; the token works for raw calls', async () => {
        const t = target()
        await t.put('k', 'v') // 2
        await enableAuth(t)
        const r = await t.auth.authenticate('root', ROOT_PW)
        expect(r.token).toMatch(/^[a-zA-Z]{16}\.\d+$/)
        expect(r.header.revision).toBe(2)
        const got = await t.services.kv.range({ key: 'k' }, { token: r.token })
        expect(keysOf(got.kvs)).toEqual(['k'])
        await expectEtcdError(t.services.kv.range({ key: 'k' }, { token: 'bogus' }), 'ETCD_INVALID_AUTH_TOKEN')
      })

      test('anonymous calls while auth is on reject with ETCD_USER_EMPTY; lease grant and revoke of a keyless lease do not', async () => {
        const t = target()
        await t.put('k', 'v')
        const root = await enableAuth(t)
        const held = await root.grant(60)
        await root.put('leased', 'v', { lease: held.id })
        const before = await stateOf(root)
        expect(
          await outcomes([
            ['get', () => t.get('k')],
            ['put', () => t.put('k', 'v2')],
            ['delete', () => t.delete('k')],
            ['txn', () => t.txn().then(op.get('k')).commit()],
            ['revoke a lease with keys', () => t.revoke(held.id)],
            ['userList', () => t.auth.userList()],
            ['roleAdd with an empty name (the caller is checked first)', () => t.auth.roleAdd('')],
            ['authDisable', () => t.auth.authDisable()],
            ['grant a lease', () => t.grant(60)],
            ['revoke a missing lease', () => t.revoke(12345n)],
          ]),
        ).toEqual({
          get: 'ETCD_USER_EMPTY',
          put: 'ETCD_USER_EMPTY',
          delete: 'ETCD_USER_EMPTY',
          txn: 'ETCD_USER_EMPTY',
          'revoke a lease with keys': 'ETCD_USER_EMPTY',
          userList: 'ETCD_USER_EMPTY',
          'roleAdd with an empty name (the caller is checked first)': 'ETCD_USER_EMPTY',
          authDisable: 'ETCD_USER_EMPTY',
          'grant a lease': OK,
          'revoke a missing lease': 'ETCD_LEASE_NOT_FOUND',
        })
        const keyless = (await root.leases()).leases.map((l) => l.id).find((id) => id !== held.id)
        expect(keyless).toBeDefined()
        await t.revoke(keyless!)
        expect(await stateOf(root)).toEqual(before)
      })

      test('a token is refused while auth is off, and tokens from before an off-on cycle stay refused', async () => {
        const t = target()
        await t.put('k', 'v')
        const root = await enableAuth(t)
        const { token } = await t.auth.authenticate('root', ROOT_PW)
        await root.auth.authDisable()
        // Anonymous calls work again; any token is refused.
        expect(keysOf((await t.get('k')).kvs)).toEqual(['k'])
        expect((await t.put('k', 'v2')).header.revision).toBe(3)
        await expectEtcdError(t.services.kv.range({ key: 'k' }, { token }), 'ETCD_INVALID_AUTH_TOKEN')
        await expectEtcdError(t.services.kv.range({ key: 'k' }, { token: 'bogus' }), 'ETCD_INVALID_AUTH_TOKEN')
        // The signed-in client carries on without a token while auth is off.
        expect((await root.put('k', 'v3')).header.revision).toBe(4)
        await t.auth.authEnable()
        await expectEtcdError(t.services.kv.range({ key: 'k' }, { token }), 'ETCD_INVALID_AUTH_TOKEN')
        await expectEtcdError(t.get('k'), 'ETCD_USER_EMPTY')
        // ... and signs in again once it is back on.
        expect((await root.get('k')).kvs.map((kv) => text(kv.value))).toEqual(['v3'])
      })

      test.skipIf(lacks(h, 'manualClock'))(
        'a token expires after 300 s unused, each use starts the 300 s again, and a signed-in client signs in again',
        async () => {
          const t = target()
          await t.put('k', 'v')
          await enableAuth(t)
          const clock = t.clock!
          const { token } = await t.auth.authenticate('root', ROOT_PW)
          const root = await t.signIn('root', ROOT_PW)
          expect(keysOf((await root.get('k')).kvs)).toEqual(['k'])
          await clock.advance(200_000)
          expect(keysOf((await t.services.kv.range({ key: 'k' }, { token })).kvs)).toEqual(['k'])
          await clock.advance(200_000) // 400 s after sign-in, 200 s after the last use
          expect(keysOf((await t.services.kv.range({ key: 'k' }, { token })).kvs)).toEqual(['k'])
          await clock.advance(301_000)
          await expectEtcdError(t.services.kv.range({ key: 'k' }, { token }), 'ETCD_INVALID_AUTH_TOKEN')
          // root's own token expired too (unused for 701 s): the client signs in again by itself.
          expect((await root.put('k', 'v2')).header.revision).toBe(3)
          expect(keysOf((await root.get('k')).kvs)).toEqual(['k'])
        },
      )
    })

    describe('a limited user', () => {
      test('range: allowed inside its grants, denied when any part lies outside; touching grants join up', async () => {
        const { alice } = await limitedUser(target())
        expect(
          await outcomes([
            ['a', () => alice.get('a')],
            ['a keysOnly', () => alice.get('a', { keysOnly: true })],
            ['a countOnly', () => alice.get('a', { countOnly: true })],
            ['b', () => alice.get('b')],
            ['b countOnly', () => alice.get('b', { countOnly: true })],
            ['[a,b)', () => alice.get('a', { rangeEnd: 'b' })],
            ['prefix p/', () => alice.get('p/', { prefix: true })],
            ['[p/1,p/2)', () => alice.get('p/1', { rangeEnd: 'p/2' })],
            ['[p/,p1) partly outside', () => alice.get('p/', { rangeEnd: 'p1' })],
            ['[o,p0) partly outside', () => alice.get('o', { rangeEnd: 'p0' })],
            ['m5 write-only', () => alice.get('m5')],
            ['[m,n) write-only', () => alice.get('m', { rangeEnd: 'n' })],
            ['from p/', () => alice.get('p/', { fromKey: true })],
            ['from a', () => alice.get('a', { fromKey: true })],
            ['[c,e) over [c,d) of ra and [d,e) of rb', () => alice.get('c', { rangeEnd: 'e' })],
            ['[c0,d1)', () => alice.get('c0', { rangeEnd: 'd1' })],
            ['[g,i) with a gap [h,h0)', () => alice.get('g', { rangeEnd: 'i' })],
            ['[h0,i)', () => alice.get('h0', { rangeEnd: 'i' })],
          ]),
        ).toEqual({
          a: OK,
          'a keysOnly': OK,
          'a countOnly': OK,
          b: DENIED,
          'b countOnly': DENIED,
          '[a,b)': DENIED,
          'prefix p/': OK,
          '[p/1,p/2)': OK,
          '[p/,p1) partly outside': DENIED,
          '[o,p0) partly outside': DENIED,
          'm5 write-only': DENIED,
          '[m,n) write-only': DENIED,
          'from p/': DENIED,
          'from a': DENIED,
          '[c,e) over [c,d) of ra and [d,e) of rb': OK,
          '[c0,d1)': OK,
          '[g,i) with a gap [h,h0)': DENIED,
          '[h0,i)': OK,
        })
        expect((await alice.get('a')).kvs.map(pair).map((p) => [p.key, p.value])).toEqual([['a', 'v-a']])
        expect(keysOf((await alice.get('p/', { prefix: true })).kvs)).toEqual(['p/x'])
        expect(keysOf((await alice.get('c', { rangeEnd: 'e' })).kvs)).toEqual(['c1', 'd1'])
      })

      test('put and delete: allowed inside its write grants; prevKv needs READ as well', async () => {
        const { root, alice } = await limitedUser(target())
        expect(
          await outcomes([
            ['put a (read-only)', () => alice.put('a', 'x')],
            ['put b', () => alice.put('b', 'x')],
            ['put p/1 (new key)', () => alice.put('p/1', 'x')],
            ['put m5 (write-only)', () => alice.put('m5', 'x')],
            ['put m5 prevKv (no READ)', () => alice.put('m5', 'y', { prevKv: true })],
            ['put p/x prevKv', () => alice.put('p/x', 'x', { prevKv: true })],
            ['delete m5 prevKv (no READ)', () => alice.delete('m5', { prevKv: true })],
            ['delete a (read-only)', () => alice.delete('a')],
            ['delete [m,n0) partly outside', () => alice.delete('m', { rangeEnd: 'n0' })],
            ['delete from m', () => alice.delete('m', { fromKey: true })],
            ['delete m5', () => alice.delete('m5')],
            ['delete [m,n)', () => alice.delete('m', { rangeEnd: 'n' })],
            ['delete prefix p/ prevKv', () => alice.delete('p/', { prefix: true, prevKv: true })],
          ]),
        ).toEqual({
          'put a (read-only)': DENIED,
          'put b': DENIED,
          'put p/1 (new key)': OK,
          'put m5 (write-only)': OK,
          'put m5 prevKv (no READ)': DENIED,
          'put p/x prevKv': OK,
          'delete m5 prevKv (no READ)': DENIED,
          'delete a (read-only)': DENIED,
          'delete [m,n0) partly outside': DENIED,
          'delete from m': DENIED,
          'delete m5': OK,
          'delete [m,n)': OK,
          'delete prefix p/ prevKv': OK,
        })
        // The allowed writes, and only they, happened: put p/1 (13), put m5 (14), put p/x (15), delete m5 (16),
        // delete [m,n) took m7 (17), delete p/ took p/1 and p/x (18).
        const after = await stateOf(root)
        expect(after.revision).toBe(18)
        expect(after.pairs.map((p) => p.key)).toEqual(['a', 'b', 'c1', 'd1', 'g1', 'h1', 'p1', 'z'])
        expect(after.pairs.every((p) => p.value === `v-${p.key}`)).toBe(true)
      })

      test('put prevKv inside its READWRITE grant returns the previous pair', async () => {
        const { alice } = await limitedUser(target())
        const r = await alice.put('p/x', 'new', { prevKv: true })
        expect(r.prevKv === undefined ? undefined : pair(r.prevKv)).toMatchObject({ key: 'p/x', value: 'v-p/x' })
        const d = await alice.delete('p/', { prefix: true, prevKv: true })
        expect(d.prevKvs.map(pair).map((p) => [p.key, p.value])).toEqual([['p/x', 'new']])
      })

      test('denied writes change nothing: no revision, no pair', async () => {
        const { root, alice } = await limitedUser(target())
        const { id } = await root.grant(60)
        await root.put('b', 'held', { lease: id })
        const before = await stateOf(root)
        expect(
          await outcomes([
            ['put b', () => alice.put('b', 'x')],
            ['put m5 prevKv', () => alice.put('m5', 'x', { prevKv: true })],
            ['put p/l with a lease that holds b', () => alice.put('p/l', 'x', { lease: id })],
            ['delete a', () => alice.delete('a')],
            ['delete m5 prevKv', () => alice.delete('m5', { prevKv: true })],
            ['delete [m,n0)', () => alice.delete('m', { rangeEnd: 'n0' })],
            ['txn put p/t, else put b', () => alice.txn().then(op.put('p/t', 'x')).else(op.put('b', 'x')).commit()],
            ['revoke the lease that holds b', () => alice.revoke(id)],
          ]),
        ).toEqual({
          'put b': DENIED,
          'put m5 prevKv': DENIED,
          'put p/l with a lease that holds b': DENIED,
          'delete a': DENIED,
          'delete m5 prevKv': DENIED,
          'delete [m,n0)': DENIED,
          'txn put p/t, else put b': DENIED,
          'revoke the lease that holds b': DENIED,
        })
        expect(await stateOf(root)).toEqual(before)
        expect((await root.timeToLive(id)).grantedTtl).toBe(60)
      })

      test('txn: compares need READ, and both branches are checked whichever runs', async () => {
        const { root, alice } = await limitedUser(target())
        expect(
          await outcomes([
            ['compare on b', () => alice.txn().if(compare.version('b', '>', 0)).commit()],
            ['compare on m5 (write-only)', () => alice.txn().if(compare.version('m5', '>', 0)).commit()],
            ['compare over [c,e)', () => alice.txn().if(compare.version('c', '>', 0, { rangeEnd: 'e' })).commit()],
            [
              'compare a holds, then get a, else get b',
              () => alice.txn().if(compare.version('a', '>', 0)).then(op.get('a')).else(op.get('b')).commit(),
            ],
            [
              'compare a fails, then get b, else get a',
              () => alice.txn().if(compare.version('a', '=', 0)).then(op.get('b')).else(op.get('a')).commit(),
            ],
            ['then put p/t, else put b', () => alice.txn().then(op.put('p/t', 'x')).else(op.put('b', 'x')).commit()],
            ['then delete m7 prevKv', () => alice.txn().then(op.delete('m7', { prevKv: true })).commit()],
            ['then delete [m,n0)', () => alice.txn().then(op.delete('m', { rangeEnd: 'n0' })).commit()],
            [
              'compare a holds, then put p/t and get p/, else delete m7',
              () =>
                alice
                  .txn()
                  .if(compare.value('a', '=', 'v-a'))
                  .then(op.put('p/t', 'x'), op.get('p/', { prefix: true }))
                  .else(op.delete('m7'))
                  .commit(),
            ],
          ]),
        ).toEqual({
          'compare on b': DENIED,
          'compare on m5 (write-only)': DENIED,
          'compare over [c,e)': OK,
          'compare a holds, then get a, else get b': DENIED,
          'compare a fails, then get b, else get a': DENIED,
          'then put p/t, else put b': DENIED,
          'then delete m7 prevKv': DENIED,
          'then delete [m,n0)': DENIED,
          'compare a holds, then put p/t and get p/, else delete m7': OK,
        })
        // Only the last txn wrote: p/t at revision 13.
        const after = await stateOf(root)
        expect(after.revision).toBe(13)
        expect(after.pairs.map((p) => p.key)).toEqual([...KEYS.slice(0, 8), 'p/t', 'p/x', 'p1', 'z'])
      })

      test('lease revoke needs WRITE on every attached key; a lease without keys may be revoked', async () => {
        const { t, root, alice } = await limitedUser(target())
        const outside = await root.grant(60)
        await root.put('b', 'held', { lease: outside.id })
        const mixed = await root.grant(60)
        await root.put('p/q', 'x', { lease: mixed.id })
        await root.put('m9', 'x', { lease: mixed.id })
        await root.put('z', 'x', { lease: mixed.id })
        const keyless = await alice.grant(60)
        const mine = await alice.grant(60)
        await alice.put('p/mine', 'x', { lease: mine.id })
        expect(
          await outcomes([
            ['lease holding b', () => alice.revoke(outside.id)],
            ['lease holding p/q, m9 and z', () => alice.revoke(mixed.id)],
            ['lease without keys', () => alice.revoke(keyless.id)],
            ['lease holding p/mine', () => alice.revoke(mine.id)],
            ['missing lease', () => alice.revoke(12345n)],
          ]),
        ).toEqual({
          'lease holding b': DENIED,
          'lease holding p/q, m9 and z': DENIED,
          'lease without keys': OK,
          'lease holding p/mine': OK,
          'missing lease': 'ETCD_LEASE_NOT_FOUND',
        })
        expect(keysOf((await root.get('p/', { prefix: true })).kvs)).toEqual(['p/q', 'p/x'])
        // etcd lists leases in map order.
        expect(new Set((await root.leases()).leases.map((l) => l.id))).toEqual(new Set([outside.id, mixed.id]))
        // Anonymous: a lease with keys needs a user.
        await expectEtcdError(t.revoke(outside.id), 'ETCD_USER_EMPTY')
        // Once m9 and z leave the lease, alice may revoke it.
        await root.put('m9', 'y')
        await root.delete('z')
        await alice.revoke(mixed.id)
        expect(keysOf((await root.get('p/', { prefix: true })).kvs)).toEqual(['p/x'])
      })

      test('watch: a forbidden key ends the watch with one canceled result; an allowed one delivers events', async () => {
        const { t, root, alice } = await limitedUser(target())
        const rev = (await stateOf(root)).revision
        const denied = new Reader(alice.watch('b'))
        const first = await denied.next('the canceled result')
        expect({
          watchId: first.watchId,
          canceled: first.canceled,
          cancelReason: first.cancelReason,
          events: first.events,
          revision: first.header.revision,
        }).toEqual({ watchId: -1, canceled: true, cancelReason: WATCH_DENIED, events: [], revision: rev })
        await denied.ended()

        const partly = new Reader(alice.watch('p/', { rangeEnd: 'p1' }))
        expect(await partly.next('the canceled result')).toMatchObject({ watchId: -1, canceled: true, cancelReason: WATCH_DENIED })
        await partly.ended()

        const anonymous = new Reader(t.watch('a'))
        expect(await anonymous.next('the canceled result')).toMatchObject({ watchId: -1, canceled: true, cancelReason: WATCH_NO_USER })
        await anonymous.ended()

        const allowed = alice.watch('p/', { prefix: true, startRevision: rev + 1 })
        try {
          const events = new Reader(allowed)
          await root.put('b', 'x') // rev + 1
          await root.put('p/y', 'x') // rev + 2
          const r = await events.next('the event of p/y')
          expect(r.canceled).toBe(false)
          expect(r.events.map((e) => [e.type, text(e.kv.key), e.kv.modRevision])).toEqual([['put', 'p/y', rev + 2]])
        } finally {
          await allowed.cancel()
        }
      })

      test('a refused watch create answers watch id -1 whatever id was asked, and the stream stays usable', async () => {
        const { t, root } = await limitedUser(target())
        const { token } = await t.auth.authenticate('alice', ALICE_PW)
        const rev = (await stateOf(root)).revision
        const stream = t.services.watch.watch({ token })
        const bogus = t.services.watch.watch({ token: 'bogus' })
        try {
          const responses = new Reader(stream)
          stream.send({ createRequest: { key: 'b', watchId: 7 } })
          const refused = await responses.next('the refused create')
          expect({
            watchId: refused.watchId,
            created: refused.created,
            canceled: refused.canceled,
            cancelReason: refused.cancelReason,
            revision: refused.header.revision,
          }).toEqual({ watchId: -1, created: true, canceled: true, cancelReason: WATCH_DENIED, revision: rev })
          stream.send({ createRequest: { key: 'a' } })
          const created = await responses.next('the created response')
          expect({ watchId: created.watchId, created: created.created, canceled: created.canceled }).toEqual({
            watchId: 0,
            created: true,
            canceled: false,
          })
          await root.put('a', 'x')
          const [event] = await responses.until((r) => r.events.length > 0, 'the event of a')
          expect(event!.events.map((e) => [text(e.kv.key), e.kv.modRevision])).toEqual([['a', rev + 1]])

          bogus.send({ createRequest: { key: 'a' } })
          expect(await new Reader(bogus).next('the refused create')).toMatchObject({
            watchId: -1,
            created: true,
            canceled: true,
            cancelReason: WATCH_BAD_TOKEN,
          })
        } finally {
          stream.close()
          bogus.close()
        }
      })

      test('check order: request validation, then the user, then leases and revisions; what etcd does not check', async () => {
        const { t, root, alice } = await limitedUser(target())
        const { id } = await root.grant(60)
        await root.put('b', 'held', { lease: id })
        const { token } = await t.auth.authenticate('alice', ALICE_PW)
        expect(
          await outcomes([
            ['anonymous get of an empty key', () => t.get('')],
            ['anonymous txn with a duplicate key', () => t.txn().then(op.put('x', '1'), op.put('x', '2')).commit()],
            ['anonymous put with a missing lease', () => t.put('x', '1', { lease: 12345n })],
            ['anonymous get at a future revision', () => t.get('a', { revision: 100 })],
            ['alice get a at a future revision', () => alice.get('a', { revision: 100 })],
            ['alice get b at a future revision', () => alice.get('b', { revision: 100 })],
            ['alice get a at revision 2', () => alice.get('a', { revision: 2 })],
            ['anonymous status', () => t.services.maintenance.status({})],
            ['anonymous member list', () => t.services.cluster.memberList({})],
            ['anonymous lease list', () => t.leases()],
            ['anonymous hash', () => t.services.maintenance.hash({})],
            ['alice hash', () => t.services.maintenance.hash({}, { token })],
          ]),
        ).toEqual({
          'anonymous get of an empty key': 'ETCD_EMPTY_KEY',
          'anonymous txn with a duplicate key': 'ETCD_DUPLICATE_KEY',
          'anonymous put with a missing lease': 'ETCD_USER_EMPTY',
          'anonymous get at a future revision': 'ETCD_USER_EMPTY',
          'alice get a at a future revision': 'ETCD_FUTURE_REV',
          'alice get b at a future revision': DENIED,
          'alice get a at revision 2': OK,
          'anonymous status': OK,
          'anonymous member list': OK,
          'anonymous lease list': OK,
          'anonymous hash': 'ETCD_MAINTENANCE_USER_EMPTY',
          'alice hash': 'ETCD_MAINTENANCE_PERMISSION_DENIED',
        })
        // Anyone may see which keys a lease holds.
        expect((await t.timeToLive(id, { keys: true })).keys.map(text)).toEqual(['b'])
        // Compaction is not checked at all.
        expect((await t.compact(3)).header.revision).toBe(13)
      })

      test('admin calls need the root role; a user may read itself and the roles it holds', async () => {
        const { alice } = await limitedUser(target())
        expect(
          await outcomes([
            ['userList', () => alice.auth.userList()],
            ['roleList', () => alice.auth.roleList()],
            ['userAdd', () => alice.auth.userAdd('bob', 'x')],
            ['roleAdd with an empty name', () => alice.auth.roleAdd('')],
            ['grant herself a permission', () => alice.auth.roleGrantPermission('ra', 'READWRITE', 'b')],
            ['authDisable', () => alice.auth.authDisable()],
            ['userGet alice', () => alice.auth.userGet('alice')],
            ['userGet root', () => alice.auth.userGet('root')],
            ['userGet of a missing user', () => alice.auth.userGet('nobody')],
            ['roleGet ra', () => alice.auth.roleGet('ra')],
            ['roleGet root', () => alice.auth.roleGet('root')],
            ['roleGet of a missing role', () => alice.auth.roleGet('nosuch')],
          ]),
        ).toEqual({
          userList: DENIED,
          roleList: DENIED,
          userAdd: DENIED,
          'roleAdd with an empty name': DENIED,
          'grant herself a permission': DENIED,
          authDisable: DENIED,
          'userGet alice': OK,
          'userGet root': DENIED,
          'userGet of a missing user': DENIED,
          'roleGet ra': OK,
          'roleGet root': DENIED,
          'roleGet of a missing role': DENIED,
        })
        expect((await alice.auth.userGet('alice')).roles).toEqual(['ra', 'rb'])
        expect(perms((await alice.auth.roleGet('rb')).perm)).toEqual([{ permType: 'READ', key: 'd', rangeEnd: 'e' }])
      })

      test('role and permission changes take effect on the very next request of a signed-in user', async () => {
        const { root, alice } = await limitedUser(target())
        await expectEtcdError(alice.get('b'), 'ETCD_PERMISSION_DENIED')
        await root.auth.roleGrantPermission('rb', 'READ', 'b')
        expect(keysOf((await alice.get('b')).kvs)).toEqual(['b'])
        await root.auth.roleRevokePermission('rb', 'b')
        await expectEtcdError(alice.get('b'), 'ETCD_PERMISSION_DENIED')
        // Re-granting [c,d) as WRITE takes READ away from it: [c,e) is no longer covered.
        await root.auth.roleGrantPermission('ra', 'WRITE', 'c', { rangeEnd: 'd' })
        await expectEtcdError(alice.get('c', { rangeEnd: 'e' }), 'ETCD_PERMISSION_DENIED')
        expect(keysOf((await alice.get('d1')).kvs)).toEqual(['d1'])
        await root.auth.userRevokeRole('alice', 'rb')
        await expectEtcdError(alice.get('d1'), 'ETCD_PERMISSION_DENIED')
        await root.auth.roleDelete('ra')
        await expectEtcdError(alice.get('a'), 'ETCD_PERMISSION_DENIED')
        await expectEtcdError(alice.put('p/x', 'y'), 'ETCD_PERMISSION_DENIED')
        // Role root makes alice an admin at once, who may do everything but the invalid auth management.
        await root.auth.userGrantRole('alice', 'root')
        expect(keysOf((await alice.get('b')).kvs)).toEqual(['b'])
        expect((await alice.auth.userList()).users).toEqual(['alice', 'root'])
        await expectEtcdError(alice.auth.userDelete('root'), 'ETCD_INVALID_AUTH_MGMT')
        await root.auth.userRevokeRole('alice', 'root')
        await expectEtcdError(alice.auth.userList(), 'ETCD_PERMISSION_DENIED')
      })

      test('a password change ends the old tokens, and the old password is refused', async () => {
        const { t, root, alice } = await limitedUser(target())
        const { token } = await t.auth.authenticate('alice', ALICE_PW)
        expect(keysOf((await alice.get('a')).kvs)).toEqual(['a'])
        await root.auth.userChangePassword('alice', 'newpw')
        await expectEtcdError(t.services.kv.range({ key: 'a' }, { token }), 'ETCD_INVALID_AUTH_TOKEN')
        // The signed-in client's token was refused, and signing in again with the old password fails.
        await expectEtcdError(alice.get('a'), 'ETCD_AUTH_FAILED')
        await expectEtcdError(t.auth.authenticate('alice', ALICE_PW), 'ETCD_AUTH_FAILED')
        const { token: fresh } = await t.auth.authenticate('alice', 'newpw')
        expect(keysOf((await t.services.kv.range({ key: 'a' }, { token: fresh })).kvs)).toEqual(['a'])
        await expectEtcdError(t.services.kv.range({ key: 'b' }, { token: fresh }), 'ETCD_PERMISSION_DENIED')
      })

      test('a deleted user cannot sign in, and its tokens stay refused after a user of that name is added again', async () => {
        const { t, root, alice } = await limitedUser(target())
        const { token } = await t.auth.authenticate('alice', ALICE_PW)
        expect(keysOf((await alice.get('a')).kvs)).toEqual(['a'])
        await root.auth.userDelete('alice')
        expect((await root.auth.userList()).users).toEqual(['root'])
        await expectEtcdError(t.services.kv.range({ key: 'a' }, { token }), 'ETCD_INVALID_AUTH_TOKEN')
        await expectEtcdError(alice.get('a'), 'ETCD_AUTH_FAILED')
        await root.auth.userAdd('alice', ALICE_PW)
        await root.auth.userGrantRole('alice', 'ra')
        await expectEtcdError(t.services.kv.range({ key: 'a' }, { token }), 'ETCD_INVALID_AUTH_TOKEN')
        // The client signs in as the new alice.
        expect(keysOf((await alice.get('a')).kvs)).toEqual(['a'])
      })

      test('after authDisable, anonymous calls work again and nothing is checked', async () => {
        const { t, root, alice } = await limitedUser(target())
        await expectEtcdError(alice.get('b'), 'ETCD_PERMISSION_DENIED')
        await root.auth.authDisable()
        expect(keysOf((await t.get('b')).kvs)).toEqual(['b'])
        expect((await t.put('b', 'x')).header.revision).toBe(13)
        expect((await t.auth.userList()).users).toEqual(['alice', 'root'])
        // alice's client drops its refused token and goes on without one.
        expect(keysOf((await alice.get('b')).kvs)).toEqual(['b'])
        expect((await alice.delete('b')).deleted).toBe(1)
        const watch = t.watch('b', { startRevision: 13 })
        try {
          const results = await new Reader(watch).until((r) => r.events.at(-1)?.kv.modRevision === 14, 'the events of b')
          expect(results.flatMap((r) => r.events.map((e) => [e.type, e.kv.modRevision]))).toEqual([
            ['put', 13],
            ['delete', 14],
          ])
        } finally {
          await watch.cancel()
        }
      })
    })

    describe('what etcd checks lightly', () => {
      test('a write-only user may put with ignoreValue or ignoreLease: neither needs READ', async () => {
        const { root, alice } = await limitedUser(target())
        expect(
          await outcomes([
            ['put m5 ignoreValue', () => alice.put('m5', '', { ignoreValue: true })],
            ['put m5 ignoreLease', () => alice.put('m5', 'w', { ignoreLease: true })],
          ]),
        ).toEqual({ 'put m5 ignoreValue': OK, 'put m5 ignoreLease': OK })
        expect(text((await root.get('m5')).kvs[0]!.value)).toBe('w')
      })

      test("a put inside a txn is not checked for the other keys of its lease; a one-shot put is", async () => {
        const { root, alice } = await limitedUser(target())
        const { id } = await root.grant(600)
        await root.put('b', 'leased', { lease: id })
        expect(
          await outcomes([
            ['put p/l with the lease', () => alice.put('p/l', 'x', { lease: id })],
            ['txn put p/l with the lease', () => alice.txn().then(op.put('p/l', 'x', { lease: id })).commit()],
          ]),
        ).toEqual({ 'put p/l with the lease': DENIED, 'txn put p/l with the lease': OK })
      })

      test('a bad token is refused even where no permission is checked: compaction, lease grant and revoke', async () => {
        const t = target()
        await t.put('k', 'v')
        await t.put('k', 'w')
        const bogus = { token: 'bogus' }
        expect(
          await outcomes([
            ['compact, auth off', () => t.services.kv.compact({ revision: 2 }, bogus)],
            ['grant, auth off', () => t.services.lease.leaseGrant({ ttl: 60, id: 0n }, bogus)],
          ]),
        ).toEqual({ 'compact, auth off': 'ETCD_INVALID_AUTH_TOKEN', 'grant, auth off': 'ETCD_INVALID_AUTH_TOKEN' })
        const root = await enableAuth(t)
        const { id } = await root.grant(60)
        expect(
          await outcomes([
            ['compact', () => t.services.kv.compact({ revision: 2 }, bogus)],
            ['grant', () => t.services.lease.leaseGrant({ ttl: 60, id: 0n }, bogus)],
            ['revoke a keyless lease', () => t.services.lease.leaseRevoke({ id }, bogus)],
            ['revoke a missing lease', () => t.services.lease.leaseRevoke({ id: 777n }, bogus)],
          ]),
        ).toEqual({
          compact: 'ETCD_INVALID_AUTH_TOKEN',
          grant: 'ETCD_INVALID_AUTH_TOKEN',
          'revoke a keyless lease': 'ETCD_INVALID_AUTH_TOKEN',
          'revoke a missing lease': 'ETCD_INVALID_AUTH_TOKEN',
        })
        expect((await root.timeToLive(id)).ttl).toBeGreaterThan(0)
      })
    })

    describe('where etcdlite is stricter than etcd 3.4 (engine only)', () => {
      test.skipIf(lacks(h, 'engineOnly'))('a nested txn is checked (etcd 3.4 skips the check)', async () => {
        const { root, alice } = await limitedUser(target())
        const before = await stateOf(root)
        await expectEtcdError(alice.txn().then(op.txn([], [op.put('b', 'hacked')])).commit(), 'ETCD_PERMISSION_DENIED')
        await expectEtcdError(alice.txn().then(op.txn([compare.version('b', '>', 0)], [op.get('b')])).commit(), 'ETCD_PERMISSION_DENIED')
        expect(await stateOf(root)).toEqual(before)
      })

      test.skipIf(lacks(h, 'engineOnly'))('a put with prevKv inside a txn needs READ (etcd 3.4 does not check it)', async () => {
        const { alice } = await limitedUser(target())
        await expectEtcdError(alice.txn().then(op.put('m7', 'x', { prevKv: true })).commit(), 'ETCD_PERMISSION_DENIED')
      })

      test.skipIf(lacks(h, 'engineOnly'))(
        'a watch from a key to the end is checked over its whole range (etcd 3.4 checks its start key only)',
        async () => {
          const { alice } = await limitedUser(target())
          const watch = new Reader(alice.watch('a', { fromKey: true }))
          expect(await watch.next('the canceled result')).toMatchObject({ watchId: -1, canceled: true, cancelReason: WATCH_DENIED })
          await watch.ended()
        },
      )
    })
  })
}
