import { Buffer } from 'node:buffer'
import type {
  Auth,
  AuthenticateResponse,
  AuthRoleGetResponse,
  AuthRoleListResponse,
  AuthStatusResponse,
  AuthUserAddRequest,
  AuthUserGetResponse,
  AuthUserListResponse,
  CallCredentials,
  HeaderOnly,
  PermissionArg,
  PermissionType,
} from '../messages/auth.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import { toBin, fromBin, type Bin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import type { AuthStore } from './auth-store.ts'
import { hashPassword, verifyPassword } from './passwords.ts'
import type { SimpleTokens } from './simple-tokens.ts'

/** AuthContext is what the Auth service needs from the engine around it. */
export interface AuthContext {
  readonly store: AuthStore
  readonly tokens: SimpleTokens
  /** header is a response header at the current KV revision (auth calls never change it). */
  header(): ResponseHeader
  assertOpen(): void
  /** durable settles once every change so far is on disk (undefined when nothing waits). */
  durable(): Promise<void> | undefined
}

const PERMISSION_TYPES: readonly PermissionType[] = ['READ', 'WRITE', 'READWRITE']

/**
 * AuthService is etcd's Auth service. The admin calls need the root role once auth is on, and the caller is checked
 * before the request is (so a caller without rights learns nothing from the error); changes are on disk before the
 * answer. Authenticate checks the password (bcrypt, as etcd) and hands out a simple token.
 */
export class AuthService implements Auth {
  readonly #ctx: AuthContext

  constructor(ctx: AuthContext) {
    this.#ctx = ctx
  }

  async authEnable(_request: Record<string, never> = {}, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    this.#ctx.store.authEnable()
    return this.#done()
  }

  async authDisable(_request: Record<string, never> = {}, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    this.#ctx.store.authDisable()
    return this.#done()
  }

  async authStatus(_request: Record<string, never> = {}, _credentials?: CallCredentials): Promise<AuthStatusResponse> {
    this.#ctx.assertOpen()
    const { store } = this.#ctx
    return { header: this.#ctx.header(), enabled: store.enabled, authRevision: store.revision }
  }

  async authenticate(request: { name: string; password: string }, credentials?: CallCredentials): Promise<AuthenticateResponse> {
    this.#ctx.assertOpen()
    const name = text(request?.name, 'name')
    const password = text(request?.password, 'password')
    const { store, tokens } = this.#ctx
    if (!store.enabled) {
      if (credentials?.token !== undefined) throw new EtcdError('ETCD_INVALID_AUTH_TOKEN')
      throw new EtcdError('ETCD_AUTH_NOT_ENABLED')
    }
    if (credentials?.token !== undefined) store.authInfo(credentials)
    const user = store.user(name)
    if (user === undefined) throw new EtcdError('ETCD_AUTH_FAILED')
    if (user.noPassword || user.password === undefined) throw new EtcdError('ETCD_NO_PASSWORD_USER')
    if (!(await verifyPassword(password, user.password))) throw new EtcdError('ETCD_AUTH_FAILED')
    // The user may have gone while the password was checked.
    if (store.user(name) !== user) throw new EtcdError('ETCD_AUTH_FAILED')
    return { header: this.#ctx.header(), token: tokens.assign(name) }
  }

  async userAdd(request: AuthUserAddRequest, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    const name = text(request?.name, 'name')
    if (name === '') throw new EtcdError('ETCD_USER_EMPTY')
    const noPassword = request.options?.noPassword === true
    const password = noPassword ? undefined : await hashPassword(text(request.password, 'password'))
    this.#admin(credentials)
    this.#ctx.store.userAdd(name, password)
    return this.#done()
  }

  async userGet(request: { name: string }, credentials?: CallCredentials): Promise<AuthUserGetResponse> {
    this.#ctx.assertOpen()
    const name = text(request?.name, 'name')
    const { store } = this.#ctx
    const info = store.authInfo(credentials)
    // A user may read itself; anything else needs root, even for a user that does not exist.
    if (info !== undefined && info.user !== name && !store.isRoot(info.user)) throw new EtcdError('ETCD_PERMISSION_DENIED')
    return { header: this.#ctx.header(), roles: [...store.userGet(name).roles] }
  }

  async userList(_request: Record<string, never> = {}, credentials?: CallCredentials): Promise<AuthUserListResponse> {
    this.#admin(credentials)
    return { header: this.#ctx.header(), users: this.#ctx.store.userList() }
  }

  async userDelete(request: { name: string }, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    this.#ctx.store.userDelete(text(request?.name, 'name'))
    return this.#done()
  }

  async userChangePassword(request: { name: string; password: string }, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    const name = text(request?.name, 'name')
    this.#ctx.store.userGet(name)
    const password = await hashPassword(text(request.password, 'password'))
    this.#admin(credentials)
    this.#ctx.store.userChangePassword(name, password)
    return this.#done()
  }

  async userGrantRole(request: { user: string; role: string }, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    this.#ctx.store.userGrantRole(text(request?.user, 'user'), text(request.role, 'role'))
    return this.#done()
  }

  async userRevokeRole(request: { name: string; role: string }, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    this.#ctx.store.userRevokeRole(text(request?.name, 'name'), text(request.role, 'role'))
    return this.#done()
  }

  async roleAdd(request: { name: string }, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    const name = text(request?.name, 'name')
    if (name === '') throw new EtcdError('ETCD_ROLE_EMPTY')
    this.#ctx.store.roleAdd(name)
    return this.#done()
  }

  async roleGet(request: { role: string }, credentials?: CallCredentials): Promise<AuthRoleGetResponse> {
    this.#ctx.assertOpen()
    const name = text(request?.role, 'role')
    const { store } = this.#ctx
    const info = store.authInfo(credentials)
    // A user may read the roles it holds; anything else needs root.
    if (info !== undefined && !store.hasRole(info.user, name) && !store.isRoot(info.user)) throw new EtcdError('ETCD_PERMISSION_DENIED')
    const perm = store.roleGet(name).perms.map((p) => ({ permType: p.permType, key: fromBin(p.key), rangeEnd: fromBin(p.rangeEnd) }))
    return { header: this.#ctx.header(), perm }
  }

  async roleList(_request: Record<string, never> = {}, credentials?: CallCredentials): Promise<AuthRoleListResponse> {
    this.#admin(credentials)
    return { header: this.#ctx.header(), roles: this.#ctx.store.roleList() }
  }

  async roleDelete(request: { role: string }, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    this.#ctx.store.roleDelete(text(request?.role, 'role'))
    return this.#done()
  }

  async roleGrantPermission(request: { name: string; perm: PermissionArg }, credentials?: CallCredentials): Promise<HeaderOnly> {
    this.#admin(credentials)
    const name = text(request?.name, 'name')
    const perm = request.perm
    if (typeof perm !== 'object' || perm === null) throw new TypeError('perm must be an object with permType, key and rangeEnd')
    if (!PERMISSION_TYPES.includes(perm.permType)) throw new TypeError(`permType must be one of ${PERMISSION_TYPES.join(', ')}`)
    this.#ctx.store.roleGrantPermission(name, { permType: perm.permType, key: bin(perm.key, 'key'), rangeEnd: bin(perm.rangeEnd, 'rangeEnd') })
    return this.#done()
  }

  async roleRevokePermission(
    request: { role: string; key: Uint8Array | string; rangeEnd?: Uint8Array | string },
    credentials?: CallCredentials,
  ): Promise<HeaderOnly> {
    this.#admin(credentials)
    const role = text(request?.role, 'role')
    this.#ctx.store.roleRevokePermission(role, bin(request.key, 'key'), bin(request.rangeEnd, 'rangeEnd'))
    return this.#done()
  }

  #admin(credentials: CallCredentials | undefined): void {
    this.#ctx.assertOpen()
    this.#ctx.store.checkAdmin(credentials)
  }

  /** #done answers a change once it is on disk. */
  async #done(): Promise<HeaderOnly> {
    const header = this.#ctx.header()
    await this.#ctx.durable()
    return { header }
  }
}

function text(v: unknown, what: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`)
  return v
}

function bin(v: Uint8Array | string | undefined | null, what: string): Bin {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return toBin(Buffer.from(v, 'utf8'))
  if (v instanceof Uint8Array) return toBin(v)
  throw new TypeError(`${what} must be a string or a Uint8Array`)
}
