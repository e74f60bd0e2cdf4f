import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js'
import type { CallCredentials } from '../messages/auth.ts'
import type { BidiStream } from '../messages/stream.ts'
import type { Codec } from '../wire/codec.ts'
import type { MethodInfo } from '../wire/proto.ts'

/** RemoteOptions configure the connection of remote services. */
export interface RemoteOptions {
  /** credentials for the channel. @default insecure (plaintext) */
  credentials?: ChannelCredentials
  /** channelOptions are passed to grpc-js. */
  channelOptions?: ChannelOptions
  /** deadlineMs bounds each unary call; past it the call fails with DEADLINE_EXCEEDED. @default none */
  deadlineMs?: number
}

/** Transport carries calls of etcd's API: gRPC here; the tests add etcd's JSON gateway. */
export interface Transport {
  /** unary makes one call; credentials travel as etcd's `token` metadata (or the gateway's Authorization header). */
  unary<Req, Res>(m: MethodInfo, req: Codec<Req>, res: Codec<Res>, request: Req, credentials?: CallCredentials): Promise<Res>
  stream<Req, Res>(m: MethodInfo, req: Codec<Req>, res: Codec<Res>, credentials?: CallCredentials): BidiStream<Req, Res>
  close(): void
}

