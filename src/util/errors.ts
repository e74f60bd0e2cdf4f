/**
 * errorCatalog lists every error etcdlite raises on purpose: a stable code, etcd's own message text, and the gRPC
 * status etcd answers with. The message is what etcd's server logic produces (the mvcc ones without the
 * "etcdserver: " prefix that the gRPC layer adds); `wireMessage` is the text clients see over gRPC, and clients match
 * on it, so it must stay byte-for-byte etcd's.
 */
export const errorCatalog = {
  ETCD_EMPTY_KEY: { message: 'etcdserver: key is not provided', grpc: 'INVALID_ARGUMENT' },
  ETCD_KEY_NOT_FOUND: { message: 'etcdserver: key not found', grpc: 'INVALID_ARGUMENT' },
  ETCD_VALUE_PROVIDED: { message: 'etcdserver: value is provided', grpc: 'INVALID_ARGUMENT' },
  ETCD_LEASE_PROVIDED: { message: 'etcdserver: lease is provided', grpc: 'INVALID_ARGUMENT' },
  ETCD_TOO_MANY_OPS: { message: 'etcdserver: too many operations in txn request', grpc: 'INVALID_ARGUMENT' },
  ETCD_DUPLICATE_KEY: { message: 'etcdserver: duplicate key given in txn request', grpc: 'INVALID_ARGUMENT' },
  ETCD_INVALID_SORT_OPTION: { message: 'etcdserver: invalid sort option', grpc: 'INVALID_ARGUMENT' },
  ETCD_REQUEST_TOO_LARGE: { message: 'etcdserver: request is too large', grpc: 'INVALID_ARGUMENT' },
  ETCD_COMPACTED: { message: 'mvcc: required revision has been compacted', grpc: 'OUT_OF_RANGE' },
  ETCD_FUTURE_REV: { message: 'mvcc: required revision is a future revision', grpc: 'OUT_OF_RANGE' },
  ETCD_LEASE_NOT_FOUND: { message: 'etcdserver: requested lease not found', grpc: 'NOT_FOUND' },
  ETCD_LEASE_EXISTS: { message: 'etcdserver: lease already exists', grpc: 'FAILED_PRECONDITION' },
  ETCD_LEASE_TTL_TOO_LARGE: { message: 'etcdserver: too large lease TTL', grpc: 'OUT_OF_RANGE' },
  ETCD_STOPPED: { message: 'etcdserver: server stopped', grpc: 'UNAVAILABLE' },
  ETCD_TIMEOUT: { message: 'etcdserver: request timed out', grpc: 'UNAVAILABLE' },
  // What a member of a real cluster answers while the cluster cannot serve (no leader, an election, overload):
  // etcdlite alone never raises them; connect() passes them on as a real cluster sends them. The member answered,
  // so it is not an unreachable endpoint.
  ETCD_NO_LEADER: { message: 'etcdserver: no leader', grpc: 'UNAVAILABLE' },
  ETCD_NOT_LEADER: { message: 'etcdserver: not leader', grpc: 'FAILED_PRECONDITION' },
  ETCD_LEADER_CHANGED: { message: 'etcdserver: leader changed', grpc: 'UNAVAILABLE' },
  ETCD_NOT_CAPABLE: { message: 'etcdserver: not capable', grpc: 'UNAVAILABLE' },
  ETCD_TIMEOUT_LEADER_FAIL: { message: 'etcdserver: request timed out, possibly due to previous leader failure', grpc: 'UNAVAILABLE' },
  ETCD_TIMEOUT_CONNECTION_LOST: { message: 'etcdserver: request timed out, possibly due to connection lost', grpc: 'UNAVAILABLE' },
  ETCD_TIMEOUT_WAIT_APPLIED_INDEX: {
    message: 'etcdserver: request timed out, waiting for the applied index took too long',
    grpc: 'UNAVAILABLE',
  },
  ETCD_UNHEALTHY: { message: 'etcdserver: unhealthy cluster', grpc: 'UNAVAILABLE' },
  ETCD_TOO_MANY_REQUESTS: { message: 'etcdserver: too many requests', grpc: 'RESOURCE_EXHAUSTED' },
  ETCD_NO_SPACE: { message: 'etcdserver: mvcc: database space exceeded', grpc: 'RESOURCE_EXHAUSTED' },
  // Authentication and authorization, with etcd 3.4's texts and codes.
  ETCD_USER_EMPTY: { message: 'etcdserver: user name is empty', grpc: 'INVALID_ARGUMENT' },
  ETCD_ROLE_EMPTY: { message: 'etcdserver: role name is empty', grpc: 'INVALID_ARGUMENT' },
  ETCD_AUTH_FAILED: { message: 'etcdserver: authentication failed, invalid user ID or password', grpc: 'INVALID_ARGUMENT' },
  ETCD_INVALID_AUTH_MGMT: { message: 'etcdserver: invalid auth management', grpc: 'INVALID_ARGUMENT' },
  ETCD_USER_EXISTS: { message: 'etcdserver: user name already exists', grpc: 'FAILED_PRECONDITION' },
  ETCD_USER_NOT_FOUND: { message: 'etcdserver: user name not found', grpc: 'FAILED_PRECONDITION' },
  ETCD_ROLE_EXISTS: { message: 'etcdserver: role name already exists', grpc: 'FAILED_PRECONDITION' },
  ETCD_ROLE_NOT_FOUND: { message: 'etcdserver: role name not found', grpc: 'FAILED_PRECONDITION' },
  ETCD_ROLE_NOT_GRANTED: { message: 'etcdserver: role is not granted to the user', grpc: 'FAILED_PRECONDITION' },
  ETCD_PERMISSION_NOT_GRANTED: { message: 'etcdserver: permission is not granted to the role', grpc: 'FAILED_PRECONDITION' },
  ETCD_AUTH_NOT_ENABLED: { message: 'etcdserver: authentication is not enabled', grpc: 'FAILED_PRECONDITION' },
  ETCD_ROOT_USER_MISSING: { message: 'etcdserver: root user does not exist', grpc: 'FAILED_PRECONDITION' },
  ETCD_ROOT_ROLE_MISSING: { message: 'etcdserver: root user does not have root role', grpc: 'FAILED_PRECONDITION' },
  ETCD_PERMISSION_DENIED: { message: 'etcdserver: permission denied', grpc: 'PERMISSION_DENIED' },
  ETCD_INVALID_AUTH_TOKEN: { message: 'etcdserver: invalid auth token', grpc: 'UNAUTHENTICATED' },
  // etcd 3.4 lets these through untranslated, as code Unknown with the auth package's own "auth: " text: logging in
  // as a user without a password, and the admin-only Maintenance calls (hash, hashKV, defragment, snapshot).
  ETCD_NO_PASSWORD_USER: { message: 'auth: authentication failed, password was given for no password user', grpc: 'UNKNOWN' },
  ETCD_MAINTENANCE_USER_EMPTY: { message: 'auth: user name is empty', grpc: 'UNKNOWN' },
  ETCD_MAINTENANCE_PERMISSION_DENIED: { message: 'auth: permission denied', grpc: 'UNKNOWN' },
  ETCD_MAINTENANCE_INVALID_TOKEN: { message: 'auth: invalid auth token', grpc: 'UNKNOWN' },
  // The concurrency recipes (etcd's Go concurrency package), and the v3lock / v3election services built on them,
  // which etcd 3.4 answers as code Unknown with these texts.
  ETCD_LOCK_RELEASED: { message: 'mutex: lock has already been released', grpc: 'UNKNOWN' },
  ETCD_SESSION_EXPIRED: { message: 'mutex: session is expired', grpc: 'UNKNOWN' },
  ETCD_ELECTION_NO_LEADER: { message: 'election: no leader', grpc: 'UNKNOWN' },
  ETCD_ELECTION_NOT_LEADER: { message: 'election: not leader', grpc: 'UNKNOWN' },
  ETCD_ELECTION_MISSING_LEADER: { message: '"leader" field must be provided', grpc: 'UNKNOWN' },
  // etcdlite's own: a remote connection none of whose endpoints answers.
  ETCD_UNAVAILABLE: { message: 'etcdlite: no endpoint is reachable', grpc: 'UNAVAILABLE' },
  // etcdlite's own: the data directory and the disk under it. Messages name the directory.
  ETCD_DATA_DIR_LOCKED: { message: 'etcdlite: the data directory is in use', grpc: 'UNAVAILABLE' },
  ETCD_DATA_DIR_INVALID: { message: 'etcdlite: not an etcdlite data directory', grpc: 'FAILED_PRECONDITION' },
  ETCD_DATA_DIR_NEWER_FORMAT: {
    message: 'etcdlite: the data directory was written by a newer etcdlite',
    grpc: 'FAILED_PRECONDITION',
  },
  ETCD_BACKEND_FAILED: { message: 'etcdlite: writing to the data directory failed', grpc: 'UNAVAILABLE' },
  // etcdlite's own: a snapshot file (etcd's bbolt or etcdlite's) that cannot be read. Messages name the problem.
  ETCD_SNAPSHOT_INVALID: { message: 'etcdlite: invalid snapshot', grpc: 'INVALID_ARGUMENT' },
} as const

/** EtcdErrorCode is the stable, documented code of an EtcdError. */
export type EtcdErrorCode = keyof typeof errorCatalog

/** GrpcStatusName is the gRPC status etcd answers with for an error. */
export type GrpcStatusName = (typeof errorCatalog)[EtcdErrorCode]['grpc']

/**
 * EtcdError is every error that etcd itself would answer: bad requests, compacted or future revisions, missing
 * leases, a stopped engine. `code` is stable; `message` is etcd's text.
 *
 * @example
 * try { await etcd.get('k', { revision: 1 }) }
 * catch (err) { if (err instanceof EtcdError && err.code === 'ETCD_COMPACTED') { ... } }
 */
export class EtcdError extends Error {
  /** code identifies the error; it never changes between releases. */
  readonly code: EtcdErrorCode
  /** grpcStatus is the gRPC status etcd sends for this error. */
  readonly grpcStatus: GrpcStatusName

  constructor(code: EtcdErrorCode, message: string = errorCatalog[code].message) {
    super(message)
    this.name = 'EtcdError'
    this.code = code
    this.grpcStatus = errorCatalog[code].grpc
  }

  /** wireMessage is the message as etcd's gRPC layer sends it: prefixed "etcdserver: ", except the raw Unknown ones. */
  get wireMessage(): string {
    return this.message.startsWith('etcdserver: ') || this.grpcStatus === 'UNKNOWN' ? this.message : `etcdserver: ${this.message}`
  }
}

/** isEtcdError tells whether `err` is an EtcdError, optionally with the given code. */
export function isEtcdError(err: unknown, code?: EtcdErrorCode): err is EtcdError {
  return err instanceof EtcdError && (code === undefined || err.code === code)
}
