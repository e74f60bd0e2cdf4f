import type {
  AuthenticateRequest,
  AuthenticateResponse,
  AuthRoleGetResponse,
  AuthRoleListResponse,
  AuthStatusResponse,
  AuthUserAddRequest,
  AuthUserGetResponse,
  AuthUserListResponse,
  HeaderOnly,
  Permission,
  PermissionArg,
  PermissionType,
} from '../messages/auth.ts'
import { bytes, bytesArg, field, header, int, long, type Codec } from './codec.ts'
import type { WireMessage } from './proto.ts'

/** The codecs of etcd's Auth service (see codec.ts for the conventions). */

const PERMISSION_TYPES: readonly PermissionType[] = ['READ', 'WRITE', 'READWRITE']

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function strArg(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`)
  return v
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${what} must be an object`)
  return v as Record<string, unknown>
}

/** strings is the codec of a request made only of string fields. */
function strings<T extends Record<string, string>>(names: readonly (keyof T & string)[]): Codec<T> {
  return {
    fromWire: (w) => Object.fromEntries(names.map((n) => [n, str(w[n])])) as T,
    toWire: (r) => {
      const req = object(r, 'the request')
      const w: WireMessage = {}
      for (const n of names) field(w, n, strArg(req[n], n))
      return w
    },
  }
}

export const authenticateRequest = strings<{ name: string; password: string }>(['name', 'password']) as Codec<AuthenticateRequest>
export const nameRequest = strings<{ name: string }>(['name'])
export const roleRequest = strings<{ role: string }>(['role'])
export const changePasswordRequest = strings<{ name: string; password: string }>(['name', 'password'])
export const grantRoleRequest = strings<{ user: string; role: string }>(['user', 'role'])
export const revokeRoleRequest = strings<{ name: string; role: string }>(['name', 'role'])

export const userAddRequest: Codec<AuthUserAddRequest> = {
  fromWire(w) {
    const options = w.options as { noPassword?: boolean } | null
    return { name: str(w.name), password: str(w.password), options: { noPassword: options?.noPassword === true } }
  },
  toWire(r) {
    const req = object(r, 'the request')
    const w: WireMessage = {}
    field(w, 'name', strArg(req.name, 'name'))
    field(w, 'password', strArg(req.password, 'password'))
    if (r.options?.noPassword === true) w.options = { noPassword: true }
    return w
  },
}

function permissionFromWire(p: WireMessage | null | undefined): Permission {
  return {
    permType: PERMISSION_TYPES[(p?.permType as number | undefined) ?? 0] ?? 'READ',
    key: bytes(p?.key),
    rangeEnd: bytes(p?.rangeEnd),
  }
}

function permissionToWire(p: PermissionArg): WireMessage {
  const perm = object(p, 'perm') as unknown as PermissionArg
  const type = PERMISSION_TYPES.indexOf(perm.permType)
  if (type < 0) throw new TypeError(`permType must be one of ${PERMISSION_TYPES.join(', ')}`)
  const w: WireMessage = {}
  field(w, 'permType', type)
  field(w, 'key', bytesArg(perm.key, 'key'))
  field(w, 'rangeEnd', bytesArg(perm.rangeEnd, 'rangeEnd'))
  return w
}

export const grantPermissionRequest: Codec<{ name: string; perm: PermissionArg }> = {
  fromWire: (w) => ({ name: str(w.name), perm: permissionFromWire(w.perm as WireMessage | null) }),
  toWire(r) {
    const req = object(r, 'the request')
    const w: WireMessage = { perm: permissionToWire(req.perm as PermissionArg) }
    field(w, 'name', strArg(req.name, 'name'))
    return w
  },
}

export const revokePermissionRequest: Codec<{ role: string; key: Uint8Array | string; rangeEnd?: Uint8Array | string }> = {
  fromWire: (w) => ({ role: str(w.role), key: bytes(w.key), rangeEnd: bytes(w.rangeEnd) }),
  toWire(r) {
    const req = object(r, 'the request')
    const w: WireMessage = {}
    field(w, 'role', strArg(req.role, 'role'))
    field(w, 'key', bytesArg(r.key, 'key'))
    field(w, 'rangeEnd', bytesArg(r.rangeEnd, 'rangeEnd'))
    return w
  },
}

// ---- responses

export { headerOnlyResponse } from './codec.ts'

export const authenticateResponse: Codec<AuthenticateResponse> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage), token: str(w.token) }),
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'token', r.token)
    return w
  },
}

/** namesResponse is the codec of a response listing names under `name` (roles or users). */
function namesResponse<T extends { header: HeaderOnly['header'] }>(name: string): Codec<T> {
  return {
    fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage), [name]: [...((w[name] as string[] | undefined) ?? [])] }) as unknown as T,
    toWire(r) {
      const w: WireMessage = { header: header.toWire(r.header) }
      const list = (r as unknown as Record<string, string[]>)[name]!
      if (list.length > 0) w[name] = list
      return w
    },
  }
}

export const userGetResponse = namesResponse<AuthUserGetResponse>('roles')
export const userListResponse = namesResponse<AuthUserListResponse>('users')
export const roleListResponse = namesResponse<AuthRoleListResponse>('roles')

export const roleGetResponse: Codec<AuthRoleGetResponse> = {
  fromWire: (w) => ({
    header: header.fromWire(w.header as WireMessage),
    perm: ((w.perm as WireMessage[] | undefined) ?? []).map(permissionFromWire),
  }),
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    if (r.perm.length > 0) w.perm = r.perm.map(permissionToWire)
    return w
  },
}

export const authStatusResponse: Codec<AuthStatusResponse> = {
  fromWire: (w) => ({
    header: header.fromWire(w.header as WireMessage),
    enabled: w.enabled === true,
    authRevision: int(w.authRevision as number),
  }),
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'enabled', r.enabled)
    if (r.authRevision !== 0) w.authRevision = long(BigInt(r.authRevision))
    return w
  },
}
