import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { status as Status, Metadata } from '@grpc/grpc-js'
import type { GrpcStatus } from '../wire/status.ts'

/**
 * What the etcd3 mock borrows from the etcd3 package the test uses, so that a client behind the mock sees exactly
 * what it sees over a socket: etcd3's own .proto loaded as etcd3 loads it (its message shapes: snake_case fields,
 * int64s as strings, enums as names, defaults filled, oneofs named), etcd3's error classes and the cast it applies to
 * gRPC errors, and the retry policy its connection pool applies to unary calls by default. etcd3 is found from the
 * test's working directory first, then from etcdlite's own location; it is a peer of the testing kit, never loaded
 * by etcdlite otherwise.
 */

/** MethodCodec is one method's message functions as grpc-js gets them from etcd3's proto-loader definitions. */
export interface MethodCodec {
  /** serialize encodes what etcd3 sends (its raw request object). */
  readonly serialize: (value: unknown) => Buffer
  /** deserialize decodes an answer into what etcd3 reads (its raw response object). */
  readonly deserialize: (bytes: Uint8Array) => unknown
}

/** Etcd3Protocol is the part of an etcd3 installation the mock uses. */
export interface Etcd3Protocol {
  /** method returns the codec of `Service.method` as etcd3 names it ('KV', 'range'), undefined if etcd3 has none. */
  method(service: string, method: string): MethodCodec | undefined
  /** castError turns a grpc-js style error into etcd3's error class for it (castGrpcError). */
  castError(err: Error): Error
  /** closedError is the error etcd3 raises for a call on a closed client (ClientClosedError). */
  closedError(service: string): Error
  /** isInvalidToken tells etcd3's error for an auth token the server no longer takes (EtcdInvalidAuthTokenError). */
  isInvalidToken(err: unknown): boolean
  /** retry runs a unary call under etcd3's default pool policy: up to 3 more attempts after a recoverable error. */
  retry<T>(fn: () => Promise<T>): Promise<T>
}

/** PROTO_OPTIONS: how etcd3's connection pool loads its .proto (see etcd3's connection-pool). */
const PROTO_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }

interface ProtoMethod {
  requestSerialize(value: unknown): Buffer
  responseDeserialize(bytes: Uint8Array): unknown
}

interface Etcd3Module {
  castGrpcError(err: Error): Error
  ClientClosedError: new (service: string) => Error
  EtcdInvalidAuthTokenError: new () => Error
  isRecoverableError(err: Error): boolean
}

interface Cockatiel {
  retry(policy: unknown, options: { maxAttempts: number }): { execute<T>(fn: () => Promise<T>): Promise<T> }
  handleWhen(predicate: (err: Error) => boolean): unknown
}

let loaded: Etcd3Protocol | undefined

/** etcd3Protocol loads the etcd3 package's protocol pieces once. @throws Error when etcd3 is not installed. */
export function etcd3Protocol(): Etcd3Protocol {
  if (loaded !== undefined) return loaded
  const main = resolveEtcd3()
  const fromEtcd3 = createRequire(main)
  const etcd3 = fromEtcd3(main) as Etcd3Module
  const loader = fromEtcd3('@grpc/proto-loader') as { loadSync(file: string, options: object): Record<string, unknown> }
  const cockatiel = fromEtcd3('cockatiel') as Cockatiel
  const definitions = loader.loadSync(join(dirname(main), '..', 'proto', 'rpc.proto'), PROTO_OPTIONS)
  const methods = new Map<string, MethodCodec>()
  for (const [name, service] of Object.entries(definitions)) {
    if (!name.startsWith('etcdserverpb.') || typeof service !== 'object' || service === null) continue
    const short = name.slice('etcdserverpb.'.length)
    for (const [methodName, def] of Object.entries(service as Record<string, ProtoMethod>)) {
      if (typeof def?.requestSerialize !== 'function') continue
      // etcd3 calls methods by their lowerCamelCase names ('range', 'leaseGrant').
      const camel = methodName[0]!.toLowerCase() + methodName.slice(1)
      methods.set(`${short}.${camel}`, { serialize: (v) => def.requestSerialize(v), deserialize: (b) => def.responseDeserialize(b) })
    }
  }
  const policy = cockatiel.retry(cockatiel.handleWhen((err) => etcd3.isRecoverableError(err)), { maxAttempts: 3 })
  loaded = {
    method: (service, method) => methods.get(`${service}.${method}`),
    castError: (err) => etcd3.castGrpcError(err),
    closedError: (service) => new etcd3.ClientClosedError(service),
    isInvalidToken: (err) => err instanceof etcd3.EtcdInvalidAuthTokenError,
    retry: (fn) => policy.execute(fn),
  }
  return loaded
}

/** resolveEtcd3 finds etcd3's main module: from the working directory (the test's project), else from etcdlite. */
function resolveEtcd3(): string {
  for (const base of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      return createRequire(base).resolve('etcd3')
    } catch {
      // try the next place
    }
  }
  throw new Error('etcdlite/testing: the etcd3 mock needs the etcd3 package (npm install --save-dev etcd3)')
}

/**
 * callError builds the error a grpc-js client raises for a failed call: an Error whose message is
 * "<code> <NAME>: <details>", carrying code, details and metadata, as grpc-js's callErrorFromStatus makes it.
 */
export function callError(status: GrpcStatus): Error & { code: number; details: string; metadata: Metadata } {
  const code = status.code ?? Status.UNKNOWN
  const details = status.details ?? ''
  const err = new Error(`${code} ${Status[code]}: ${details}`)
  return Object.assign(err, { code, details, metadata: status.metadata ?? new Metadata() })
}
