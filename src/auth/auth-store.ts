import { Buffer } from 'node:buffer'
import type { CallCredentials, PermissionType } from '../messages/auth.ts'
import type { Bin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import type { PasswordHash } from './passwords.ts'
import { RangePermissions } from './range-permissions.ts'
import type { SimpleTokens } from './simple-tokens.ts'

/**
 * AuthStore holds etcd's auth state (users, roles, their key-range permissions, whether auth is on) and applies
 * etcd 3.4's rules to it: what each admin call may change and with which error, and who may touch which keys.
 *
 * - Enabling needs a user `root` holding the role `root`. The role `root` need not exist as a role: granting it is
 *   always allowed, and it means "may do everything".
 * - While auth is on, user `root` cannot be deleted nor lose role `root`, and role `root` cannot be deleted.
 * - Role lists are kept sorted; permissions sorted by key, and granting a key and range that a role already has
 *   changes its type in place (etcd looks only at the first permission with that key).
 *
 * Permission checks go through a RangePermissions per user, built on first use and dropped whenever users or roles
 * change. Every change bumps `revision` and is handed to `persist` whole: the state is small, and writing it whole
 * keeps it atomic on disk.
 */

/** StoredPermission is a role's permission: keys are Bin strings; rangeEnd '' for the key alone, '\0' from key on. */
export interface StoredPermission {
  readonly permType: PermissionType
  readonly key: Bin
  readonly rangeEnd: Bin
}

export interface StoredUser {
  readonly name: string
  /** password is absent for a user added with noPassword. */
  readonly password?: PasswordHash
  readonly noPassword: boolean
  readonly roles: readonly string[]
}

export interface StoredRole {
  readonly name: string
  readonly perms: readonly StoredPermission[]
}

/** StoredAuth is the whole auth state, as persisted and snapshotted. */
export interface StoredAuth {
  readonly enabled: boolean
  readonly revision: number
  readonly users: readonly StoredUser[]
  readonly roles: readonly StoredRole[]
}

/** AuthInfo is who a request runs as: undefined while auth is off. */
export interface AuthInfo {
  readonly user: string
}

const ROOT = 'root'

/** byteOrder compares names as etcd sorts them: by their UTF-8 bytes. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export class AuthStore {
  #enabled = false
  #revision = 0
  readonly #users = new Map<string, StoredUser>()
  readonly #roles = new Map<string, StoredRole>()
  readonly #permissions = new Map<string, RangePermissions>()
  readonly #tokens: SimpleTokens
  readonly #persist: (state: StoredAuth) => void
  readonly #switchListeners: ((enabled: boolean) => void)[] = []

  constructor(tokens: SimpleTokens, persist: (state: StoredAuth) => void = () => {}) {
    this.#tokens = tokens
    this.#persist = persist
  }

  get enabled(): boolean {
    return this.#enabled
  }

  /** onSwitch hears auth being turned on or off (also by restore), so hot paths can keep a plain flag. */
  onSwitch(listener: (enabled: boolean) => void): void {
    this.#switchListeners.push(listener)
  }

  #setEnabled(enabled: boolean): void {
    this.#enabled = enabled
    for (const listener of this.#switchListeners) listener(enabled)
  }

  get revision(): number {
    return this.#revision
  }

  /** restore loads a persisted state (at open; no persistence happens). */
  restore(state: StoredAuth): void {
    this.#setEnabled(state.enabled)
    this.#revision = state.revision
    this.#users.clear()
    this.#roles.clear()
    for (const u of state.users) this.#users.set(u.name, u)
    for (const r of state.roles) this.#roles.set(r.name, r)
    this.#permissions.clear()
  }

  /** state is the whole auth state, for persistence and snapshots. */
  state(): StoredAuth {
    return {
      enabled: this.#enabled,
      revision: this.#revision,
      users: [...this.#users.values()],
      roles: [...this.#roles.values()],
    }
  }

  // ---- who is asking

  /**
   * authInfo finds who the credentials speak for. With auth off: nobody, and a token is refused (etcd refuses any
   * token then). With auth on: the token's user, else the client certificate's common name, else "user name is empty".
   */
  authInfo(credentials: CallCredentials | undefined): AuthInfo | undefined {
    if (!this.#enabled) {
      if (credentials?.token !== undefined) throw new EtcdError('ETCD_INVALID_AUTH_TOKEN')
      return undefined
    }
    if (credentials?.token !== undefined) {
      const user = this.#tokens.userOf(credentials.token)
      if (user === undefined) throw new EtcdError('ETCD_INVALID_AUTH_TOKEN')
      return { user }
    }
    if (credentials?.commonName !== undefined && credentials.commonName !== '') return { user: credentials.commonName }
    throw new EtcdError('ETCD_USER_EMPTY')
  }

  /** isRoot tells whether a user holds the root role. */
  isRoot(user: string): boolean {
    return this.#users.get(user)?.roles.includes(ROOT) === true
  }

  hasRole(user: string, role: string): boolean {
    return this.#users.get(user)?.roles.includes(role) === true
  }

  /** checkAdmin throws unless auth is off or the caller holds the root role. */
  checkAdmin(credentials: CallCredentials | undefined): void {
    const info = this.authInfo(credentials)
    if (info !== undefined && !this.isRoot(info.user)) throw new EtcdError('ETCD_PERMISSION_DENIED')
  }

  /** canRead tells whether `user` may read [key, end); the root role may do everything. */
  canRead(user: string, key: Bin, end: Bin): boolean {
    return this.isRoot(user) || this.#permissionsOf(user).canRead(key, end)
  }

  canWrite(user: string, key: Bin, end: Bin): boolean {
    return this.isRoot(user) || this.#permissionsOf(user).canWrite(key, end)
  }

  #permissionsOf(user: string): RangePermissions {
    let p = this.#permissions.get(user)
    if (p === undefined) {
      const grants = []
      for (const role of this.#users.get(user)?.roles ?? []) {
        for (const perm of this.#roles.get(role)?.perms ?? []) {
          grants.push({
            read: perm.permType !== 'WRITE',
            write: perm.permType !== 'READ',
            key: perm.key,
            rangeEnd: perm.rangeEnd,
          })
        }
      }
      p = new RangePermissions(grants)
      this.#permissions.set(user, p)
    }
    return p
  }

  // ---- the admin calls (the caller is checked before these run)

  authEnable(): void {
    if (this.#enabled) return
    const root = this.#users.get(ROOT)
    if (root === undefined) throw new EtcdError('ETCD_ROOT_USER_MISSING')
    if (!root.roles.includes(ROOT)) throw new EtcdError('ETCD_ROOT_ROLE_MISSING')
    this.#setEnabled(true)
    this.#changed()
  }

  authDisable(): void {
    if (!this.#enabled) return
    this.#setEnabled(false)
    this.#tokens.clear()
    this.#changed()
  }

  user(name: string): StoredUser | undefined {
    return this.#users.get(name)
  }

  userAdd(name: string, password: PasswordHash | undefined): void {
    if (this.#users.has(name)) throw new EtcdError('ETCD_USER_EXISTS')
    this.#users.set(name, { name, ...(password === undefined ? {} : { password }), noPassword: password === undefined, roles: [] })
    this.#changed()
  }

  userGet(name: string): StoredUser {
    const user = this.#users.get(name)
    if (user === undefined) throw new EtcdError('ETCD_USER_NOT_FOUND')
    return user
  }

  userList(): string[] {
    return [...this.#users.keys()].sort(byteOrder)
  }

  userDelete(name: string): void {
    if (this.#enabled && name === ROOT) throw new EtcdError('ETCD_INVALID_AUTH_MGMT')
    if (!this.#users.delete(name)) throw new EtcdError('ETCD_USER_NOT_FOUND')
    this.#tokens.invalidateUser(name)
    this.#changed()
  }

  /** userChangePassword sets a new password; a user added without one stays without (as in etcd). */
  userChangePassword(name: string, password: PasswordHash): void {
    const user = this.userGet(name)
    this.#users.set(name, user.noPassword ? user : { ...user, password })
    this.#tokens.invalidateUser(name)
    this.#changed()
  }

  userGrantRole(name: string, role: string): void {
    const user = this.userGet(name)
    if (role !== ROOT && !this.#roles.has(role)) throw new EtcdError('ETCD_ROLE_NOT_FOUND')
    if (user.roles.includes(role)) return
    this.#users.set(name, { ...user, roles: [...user.roles, role].sort(byteOrder) })
    this.#changed()
  }

  userRevokeRole(name: string, role: string): void {
    if (this.#enabled && name === ROOT && role === ROOT) throw new EtcdError('ETCD_INVALID_AUTH_MGMT')
    const user = this.userGet(name)
    if (!user.roles.includes(role)) throw new EtcdError('ETCD_ROLE_NOT_GRANTED')
    this.#users.set(name, { ...user, roles: user.roles.filter((r) => r !== role) })
    this.#changed()
  }

  roleAdd(name: string): void {
    if (this.#roles.has(name)) throw new EtcdError('ETCD_ROLE_EXISTS')
    this.#roles.set(name, { name, perms: [] })
    this.#changed()
  }

  roleGet(name: string): StoredRole {
    const role = this.#roles.get(name)
    if (role === undefined) throw new EtcdError('ETCD_ROLE_NOT_FOUND')
    return role
  }

  roleList(): string[] {
    return [...this.#roles.keys()].sort(byteOrder)
  }

  roleDelete(name: string): void {
    if (this.#enabled && name === ROOT) throw new EtcdError('ETCD_INVALID_AUTH_MGMT')
    if (!this.#roles.delete(name)) throw new EtcdError('ETCD_ROLE_NOT_FOUND')
    for (const user of this.#users.values()) {
      if (user.roles.includes(name)) this.#users.set(user.name, { ...user, roles: user.roles.filter((r) => r !== name) })
    }
    this.#changed()
  }

  roleGrantPermission(name: string, perm: StoredPermission): void {
    const role = this.roleGet(name)
    const perms = [...role.perms]
    // As etcd: only the first permission whose key is at or after the new key is looked at.
    const first = perms.findIndex((p) => p.key >= perm.key)
    if (first >= 0 && perms[first]!.key === perm.key && perms[first]!.rangeEnd === perm.rangeEnd) {
      perms[first] = perm
    } else {
      let at = perms.length
      while (at > 0 && perms[at - 1]!.key > perm.key) at--
      perms.splice(at, 0, perm)
    }
    this.#roles.set(name, { name, perms })
    this.#changed()
  }

  roleRevokePermission(name: string, key: Bin, rangeEnd: Bin): void {
    const role = this.roleGet(name)
    const perms = role.perms.filter((p) => p.key !== key || p.rangeEnd !== rangeEnd)
    if (perms.length === role.perms.length) throw new EtcdError('ETCD_PERMISSION_NOT_GRANTED')
    this.#roles.set(name, { name, perms })
    this.#changed()
  }

  #changed(): void {
    this.#revision++
    this.#permissions.clear()
    this.#persist(this.state())
  }
}
