import type { CallCredentials } from '../messages/auth.ts'
import type { KvAccess, KeyRange } from '../mvcc/kv-access.ts'
import { EtcdError, type EtcdErrorCode } from '../util/errors.ts'
import type { AuthStore } from './auth-store.ts'

/** kvAccess is the KV, lease and watch permission check over an AuthStore. */
export function kvAccess(store: AuthStore): KvAccess {
  // A plain field, kept in step with the store: the KV hot path reads it on every request.
  const access = {
    enabled: store.enabled,
    check(credentials: CallCredentials | undefined, reads: readonly KeyRange[], writes: readonly KeyRange[]): void {
      const info = store.authInfo(credentials)
      if (info === undefined) return
      for (const [key, end] of reads) if (!store.canRead(info.user, key, end)) throw new EtcdError('ETCD_PERMISSION_DENIED')
      for (const [key, end] of writes) if (!store.canWrite(info.user, key, end)) throw new EtcdError('ETCD_PERMISSION_DENIED')
    },
    checkToken: (credentials: CallCredentials | undefined) => checkToken(store, credentials),
  }
  store.onSwitch((enabled) => (access.enabled = enabled))
  return access
}

/** checkToken refuses an invalid token (any token while auth is off), as etcd does on calls it checks no permission on. */
function checkToken(store: AuthStore, credentials: CallCredentials | undefined): void {
  if (credentials?.token !== undefined) store.authInfo(credentials)
}

/** RAW: etcd 3.4 answers the admin-only Maintenance calls with the auth package's own errors, as code Unknown. */
const RAW: Partial<Record<EtcdErrorCode, EtcdErrorCode>> = {
  ETCD_USER_EMPTY: 'ETCD_MAINTENANCE_USER_EMPTY',
  ETCD_PERMISSION_DENIED: 'ETCD_MAINTENANCE_PERMISSION_DENIED',
  ETCD_INVALID_AUTH_TOKEN: 'ETCD_MAINTENANCE_INVALID_TOKEN',
}

/** maintenanceAdmin checks a Hash, HashKV, Defragment or Snapshot call: the root role, once auth is on. */
export function maintenanceAdmin(store: AuthStore): (credentials: CallCredentials | undefined) => void {
  return (credentials) => {
    if (!store.enabled && credentials?.token === undefined) return
    raw(() => store.checkAdmin(credentials))
  }
}

/** maintenanceToken checks the token of an Alarm call, which needs no permission (etcd answers in raw errors). */
export function maintenanceToken(store: AuthStore): (credentials: CallCredentials | undefined) => void {
  return (credentials) => raw(() => checkToken(store, credentials))
}

function raw(check: () => void): void {
  try {
    check()
  } catch (err) {
    const code = err instanceof EtcdError ? RAW[err.code] : undefined
    throw code === undefined ? err : new EtcdError(code)
  }
}
