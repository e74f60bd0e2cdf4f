import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

/**
 * The wire: etcd's v3 API as protobuf messages, loaded once from the .proto files in proto/ (written for etcdlite
 * with etcd's package, message and field names and numbers), and the table of each service's methods built from them.
 *
 * Wire messages are protobufjs objects: field names in lowerCamelCase (`rangeEnd`, `prevKv`; `ID`, `TTL` and
 * `grantedTTL` keep etcd's spelling), enums as their numbers, bytes as Buffers, and every int64 / uint64 as a `Long`
 * when decoded. Encoding takes plain objects of the same shape, with int64s as safe-integer numbers or as
 * `{ low, high }` pairs (see codec.ts): nothing passes through a double that could lose bits.
 */

/** PROTO_DIR: proto/ at the package root, two levels above both src/wire and dist/wire. */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url))

const PROTO_FILES = ['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto', 'grpc/health/v1/health.proto']

/** Long is how protobufjs decodes a 64-bit integer: two 32-bit halves. */
export interface Long {
  readonly low: number
  readonly high: number
  readonly unsigned: boolean
}

/** WireInt is a 64-bit integer field: a `Long` when decoded; a number or `{ low, high }` when encoded. */
export type WireInt = Long | { low: number; high: number } | number

/** WireMessage is a decoded or to-be-encoded protobuf message; the codec gives each one its shape. */
export type WireMessage = { [field: string]: unknown }

/** MessageType encodes and decodes one message type. */
export interface MessageType {
  readonly name: string
  /** reflection is the protobufjs type behind it, which the JSON gateway walks field by field. */
  readonly reflection: protobuf.Type
  encode(message: WireMessage): Buffer
  decode(bytes: Uint8Array): WireMessage
}

let root: protobuf.Root | undefined

function loadRoot(): protobuf.Root {
  if (root !== undefined) return root
  const r = new protobuf.Root()
  r.resolvePath = (_origin, target) => PROTO_DIR + target
  r.loadSync(PROTO_FILES, { keepCase: false })
  r.resolveAll()
  // Lossless int64 needs protobufjs to decode into Longs, never into doubles.
  if (!protobuf.util.Long) throw new Error('etcdlite: protobufjs has no Long support; int64 fields would lose bits')
  root = r
  return r
}

let protoNamesRoot: protobuf.Root | undefined

/**
 * protoName returns a field's name as the .proto spells it (`range_end` for `rangeEnd`): the JSON gateway's names.
 * The wire root is loaded with lowerCamelCase names; a second load of the same files keeps the originals.
 */
export function protoName(type: protobuf.Type, field: protobuf.Field): string {
  if (protoNamesRoot === undefined) {
    const r = new protobuf.Root()
    r.resolvePath = (_origin, target) => PROTO_DIR + target
    r.loadSync(PROTO_FILES, { keepCase: true })
    protoNamesRoot = r
  }
  const original = protoNamesRoot.lookupType(type.fullName).fieldsById[field.id]
  if (original === undefined) throw new Error(`etcdlite: ${type.fullName} has no field ${field.id}`)
  return original.name
}

const types = new Map<string, MessageType>()

/** messageType returns the codec of a message by its full name, e.g. 'etcdserverpb.PutRequest'. */
export function messageType(fullName: string): MessageType {
  let t = types.get(fullName)
  if (t === undefined) {
    const type = loadRoot().lookupType(fullName)
    t = {
      name: fullName,
      reflection: type,
      encode: (message) => type.encode(message).finish() as Buffer,
      decode: (bytes) => type.decode(bytes) as unknown as WireMessage,
    }
    types.set(fullName, t)
  }
  return t
}

/** MethodInfo describes one RPC: its names, whether each side streams, and its message codecs. */
export interface MethodInfo {
  /** name as in the .proto, e.g. 'Range'. */
  readonly name: string
  /** path is the gRPC path, e.g. '/etcdserverpb.KV/Range'. */
  readonly path: string
  readonly requestStream: boolean
  readonly responseStream: boolean
  readonly request: MessageType
  readonly response: MessageType
  /** httpPaths are its routes on the JSON gateway (POST), from the .proto's `google.api.http` option. */
  readonly httpPaths: readonly string[]
}

/** ServiceName lists every service etcdlite registers. */
export type ServiceName =
  | 'etcdserverpb.KV'
  | 'etcdserverpb.Watch'
  | 'etcdserverpb.Lease'
  | 'etcdserverpb.Cluster'
  | 'etcdserverpb.Maintenance'
  | 'etcdserverpb.Auth'
  | 'v3lockpb.Lock'
  | 'v3electionpb.Election'
  | 'grpc.health.v1.Health'

/** SERVICES lists every service etcdlite serves, in the order the server registers them. */
export const SERVICES: readonly ServiceName[] = [
  'etcdserverpb.KV',
  'etcdserverpb.Watch',
  'etcdserverpb.Lease',
  'etcdserverpb.Cluster',
  'etcdserverpb.Maintenance',
  'etcdserverpb.Auth',
  'v3lockpb.Lock',
  'v3electionpb.Election',
  'grpc.health.v1.Health',
]

/** methods lists a service's RPCs in .proto order. */
export function methods(service: ServiceName): MethodInfo[] {
  const svc = loadRoot().lookupService(service)
  return svc.methodsArray.map((m) => {
    m.resolve()
    return {
      name: m.name,
      path: `/${service}/${m.name}`,
      requestStream: m.requestStream === true,
      responseStream: m.responseStream === true,
      request: messageType(fullName(m.resolvedRequestType!)),
      response: messageType(fullName(m.resolvedResponseType!)),
      httpPaths: httpPaths(m),
    }
  })
}

/** HttpBinding is the `google.api.http` option as protobufjs parses it. */
interface HttpBinding {
  post?: string
  additional_bindings?: HttpBinding | HttpBinding[]
}

function httpPaths(m: protobuf.Method): string[] {
  const paths: string[] = []
  const visit = (b: HttpBinding | undefined) => {
    if (b === undefined) return
    if (b.post !== undefined) paths.push(b.post)
    for (const extra of [b.additional_bindings ?? []].flat()) visit(extra)
  }
  for (const option of m.parsedOptions ?? []) visit((option as Record<string, HttpBinding>)['(google.api.http)'])
  return paths
}

/** method returns one RPC of a service. */
export function method(service: ServiceName, name: string): MethodInfo {
  const m = methods(service).find((x) => x.name === name)
  if (m === undefined) throw new Error(`etcdlite: ${service} has no method ${name}`)
  return m
}

function fullName(type: protobuf.Type): string {
  return type.fullName.replace(/^\./, '')
}
