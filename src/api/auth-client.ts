import { Buffer } from 'node:buffer'
import type {
  Auth,
  AuthenticateResponse,
  AuthRoleGetResponse,
  AuthRoleListResponse,
  AuthStatusResponse,
  AuthUserGetResponse,
  AuthUserListResponse,
  HeaderOnly,
  PermissionType,
} from '../messages/auth.ts'
import { prefixEnd, toBin, type BytesLike } from '../util/bytes.ts'

/** PermissionRange picks the keys a permission covers: the key alone (default), a range, a prefix, or every key from it. */
export interface PermissionRange {
  /** rangeEnd: the permission covers [key, rangeEnd). */
  rangeEnd?: BytesLike
  /** prefix: every key that starts with `key`. */
  prefix?: boolean
  /** fromKey: every key from `key` on. */
  fromKey?: boolean
}

/**
 * AuthClient is the Auth part of etcd's Go client (`etcd.auth`): users, roles, their permissions, and turning auth on
 * and off. Once auth is on, these calls need the root role, so open or connect with `{ user: 'root', password }`.
 *
 * @example
 * await etcd.auth.userAdd('root', 'secret')
 * await etcd.auth.userGrantRole('root', 'root')
 * await etcd.auth.roleAdd('app')
 * await etcd.auth.roleGrantPermission('app', 'READWRITE', 'app/', { prefix: true })
 * await etcd.auth.authEnable()
 */
export class AuthClient {
  constructor(readonly service: Auth) {}

  authEnable(): Promise<HeaderOnly> {
    return this.service.authEnable({})
  }

  authDisable(): Promise<HeaderOnly> {
    return this.service.authDisable({})
  }

  /**
   * authStatus tells whether auth is on (etcd 3.5's AuthStatus). Over the wire, an etcd 3.4 server, and etcdlite's,
   * which follows 3.4, answer it UNIMPLEMENTED; in process it always answers.
   */
  authStatus(): Promise<AuthStatusResponse> {
    return this.service.authStatus({})
  }

  /** authenticate checks a password and returns a token for calls made outside this client. */
  authenticate(name: string, password: string): Promise<AuthenticateResponse> {
    return this.service.authenticate({ name, password })
  }

  /** userAdd adds a user; `{ noPassword: true }` makes one that signs in only with a client certificate. */
  userAdd(name: string, password: string, options: { noPassword?: boolean } = {}): Promise<HeaderOnly> {
    return this.service.userAdd({ name, password, options })
  }

  userGet(name: string): Promise<AuthUserGetResponse> {
    return this.service.userGet({ name })
  }

  userList(): Promise<AuthUserListResponse> {
    return this.service.userList({})
  }

  userDelete(name: string): Promise<HeaderOnly> {
    return this.service.userDelete({ name })
  }

  userChangePassword(name: string, password: string): Promise<HeaderOnly> {
    return this.service.userChangePassword({ name, password })
  }

  userGrantRole(user: string, role: string): Promise<HeaderOnly> {
    return this.service.userGrantRole({ user, role })
  }

  userRevokeRole(user: string, role: string): Promise<HeaderOnly> {
    return this.service.userRevokeRole({ name: user, role })
  }

  roleAdd(name: string): Promise<HeaderOnly> {
    return this.service.roleAdd({ name })
  }

  roleGet(role: string): Promise<AuthRoleGetResponse> {
    return this.service.roleGet({ role })
  }

  roleList(): Promise<AuthRoleListResponse> {
    return this.service.roleList({})
  }

  roleDelete(role: string): Promise<HeaderOnly> {
    return this.service.roleDelete({ role })
  }

  /** roleGrantPermission lets a role READ, WRITE or READWRITE a key, a range, a prefix, or every key from a key. */
  roleGrantPermission(role: string, permType: PermissionType, key: BytesLike, range: PermissionRange = {}): Promise<HeaderOnly> {
    return this.service.roleGrantPermission({ name: role, perm: { permType, key: bytes(key), rangeEnd: rangeEndOf(key, range) } })
  }

  /** roleRevokePermission takes back the permission granted on exactly that key and range. */
  roleRevokePermission(role: string, key: BytesLike, range: PermissionRange = {}): Promise<HeaderOnly> {
    return this.service.roleRevokePermission({ role, key: bytes(key), rangeEnd: rangeEndOf(key, range) })
  }
}

function bytes(v: BytesLike): Buffer {
  return Buffer.from(toBin(v), 'latin1')
}

function rangeEndOf(key: BytesLike, range: PermissionRange): Buffer {
  if (range.prefix === true) return Buffer.from(prefixEnd(toBin(key)), 'latin1')
  if (range.fromKey === true) return Buffer.from([0])
  return range.rangeEnd === undefined ? Buffer.alloc(0) : bytes(range.rangeEnd)
}
