import { Metadata, status as Status, type ServiceError, type StatusObject } from '@grpc/grpc-js'
import { EtcdError, errorCatalog, type EtcdErrorCode } from '../util/errors.ts'

/**
 * Errors on the wire. The server answers an EtcdError with the gRPC status etcd sends for it and etcd's message
 * text (`wireMessage`, "etcdserver: ..."), since clients match on both; a TypeError or RangeError (a request the
 * engine cannot parse) is INVALID_ARGUMENT. The remote services turn those statuses back into the same errors.
 */

/**
 * GrpcStatus is what a grpc-js handler answers on failure. With `connectionLost`, no status goes out at all: the
 * server cuts the connection the call came on, as a member that died does, and the client's own transport reports
 * UNAVAILABLE (`code` and `details` are then only what the server records). The testing kit's 'unavailable' fault
 * answers so.
 */
export type GrpcStatus = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata; connectionLost?: boolean }

/** toGrpcStatus maps any error a service raised to the status the client receives. */
export function toGrpcStatus(err: unknown): GrpcStatus {
  if (err instanceof EtcdError) return { code: Status[err.grpcStatus], details: err.wireMessage }
  if (err instanceof TypeError || err instanceof RangeError) return { code: Status.INVALID_ARGUMENT, details: err.message }
  const details = err instanceof Error ? err.message : String(err)
  return { code: Status.UNKNOWN, details }
}

/** unimplemented is the status of a call to a method the server does not serve (`path`: '/etcdserverpb.KV/Range'). */
export function unimplemented(path: string): GrpcStatus {
  return { code: Status.UNIMPLEMENTED, details: `The server does not implement the method ${path}` }
}

/** byWireMessage finds an EtcdError code from the text etcd sends for it. */
const byWireMessage = new Map<string, EtcdErrorCode>(
  (Object.keys(errorCatalog) as EtcdErrorCode[]).map((code) => [new EtcdError(code).wireMessage, code]),
)

/**
 * GrpcError is a failed call whose status is not one of the errors etcdlite knows (UNAVAILABLE from a network
 * failure, RESOURCE_EXHAUSTED for a message above the size limit, UNIMPLEMENTED, ...).
 */
export class GrpcError extends Error {
  /** grpcCode is the numeric gRPC status code. */
  readonly grpcCode: number
  /** details is the status message as the server sent it. */
  readonly details: string

  constructor(code: number, details: string) {
    super(`${Status[code] ?? code}: ${details}`)
    this.name = 'GrpcError'
    this.grpcCode = code
    this.details = details
  }
}

/**
 * fromGrpcStatus maps a failed call back to an error: an EtcdError when the message is one of etcd's, a TypeError
 * for any other INVALID_ARGUMENT (what the engine raises as TypeError), and a GrpcError otherwise.
 */
export function fromGrpcStatus(err: Pick<ServiceError, 'code' | 'details'>): Error {
  const code = byWireMessage.get(err.details)
  if (code !== undefined) return new EtcdError(code)
  if (err.code === Status.INVALID_ARGUMENT) return new TypeError(err.details)
  return new GrpcError(err.code, err.details)
}
