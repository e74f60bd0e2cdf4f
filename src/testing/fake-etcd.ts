import { open, type Engine, type OpenOptions } from '../api/engine.ts'
import { currentServices } from '../server/current-services.ts'
import { serve, type Serving } from '../server/serve.ts'
import { ManualClock, systemClock, type Clock } from '../util/clock.ts'
import { createTap } from './call-tap.ts'
import { endStreams, localFace, mockOver, type Etcd3Mock, type Etcd3MockOptions, type LocalFace } from './etcd3-mock.ts'
import { DEFAULT_ROOT_PASSWORD, setUpAuth, type FakeAuthOptions } from './fake-auth.ts'
import { prepareTls, type FakeTls, type FakeTlsOptions, type PreparedTls } from './fake-tls.ts'
import { withDeadMember } from './dead-member.ts'
import { Faults } from './faults.ts'
import { RequestLog } from './requests.ts'
import { applySeed, type Seed } from './seed.ts'

/** FakeEtcdOptions configure `fakeEtcd()`. Every field is optional. */
export interface FakeEtcdOptions
  extends Pick<OpenOptions, 'name' | 'maxTxnOps' | 'maxRequestBytes' | 'minLeaseTtl' | 'watchProgressIntervalMs' | 'authTokenTtl'> {
  /**
   * clock drives lease expiry, token expiry and watch progress: a ManualClock that the test moves
   * (`await fake.clock.advance(ms)`), or 'real' for the system clock. @default a new ManualClock
   */
  clock?: ManualClock | 'real'
  /** seed: keys loaded before fakeEtcd() resolves (see Seed). */
  seed?: Seed
  /** auth: users and roles, with auth enabled, for code that must log in (see FakeAuthOptions). @default auth off */
  auth?: FakeAuthOptions
  /**
   * tls: serve over TLS with certificates made at start (a CA, a server certificate for 127.0.0.1 and localhost, a
   * client certificate), handed to clients in `fake.tls`; `{ clientCertAuth: true }` requires the client
   * certificate (mutual TLS). @default plaintext
   */
  tls?: true | FakeTlsOptions
  /** record: keep `fake.requests`. Off, requests pass with no recording cost. @default true */
  record?: boolean
}

/**
 * FakeEtcd is a served, in-memory etcd for tests: point any etcd client at `endpoint`. Break it with `faults`, see
 * what reached it in `requests`, check its keys with `dump()`, empty it with `reset()`.
 */
export interface FakeEtcd<C extends Clock = ManualClock> extends AsyncDisposable {
  /** endpoint is `127.0.0.1:port`: a client's `hosts` / `--endpoints`. It stays the same across reset(). */
  readonly endpoint: string
  /** url is `http://127.0.0.1:port`, `https://` with `tls` (the JSON gateway, /health, /metrics and the same gRPC port). */
  readonly url: string
  /** tls: the CA and client certificate to connect with, when the fake was made with `tls` (see FakeTls). */
  readonly tls: FakeTls | undefined
  /** engine is the engine served now; reset() replaces it. With `auth`, it is signed in as root. */
  readonly engine: Engine
  /** clock is the fake's clock (a ManualClock unless `clock: 'real'`), the same across reset(). */
  readonly clock: C
  /** faults: fault injection rules (see Faults). */
  readonly faults: Faults
  /** requests: every request that reached the fake, in order (see RequestLog); empty when `record: false`. */
  readonly requests: RequestLog
  /** server is the running server underneath. */
  readonly server: Serving
  /**
   * dump reads the current keys under `prefix` (every key by default) as a plain object of key -> value, both as
   * UTF-8 strings, for `expect(await fake.dump()).toEqual({...})`.
   */
  dump(prefix?: string): Promise<Record<string, string>>
  /**
   * reset empties the fake: a new store at revision 1 on the same port, `seed` (if given) loaded into it; the
   * creation seed is not applied again, the auth setup is. Fault rules and recorded requests are cleared; open watch
   * and keepalive streams and calls held by faults end with UNAVAILABLE "etcdserver: server stopped", as from a member
   * that restarted, and clients reconnect to the new store. Fast: a new in-memory engine, no new socket.
   */
  reset(seed?: Seed): Promise<void>
  /**
   * etcd3Mock answers an etcd3 client in process, with no socket (`client.mock(fake.etcd3Mock())`): the same
   * handlers, engine, faults and recording as the served endpoint. reset() and close() end its open streams as they
   * end the server's.
   */
  etcd3Mock(options?: Etcd3MockOptions): Etcd3Mock
  /** close stops the server and the engine. Idempotent. */
  close(): Promise<void>
}

/**
 * fakeEtcd starts a fake etcd for tests in one call: in memory, served on 127.0.0.1 on a free port, on a ManualClock,
 * with fault injection and request recording.
 *
 * @example
 * await using fake = await fakeEtcd({ seed: { 'config/port': '8080' } })
 * const client = new Etcd3({ hosts: fake.endpoint })
 * fake.faults.add({ method: 'KV.Put', fault: 'no-leader', times: 1 })
 */
export async function fakeEtcd(options: FakeEtcdOptions & { clock: 'real' }): Promise<FakeEtcd<Clock>>
export async function fakeEtcd(options?: FakeEtcdOptions): Promise<FakeEtcd<ManualClock>>
export async function fakeEtcd(options: FakeEtcdOptions = {}): Promise<FakeEtcd<Clock>> {
  const { clock: clockOption, seed, auth, record, tls: tlsOption, ...engineOptions } = options
  if (clockOption !== undefined && clockOption !== 'real' && !(clockOption instanceof ManualClock)) {
    throw new TypeError("fakeEtcd: clock must be a ManualClock or 'real'")
  }
  const clock: Clock = clockOption === 'real' ? systemClock : (clockOption ?? new ManualClock())
  const login = auth === undefined ? {} : { user: 'root', password: auth.rootPassword ?? DEFAULT_ROOT_PASSWORD }

  const fresh = async (s: Seed | undefined): Promise<Engine> => {
    const engine = await open({ ...engineOptions, ...login, clock })
    try {
      if (auth !== undefined) await setUpAuth(engine, auth)
      if (s !== undefined) await applySeed(engine, s)
    } catch (err) {
      await engine.close()
      throw err
    }
    return engine
  }

  const tls: PreparedTls | undefined = tlsOption === undefined ? undefined : prepareTls(tlsOption)
  const faults = new Faults()
  const requests = new RequestLog()
  let first: Engine
  try {
    first = await fresh(seed)
  } catch (err) {
    tls?.remove()
    throw err
  }
  let server: Serving
  const tap = createTap({ faults, ...(record === false ? {} : { requests }), engine: () => server.engine })
  try {
    server = await serve({
      ...(tls === undefined ? {} : { tls: tls.server }),
      engine: first,
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 1_000,
      maxRequestBytes: engineOptions.maxRequestBytes,
      tap: withDeadMember(tap, faults),
    })
  } catch (err) {
    tls?.remove()
    await first.close()
    throw err
  }

  // The mock's face: the server's handlers again, over whichever engine is served, through the same tap.
  let face: LocalFace | undefined
  const mockFace = () =>
    (face ??= localFace(
      { services: currentServices(() => server.engine.services), clientUrls: () => [...server.urls], snapshot: (c) => server.engine.snapshot(c) },
      (service, impl) => tap.wrap(service, impl),
    ))

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      faults.clear()
      if (face !== undefined) endStreams(face)
      await server.close()
      await server.engine.close()
      tls?.remove()
    })()
    return closing
  }
  return {
    endpoint: server.endpoint,
    url: server.urls[0]!,
    tls: tls?.client,
    get engine() {
      return server.engine
    },
    clock,
    faults,
    requests,
    server,
    dump: (prefix) => dump(server.engine, prefix),
    async reset(next) {
      faults.clear()
      const engine = await fresh(next)
      try {
        // The mock's streams end as the server's do: before the old engine closes, with the new one served next.
        if (face !== undefined) endStreams(face)
        await server.replaceEngine(engine)
      } catch (err) {
        await engine.close()
        throw err
      }
      requests.clear()
    },
    etcd3Mock: (mockOptions) => mockOver(mockFace(), mockOptions),
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** dump reads the keys under `prefix` as UTF-8 strings. */
async function dump(engine: Engine, prefix = ''): Promise<Record<string, string>> {
  const { kvs } = await engine.get(prefix, { prefix: true })
  const out: Record<string, string> = {}
  for (const kv of kvs) out[Buffer.from(kv.key).toString('utf8')] = Buffer.from(kv.value).toString('utf8')
  return out
}
