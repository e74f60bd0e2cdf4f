import type { GrpcStatus } from '../../wire/status.ts'
import { goString } from './json-text.ts'

/**
 * How etcd's gateway reports a failed call over HTTP: the gRPC status code picks the HTTP status (the table of the
 * grpc-gateway etcd 3.4 ships: FailedPrecondition is 412, OutOfRange 400), and the body carries the message twice
 * and the gRPC code: `{"error":msg,"message":msg,"code":N}`.
 */

export interface HttpStatus {
  readonly status: number
  readonly text: string
}

const BY_GRPC_CODE: readonly HttpStatus[] = [
  { status: 200, text: 'OK' }, // 0 OK
  { status: 408, text: 'Request Timeout' }, // 1 CANCELLED
  { status: 500, text: 'Internal Server Error' }, // 2 UNKNOWN
  { status: 400, text: 'Bad Request' }, // 3 INVALID_ARGUMENT
  { status: 504, text: 'Gateway Timeout' }, // 4 DEADLINE_EXCEEDED
  { status: 404, text: 'Not Found' }, // 5 NOT_FOUND
  { status: 409, text: 'Conflict' }, // 6 ALREADY_EXISTS
  { status: 403, text: 'Forbidden' }, // 7 PERMISSION_DENIED
  { status: 429, text: 'Too Many Requests' }, // 8 RESOURCE_EXHAUSTED
  { status: 412, text: 'Precondition Failed' }, // 9 FAILED_PRECONDITION
  { status: 409, text: 'Conflict' }, // 10 ABORTED
  { status: 400, text: 'Bad Request' }, // 11 OUT_OF_RANGE
  { status: 501, text: 'Not Implemented' }, // 12 UNIMPLEMENTED
  { status: 500, text: 'Internal Server Error' }, // 13 INTERNAL
  { status: 503, text: 'Service Unavailable' }, // 14 UNAVAILABLE
  { status: 500, text: 'Internal Server Error' }, // 15 DATA_LOSS
  { status: 401, text: 'Unauthorized' }, // 16 UNAUTHENTICATED
]

/** httpStatusOf maps a gRPC status code to the HTTP status etcd's gateway answers with. */
export function httpStatusOf(grpcCode: number): HttpStatus {
  return BY_GRPC_CODE[grpcCode] ?? { status: 500, text: 'Internal Server Error' }
}

/** errorBody is the JSON body of a failed unary call. */
export function errorBody(status: GrpcStatus): string {
  const message = goString(status.details ?? '')
  return `{"error":${message},"message":${message},"code":${status.code}}`
}

/** streamErrorLine is the line that ends a streamed response when the call fails after it began. */
export function streamErrorLine(status: GrpcStatus): string {
  const http = httpStatusOf(status.code)
  return `{"error":{"grpc_code":${status.code},"http_code":${http.status},"message":${goString(status.details ?? '')},"http_status":${goString(http.text)}}}\n`
}
