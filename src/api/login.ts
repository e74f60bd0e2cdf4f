import type { Auth, CallCredentials } from '../messages/auth.ts'
import type { BidiStream } from '../messages/stream.ts'
import { isEtcdError } from '../util/errors.ts'
import type { Services } from './services.ts'

/** Login is a user name and password to sign in with (`open({ user, password })`, `connect({ user, password })`). */
export interface Login {
  readonly user: string
  readonly password: string
}

/**
 * signedIn wraps a services level so that every call carries a token from signing in as `login`, as etcd's clients
 * do: the first call authenticates; a call refused for its token ("invalid auth token": expired, or auth was turned
 * off and on, or the password changed) signs in again and is tried once more. While auth is off, Authenticate answers
 * "authentication is not enabled" and calls go without a token, as clientv3's do.
 */
export function signedIn(services: Services, login: Login): Services {
  const session = new Session(services.auth, login)
  const call =
    <A extends unknown[], R>(fn: (...args: [...A, CallCredentials | undefined]) => Promise<R>) =>
    (...args: A): Promise<R> =>
      session.call((credentials) => fn(...args, credentials))
  const { kv, lease, watch, maintenance, cluster, auth } = services
  return {
    kv: {
      range: call((r, c) => kv.range(r, c)),
      put: call((r, c) => kv.put(r, c)),
      deleteRange: call((r, c) => kv.deleteRange(r, c)),
      txn: call((r, c) => kv.txn(r, c)),
      compact: call((r, c) => kv.compact(r, c)),
    },
    lease: {
      leaseGrant: call((r, c) => lease.leaseGrant(r, c)),
      leaseRevoke: call((r, c) => lease.leaseRevoke(r, c)),
      leaseTimeToLive: call((r, c) => lease.leaseTimeToLive(r, c)),
      leaseLeases: (r = {}) => session.call((c) => lease.leaseLeases(r, c)),
      leaseKeepAlive: () => lazyStream(session.credentials().then((c) => lease.leaseKeepAlive(c))),
    },
    watch: { watch: () => lazyStream(session.credentials().then((c) => watch.watch(c))) },
    maintenance: {
      status: (r = {}) => session.call((c) => maintenance.status(r, c)),
      alarm: call((r, c) => maintenance.alarm(r, c)),
      defragment: (r = {}) => session.call((c) => maintenance.defragment(r, c)),
      hash: (r = {}) => session.call((c) => maintenance.hash(r, c)),
      hashKV: call((r, c) => maintenance.hashKV(r, c)),
    },
    cluster: { memberList: (r = {}) => session.call((c) => cluster.memberList(r, c)) },
    auth: signedInAuth(auth, session),
  }
}

/**
 * asCaller wraps a services level so that every call carries the given credentials, those of a request being served:
 * the lock and election services act through the recipes with the caller's own rights, as etcd's do.
 */
export function asCaller(services: Services, credentials: CallCredentials | undefined): Services {
  if (credentials === undefined) return services
  const { kv, lease, watch, maintenance, cluster, auth } = services
  const authCalls: Record<string, unknown> = {}
  for (const name of Object.keys(AUTH_METHODS) as (keyof Auth)[]) {
    const method = (auth[name] as (r: unknown, c?: CallCredentials) => Promise<unknown>).bind(auth)
    authCalls[name] = (r: unknown = {}) => method(r, credentials)
  }
  return {
    kv: {
      range: (r) => kv.range(r, credentials),
      put: (r) => kv.put(r, credentials),
      deleteRange: (r) => kv.deleteRange(r, credentials),
      txn: (r) => kv.txn(r, credentials),
      compact: (r) => kv.compact(r, credentials),
    },
    lease: {
      leaseGrant: (r) => lease.leaseGrant(r, credentials),
      leaseRevoke: (r) => lease.leaseRevoke(r, credentials),
      leaseTimeToLive: (r) => lease.leaseTimeToLive(r, credentials),
      leaseLeases: (r = {}) => lease.leaseLeases(r, credentials),
      leaseKeepAlive: () => lease.leaseKeepAlive(credentials),
    },
    watch: { watch: () => watch.watch(credentials) },
    maintenance: {
      status: (r = {}) => maintenance.status(r, credentials),
      alarm: (r) => maintenance.alarm(r, credentials),
      defragment: (r = {}) => maintenance.defragment(r, credentials),
      hash: (r = {}) => maintenance.hash(r, credentials),
      hashKV: (r) => maintenance.hashKV(r, credentials),
    },
    cluster: { memberList: (r = {}) => cluster.memberList(r, credentials) },
    auth: authCalls as unknown as Auth,
  }
}

function signedInAuth(auth: Auth, session: Session): Auth {
  const wrapped: Record<string, unknown> = {}
  for (const name of Object.keys(AUTH_METHODS) as (keyof Auth)[]) {
    const method = (auth[name] as (r: unknown, c?: CallCredentials) => Promise<unknown>).bind(auth)
    wrapped[name] = name === 'authenticate' ? method : (r: unknown = {}) => session.call((c) => method(r, c))
  }
  return wrapped as unknown as Auth
}

/** AUTH_METHODS names every method of the Auth service. */
const AUTH_METHODS: Record<keyof Auth, true> = {
  authEnable: true,
  authDisable: true,
  authStatus: true,
  authenticate: true,
  userAdd: true,
  userGet: true,
  userList: true,
  userDelete: true,
  userChangePassword: true,
  userGrantRole: true,
  userRevokeRole: true,
  roleAdd: true,
  roleGet: true,
  roleList: true,
  roleDelete: true,
  roleGrantPermission: true,
  roleRevokePermission: true,
}

/** Session holds the token of a login and gets a new one when the old one is refused. */
class Session {
  #token: Promise<string | undefined> | undefined

  constructor(
    readonly auth: Auth,
    readonly login: Login,
  ) {}

  /** credentials signs in (once; again after `#token` is dropped) and returns what calls carry. */
  async credentials(): Promise<CallCredentials | undefined> {
    this.#token ??= this.auth.authenticate({ name: this.login.user, password: this.login.password }).then(
      (r) => r.token,
      (err: unknown) => {
        if (isEtcdError(err, 'ETCD_AUTH_NOT_ENABLED')) return undefined
        this.#token = undefined
        throw err
      },
    )
    const token = await this.#token
    return token === undefined ? undefined : { token }
  }

  async call<R>(fn: (credentials: CallCredentials | undefined) => Promise<R>): Promise<R> {
    const credentials = await this.credentials()
    try {
      return await fn(credentials)
    } catch (err) {
      // A stale token, or auth turned on since we found it off: sign in again and try once more.
      const stale = isEtcdError(err, 'ETCD_INVALID_AUTH_TOKEN') || (credentials === undefined && isEtcdError(err, 'ETCD_USER_EMPTY'))
      if (!stale) throw err
      // Unless another call has signed in again meanwhile.
      if ((await this.#token?.catch(() => undefined)) === credentials?.token) this.#token = undefined
      return fn(await this.credentials())
    }
  }
}

/** lazyStream is a stream opened once `opening` resolves; requests sent before then wait for it. */
function lazyStream<Req, Res>(opening: Promise<BidiStream<Req, Res>>): BidiStream<Req, Res> {
  let stream: BidiStream<Req, Res> | undefined
  let closed = false
  const queued: Req[] = []
  const ready = opening.then((s) => {
    stream = s
    for (const r of queued.splice(0)) s.send(r)
    if (closed) s.close()
    return s
  })
  ready.catch(() => undefined)
  return {
    send(request: Req) {
      if (closed) throw new TypeError('the stream is closed')
      if (stream === undefined) queued.push(request)
      else stream.send(request)
    },
    close() {
      closed = true
      stream?.close()
    },
    [Symbol.asyncIterator](): AsyncIterator<Res> {
      let it: AsyncIterator<Res> | undefined
      const iterator = async () => (it ??= (await ready)[Symbol.asyncIterator]())
      return {
        next: async () => (await iterator()).next(),
        return: async () => {
          closed = true
          if (stream !== undefined) return (await iterator()).return?.() ?? { value: undefined, done: true }
          return { value: undefined, done: true }
        },
      }
    },
  }
}
