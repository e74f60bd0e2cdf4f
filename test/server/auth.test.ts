import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { credentials } from '@grpc/grpc-js'
import {
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  EtcdRoleNotGrantedError,
  EtcdUserNotFoundError,
  Range,
  type IOptions,
} from 'etcd3'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { remoteServices, type RemoteServices } from '../../src/remote/remote-services.ts'
import { serve, type Serving } from '../../src/server/serve.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { etcdctl, etcdctlMissing, makeCerts, opensslMissing, type Certs } from './helpers.ts'

/**
 * Auth end to end against `serve({ port: 0 })`: etcdctl's user, role and auth commands (with the output etcd 3.4.23
 * gives; see docs/etcd-3.4-auth-observations.md), the etcd3 npm client signing in and signing in again when its token
 * expires, and client certificates whose common name is the user.
 */

if (etcdctlMissing !== undefined) console.log(`skipping etcdctl auth tests: ${etcdctlMissing}`)
if (opensslMissing !== undefined) console.log(`skipping client-certificate auth tests: ${opensslMissing}`)

interface Ctl {
  code: number | null
  stdout: string
  /** stderr without clientv3's JSON log lines ({"level":"warn",...}). */
  stderr: string
}

/** ctl runs etcdctl, optionally as `user` ("name:password"), with stdin `input`. */
async function ctl(ep: string, args: string[], options: { user?: string; input?: string; extra?: string[] } = {}): Promise<Ctl> {
  const extra = [...(options.extra ?? []), ...(options.user === undefined ? [] : [`--user=${options.user}`])]
  const r = await etcdctl(ep, args, { extra, ...(options.input === undefined ? {} : { input: options.input }) })
  const stderr = r.stderr
    .split('\n')
    .filter((l) => !l.startsWith('{"level"'))
    .join('\n')
  return { code: r.code, stdout: r.stdout, stderr }
}

/** out is what a successful etcdctl command printed; it fails with etcdctl's output otherwise. */
function out(r: Ctl): string {
  if (r.code !== 0) throw new Error(`etcdctl exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r.stdout
}

/** b64 is base64, as etcdctl's JSON shows bytes. */
function b64(s: string): string {
  return Buffer.from(s).toString('base64')
}

/** authenticateCalls reads how many Authenticate calls the server has answered, from /metrics. */
async function authenticateCalls(server: Serving): Promise<number> {
  const text = await (await fetch(`http://${server.endpoint}/metrics`)).text()
  const series = 'grpc_server_handled_total{grpc_code="OK",grpc_method="Authenticate",grpc_service="etcdserverpb.Auth",grpc_type="unary"}'
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.split(' ')[1])
}

describe.skipIf(etcdctlMissing !== undefined)('etcdctl: users, roles, auth enable/disable', () => {
  let server: Serving
  let ep: string
  beforeEach(async () => {
    server = await serve({ port: 0 })
    ep = server.endpoint
  })
  afterEach(async () => {
    await server.close()
  })

  test('a root user, auth enable (which grants the root role), a role on a prefix, a user in it; every answer as etcd 3.4 gives it', async () => {
    expect(await ctl(ep, ['user', 'add', 'root', '--new-user-password=rootpw'])).toEqual({ code: 0, stdout: 'User root created\n', stderr: '' })
    expect(await ctl(ep, ['user', 'add', 'root', '--new-user-password=rootpw'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: etcdserver: user name already exists\n',
    })
    // Client-side checks of etcdctl: exit 128.
    expect(await ctl(ep, ['user', 'add', ':x'])).toMatchObject({ code: 128, stderr: 'Error: empty user name is not allowed\n' })
    // Root has no root role yet: etcdctl's auth enable meets "root user does not have root role", adds the role root,
    // grants it to root and tries again.
    expect(await ctl(ep, ['auth', 'enable'])).toEqual({ code: 0, stdout: 'Authentication Enabled\n', stderr: '' })

    const root = { user: 'root:rootpw' }
    expect(await ctl(ep, ['get', 'x'])).toEqual({ code: 1, stdout: '', stderr: 'Error: etcdserver: user name is empty\n' })
    expect(out(await ctl(ep, ['role', 'list'], root))).toBe('root\n')
    expect(out(await ctl(ep, ['role', 'get', 'root'], root))).toBe('Role root\nKV Read:\nKV Write:\n')
    expect(out(await ctl(ep, ['user', 'get', 'root'], root))).toBe('User: root\nRoles: root\n')

    expect(out(await ctl(ep, ['role', 'add', 'app'], root))).toBe('Role app created\n')
    expect(out(await ctl(ep, ['role', 'grant-permission', 'app', 'readwrite', 'app/', '--prefix'], root))).toBe('Role app updated\n')
    expect(out(await ctl(ep, ['role', 'grant-permission', 'app', 'read', 'cfg'], root))).toBe('Role app updated\n')
    expect(out(await ctl(ep, ['user', 'add', 'alice:pw'], root))).toBe('User alice created\n')
    expect(out(await ctl(ep, ['user', 'add', 'carol', '--interactive=false'], { ...root, input: 'carolpw\n' }))).toBe('User carol created\n')
    expect(out(await ctl(ep, ['user', 'grant-role', 'alice', 'app'], root))).toBe('Role app is granted to user alice\n')
    // Granting it again is a no-op that answers the same.
    expect(out(await ctl(ep, ['user', 'grant-role', 'alice', 'app'], root))).toBe('Role app is granted to user alice\n')

    const alice = { user: 'alice:pw' }
    expect(out(await ctl(ep, ['put', 'app/x', '1'], alice))).toBe('OK\n')
    expect(out(await ctl(ep, ['get', 'app/x'], alice))).toBe('app/x\n1\n')
    expect(out(await ctl(ep, ['get', 'app/', '--prefix'], alice))).toBe('app/x\n1\n')
    expect(out(await ctl(ep, ['get', 'cfg'], alice))).toBe('')
    const denied = { code: 1, stdout: '', stderr: 'Error: etcdserver: permission denied\n' }
    expect(await ctl(ep, ['put', 'other', '1'], alice)).toEqual(denied)
    expect(await ctl(ep, ['get', 'other'], alice)).toEqual(denied)
    expect(await ctl(ep, ['put', 'cfg', '1'], alice)).toEqual(denied) // read-only
    // carol signed in (a wrong password would exit 2), but has no role.
    expect(await ctl(ep, ['get', 'app/x'], { user: 'carol:carolpw' })).toEqual(denied)

    const empty = { code: 1, stdout: '', stderr: 'Error: etcdserver: user name is empty\n' }
    expect(await ctl(ep, ['put', 'app/x', '2'])).toEqual(empty)
    expect(await ctl(ep, ['get', 'app/x'])).toEqual(empty)
    // A failed sign-in exits 2, whether the password is wrong or the user unknown.
    const failed = { code: 2, stdout: '', stderr: 'Error: etcdserver: authentication failed, invalid user ID or password\n' }
    expect(await ctl(ep, ['get', 'x'], { user: 'root:wrong' })).toEqual(failed)
    expect(await ctl(ep, ['get', 'x'], { user: 'nobody:pw' })).toEqual(failed)

    expect(out(await ctl(ep, ['user', 'list'], root))).toBe('alice\ncarol\nroot\n')
    expect(out(await ctl(ep, ['role', 'list'], root))).toBe('app\nroot\n')
    const appRole = 'Role app\nKV Read:\n\t[app/, app0) (prefix app/)\n\tcfg\nKV Write:\n\t[app/, app0) (prefix app/)\n'
    expect(out(await ctl(ep, ['role', 'get', 'app'], root))).toBe(appRole)
    expect(out(await ctl(ep, ['user', 'get', 'alice'], root))).toBe('User: alice\nRoles: app\n')
    // A user may read itself and its roles, nothing else.
    expect(out(await ctl(ep, ['user', 'get', 'alice'], alice))).toBe('User: alice\nRoles: app\n')
    expect(out(await ctl(ep, ['role', 'get', 'app'], alice))).toBe(appRole)
    expect(await ctl(ep, ['user', 'get', 'root'], alice)).toEqual(denied)
    expect(await ctl(ep, ['user', 'list'], alice)).toEqual(denied)
    expect(await ctl(ep, ['auth', 'disable'], alice)).toEqual(denied)
    expect(await ctl(ep, ['user', 'delete', 'root'], root)).toEqual({ code: 1, stdout: '', stderr: 'Error: etcdserver: invalid auth management\n' })

    expect(await ctl(ep, ['auth', 'disable'], root)).toEqual({ code: 0, stdout: 'Authentication Disabled\n', stderr: '' })
    expect(await ctl(ep, ['auth', 'disable'])).toEqual({ code: 0, stdout: 'Authentication Disabled\n', stderr: '' }) // a no-op
    expect(out(await ctl(ep, ['get', 'app/x']))).toBe('app/x\n1\n')
    // etcdctl ignores "authentication is not enabled" from its sign-in and goes on without a token.
    expect(out(await ctl(ep, ['get', 'app/x'], alice))).toBe('app/x\n1\n')
    expect(out(await ctl(ep, ['user', 'list']))).toBe('alice\ncarol\nroot\n')
  }, 60_000)

  test('user grant-role root root before auth enable: no role object root is needed; -w json; revokes, passwd, deletes', async () => {
    expect(out(await ctl(ep, ['user', 'add', 'root', '--new-user-password=rootpw']))).toBe('User root created\n')
    expect(out(await ctl(ep, ['user', 'grant-role', 'root', 'root']))).toBe('Role root is granted to user root\n')
    expect(out(await ctl(ep, ['role', 'list']))).toBe('')
    expect(out(await ctl(ep, ['auth', 'enable']))).toBe('Authentication Enabled\n')
    // Already on: etcdctl without a user is refused before the no-op.
    expect(await ctl(ep, ['auth', 'enable'])).toEqual({ code: 1, stdout: '', stderr: 'Error: etcdserver: user name is empty\n' })
    const root = { user: 'root:rootpw' }
    expect(out(await ctl(ep, ['role', 'list'], root))).toBe('')
    expect(out(await ctl(ep, ['user', 'get', 'root'], root))).toBe('User: root\nRoles: root\n')

    out(await ctl(ep, ['role', 'add', 'app'], root))
    out(await ctl(ep, ['role', 'grant-permission', 'app', 'readwrite', 'app/', '--prefix'], root))
    out(await ctl(ep, ['role', 'grant-permission', 'app', 'write', 'w1', 'w3'], root))
    out(await ctl(ep, ['role', 'grant-permission', 'app', 'read', 'f', '--from-key'], root))
    expect(out(await ctl(ep, ['role', 'get', 'app'], root))).toBe(
      'Role app\nKV Read:\n\t[app/, app0) (prefix app/)\n\t[f, <open ended>\nKV Write:\n\t[app/, app0) (prefix app/)\n\t[w1, w3)\n',
    )
    const roleJson = JSON.parse(out(await ctl(ep, ['role', 'get', 'app', '-w', 'json'], root))) as Record<string, unknown>
    expect(roleJson.perm).toEqual([
      { permType: 2, key: b64('app/'), range_end: b64('app0') },
      { key: b64('f'), range_end: b64('\0') },
      { permType: 1, key: b64('w1'), range_end: b64('w3') },
    ])
    expect(roleJson.header).toMatchObject({ revision: 1 })
    out(await ctl(ep, ['user', 'add', 'alice:pw'], root))
    out(await ctl(ep, ['user', 'grant-role', 'alice', 'app'], root))
    expect(JSON.parse(out(await ctl(ep, ['user', 'get', 'alice', '-w', 'json'], root)))).toMatchObject({ roles: ['app'] })
    expect(JSON.parse(out(await ctl(ep, ['user', 'list', '-w', 'json'], root)))).toMatchObject({ users: ['alice', 'root'] })

    const alice = { user: 'alice:pw' }
    const denied = { code: 1, stdout: '', stderr: 'Error: etcdserver: permission denied\n' }
    expect(out(await ctl(ep, ['put', 'w2', '1'], alice))).toBe('OK\n')
    expect(out(await ctl(ep, ['get', 'w2'], alice))).toBe('w2\n1\n') // from-key read covers w2
    expect(out(await ctl(ep, ['role', 'revoke-permission', 'app', 'app/', '--prefix'], root))).toBe(
      'Permission of range [app/, app0) is revoked from role app\n',
    )
    expect(await ctl(ep, ['put', 'app/y', '1'], alice)).toEqual(denied) // at once, with the same sign-in
    expect(out(await ctl(ep, ['user', 'revoke-role', 'alice', 'app'], root))).toBe('Role app is revoked from user alice\n')
    expect(await ctl(ep, ['user', 'revoke-role', 'alice', 'app'], root)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: etcdserver: role is not granted to the user\n',
    })
    expect(out(await ctl(ep, ['user', 'passwd', 'alice', '--interactive=false'], { ...root, input: 'pw2\n' }))).toBe('Password updated\n')
    expect(await ctl(ep, ['get', 'f'], alice)).toMatchObject({ code: 2, stderr: 'Error: etcdserver: authentication failed, invalid user ID or password\n' })
    expect(await ctl(ep, ['get', 'f'], { user: 'alice:pw2' })).toEqual(denied)
    expect(out(await ctl(ep, ['role', 'delete', 'app'], root))).toBe('Role app deleted\n')
    expect(out(await ctl(ep, ['user', 'delete', 'alice'], root))).toBe('User alice deleted\n')
    expect(await ctl(ep, ['user', 'get', 'alice'], root)).toEqual({ code: 1, stdout: '', stderr: 'Error: etcdserver: user name not found\n' })
    expect(out(await ctl(ep, ['auth', 'disable'], root))).toBe('Authentication Disabled\n')
    expect(out(await ctl(ep, ['user', 'list']))).toBe('root\n')
  }, 60_000)
})

describe('the etcd3 client with auth', () => {
  let server: Serving
  const clients: Etcd3[] = []
  const client = (options: Omit<IOptions, 'hosts'> = {}) => {
    const c = new Etcd3({ hosts: server.endpoint, ...options })
    clients.push(c)
    return c
  }
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    await server.close()
  })

  /** setUp makes root, a role `app` with readwrite on app/, and alice in it, then turns auth on; all through etcd3. */
  async function setUp(admin: Etcd3): Promise<void> {
    await admin.user('root').create('rootpw')
    await admin.user('root').addRole('root')
    const app = await admin.role('app').create()
    await app.grant({ permission: 'Readwrite', range: Range.prefix('app/') })
    await app.grant({ permission: 'Read', key: 'cfg' })
    await admin.user('alice').create('pw')
    await admin.user('alice').addRole('app')
    await admin.auth.authEnable()
  }

  test('users, roles and permissions; a signed-in client is held to its role; root manages; auth disable', async () => {
    server = await serve({ port: 0 })
    const anonymous = client()
    await setUp(anonymous)
    await expect(anonymous.put('app/x').value('1')).rejects.toThrow('etcdserver: user name is empty')

    const alice = client({ auth: { username: 'alice', password: 'pw' } })
    await alice.put('app/x').value('1')
    expect(await alice.get('app/x').string()).toBe('1')
    expect(await alice.getAll().prefix('app/').keys()).toEqual(['app/x'])
    expect(await alice.get('cfg').string()).toBeNull()
    await expect(alice.put('other').value('1')).rejects.toThrow(EtcdPermissionDeniedError)
    await expect(alice.put('other').value('1')).rejects.toThrow('etcdserver: permission denied')
    await expect(alice.get('other').string()).rejects.toThrow(EtcdPermissionDeniedError)
    await expect(alice.put('cfg').value('1')).rejects.toThrow(EtcdPermissionDeniedError)
    // A txn is checked whole, the branch not taken included.
    await expect(
      alice.if('app/x', 'Value', '==', '1').then(alice.put('app/y').value('2')).else(alice.put('other').value('2')).commit(),
    ).rejects.toThrow(EtcdPermissionDeniedError)
    const txn = await alice.if('app/x', 'Value', '==', '1').then(alice.put('app/y').value('2')).commit()
    expect(txn.succeeded).toBe(true)
    // Admin calls need the root role.
    await expect(alice.getUsers()).rejects.toThrow(EtcdPermissionDeniedError)
    await expect(alice.auth.authDisable()).rejects.toThrow(EtcdPermissionDeniedError)
    // A user may read itself.
    expect((await alice.user('alice').roles()).map((r) => r.name)).toEqual(['app'])

    const wrong = client({ auth: { username: 'alice', password: 'nope' } })
    await expect(wrong.get('app/x').string()).rejects.toThrow(EtcdAuthenticationFailedError)

    const root = client({ auth: { username: 'root', password: 'rootpw' } })
    expect((await root.getUsers()).map((u) => u.name)).toEqual(['alice', 'root'])
    expect((await root.getRoles()).map((r) => r.name)).toEqual(['app']) // the role root was granted, never created
    expect((await root.user('alice').roles()).map((r) => r.name)).toEqual(['app'])
    const perms = await root.role('app').permissions()
    expect(perms.map((p) => ({ permission: p.permission, start: p.range.start.toString(), end: p.range.end.toString() }))).toEqual([
      { permission: 'Readwrite', start: 'app/', end: 'app0' },
      { permission: 'Read', start: 'cfg', end: '' },
    ])
    expect(await root.get('other').string()).toBeNull()
    await expect(root.user('nobody').roles()).rejects.toThrow(EtcdUserNotFoundError)

    // Changes take effect on alice's next call, with the token she has.
    await root.role('app').revoke({ permission: 'Readwrite', range: Range.prefix('app/') })
    await expect(alice.get('app/x').string()).rejects.toThrow(EtcdPermissionDeniedError)
    await root.role('app').grant({ permission: 'Readwrite', range: Range.prefix('app/') })
    expect(await alice.get('app/x').string()).toBe('1')
    await root.user('alice').removeRole('app')
    await expect(root.user('alice').removeRole('app')).rejects.toThrow(EtcdRoleNotGrantedError)
    await expect(alice.get('app/x').string()).rejects.toThrow(EtcdPermissionDeniedError)
    await root.role('app').addUser('alice')
    expect(await alice.get('app/x').string()).toBe('1')

    // A new password ends alice's token; her client cannot sign in again with the old one.
    await root.user('alice').setPassword('pw2')
    await expect(alice.get('app/x').string()).rejects.toThrow(EtcdAuthenticationFailedError)
    const alice2 = client({ auth: { username: 'alice', password: 'pw2' } })
    expect(await alice2.get('app/x').string()).toBe('1')

    // Deleting the role takes it from alice; deleting alice ends her token and her sign-in.
    await root.role('app').delete()
    expect(await root.getRoles()).toEqual([])
    expect(await root.user('alice').roles()).toEqual([])
    await expect(alice2.get('app/x').string()).rejects.toThrow(EtcdPermissionDeniedError)
    await root.user('alice').delete()
    expect((await root.getUsers()).map((u) => u.name)).toEqual(['root'])
    await expect(alice2.get('app/x').string()).rejects.toThrow(EtcdAuthenticationFailedError)

    await root.auth.authDisable()
    expect(await anonymous.get('app/x').string()).toBe('1')
    await anonymous.put('other').value('free')
  })

  test('an expired token is replaced: the client signs in again and its call succeeds (manual clock)', async () => {
    const clock = new ManualClock(Date.now())
    server = await serve({ port: 0, clock, authTokenTtl: 2 })
    await setUp(client())
    const alice = client({ auth: { username: 'alice', password: 'pw' } })
    await alice.put('app/a').value('1')
    expect(await authenticateCalls(server)).toBe(1)
    // The TTL slides: a token used within every 2 s stays good.
    await clock.advance(1_500)
    expect(await alice.get('app/a').string()).toBe('1')
    await clock.advance(1_500)
    expect(await alice.get('app/a').string()).toBe('1')
    expect(await authenticateCalls(server)).toBe(1)

    const services = remoteServices(server.endpoint)
    try {
      const { token } = await services.auth.authenticate({ name: 'alice', password: 'pw' })
      expect(await authenticateCalls(server)).toBe(2)
      await clock.advance(2_001)
      await expect(services.kv.range({ key: 'app/a' }, { token })).rejects.toMatchObject({
        code: 'ETCD_INVALID_AUTH_TOKEN',
        message: 'etcdserver: invalid auth token',
      })
    } finally {
      services.close()
    }
    // alice's token expired too: her next call meets "invalid auth token", signs in again, and goes through.
    await alice.put('app/a').value('2')
    expect(await authenticateCalls(server)).toBe(3)
    expect(await alice.get('app/a').string()).toBe('2')
    expect(await authenticateCalls(server)).toBe(3)
  })

  test('an expired token is replaced (real time, authTokenTtl 1 s)', async () => {
    server = await serve({ port: 0, authTokenTtl: 1 })
    await setUp(client())
    const alice = client({ auth: { username: 'alice', password: 'pw' } })
    await alice.put('app/a').value('1')
    // etcd sweeps expired tokens once a second, so there a 1 s token lives up to 2 s; wait past both.
    await new Promise((r) => setTimeout(r, 2_100))
    expect(await alice.get('app/a').string()).toBe('1')
    expect(await authenticateCalls(server)).toBe(2)
  })

  test('a watch opened with a token keeps delivering after the token expires, as etcd checks only its creation', async () => {
    const clock = new ManualClock(Date.now())
    server = await serve({ port: 0, clock, authTokenTtl: 2 })
    await setUp(client())
    const alice = client({ auth: { username: 'alice', password: 'pw' } })
    const watcher = await alice.watch().prefix('app/').create()
    const seen: string[] = []
    watcher.on('put', (kv) => seen.push(`${kv.key.toString()}=${kv.value.toString()}`))
    await clock.advance(5_000)
    const root = client({ auth: { username: 'root', password: 'rootpw' } })
    await root.put('app/w').value('1')
    const deadline = Date.now() + 5_000
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(seen).toEqual(['app/w=1'])
    await watcher.cancel()
  })
})

describe.skipIf(opensslMissing !== undefined)('client certificates: the common name is the user', () => {
  let certs: Certs
  let server: Serving
  let ep: string
  let services: RemoteServices
  const pem = (file: string) => readFileSync(file)
  beforeAll(() => {
    certs = makeCerts()
  })
  beforeEach(async () => {
    server = await serve({
      port: 0,
      tls: { cert: pem(certs.serverCert), key: pem(certs.serverKey), ca: pem(certs.ca), clientCertAuth: true },
    })
    ep = server.endpoint
    // Every connection must present a certificate; this one's common name is "client" (see makeCerts).
    services = remoteServices(ep, { credentials: credentials.createSsl(pem(certs.ca), pem(certs.clientKey), pem(certs.clientCert)) })
    const { auth } = services
    await auth.userAdd({ name: 'root', password: 'rootpw' })
    await auth.userGrantRole({ user: 'root', role: 'root' })
    await auth.roleAdd({ name: 'limited' })
    await auth.roleGrantPermission({ name: 'limited', perm: { permType: 'READWRITE', key: 'cn/', rangeEnd: 'cn0' } })
    await auth.userAdd({ name: 'client', options: { noPassword: true } })
    await auth.userGrantRole({ user: 'client', role: 'limited' })
    await auth.authEnable({})
  })
  afterEach(async () => {
    services.close()
    await server.close()
  })

  test('a gRPC client presenting the certificate and no token acts as that user; a token wins over it', async () => {
    await services.kv.put({ key: 'cn/a', value: '1' })
    expect((await services.kv.range({ key: 'cn/a' })).kvs[0]!.value.toString()).toBe('1')
    expect((await services.kv.range({ key: 'cn/', rangeEnd: 'cn0' })).count).toBe(1)
    await expect(services.kv.put({ key: 'other', value: '1' })).rejects.toMatchObject({
      code: 'ETCD_PERMISSION_DENIED',
      message: 'etcdserver: permission denied',
    })
    await expect(services.kv.range({ key: 'other' })).rejects.toMatchObject({ code: 'ETCD_PERMISSION_DENIED' })
    await expect(services.kv.range({ key: 'cn/', rangeEnd: '\0' })).rejects.toMatchObject({ code: 'ETCD_PERMISSION_DENIED' })
    await expect(services.auth.userList({})).rejects.toMatchObject({ code: 'ETCD_PERMISSION_DENIED' })
    expect((await services.auth.userGet({ name: 'client' })).roles).toEqual(['limited'])
    // A no-password user cannot sign in; it exists only for its certificate.
    await expect(services.auth.authenticate({ name: 'client', password: '' })).rejects.toThrow('password was given for no password user')

    const { token } = await services.auth.authenticate({ name: 'root', password: 'rootpw' })
    await services.kv.put({ key: 'other', value: 'root' }, { token })
    expect((await services.auth.userList({}, { token })).users).toEqual(['client', 'root'])

    // Without its role, the certificate's user is refused at once.
    await services.auth.userRevokeRole({ name: 'client', role: 'limited' }, { token })
    await expect(services.kv.range({ key: 'cn/a' })).rejects.toMatchObject({ code: 'ETCD_PERMISSION_DENIED' })
    // Once auth is off, the certificate's name no longer matters.
    await services.auth.authDisable({}, { token })
    expect((await services.kv.range({ key: 'other' })).kvs[0]!.value.toString()).toBe('root')
  })

  test('the JSON gateway refuses a client certificate with a name while auth is on, as etcd does', async () => {
    const call = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const [host, port] = ep.split(':')
        const req = httpsRequest(
          { host, port, path, method: 'POST', ca: pem(certs.ca), cert: pem(certs.clientCert), key: pem(certs.clientKey), servername: 'localhost', headers },
          (res) => {
            let body = ''
            res.on('data', (d) => (body += d))
            res.on('end', () => resolve({ status: res.statusCode!, body }))
          },
        )
        req.on('error', reject)
        req.end('{"key":"Y24vYQ=="}')
      })
    const refused = { status: 400, body: 'CommonName of client sending a request against gateway will be ignored and not used as expected\n' }
    expect(await call('/v3/kv/range')).toEqual(refused)
    const { token } = await services.auth.authenticate({ name: 'root', password: 'rootpw' })
    expect(await call('/v3/kv/range', { Authorization: token })).toEqual(refused)
    await services.auth.authDisable({}, { token })
    expect((await call('/v3/kv/range')).status).toBe(200)
  })

  test('the etcd3 client with the certificate and no password', async () => {
    const client = new Etcd3({
      hosts: `https://${ep}`,
      credentials: { rootCertificate: pem(certs.ca), privateKey: pem(certs.clientKey), certChain: pem(certs.clientCert) },
    })
    try {
      await client.put('cn/x').value('1')
      expect(await client.get('cn/x').string()).toBe('1')
      await expect(client.put('other').value('1')).rejects.toThrow(EtcdPermissionDeniedError)
    } finally {
      client.close()
    }
  })

  test.skipIf(etcdctlMissing !== undefined)('etcdctl with the certificate and no --user', async () => {
    const tls = [`--cacert=${certs.ca}`, `--cert=${certs.clientCert}`, `--key=${certs.clientKey}`]
    const url = `https://${ep}`
    expect(out(await ctl(url, ['put', 'cn/k', 'v'], { extra: tls }))).toBe('OK\n')
    expect(out(await ctl(url, ['get', 'cn/k'], { extra: tls }))).toBe('cn/k\nv\n')
    expect(await ctl(url, ['put', 'other', 'v'], { extra: tls })).toEqual({ code: 1, stdout: '', stderr: 'Error: etcdserver: permission denied\n' })
    expect(await ctl(url, ['user', 'list'], { extra: tls })).toEqual({ code: 1, stdout: '', stderr: 'Error: etcdserver: permission denied\n' })
    // With --user as well, the token's user is the one that counts.
    expect(out(await ctl(url, ['put', 'other', 'v'], { extra: tls, user: 'root:rootpw' }))).toBe('OK\n')
    expect(out(await ctl(url, ['user', 'list'], { extra: tls, user: 'root:rootpw' }))).toBe('client\nroot\n')
  })
})
