import type { Engine } from '../api/engine.ts'
import type { PermissionType } from '../messages/auth.ts'

/**
 * FakeAuthOptions give a fake etcd's users and roles, set up before clients connect, with auth enabled: user `root`
 * holding role `root` (as etcd requires to enable auth), plus the users and roles given.
 *
 * @example
 * await fakeEtcd({ auth: {
 *   roles: { app: [{ type: 'READWRITE', key: 'app/', prefix: true }] },
 *   users: { alice: { password: 'alicepw', roles: ['app'] } },
 * } })
 */
export interface FakeAuthOptions {
  /** rootPassword is user root's password. @default 'root' */
  readonly rootPassword?: string
  /** users by name: a password and the roles granted. */
  readonly users?: Readonly<Record<string, { readonly password: string; readonly roles?: readonly string[] }>>
  /** roles by name: the permissions granted to each. */
  readonly roles?: Readonly<Record<string, readonly FakePermission[]>>
}

/** FakePermission is one permission of a role: a key, a range [key, rangeEnd), a prefix, or every key from key. */
export interface FakePermission {
  readonly type: PermissionType
  readonly key: string | Uint8Array
  readonly rangeEnd?: string | Uint8Array
  readonly prefix?: boolean
  readonly fromKey?: boolean
}

/** DEFAULT_ROOT_PASSWORD is root's password when none is given. */
export const DEFAULT_ROOT_PASSWORD = 'root'

/** setUpAuth creates the roles, the users and root, then enables auth. The engine must sign in as root (open()'s user). */
export async function setUpAuth(engine: Engine, options: FakeAuthOptions): Promise<void> {
  const auth = engine.auth
  for (const [role, permissions] of Object.entries(options.roles ?? {})) {
    await auth.roleAdd(role)
    for (const p of permissions) {
      const range = { ...(p.rangeEnd === undefined ? {} : { rangeEnd: p.rangeEnd }), prefix: p.prefix === true, fromKey: p.fromKey === true }
      await auth.roleGrantPermission(role, p.type, p.key, range)
    }
  }
  await auth.userAdd('root', options.rootPassword ?? DEFAULT_ROOT_PASSWORD)
  if (options.roles?.root === undefined) await auth.roleAdd('root')
  await auth.userGrantRole('root', 'root')
  for (const [name, user] of Object.entries(options.users ?? {})) {
    if (name === 'root') throw new TypeError("fakeEtcd: auth.users cannot redefine root (use auth.rootPassword)")
    await auth.userAdd(name, user.password)
    for (const role of user.roles ?? []) await auth.userGrantRole(name, role)
  }
  await auth.authEnable()
}
