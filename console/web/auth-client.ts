import { fromBase64, toBase64 } from './bytes.ts'
import type { EtcdClient } from './etcd-client.ts'

/**
 * etcd's auth API through the gateway: users, roles and their permissions. A signed-in user may read its own user
 * and the roles it holds (etcd allows that without root), which is how the page knows what that user may browse;
 * everything else here needs root, and etcd says so when it is missing.
 */

export const PERM_TYPES = ['READ', 'WRITE', 'READWRITE'] as const
export type PermType = (typeof PERM_TYPES)[number]

/** Permission is one authpb.Permission: a key (rangeEnd empty), a range [key, rangeEnd), or every key from key ("\0"). */
export interface Permission {
  readonly type: PermType
  readonly key: Uint8Array
  readonly rangeEnd: Uint8Array
}

export async function userRoles(client: EtcdClient, name: string): Promise<string[]> {
  const r = await client.call('auth/user/get', { name })
  return (r.roles ?? []) as string[]
}

export async function rolePermissions(client: EtcdClient, role: string): Promise<Permission[]> {
  const r = await client.call('auth/role/get', { role })
  return ((r.perm ?? []) as Record<string, string>[]).map((p) => ({
    // READ is the enum's zero value, which the gateway leaves out.
    type: (p.permType ?? 'READ') as PermType,
    key: fromBase64(p.key),
    rangeEnd: fromBase64(p.range_end),
  }))
}

/** userAccess is a user's roles and the permissions they give (root's role gives every key). */
export async function userAccess(client: EtcdClient, name: string): Promise<{ roles: string[]; permissions: Permission[]; root: boolean }> {
  const roles = await userRoles(client, name)
  const permissions = (await Promise.all(roles.filter((r) => r !== 'root').map((r) => rolePermissions(client, r)))).flat()
  return { roles, permissions, root: roles.includes('root') }
}

export async function userList(client: EtcdClient): Promise<string[]> {
  return ((await client.call('auth/user/list', {})).users ?? []) as string[]
}

export async function roleList(client: EtcdClient): Promise<string[]> {
  return ((await client.call('auth/role/list', {})).roles ?? []) as string[]
}

export async function userAdd(client: EtcdClient, name: string, password: string): Promise<void> {
  await client.call('auth/user/add', { name, password })
}

export async function userDelete(client: EtcdClient, name: string): Promise<void> {
  await client.call('auth/user/delete', { name })
}

export async function roleAdd(client: EtcdClient, name: string): Promise<void> {
  await client.call('auth/role/add', { name })
}

export async function roleDelete(client: EtcdClient, role: string): Promise<void> {
  await client.call('auth/role/delete', { role })
}

export async function grantRole(client: EtcdClient, user: string, role: string): Promise<void> {
  await client.call('auth/user/grant', { user, role })
}

export async function revokeRole(client: EtcdClient, name: string, role: string): Promise<void> {
  await client.call('auth/user/revoke', { name, role })
}

export async function grantPermission(client: EtcdClient, role: string, perm: Permission): Promise<void> {
  await client.call('auth/role/grant', {
    name: role,
    perm: { permType: perm.type, key: toBase64(perm.key), ...(perm.rangeEnd.length === 0 ? {} : { range_end: toBase64(perm.rangeEnd) }) },
  })
}

export async function revokePermission(client: EtcdClient, role: string, perm: Permission): Promise<void> {
  await client.call('auth/role/revoke', {
    role,
    key: toBase64(perm.key),
    ...(perm.rangeEnd.length === 0 ? {} : { range_end: toBase64(perm.rangeEnd) }),
  })
}

export async function setAuth(client: EtcdClient, enabled: boolean): Promise<void> {
  await client.call(enabled ? 'auth/enable' : 'auth/disable', {})
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** covers tells whether a permission's keys include `key`, as etcd reads a permission's range. */
export function covers(perm: Permission, key: Uint8Array): boolean {
  if (perm.rangeEnd.length === 0) return compare(perm.key, key) === 0
  if (perm.rangeEnd.length === 1 && perm.rangeEnd[0] === 0) return compare(key, perm.key) >= 0
  return compare(key, perm.key) >= 0 && compare(key, perm.rangeEnd) < 0
}

/** allows answers "may a user with these permissions read (or write) this key?" as etcd decides it. */
export function allows(access: { permissions: readonly Permission[]; root: boolean }, key: Uint8Array, want: 'read' | 'write'): boolean {
  if (access.root) return true
  const kinds: PermType[] = want === 'read' ? ['READ', 'READWRITE'] : ['WRITE', 'READWRITE']
  return access.permissions.some((p) => kinds.includes(p.type) && covers(p, key))
}
