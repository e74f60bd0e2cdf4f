import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js'
import type { CallCredentials } from '../messages/auth.ts'
import type { Codec } from '../wire/codec.ts'
import type { WireMessage } from '../wire/proto.ts'
import { toGrpcStatus } from '../wire/status.ts'
import { credentialsOf } from './call-credentials.ts'

/** UnaryHandler is a grpc-js unary handler over wire messages. */
export type UnaryHandler = (call: ServerUnaryCall<WireMessage, WireMessage>, callback: sendUnaryData<WireMessage>) => void

/** unary builds a unary handler: decode, call (with the caller's credentials), encode; any error becomes its gRPC status. */
export function unary<Req, Res>(
  requests: Codec<Req>,
  responses: Codec<Res>,
  fn: (request: Req, credentials: CallCredentials | undefined) => Promise<Res>,
): UnaryHandler {
  return (call, callback) => {
    let pending: Promise<Res>
    try {
      pending = fn(requests.fromWire(call.request), credentialsOf(call))
    } catch (err) {
      callback(toGrpcStatus(err))
      return
    }
    pending.then(
      (response) => {
        let wire: WireMessage
        try {
          wire = responses.toWire(response)
        } catch (err) {
          callback(toGrpcStatus(err))
          return
        }
        callback(null, wire)
      },
      (err: unknown) => callback(toGrpcStatus(err)),
    )
  }
}

