import type { ResponseHeader } from './header.ts'

/**
 * The services-level messages of etcd's Auth service, in lowerCamelCase, and the credentials every call may carry.
 */

/**
 * CallCredentials travel with a call, as etcd's gRPC metadata does: a token from Authenticate, or (over TLS with
 * client-certificate authentication) the certificate's common name, which etcd takes as the user when no token is
 * given. Calls without credentials are anonymous: fine while auth is off, refused ("user name is empty") once it is on.
 */
export interface CallCredentials {
  /** token from Authenticate (etcd's `token` metadata, or the gateway's Authorization header). */
  readonly token?: string
  /** commonName of a verified client certificate. */
  readonly commonName?: string
}

export type PermissionType = 'READ' | 'WRITE' | 'READWRITE'

/** Permission grants a role access to a key ([key, key\0)), a range [key, rangeEnd), or every key from key ("\0"). */
export interface Permission {
  permType: PermissionType
  key: Uint8Array
  rangeEnd: Uint8Array
}

/** PermissionArg is a permission as a request gives it: strings are accepted where bytes belong. */
export interface PermissionArg {
  permType: PermissionType
  key: Uint8Array | string
  rangeEnd?: Uint8Array | string
}

export interface AuthenticateRequest {
  name: string
  password: string
}
export interface AuthenticateResponse {
  header: ResponseHeader
  token: string
}

export interface AuthUserAddRequest {
  name: string
  password?: string
  /** options.noPassword: a user that cannot log in with a password (only with a client certificate). */
  options?: { noPassword?: boolean }
}
export interface AuthUserGetResponse {
  header: ResponseHeader
  roles: string[]
}
export interface AuthUserListResponse {
  header: ResponseHeader
  users: string[]
}
export interface AuthRoleGetResponse {
  header: ResponseHeader
  perm: Permission[]
}
export interface AuthRoleListResponse {
  header: ResponseHeader
  roles: string[]
}
export interface AuthStatusResponse {
  header: ResponseHeader
  enabled: boolean
  authRevision: number
}

/** HeaderOnly is the answer of the Auth calls that return nothing but a header. */
export interface HeaderOnly {
  header: ResponseHeader
}

/** Auth is etcd's Auth service. Each call takes the caller's credentials; the admin calls need the root role. */
export interface Auth {
  authEnable(request: Record<string, never>, credentials?: CallCredentials): Promise<HeaderOnly>
  authDisable(request: Record<string, never>, credentials?: CallCredentials): Promise<HeaderOnly>
  authStatus(request: Record<string, never>, credentials?: CallCredentials): Promise<AuthStatusResponse>
  authenticate(request: AuthenticateRequest, credentials?: CallCredentials): Promise<AuthenticateResponse>
  userAdd(request: AuthUserAddRequest, credentials?: CallCredentials): Promise<HeaderOnly>
  userGet(request: { name: string }, credentials?: CallCredentials): Promise<AuthUserGetResponse>
  userList(request: Record<string, never>, credentials?: CallCredentials): Promise<AuthUserListResponse>
  userDelete(request: { name: string }, credentials?: CallCredentials): Promise<HeaderOnly>
  userChangePassword(request: { name: string; password: string }, credentials?: CallCredentials): Promise<HeaderOnly>
  userGrantRole(request: { user: string; role: string }, credentials?: CallCredentials): Promise<HeaderOnly>
  userRevokeRole(request: { name: string; role: string }, credentials?: CallCredentials): Promise<HeaderOnly>
  roleAdd(request: { name: string }, credentials?: CallCredentials): Promise<HeaderOnly>
  roleGet(request: { role: string }, credentials?: CallCredentials): Promise<AuthRoleGetResponse>
  roleList(request: Record<string, never>, credentials?: CallCredentials): Promise<AuthRoleListResponse>
  roleDelete(request: { role: string }, credentials?: CallCredentials): Promise<HeaderOnly>
  roleGrantPermission(request: { name: string; perm: PermissionArg }, credentials?: CallCredentials): Promise<HeaderOnly>
  roleRevokePermission(
    request: { role: string; key: Uint8Array | string; rangeEnd?: Uint8Array | string },
    credentials?: CallCredentials,
  ): Promise<HeaderOnly>
}
