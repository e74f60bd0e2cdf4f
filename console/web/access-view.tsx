import { useEffect, useState } from 'preact/hooks'
import { escapeBytes, prefixEnd, unescapeBytes } from './bytes.ts'
import type { EtcdClient } from './etcd-client.ts'
import { errorText } from './error-text.ts'
import {
  allows,
  grantPermission,
  grantRole,
  PERM_TYPES,
  revokePermission,
  revokeRole,
  roleAdd,
  roleDelete,
  roleList,
  rolePermissions,
  setAuth,
  userAccess,
  userAdd,
  userDelete,
  userList,
  userRoles,
  type Permission,
  type PermType,
} from './auth-client.ts'

/**
 * AccessView edits etcd's users, roles and permissions, switches auth on and off, and answers "can user X read or
 * write key Y?" from that user's roles as etcd would decide it. Editing needs root once auth is on; etcd says so.
 */
export function AccessView(props: { client: EtcdClient }) {
  const { client } = props
  const [users, setUsers] = useState<{ name: string; roles: string[] }[]>([])
  const [roles, setRoles] = useState<{ name: string; perms: Permission[] }[]>([])
  const [enabled, setEnabled] = useState<boolean | undefined>(undefined)
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')
  const [generation, setGeneration] = useState(0)

  useEffect(() => {
    const load = async () => {
      setEnabled(await client.authEnabled())
      const names = await userList(client)
      setUsers(await Promise.all(names.map(async (name) => ({ name, roles: await userRoles(client, name) }))))
      const roleNames = await roleList(client)
      setRoles(await Promise.all(roleNames.map(async (name) => ({ name, perms: name === 'root' ? [] : await rolePermissions(client, name) }))))
    }
    load().then(
      () => setError(''),
      (err) => setError(errorText(err)),
    )
  }, [generation])

  const act = (what: Promise<unknown>, done: string) =>
    what.then(
      () => {
        setError('')
        setNotice(done)
        setGeneration((g) => g + 1)
      },
      (err) => setError(errorText(err)),
    )

  return (
    <section class="access-editor" aria-label="Users and roles">
      <p>
        Auth is {enabled === undefined ? '…' : enabled ? 'enabled' : 'disabled'}.{' '}
        {enabled === false && <button onClick={() => void act(setAuth(client, true), 'Auth enabled.')}>Enable auth</button>}
        {enabled === true && <button onClick={() => void act(setAuth(client, false), 'Auth disabled.')}>Disable auth</button>}
      </p>
      {error !== '' && <p role="alert">{error}</p>}
      {notice !== '' && <p role="status">{notice}</p>}
      <div class="columns">
        <div>
          <h3>Users</h3>
          <table aria-label="Users">
            <tbody>
              {users.map((u) => (
                <tr>
                  <td>{u.name}</td>
                  <td>
                    {u.roles.map((r) => (
                      <button title="revoke this role" onClick={() => void act(revokeRole(client, u.name, r), `Revoked ${r} from ${u.name}.`)}>
                        {r} ✕
                      </button>
                    ))}
                  </td>
                  <td>
                    <button onClick={() => void act(userDelete(client, u.name), `Deleted user ${u.name}.`)}>Delete user {u.name}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <TwoFieldForm label="Add user" first="Name" second="Password" secret onSubmit={(a, b) => act(userAdd(client, a, b), `Added user ${a}.`)} />
          <TwoFieldForm label="Grant role" first="User" second="Role" onSubmit={(a, b) => act(grantRole(client, a, b), `Granted ${b} to ${a}.`)} />
        </div>
        <div>
          <h3>Roles</h3>
          <table aria-label="Roles">
            <tbody>
              {roles.map((r) => (
                <tr>
                  <td>{r.name}</td>
                  <td>
                    {r.name === 'root' && 'every key, and administration'}
                    {r.perms.map((p) => (
                      <button title="revoke this permission" onClick={() => void act(revokePermission(client, r.name, p), `Revoked a permission of ${r.name}.`)}>
                        {permissionText(p)} ✕
                      </button>
                    ))}
                  </td>
                  <td>
                    <button onClick={() => void act(roleDelete(client, r.name), `Deleted role ${r.name}.`)}>Delete role {r.name}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <TwoFieldForm label="Add role" first="Role name" onSubmit={(a) => act(roleAdd(client, a), `Added role ${a}.`)} />
          <GrantPermissionForm onSubmit={(role, perm) => act(grantPermission(client, role, perm), `Granted a permission to ${role}.`)} />
        </div>
      </div>
      <AccessCheck client={client} />
    </section>
  )
}

/** permissionText names a permission: its kind and its keys ("app/*" for a prefix, "[a, b)" for a range). */
export function permissionText(p: Permission): string {
  const key = escapeBytes(p.key)
  if (p.rangeEnd.length === 0) return `${p.type} ${key}`
  if (escapeBytes(prefixEnd(p.key)) === escapeBytes(p.rangeEnd)) return `${p.type} ${key}*`
  return `${p.type} [${key}, ${p.rangeEnd.length === 1 && p.rangeEnd[0] === 0 ? '∞' : escapeBytes(p.rangeEnd)})`
}

function TwoFieldForm(props: { label: string; first: string; second?: string; secret?: boolean; onSubmit: (a: string, b: string) => Promise<unknown> }) {
  const [a, setA] = useState('')
  const [b, setB] = useState('')
  return (
    <form
      aria-label={props.label}
      onSubmit={(e) => {
        e.preventDefault()
        void props.onSubmit(a, b)
      }}
    >
      <label>
        {props.first} <input value={a} onInput={(e) => setA(e.currentTarget.value)} />
      </label>
      {props.second !== undefined && (
        <label>
          {props.second}{' '}
          {props.secret === true ? (
            <input type="password" value={b} onInput={(e) => setB(e.currentTarget.value)} />
          ) : (
            <input value={b} onInput={(e) => setB(e.currentTarget.value)} />
          )}
        </label>
      )}
      <button type="submit">{props.label}</button>
    </form>
  )
}

function GrantPermissionForm(props: { onSubmit: (role: string, perm: Permission) => Promise<unknown> }) {
  const [role, setRole] = useState('')
  const [type, setType] = useState<PermType>('READ')
  const [key, setKey] = useState('')
  const [prefix, setPrefix] = useState(true)
  return (
    <form
      aria-label="Grant permission"
      onSubmit={(e) => {
        e.preventDefault()
        const k = unescapeBytes(key)
        void props.onSubmit(role, { type, key: k, rangeEnd: prefix ? prefixEnd(k) : new Uint8Array(0) })
      }}
    >
      <label>
        To role <input value={role} onInput={(e) => setRole(e.currentTarget.value)} />
      </label>
      <label>
        Permission{' '}
        <select value={type} onChange={(e) => setType(e.currentTarget.value as PermType)}>
          {PERM_TYPES.map((t) => (
            <option value={t}>{t}</option>
          ))}
        </select>
      </label>
      <label>
        On key <input value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      </label>
      <label>
        <input type="checkbox" checked={prefix} onChange={(e) => setPrefix(e.currentTarget.checked)} /> and every key under it
      </label>
      <button type="submit">Grant permission</button>
    </form>
  )
}

/** AccessCheck answers whether a user may read and write a key, from the user's roles. */
function AccessCheck(props: { client: EtcdClient }) {
  const [user, setUser] = useState('')
  const [key, setKey] = useState('')
  const [answer, setAnswer] = useState('')
  const [error, setError] = useState('')
  return (
    <form
      aria-label="Check access"
      onSubmit={(e) => {
        e.preventDefault()
        setError('')
        userAccess(props.client, user).then(
          (access) => {
            const k = unescapeBytes(key)
            const yes = (b: boolean) => (b ? 'yes' : 'no')
            setAnswer(`${user} on “${key}”: read ${yes(allows(access, k, 'read'))}, write ${yes(allows(access, k, 'write'))}`)
          },
          (err) => (setAnswer(''), setError(errorText(err))),
        )
      }}
    >
      <h3>Check access</h3>
      <label>
        Can user <input value={user} onInput={(e) => setUser(e.currentTarget.value)} />
      </label>
      <label>
        read or write key <input value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      </label>
      <button type="submit">Check</button>
      {answer !== '' && <p role="status">{answer}</p>}
      {error !== '' && <p role="alert">{error}</p>}
    </form>
  )
}
