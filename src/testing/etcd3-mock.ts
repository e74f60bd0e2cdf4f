import { Metadata, status as Status, type UntypedServiceImplementation } from '@grpc/grpc-js'
import type { Engine } from '../api/engine.ts'
import { serviceHandlers, type HandlerContext } from '../server/handlers.ts'
import type { Streams } from '../server/stream-bridge.ts'
import type { ServiceName, WireMessage } from '../wire/proto.ts'
import { rpcTable, type Rpc } from '../wire/rpc-table.ts'
import { unimplemented, type GrpcStatus } from '../wire/status.ts'
import { callError, etcd3Protocol, type Etcd3Protocol } from './etcd3-protocol.ts'
import { mockStream, MockUnaryCall, type MockClientStream, type MockServerStream } from './mock-calls.ts'

/**
 * The etcd3 `client.mock()` adapter: etcd3's connection pool replaced by the engine's own gRPC handlers, called in
 * process. etcd3's `mock(callable)` sends every unary call to `callable.exec(service, method, payload)` and opens
 * Watch and LeaseKeepAlive streams through `callable.withConnection(service, fn)`; the adapter answers both with the
 * handlers the gRPC server serves (built from the RPC table, with its codecs), so a client behind the mock gets the
 * answers, errors and streams it gets over a socket, with no socket.
 *
 * @example
 * import { Etcd3 } from 'etcd3'
 * import { open } from 'etcdlite'
 * import { etcd3Mock } from 'etcdlite/testing'
 * const engine = await open()
 * const client = new Etcd3()
 * client.mock(etcd3Mock(engine))
 * await client.put('k').value('v')
 */

/**
 * MockHost is the `resource` the mock hands etcd3 with each stream, which etcd3 hands back to its pool's markFailed
 * when the stream fails: the pool resets the host's connections (the mock has none) and counts the failure through
 * the host's fault handling, which here keeps it in the mock's `failures`.
 */
export class MockHost {
  readonly host = 'etcd3-mock'
  readonly #failures: Error[]
  constructor(failures: Error[]) {
    this.#failures = failures
  }

  /** resetAllServices: a pool closes the host's gRPC clients here; the mock's calls hold no connection to close. */
  resetAllServices(): void {}

  /** faultHandling is the host's policy as etcd3's pool uses it: runs a call, keeping the error of one that fails. */
  readonly faultHandling = {
    execute: async <T>(fn: () => T | Promise<T>): Promise<T> => {
      try {
        return await fn()
      } catch (err) {
        this.#failures.push(err as Error)
        throw err
      }
    },
  }
}

/** Etcd3CallOptions are etcd3's call options (a grpc-js CallOptions object, or a function of the call's context). */
export type Etcd3CallOptions = object | ((context: object) => object)

/**
 * Etcd3Mock is what etcd3's `client.mock()` takes (its ICallable), with `failures` (what etcd3 reported through
 * markFailed) and `endStreams()`.
 */
export interface Etcd3Mock {
  /** exec makes a unary call: `exec('KV', 'range', { key })` resolves with etcd3's raw RangeResponse. */
  exec<T>(service: string, method: string, payload: unknown): Promise<T>
  /** withConnection opens what etcd3's streams need: `fn({ resource, client, metadata })`, `client.watch()` etc. */
  withConnection<T>(service: string, fn: (args: StreamArgs) => Promise<T> | T): Promise<T>
  /**
   * markFailed is how etcd3 reports a failed stream (a dropped watch, a broken keepalive). A pool resets its
   * connections to the host; the mock has none to reset and keeps the error in `failures`, for a test to read.
   */
  markFailed(resource: MockHost, error: Error): void
  /** callOptionsFactory: the options etcd3 resolves for each stream it opens (the client's defaultCallOptions). */
  readonly callOptionsFactory: Etcd3CallOptions | undefined
  /** failures lists the errors etcd3 passed to markFailed, oldest first. */
  readonly failures: readonly Error[]
  /**
   * endStreams ends the mock's open streams (watches, keepalives) and waiting calls with UNAVAILABLE "etcdserver:
   * server stopped", as a member going away ends them; etcd3 opens its streams again, through the mock.
   */
  endStreams(): void
  /**
   * close ends the open streams and refuses every later call with etcd3's ClientClosedError, as a closed client's
   * pool does. etcd3's `client.close()` closes its pool, not its mock: close the mock with the client. Idempotent.
   */
  close(): void
}

/**
 * StreamArgs are what withConnection hands etcd3's function. etcd3 types `client` as a grpc-js Client, of which it
 * calls only the streaming methods that MockServiceClient has; `any` lets `client.mock(etcd3Mock(...))` typecheck.
 */
export interface StreamArgs {
  readonly resource: MockHost
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly client: any
  readonly metadata: Metadata
}

/** MockServiceClient is the client `withConnection` hands etcd3: its streaming methods, as grpc-js names them. */
export type MockServiceClient = Record<string, (metadata?: Metadata, options?: object) => MockClientStream>

/** Etcd3MockOptions configure `etcd3Mock()`. */
export interface Etcd3MockOptions {
  /** callOptionsFactory: the client's defaultCallOptions, which etcd3 reads from the pool it talks to. @default none */
  callOptionsFactory?: Etcd3CallOptions
  /**
   * auth signs the mock's calls in as this user, as etcd3's own `auth` option does over a socket (etcd3 does not
   * sign in through a mock): a token from Authenticate travels with each call, and is fetched again when the server
   * answers that it is no longer valid. @default no credentials
   */
  auth?: { readonly username: string; readonly password: string }
}

/** LocalFace is a set of served handlers without a listener: what the mock calls. @internal */
export interface LocalFace {
  readonly handlers: ReadonlyMap<ServiceName, UntypedServiceImplementation>
  /** streams: the open streams and waiting calls, ended by endStreams(). */
  readonly streams: Streams
}

/**
 * localFace builds the server's handlers over `ctx` for in-process calls, each service passed through `wrap` (the
 * testing kit's tap) when given. @internal
 */
export function localFace(
  ctx: Omit<HandlerContext, 'streams'>,
  wrap?: (service: ServiceName, impl: UntypedServiceImplementation) => UntypedServiceImplementation,
): LocalFace {
  const streams: Streams = new Set()
  const handlers = new Map<ServiceName, UntypedServiceImplementation>()
  for (const [service, impl] of serviceHandlers({ ...ctx, streams })) handlers.set(service, wrap === undefined ? impl : wrap(service, impl))
  return { handlers, streams }
}

/** endStreams ends every open stream and waiting call of a face, as a server that stops ends them. @internal */
export function endStreams(face: LocalFace): void {
  for (const end of [...face.streams]) end()
}

/**
 * etcd3Mock answers an etcd3 client's calls with `engine`, in process and with no socket: `client.mock(etcd3Mock(engine))`.
 * No faults or recording; `fake.etcd3Mock()` gives a mock with both. etcd3 does not sign in through a mock: with auth
 * on, give the mock the user (`options.auth`).
 */
export function etcd3Mock(engine: Engine, options: Etcd3MockOptions = {}): Etcd3Mock {
  const face = localFace({ services: engine.services, clientUrls: () => [], snapshot: (c) => engine.snapshot(c) })
  return mockOver(face, options)
}

/** ETCD3_SERVICES: the services etcd3 calls (its Services table): all of etcdserverpb. */
const ETCD3_SERVICES = new Set(['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth'])

/** etcd3Name is a method as etcd3 calls it: 'KV.range' for the row 'KV.Range'. */
function etcd3Name(row: Rpc): string {
  return `${row.short}.${row.method[0]!.toLowerCase()}${row.method.slice(1)}`
}

let byEtcd3Name: Map<string, Rpc> | undefined

function rowOf(service: string, method: string): Rpc | undefined {
  if (byEtcd3Name === undefined) {
    byEtcd3Name = new Map()
    for (const row of rpcTable().values()) if (ETCD3_SERVICES.has(row.short)) byEtcd3Name.set(etcd3Name(row), row)
  }
  return byEtcd3Name.get(`${service}.${method}`)
}

type UnaryFn = (call: MockUnaryCall, callback: (err: GrpcStatus | null, value?: WireMessage) => void) => void
type StreamFn = (call: MockServerStream) => void

/** unimplementedMethod is what the server answers for a method it does not serve (etcd3's lowerCamelCase `method`). */
function unimplementedMethod(service: string, method: string): GrpcStatus {
  return unimplemented(`/etcdserverpb.${service}/${method[0]!.toUpperCase()}${method.slice(1)}`)
}

/** mockOver is the mock over a face's handlers. @internal */
export function mockOver(face: LocalFace, options: Etcd3MockOptions = {}): Etcd3Mock {
  let protocol: Etcd3Protocol | undefined
  const etcd3 = () => (protocol ??= etcd3Protocol())
  const failures: Error[] = []
  const host = new MockHost(failures)
  let closed = false
  const handlerOf = (row: Rpc | undefined) => (row === undefined ? undefined : face.handlers.get(row.service)?.[row.method])

  const unary = (service: string, method: string, payload: unknown, metadata: Metadata): Promise<unknown> => {
    const p = etcd3()
    if (closed) return Promise.reject(p.closedError(service))
    const row = rowOf(service, method)
    const codec = p.method(service, method)
    const handler = handlerOf(row) as UnaryFn | undefined
    if (row === undefined || codec === undefined || handler === undefined || row.kind !== 'unary') {
      return Promise.reject(p.castError(callError(unimplementedMethod(service, method))))
    }
    let bytes: Buffer
    try {
      bytes = codec.serialize(payload)
    } catch (err) {
      const details = `Request message serialization failure: ${(err as Error).message}`
      return Promise.reject(p.castError(callError({ code: Status.INTERNAL, details })))
    }
    return new Promise((resolve, reject) => {
      let call: MockUnaryCall
      try {
        call = new MockUnaryCall(row.proto.request.decode(bytes), metadata)
      } catch (err) {
        reject(p.castError(callError({ code: Status.INTERNAL, details: `Error deserializing request: ${(err as Error).message}` })))
        return
      }
      handler(call, (err, value) => {
        if (err !== null) reject(p.castError(callError(err)))
        else resolve(codec.deserialize(row.proto.response.encode(value ?? {})))
      })
    })
  }

  const client = (service: string): MockServiceClient => {
    const out: MockServiceClient = {}
    for (const row of rpcTable().values()) {
      if (row.short !== service || row.kind === 'unary') continue
      const name = etcd3Name(row).slice(service.length + 1)
      out[name] = (metadata?: Metadata) => {
        const codec = etcd3().method(service, name)
        const handler = handlerOf(row) as StreamFn | undefined
        if (codec === undefined) throw new TypeError(`etcd3 has no method ${service}.${name}`)
        const { server, client: stream } = mockStream({ client: codec, request: row.proto.request, response: row.proto.response }, metadata)
        if (handler === undefined) setImmediate(() => server.emit('error', unimplementedMethod(service, name)))
        else handler(server)
        return stream
      }
    }
    return out
  }

  // The credentials of every call: none, or the token of options.auth's user, signed in at the first call.
  let signedIn: Promise<Metadata> | undefined
  const metadata = (): Promise<Metadata> => {
    const auth = options.auth
    if (auth === undefined) return Promise.resolve(new Metadata())
    signedIn ??= unary('Auth', 'authenticate', { name: auth.username, password: auth.password }, new Metadata()).then(
      (answer) => {
        const md = new Metadata()
        md.set('token', (answer as { token: string }).token)
        return md
      },
      (err: unknown) => {
        signedIn = undefined
        throw err
      },
    )
    return signedIn
  }
  /** call makes a unary call with the credentials; a token the server no longer takes is fetched again, once. */
  const call = async (service: string, method: string, payload: unknown): Promise<unknown> => {
    try {
      return await unary(service, method, payload, await metadata())
    } catch (err) {
      if (options.auth === undefined || !etcd3().isInvalidToken(err)) throw err
      signedIn = undefined
      return unary(service, method, payload, await metadata())
    }
  }

  return {
    exec: <T>(service: string, method: string, payload: unknown) => etcd3().retry(() => call(service, method, payload)) as Promise<T>,
    async withConnection(service, fn) {
      if (closed) throw etcd3().closedError(service)
      const mockClient: MockServiceClient = client(service)
      return fn({ resource: host, client: mockClient, metadata: await metadata() })
    },
    markFailed(_resource, error) {
      failures.push(error)
    },
    callOptionsFactory: options.callOptionsFactory,
    failures,
    endStreams: () => endStreams(face),
    close() {
      closed = true
      endStreams(face)
    },
  }
}
